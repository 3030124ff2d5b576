"""The bundled SayCan "Say": a head trained on frozen all-MiniLM-L6-v2 token states.

:mod:`features` (MiniLM token states, cached), :mod:`model` (the head), :mod:`examples` and
:mod:`data` (training steps from the task grammar), :mod:`train` (resumable stages),
:mod:`checkpoint` (the folder format), :mod:`scorer` (the ``minilm`` language scorer).
"""

from vla.checkpoint import BUNDLED_DIR

BUNDLED_SAY = BUNDLED_DIR / "say_minilm"

__all__ = ["BUNDLED_SAY"]
