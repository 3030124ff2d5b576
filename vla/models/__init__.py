"""Policy networks: an RT-1 style transformer and its image-encoder building blocks."""

from vla.models.film_cnn import FiLM, FiLMCNN
from vla.models.rt1 import RT1, RT1Config, action_loss, token_accuracy
from vla.models.token_learner import TokenLearner

__all__ = ["RT1", "FiLM", "FiLMCNN", "RT1Config", "TokenLearner", "action_loss", "token_accuracy"]
