"""TokenLearner (Ryoo et al. 2021), as used by RT-1 to shrink each image to a few tokens.

A small MLP scores every spatial position for each of S output tokens; a softmax over the
positions turns the scores into S attention maps, and each token is the attention-weighted
average of the feature vectors. RT-1 reduces 81 EfficientNet tokens to 8 this way, which
is what makes a multi-frame transformer cheap enough for real-time control.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class TokenLearner(nn.Module):
    """Feature map (B, C, H, W) -> S learned tokens (B, S, C).

    Args:
        channels: C, the feature width (unchanged by this module).
        n_tokens: S, tokens produced per feature map.
        hidden: width of the scoring MLP (RT-1 uses an MLP over each position, too).
    """

    def __init__(self, channels: int, n_tokens: int = 8, hidden: int = 64) -> None:
        super().__init__()
        self.n_tokens = n_tokens
        self.norm = nn.LayerNorm(channels)
        self.score = nn.Sequential(
            nn.Linear(channels, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_tokens),
        )

    def attention(self, features: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, S, H*W) attention maps, each summing to 1 over positions."""
        x = features.flatten(2).transpose(1, 2)  # (B, HW, C)
        scores = self.score(self.norm(x))  # (B, HW, S)
        return F.softmax(scores.transpose(1, 2), dim=-1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, S, C)."""
        attn = self.attention(features)  # (B, S, HW)
        return attn @ features.flatten(2).transpose(1, 2)  # (B, S, C)
