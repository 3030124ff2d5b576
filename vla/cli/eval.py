"""``vla-eval``: success of a policy (and planner) on a task suite; writes eval_info.json.

vla-eval tasks=single planner=none
vla-eval tasks=structured planner=oracle num_workers=2 output_dir=outputs/eval_structured
vla-eval tasks=long_horizon planner=saycan planner.affordance=oracle
vla-eval planner=saycan mode=chain n_chains=20
"""

from __future__ import annotations

from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from vla.cli.errors import run_app
from vla.evaluation import evaluate
from vla.evaluation.chain import evaluate_chains
from vla.evaluation.report import chain_table, summary_table

MODES = ("episodes", "chain")


def planner_settings(cfg: DictConfig) -> tuple[str, dict]:
    """(planner name, its options) from the ``planner`` config group (or a plain name)."""
    if isinstance(cfg.planner, str):
        return cfg.planner, {}
    options = OmegaConf.to_container(cfg.planner, resolve=True)
    return str(options.pop("name")), options


def output_dir(cfg: DictConfig) -> str:
    """``output_dir``, or this job's own folder under it in a ``-m`` sweep."""
    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        return HydraConfig.get().runtime.output_dir
    return str(cfg.output_dir)


def run(cfg: DictConfig) -> dict:
    """Evaluate as ``cfg`` says (configs/eval.yaml) and print the summary."""
    planner, options = planner_settings(cfg)
    mode = cfg.get("mode", "episodes")
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: choose one of {MODES}")
    common = dict(
        policy=str(cfg.policy),
        policy_filter=OmegaConf.to_container(cfg.policy_filter)
        if OmegaConf.is_config(cfg.policy_filter)
        else cfg.policy_filter,
        planner=planner,
        planner_options=options,
        seed=cfg.seed,
        output_dir=output_dir(cfg),
        num_workers=cfg.num_workers,
        n_videos=cfg.n_videos,
        image_size=cfg.image_size,
        render_size=cfg.render_size,
    )
    print(f"{cfg.tasks} | policy={cfg.policy} planner={planner} {options or ''}".rstrip())
    if mode == "chain":
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


@hydra.main(config_path="../../configs", config_name="eval", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_app("vla-eval", run, cfg)


if __name__ == "__main__":
    main()
