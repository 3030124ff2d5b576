"""The bundled SayCan language model: corpus from the task grammar, training, plan evaluation."""

from vla.checkpoint import BUNDLED_DIR

BUNDLED_LM = BUNDLED_DIR / "saycan_lm"

__all__ = ["BUNDLED_LM"]
