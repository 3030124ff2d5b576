"""Small FiLM-conditioned conv image encoder (RT-1's FiLM-EfficientNet, scaled down).

A patchify stem (k x k conv, stride k) followed by stride-2 3x3 conv stages, each with
GroupNorm/ReLU (the last with a small residual) and followed by FiLM (Perez et al. 2018):
the instruction embedding predicts a per-channel scale and shift. As in RT-1 the FiLM
projections start at zero, so ``gamma = 1, beta = 0``: an untrained network is exactly the
unconditioned CNN and language conditioning is learned from there instead of starting as
noise.

Why a patchify stem: on one CPU thread, full-resolution 3x3 convs (and the norms and
activations on their large outputs) cost more than the whole transformer; a stride-4 stem
removes the two most expensive stages for a small loss of low-level detail.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def _groups(channels: int, max_groups: int = 8) -> int:
    """Largest group count <= max_groups that divides ``channels``."""
    return next(g for g in range(min(max_groups, channels), 0, -1) if channels % g == 0)


class FiLM(nn.Module):
    """Feature-wise linear modulation: ``x * (1 + dgamma(text)) + dbeta(text)``.

    Args:
        text_dim: width of the conditioning vector.
        channels: number of feature-map channels to modulate.
    """

    def __init__(self, text_dim: int, channels: int) -> None:
        super().__init__()
        self.proj = nn.Linear(text_dim, 2 * channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Zero the projection so that gamma = 1 and beta = 0 for every input."""
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def gamma_beta(self, text: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, text_dim) -> gamma, beta, each (B, C)."""
        dgamma, beta = self.proj(text).chunk(2, dim=-1)
        return 1.0 + dgamma, beta

    def forward(self, x: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """x: (B, C, H, W), text: (B, text_dim) -> (B, C, H, W)."""
        gamma, beta = self.gamma_beta(text)
        return torch.addcmul(beta[:, :, None, None], x, gamma[:, :, None, None])


class ConvStage(nn.Module):
    """Strided conv -> GroupNorm -> ReLU, optionally a small residual, optionally FiLM.

    Args:
        c_in, c_out: channels in and out.
        stride: spatial reduction; ``kernel`` == ``stride`` gives a non-overlapping patchify.
        kernel: conv kernel size (3 with padding 1, or == stride with no padding).
        text_dim: FiLM conditioning width.
        residual: add a ``relu(h + GN(pointwise(depthwise3x3(h))))`` refinement.
        film: apply FiLM at the end of the stage.
    """

    def __init__(
        self,
        c_in: int,
        c_out: int,
        stride: int,
        kernel: int,
        text_dim: int,
        residual: bool,
        film: bool,
    ) -> None:
        super().__init__()
        padding = 0 if kernel == stride else kernel // 2
        self.down = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False)
        self.norm = nn.GroupNorm(_groups(c_out), c_out)
        # Depthwise-separable residual (as in EfficientNet's MBConv, RT-1's backbone): adds
        # 3x3 spatial mixing for ~1/8 of a dense 3x3 conv's cost.
        self.res = (
            nn.Sequential(
                nn.Conv2d(c_out, c_out, 3, padding=1, groups=c_out, bias=False),
                nn.Conv2d(c_out, c_out, 1, bias=False),
                nn.GroupNorm(_groups(c_out), c_out),
            )
            if residual
            else None
        )
        self.film = FiLM(text_dim, c_out) if film else None

    def forward(self, x: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """x: (B, c_in, H, W), text: (B, text_dim) -> (B, c_out, H / stride, W / stride)."""
        h = F.relu(self.norm(self.down(x)))
        if self.res is not None:
            h = F.relu(h + self.res(h))
        return h if self.film is None else self.film(h, text)


class FiLMCNN(nn.Module):
    """uint8 images + instruction embedding -> conditioned feature map.

    Args:
        channels: output channels per stage; stage 0 is the patchify stem, the rest halve
            H and W each, so the total reduction is ``stem_stride * 2**(len(channels)-1)``.
        text_dim: instruction embedding width.
        n_residual: how many of the last (lowest-resolution, cheapest) stages get a
            depthwise-separable residual conv.
        film: False drops the FiLM layers (an unconditioned CNN, for ablations).
        stem_stride: patch size of the stem.
    """

    def __init__(
        self,
        channels: tuple[int, ...],
        text_dim: int,
        n_residual: int = 1,
        film: bool = True,
        stem_stride: int = 4,
    ) -> None:
        super().__init__()
        c_ins = (3, *channels[:-1])
        first_residual = len(channels) - n_residual
        self.stages = nn.ModuleList(
            ConvStage(
                c_in,
                c_out,
                stride=stem_stride if i == 0 else 2,
                kernel=stem_stride if i == 0 else 3,
                text_dim=text_dim,
                residual=i >= first_residual,
                film=film,
            )
            for i, (c_in, c_out) in enumerate(zip(c_ins, channels, strict=True))
        )
        self.out_channels = channels[-1]
        self.reduction = stem_stride * 2 ** (len(channels) - 1)

    def film_layers(self) -> list[FiLM]:
        """The FiLM layers, stem first."""
        return [stage.film for stage in self.stages if stage.film is not None]

    def forward(self, images: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """images: (B, 3, H, W) uint8, text: (B, text_dim) -> (B, C, H / r, W / r).

        ``r = self.reduction``. Pixels are mapped from [0, 255] to [-1, 1] here, so callers
        never pass pre-normalised floats (a uint8 check enforces it).
        """
        if images.dtype != torch.uint8:
            raise TypeError(f"FiLMCNN expects uint8 images, got {images.dtype}")
        # under autocast straight to its dtype (bf16 holds 0..255 exactly): one conversion
        # of the largest tensor of the step instead of a float copy and then a cast
        dtype = torch.get_autocast_dtype(images.device.type)
        x = images.to(dtype if torch.is_autocast_enabled(images.device.type) else torch.float32)
        x = x.mul_(1.0 / 127.5).sub_(1.0)
        for stage in self.stages:
            x = stage(x, text)
        return x
