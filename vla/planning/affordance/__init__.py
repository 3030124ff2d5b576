"""The learned affordance (SayCan's "Can"): a value function from camera images and skill text.

Importing this package registers ``make_affordance("learned", checkpoint=...)``.
"""

from vla.planning.affordance.learned import (
    BUNDLED_CHECKPOINT,
    LearnedAffordance,
    learned_affordance,
)
from vla.planning.affordance.model import AffordanceNet, AffordanceNetConfig

__all__ = [
    "BUNDLED_CHECKPOINT",
    "AffordanceNet",
    "AffordanceNetConfig",
    "LearnedAffordance",
    "learned_affordance",
]
