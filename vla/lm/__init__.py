"""The bundled SayCan language model: corpus from the task grammar, training, plan evaluation."""

from pathlib import Path

BUNDLED_LM = Path(__file__).resolve().parent.parent / "assets" / "saycan_lm"

__all__ = ["BUNDLED_LM"]
