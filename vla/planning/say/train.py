"""Train the Say head in resumable stages: ``python -m vla.planning.say.train --out DIR ...``.

A stage draws a fresh set of train-split tasks (:func:`vla.planning.splits.generate_tasks`,
task seed = ``--seed``), turns them into steps (:mod:`vla.planning.say.examples`), encodes new
texts with the frozen MiniLM (the text bank in ``DIR/bank`` grows from stage to stage), and
trains the head with a listwise softmax over each step's candidates (the target and
``--negatives`` others drawn at random). ``--init`` continues from an earlier stage's folder.
Every ``--save-every`` steps the weights and optimizer go to ``DIR/resume.pt``; running the
same command again continues from there; the head at each evaluation is kept under
``DIR/heads/stepN``, to choose on validation. At the end the folder holds the Say checkpoint
(``config.json``, ``model.safetensors``) and ``training.json`` with the step accuracy on
validation steps (task seed 2,000,000) of the three splits.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from vla.planning.say.checkpoint import load_head, save_head
from vla.planning.say.data import StepArrays, TextBank, make_batch
from vla.planning.say.examples import task_steps
from vla.planning.say.features import TokenStates
from vla.planning.say.model import SayConfig, SayHead
from vla.planning.splits import SPLITS, generate_tasks
from vla.training.setup import lr_factor

VALIDATION_SEED = 2_000_000


@dataclass
class TrainSayConfig:
    """One training stage (every field is a command-line flag)."""

    out: str = "runs/say/stage1"
    init: str | None = None  # continue from this stage's folder (its config and weights)
    bank: str = "runs/say/bank"  # text bank shared by the stages
    seed: int = 0  # task seed of this stage's corpus (train seeds are below 1,000,000)
    per_family: int = 300  # tasks per family, and per construction of the language family
    family_weights: dict[str, float] = field(
        default_factory=lambda: {"structured": 2, "long_horizon": 3, "embodiment": 2, "mobile": 2}
    )
    p_detour: float = 0.5  # share of tasks that also give the steps of one detour
    steps: int = 3000
    batch_size: int = 64
    lr: float = 1e-3  # peak after warmup, cosine to lr / 20
    warmup: int = 200
    weight_decay: float = 0.05
    negatives: int = 23  # candidates beside the target per training step
    hard: float = 0.0  # share of the negatives that share the most words with the target
    instruction_dropout: float = 0.1  # share of instruction word pieces hidden per step
    bf16: bool = True  # bfloat16 autocast (AVX-512 BF16 makes the matmuls ~2x faster)
    threads: int = 1
    save_every: int = 500
    val_per_family: int = 10
    head: SayConfig = field(default_factory=SayConfig)


def corpus(
    cfg: TrainSayConfig, split: str, seed: int, per_family: int, training: bool = False
) -> StepArrays:
    """Steps of ``per_family`` tasks of each family of ``split``; ``training``: with the
    family weights and detours of ``cfg``."""
    rng = random.Random(f"say:{split}:{seed}")
    tasks = []
    for family, n in _family_counts(cfg, per_family, training).items():
        tasks += generate_tasks(split, n, seed=seed, families=(family,))
    p_detour = cfg.p_detour if training else 0.0
    steps = [s for t in tqdm(tasks, desc=f"steps {split}") for s in task_steps(t, rng, p_detour)]
    return StepArrays.from_steps(steps)


def _family_counts(cfg: TrainSayConfig, per_family: int, weighted: bool) -> dict[str, int]:
    from sim.tasks.spec import BUILTIN_SUITES

    weights = cfg.family_weights if weighted else {}
    return {f: round(per_family * weights.get(f, 1)) for f in BUILTIN_SUITES}


def _hide_words(batch: dict, share: float, generator: torch.Generator) -> None:
    """Instruction dropout: hide ``share`` of the word pieces ([CLS] always stays)."""
    mask = batch["instruction_mask"]
    hide = torch.rand(mask.shape, generator=generator) < share
    hide[:, 0] = False
    batch["instruction_mask"] = mask & ~hide


@torch.no_grad()
def step_accuracy(model: SayHead, data: StepArrays, bank: TextBank, batch_size: int = 128):
    """Share of steps whose argmax over all candidates is the target, overall and by family
    (``language.<construction>`` counted under ``language``)."""
    model.eval()
    hits = np.zeros(len(data), dtype=bool)
    for start in range(0, len(data), batch_size):
        rows = range(start, min(len(data), start + batch_size))
        batch = make_batch(data, bank, rows)
        target = batch.pop("target")
        hits[start : start + len(rows)] = (model(**batch).argmax(dim=1) == target).numpy()
    by_family: dict[str, list[bool]] = {}
    for hit, family in zip(hits, data.family):
        by_family.setdefault(family.split(".")[0], []).append(bool(hit))
    result = {"all": float(hits.mean())}
    result.update({f: float(np.mean(v)) for f, v in sorted(by_family.items())})
    return result


def train(cfg: TrainSayConfig) -> dict:
    """Run one stage (see the module docstring); returns its summary."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    started, out = time.time(), Path(cfg.out)
    model = load_head(cfg.init) if cfg.init else SayHead(cfg.head)
    cfg.head = model.cfg
    data = corpus(cfg, "train", cfg.seed, cfg.per_family, training=True)
    vals = {s: corpus(cfg, s, VALIDATION_SEED, cfg.val_per_family) for s in SPLITS}
    texts = data.texts + [t for v in vals.values() for t in v.texts]
    bank = TextBank.build(texts, TokenStates(cfg.head.encoder), TextBank.load(Path(cfg.bank)))
    bank.save(Path(cfg.bank))
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    first, losses = _resume(out, model, optimizer), []
    rng, generator = random.Random(cfg.seed + first), torch.Generator().manual_seed(cfg.seed)
    bar = tqdm(range(first, cfg.steps), desc=f"train say {out.name}", unit="step")
    for step in bar:
        model.train()
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr * lr_factor(step, cfg.warmup, cfg.steps, 0.05)
        batch = make_batch(
            data, bank, rng.sample(range(len(data)), cfg.batch_size), cfg.negatives, rng, cfg.hard
        )
        _hide_words(batch, cfg.instruction_dropout, generator)
        target = batch.pop("target")
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
            logits = model(**batch)
        loss = torch.nn.functional.cross_entropy(logits.float(), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}")
        if (step + 1) % cfg.save_every == 0 and step + 1 < cfg.steps:
            _save_resume(out, model, optimizer, step + 1)
            accuracy = {s: step_accuracy(model, v, bank)["all"] for s, v in vals.items()}
            bar.write(f"step {step + 1}: loss {np.mean(losses[-100:]):.4f}, val {accuracy}")
            # every evaluated head is kept, so the checkpoint can be chosen on validation
            save_head(model, out / "heads" / f"step{step + 1}", {"validation": accuracy})
    summary = {
        "steps": len(data),
        "texts": len(bank.texts),
        "final_loss": float(np.mean(losses[-100:])) if losses else None,
        "validation_step_accuracy": {s: step_accuracy(model, v, bank) for s, v in vals.items()},
        "wall_s": round(time.time() - started, 1),
    }
    save_head(model, out, {"config": _plain(cfg), **summary})
    (out / "resume.pt").unlink(missing_ok=True)
    return summary


