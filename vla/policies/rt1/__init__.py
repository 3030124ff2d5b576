"""RT-1 (Brohan et al. 2022), whole in one folder: the network (``model``: FiLM-CNN image
tokens, TokenLearner, a decoder-only transformer, 11 action tokens), the closed-loop policy
(``policy``), its training side (``trainer``, plus ``goals`` and ``scenes`` for the goal
head's localisation co-training)."""

from vla.policies.rt1.film_cnn import FiLM, FiLMCNN
from vla.policies.rt1.model import RT1, RT1Config, action_loss, token_accuracy
from vla.policies.rt1.policy import RT1Policy
from vla.policies.rt1.token_learner import TokenLearner

__all__ = [
    "RT1",
    "FiLM",
    "FiLMCNN",
    "RT1Config",
    "RT1Policy",
    "TokenLearner",
    "action_loss",
    "token_accuracy",
]
