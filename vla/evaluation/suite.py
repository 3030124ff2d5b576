"""``vla-eval``'s job: evaluate a policy and planner on a task suite, by episodes or by chains
of instructions, print the summary and write ``eval_info.json`` and ``report.md``."""

from __future__ import annotations

from pathlib import Path

from vla.evaluation.chain import evaluate_chains
from vla.evaluation.config import EvalConfig
from vla.evaluation.report import chain_table, summary_table
from vla.evaluation.runner import evaluate


def evaluate_suite(cfg: EvalConfig) -> dict:
    """Evaluate as ``cfg`` says into ``cfg.output_dir`` and print the summary; returns the
    ``eval_info.json`` dict."""
    planner, options = cfg.planner.name, cfg.planner.options()
    common = dict(
        policy=str(cfg.policy),
        policy_filter={"name": cfg.policy_filter, **cfg.policy_filter_options}
        if cfg.policy_filter
        else None,
        planner=planner,
        planner_options=options,
        seed=cfg.seed,
        output_dir=cfg.output_dir,
        num_workers=cfg.num_workers,
        n_videos=cfg.n_videos,
        image_size=cfg.image_size,
        render_size=cfg.render_size,
    )
    print(f"{cfg.tasks} | policy={cfg.policy} planner={planner} {options or ''}".rstrip())
    if cfg.mode == "chain":
        info = evaluate_chains(
            tasks=cfg.tasks, n_chains=cfg.n_chains, chain_length=cfg.chain_length, **common
        )
        print(chain_table(info))
    else:
        info = evaluate(tasks=cfg.tasks, n_episodes=cfg.n_episodes, **common)
        print(summary_table(info))
    agg, out = info["aggregated"], Path(common["output_dir"])
    print(f"{agg['episodes_per_min']:.2f} episodes/min; wrote {out / 'eval_info.json'}")
    print(f"report: {out / 'report.md'}")
    return info
