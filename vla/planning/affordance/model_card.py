"""The model card (README.md) of a learned-affordance checkpoint: command, data, time, metrics."""

from __future__ import annotations

import numpy as np

from vla.planning.affordance.dataset import collection_commands
from vla.planning.affordance.metrics import format_metrics


def model_card(cfg, result: dict, data: dict, history: list[dict]) -> str:
    """Markdown for the checkpoint folder; ``cfg`` is an ``AffordanceTrainConfig``."""
    suites = ", ".join(sorted(set(data["suite"].tolist())))
    oracle = data["oracle"]
    per_state = len(data["label"]) / max(result["episodes"], 1)
    chance = f"{1 / per_state:.2f}" if per_state else "-"
    oracle_rate = data["label"][oracle].mean() if oracle.any() else np.nan
    collected = "".join(f"\n  - `{c}`" for c in collection_commands(cfg.data_dir)) or " -"
    curve = "\n".join(
        f"| {h['step']} | {h['train_loss']:.4f} | {h['val_loss']:.4f} |" for h in history
    )
    return f"""# Learned affordance (SayCan "Can")

`AffordanceNet` (vla/planning/affordance/model.py): front + wrist 64x64 images of the current frame
and the frozen MiniLM embedding of the skill text -> probability that the skill succeeds
if run now. Load with `make_affordance("learned", checkpoint=...)` or
`LearnedAffordance.from_pretrained(folder)`.

## Training

- collected by:{collected}
- trained by: `{cfg.command or "vla-train-affordance"}`
- data: `{cfg.data_dir}`, {result["samples"]} labelled (state, skill) samples from
  {result["episodes"]} episodes (suites: {suites})
- positive rate {data["label"].mean():.1%}; the oracle's next skill succeeded in
  {oracle_rate:.1%} of {int(oracle.sum())} tries
- split by episode: {result["train_samples"]} train / {result["val_samples"]} validation samples
- {cfg.steps} steps, batch {cfg.batch_size}, lr {cfg.lr}, image shift +-{cfg.shift} px,
  seed {cfg.seed}; kept the weights of the best validation loss (step {result["best_step"]})
- training time: {result["train_seconds"]} s on {cfg.threads} CPU thread(s)

## Validation metrics (held-out episodes)

`auc`: success vs failure; `feasAUC`: skills the symbolic world allows now vs not;
`oraclAUC`: the oracle planner's next skill vs infeasible skills. The oracle's next skill
scores highest among the skills labelled in its state in {result["val_oracle_top1"]} of
validation states (chance about {chance}).

```
{format_metrics(result["val"])}
```

| step | train loss | val loss |
|---|---|---|
{curve}
"""
