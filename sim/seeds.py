"""The three seed ranges: training data, validation (choices), and test (reported figures).

- train, ``[0, 1,000,000)``: everything recorded for training (``vla-record split=train``,
  localisation scenes, affordance labels) draws its scenes from here.
- test, ``[1,000,000, 2,000,000)``: the figures we report (``vla-eval``'s default seed).
  ``vla-record split=test`` may record here, for held-out teacher-forced probes only.
- validation, from 2,000,000: nothing is ever recorded here; choose checkpoints and settings
  on these seeds, then measure the chosen one once on the test seeds.
"""

from __future__ import annotations

TRAIN_SEED_START = 0
TEST_SEED_START = 1_000_000
VAL_SEED_START = 2_000_000


def seed_range(seed: int) -> str:
    """``"train"``, ``"test"`` or ``"validation"``: the range ``seed`` falls in."""
    if seed < TRAIN_SEED_START:
        raise ValueError(f"seeds are >= {TRAIN_SEED_START}, got {seed}")
    if seed < TEST_SEED_START:
        return "train"
    return "test" if seed < VAL_SEED_START else "validation"
