"""vla-train's step end to end against the model step alone, timed in turn in one process.

    python benchmarks/train_benchmark.py --data data/demos                 # RT-1, 64 px
    python benchmarks/train_benchmark.py --data data/demos precision=fp32 model.chunk=1

Builds a real ``vla-train`` run (:class:`vla.training.loop.Run`, its frame cache, sampler,
augmentation, optimizer and schedule) from ``key=value`` overrides, then times blocks of
optimizer steps of its model in turn:

- **end to end**: ``Run.train_step`` drawing its batches as ``vla-train`` does;
- **one fixed batch**: the same ``train_step`` fed one batch again and again (no gather, no
  augmentation; still the loss heads, token accuracy and gradient clipping);
- **model step alone**: ``vla_benchmark.py``'s step (forward, loss, backward, AdamW on
  random inputs) on the run's model and optimizer.

Taking the blocks in turn in one process keeps a shared or drifting machine from favouring
any of them; the ratios are block by block. The defaults are the bundled RT-1 recipe's.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from omegaconf import OmegaConf  # noqa: E402
from vla_benchmark import model_step, synthetic_batch  # noqa: E402

from vla.options import build  # noqa: E402
from vla.training.config import TrainConfig  # noqa: E402
from vla.training.loop import Run  # noqa: E402
from vla.training.memory import keep_freed_memory  # noqa: E402
from vla.training.setup import setup_distributed  # noqa: E402

RECIPE = [  # the bundled RT-1's options (vla/assets/rt1/README.md)
    "history=1",
    "model.spatial_coords=true",
    "model.goal_head=true",
    "model.chunk=4",
    "model.dropout=0.0",
    "precision=bf16",
    "val_fraction=0.03",
]


def block_rate(step, steps: int, batch_size: int) -> float:
    """Samples/s over ``steps`` calls of ``step`` (one optimizer step of ``batch_size``)."""
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="an EpisodeStore folder (vla-record)")
    parser.add_argument("--blocks", type=int, default=6, help="timed blocks of each kind")
    parser.add_argument("--steps", type=int, default=30, help="optimizer steps per block")
    parser.add_argument(
        "--malloc-default",
        action="store_true",
        help="leave glibc's malloc as it is (vla-train calls keep_freed_memory)",
    )
    parser.add_argument("overrides", nargs="*", help="vla-train key=value options")
    args = parser.parse_args()
    if not args.malloc_default:
        keep_freed_memory()
    with tempfile.TemporaryDirectory() as out:
        dotlist = [*RECIPE, f"data={args.data}", f"output_dir={out}", *args.overrides]
        try:  # checked as vla-train checks its options
            cfg = build(TrainConfig, OmegaConf.from_dotlist(dotlist))
        except ValueError as error:
            parser.error(str(error))  # one line, exit code 2
        run = Run(cfg, *setup_distributed())
        run.model.train()
        batches = run.batches()
        fixed = itertools.repeat(next(batches))
        synthetic = synthetic_batch(run.raw_model.config, cfg.batch_size)
        bf16 = cfg.precision == "bf16"
        steps = {
            "end to end": lambda: run.train_step(batches),
            "one fixed batch": lambda: run.train_step(fixed),
            "model step alone": lambda: model_step(run.raw_model, run.optimizer, synthetic, bf16),
        }
        rates: dict[str, list[float]] = {kind: [] for kind in steps}
        for step in steps.values():
            block_rate(step, 3, cfg.batch_size)  # warm-up
        for _ in range(args.blocks):
            for kind, step in steps.items():
                rates[kind].append(block_rate(step, args.steps, cfg.batch_size))
    alone = rates["model step alone"]
    setting = f"{cfg.precision}, batch {cfg.batch_size}, {os.cpu_count()} cores"
    print(f"\n| vla-train, {setting} | samples/s |")
    print("|---|---|")
    blocks = f"median of {args.blocks} blocks of {args.steps} steps"
    for kind, values in rates.items():
        print(f"| {kind} ({blocks}) | {spread(values, '.0f')} |")
    for kind in ("end to end", "one fixed batch"):
        ratio = [r / a for r, a in zip(rates[kind], alone, strict=True)]
        print(f"| {kind} / model step alone, block by block | {spread(ratio, '.1%')} |")


def spread(values: list[float], fmt: str) -> str:
    """``median (min-max)`` of ``values`` in format ``fmt``."""
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:{fmt}} ({low:{fmt}}-{high:{fmt}})"


if __name__ == "__main__":
    main()
