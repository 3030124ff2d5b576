"""The bundled SayCan language model: corpus from the task grammar, training, plan evaluation."""

from vla.checkpoint import BUNDLED_DIR

BUNDLED_LM = BUNDLED_DIR / "saycan_lm"
# the LM corpus's words, one per line, beside the LM (vla-train-lm writes it): what
# planner.ground_words reads as the LM's vocabulary (vla/planning/grounding.py)
WORDS_FILE = "words.txt"
# counts of adjacent words in the corpus's instructions, beside the LM (vla-train-lm writes
# it): where grounding may put a known word (vla/planning/word_pairs.py)
PAIRS_FILE = "word_pairs.txt"
# the corpus's distinct instructions with their names set aside, and their MiniLM sentence
# vectors, beside the LM (vla-train-lm writes them): what planner.ground_sentences reads
# (vla/planning/sentences.py)
SENTENCES_FILE = "instructions.txt"
SENTENCE_VECTORS_FILE = "instructions.safetensors"

__all__ = ["BUNDLED_LM", "PAIRS_FILE", "SENTENCES_FILE", "SENTENCE_VECTORS_FILE", "WORDS_FILE"]
