"""The learned affordance (SayCan's "Can"): a value function from camera images and skill text.

Importing this package registers ``make_affordance("learned", checkpoint=...)``.
"""

from vla.affordance.learned import BUNDLED_CHECKPOINT, LearnedAffordance, learned_affordance
from vla.affordance.model import AffordanceNet, AffordanceNetConfig

__all__ = [
    "BUNDLED_CHECKPOINT",
    "AffordanceNet",
    "AffordanceNetConfig",
    "LearnedAffordance",
    "learned_affordance",
]
