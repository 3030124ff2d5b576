"""The policy-independent pieces of a training run: the process layout (DDP under
``torchrun``), the optimiser and learning-rate schedule, and the RNG state that makes a
resumed run exact."""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from vla.language import native_bf16

# --- distributed ------------------------------------------------------------------------


@dataclass(frozen=True)
class Dist:
    """Process layout: rank 0 of 1 unless launched by torchrun."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Only the main process logs, evaluates and writes checkpoints."""
        return self.rank == 0


def setup_distributed() -> tuple[Dist, torch.device]:
    """Initialise DDP when torchrun set WORLD_SIZE > 1; pick cuda if available."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    rank = dist.get_rank() if dist.is_initialized() else 0
    return Dist(rank, world, local_rank), device


# --- optimisation -------------------------------------------------------------------------


def lr_factor(step: int, warmup_steps: int, total_steps: int, min_ratio: float = 0.1) -> float:
    """Linear warmup to 1, then cosine decay to ``min_ratio`` at ``total_steps``."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def make_optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW over the trainable parameters; biases, norms and embeddings (1-D, position
    tables, token embeddings) get no weight decay. The fused kernel where every parameter
    is on the CPU or a CUDA device (RT-1's training step: about 5% more samples/s on 2
    cores than the per-tensor loop)."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:  # frozen (e.g. LoRA's base weights)
            continue
        embedding = name.endswith("_emb") or name == "action_queries" or "embed_tokens" in name
        (no_decay if param.dim() < 2 or embedding else decay).append(param)
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    fused = all(p.device.type in ("cpu", "cuda") for p in decay + no_decay)
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95), fused=fused)


# --- RNG state (exact resume) ---------------------------------------------------------


def rng_states() -> dict[str, Any]:
    """RNG states as plain lists/tensors (safe for ``torch.load(weights_only=True)``)."""
    np_state = np.random.get_state()
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]],
        "python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    """Inverse of :func:`rng_states`."""
    torch.set_rng_state(states["torch"].cpu())
    name, keys, *rest = states["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), *rest))
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def seed_everything(seed: int) -> None:
    """Seed right before building the model: same seed, same initial weights and dropout."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# --- precision ---------------------------------------------------------------------------


def precision_note(precision: str, device: torch.device) -> str | None:
    """A line for ``precision: bf16`` on a CPU without native bfloat16 (no AMX or AVX-512
    BF16), where autocast emulates it: the RT-1 step ran 15x slower than in fp32 on such a
    CPU (``benchmarks/vla_benchmark.py``, AMD EPYC with AVX2). None where bf16 pays."""
    if precision != "bf16" or device.type != "cpu" or native_bf16():
        return None
    return (
        "note: precision=bf16 on a CPU without native bfloat16 (no AMX or AVX-512 BF16) is "
        "emulated and much slower than fp32; precision=fp32 trains faster on this machine"
    )
