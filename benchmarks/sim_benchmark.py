"""Simulator figures: expert success per skill, oracle-plan success per suite, step rate.

    python benchmarks/sim_benchmark.py                 # full run (about 15 min on 2 cores)
    python benchmarks/sim_benchmark.py --seeds 20 --tasks-per-suite 10   # quick look

Prints markdown tables (for docs/simulator.md). Seeds come from the test range.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from sim import TEST_SEED_START  # noqa: E402
from sim.env import VLAEnv  # noqa: E402
from sim.expert import ScriptedExpert  # noqa: E402
from sim.rollout import run_oracle_task, run_skill  # noqa: E402
from sim.tasks import BUILTIN_SUITES, load_tasks, parse_tasks  # noqa: E402

SKILL_CASES = {  # skill kind -> (scene, skill text, initial, goal)
    "pick": ("tabletop", "pick up the red block", [], "holding(red block)"),
    "place_in": (
        "tabletop",
        "place the red block in the blue bowl",
        ["holding(red block)"],
        "in(red block, blue bowl)",
    ),
    "place_on": (
        "tabletop",
        "place the red block on the green block",
        ["holding(red block)"],
        "on(red block, green block)",
    ),
    "place_at": (
        "tabletop",
        "place the red block at the top left corner",
        ["holding(red block)"],
        "at(red block, top left corner)",
    ),
    "place_on (area)": (
        "mobile",
        "place the red block on the counter",
        ["holding(red block)", "robot_at(counter)"],
        "at(red block, counter)",
    ),
    "go_to": ("mobile", "go to the counter", ["robot_at(table)"], "robot_at(counter)"),
}


def skill_success(n_seeds: int) -> None:
    print(f"\n| skill | expert success ({n_seeds} seeds) | mean steps |\n|---|---|---|")
    for kind, (scene, text, initial, goal) in SKILL_CASES.items():
        spec = {"instruction": text, "scene": scene, "initial": initial, "goal": [goal]}
        env = VLAEnv(scene, tasks=parse_tasks([spec]), cameras=False)
        expert, wins, steps = ScriptedExpert(env), 0, []
        for seed in range(TEST_SEED_START, TEST_SEED_START + n_seeds):
            obs, _ = env.reset(seed=seed)
            result = run_skill(env, expert, text, obs)
            wins += result.success
            steps.append(result.steps)
        print(f"| {kind} | {100 * wins / n_seeds:.1f}% | {np.mean(steps):.1f} |")
        env.close()


def suite_success(tasks_per_suite: int | None) -> None:
    print("\n| suite | tasks | oracle plan + expert success | mean skills |\n|---|---|---|---|")
    for suite in BUILTIN_SUITES:
        tasks = load_tasks(suite)[:tasks_per_suite]
        envs: dict[str, VLAEnv] = {}
        wins, skills = 0, []
        for i, task in enumerate(tasks):
            env = envs.setdefault(task.scene, VLAEnv(task.scene, tasks=[task], cameras=False))
            obs, _ = env.reset(seed=TEST_SEED_START + i, options={"task": task})
            results = run_oracle_task(env, ScriptedExpert(env), task, obs)
            wins += env.is_success()
            skills.append(len(results))
        print(
            f"| {suite} | {len(tasks)} | {100 * wins / len(tasks):.1f}% | {np.mean(skills):.1f} |"
        )
        for env in envs.values():
            env.close()


def step_rate(image_size: int = 64, n_steps: int = 400, repeats: int = 3) -> None:
    """Env steps/s with both cameras: random arm actions, and expert long-horizon episodes
    (the arm near objects and a held block cost more to render and simulate)."""
    env = VLAEnv("tabletop", tasks="long_horizon", image_size=image_size)
    rng = np.random.default_rng(0)
    random_rates, expert_rates = [], []
    for r in range(repeats):
        env.reset(seed=TEST_SEED_START + r)
        actions = rng.uniform(-1, 1, size=(n_steps, 11)).astype(np.float32)
        actions[:, 10] = 0
        start = time.perf_counter()
        for a in actions:
            env.step(a)
        random_rates.append(n_steps / (time.perf_counter() - start))
        obs, _ = env.reset(seed=TEST_SEED_START + r)
        task, start = env.task, time.perf_counter()
        results = run_oracle_task(env, ScriptedExpert(env), task, obs, max_skills=12)
        expert_rates.append(sum(x.steps for x in results) / (time.perf_counter() - start))
    size = env.world.rig.height
    print(f"\n| one core, {size}x{size}, both cameras (median of {repeats}) | steps/s |\n|---|---|")
    print(f"| random arm actions | {np.median(random_rates):.0f} |")
    print(
        f"| expert long-horizon episodes (with expert, planner) | {np.median(expert_rates):.0f} |"
    )
    env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200, help="seeds per skill")
    parser.add_argument("--tasks-per-suite", type=int, default=None, help="default: all")
    parser.add_argument("--image-sizes", default="64,96", help="resolutions for the step rate")
    args = parser.parse_args()
    for size in args.image_sizes.split(","):
        step_rate(int(size))
    skill_success(args.seeds)
    suite_success(args.tasks_per_suite)


if __name__ == "__main__":
    main()