def _plain(cfg: TrainSayConfig) -> dict:
    return asdict(cfg)


def _save_resume(out: Path, model: SayHead, optimizer, step: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "resume.pt.tmp"
    torch.save(
        {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step}, tmp
    )
    os.replace(tmp, out / "resume.pt")  # a crash leaves the old or the new file whole


def _resume(out: Path, model: SayHead, optimizer) -> int:
    path = out / "resume.pt"
    if not path.is_file():
        return 0
    state = torch.load(path, weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    print(f"resuming {out} at step {state['step']}")
    return int(state["step"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = TrainSayConfig()
    for name, value in asdict(defaults).items():
        if name in ("family_weights", "head"):
            continue
        kind = type(value) if value is not None else str
        if kind is bool:
            parser.add_argument(f"--{name.replace('_', '-')}", type=_bool, default=value)
        else:
            parser.add_argument(f"--{name.replace('_', '-')}", type=kind, default=value)
    parser.add_argument("--family-weights", type=json.loads, default=defaults.family_weights)
    parser.add_argument("--head", type=json.loads, default={}, help='e.g. {"width": 256}')
    args = vars(parser.parse_args(argv))
    head = SayConfig(**args.pop("head"))
    summary = train(TrainSayConfig(**args, head=head))
    print(json.dumps(summary["validation_step_accuracy"], indent=2))
    return 0


def _bool(text: str) -> bool:
    if text.lower() not in ("true", "false", "1", "0"):
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return text.lower() in ("true", "1")


if __name__ == "__main__":
    raise SystemExit(main())
