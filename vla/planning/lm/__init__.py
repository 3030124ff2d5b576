"""The bundled SayCan language model: corpus from the task grammar, training, plan evaluation."""

from vla.checkpoint import BUNDLED_DIR

BUNDLED_LM = BUNDLED_DIR / "saycan_lm"
# the LM corpus's words, one per line, beside the LM (vla-train-lm writes it): what
# planner.ground_words reads as the LM's vocabulary (vla/planning/grounding.py)
WORDS_FILE = "words.txt"

__all__ = ["BUNDLED_LM", "WORDS_FILE"]
