"""``vla-eval``: success of a policy (and planner) on a task suite; writes eval_info.json.

vla-eval tasks=single planner=none
vla-eval tasks=structured planner=oracle num_workers=2 output_dir=outputs/eval_structured
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from vla.cli.errors import run_app
from vla.evaluation import evaluate


def summary_table(info: dict) -> str:
    """Markdown table: success per family and overall, with 95% intervals."""
    agg = info["aggregated"]
    lines = ["| family | episodes | success | 95% CI |", "|---|---|---|---|"]
    rows = [*agg["per_family"].items(), ("**all**", agg)]
    for name, r in rows:
        low, high = r["ci95"]
        lines.append(f"| {name} | {r['n']} | {r['pc_success']:.1f}% | {low:.1f}-{high:.1f}% |")
    return "\n".join(lines)


def run(cfg: DictConfig) -> dict:
    """Evaluate as ``cfg`` says (configs/eval.yaml) and print the summary."""
    info = evaluate(
        tasks=cfg.tasks,
        policy=str(cfg.policy),
        planner=cfg.planner,
        n_episodes=cfg.n_episodes,
        seed=cfg.seed,
        output_dir=cfg.output_dir,
        num_workers=cfg.num_workers,
        n_videos=cfg.n_videos,
        image_size=cfg.image_size,
        render_size=cfg.render_size,
    )
    agg = info["aggregated"]
    print(f"{cfg.tasks} | policy={cfg.policy} planner={cfg.planner}")
    print(summary_table(info))
    print(f"{agg['episodes_per_s']:.3f} episodes/s; wrote {cfg.output_dir}/eval_info.json")
    return info


@hydra.main(config_path="../../configs", config_name="eval", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_app("vla-eval", run, cfg)


if __name__ == "__main__":
    main()
