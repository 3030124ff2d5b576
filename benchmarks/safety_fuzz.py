"""Safety fuzz: random limits, pose models and adversarial actions through the safety layer,
with holds and emergency stops in between; then adversarial actions through the PyBullet
robot, measuring where the grasp point really went.

python benchmarks/safety_fuzz.py --cases 100000 --seed 0 --pybullet-steps 4500
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
from tqdm import tqdm

from vla.robot import SafetyLimits, check_action, make_robot
from vla.robot.fuzz import fuzz_safety


def layer_fuzz(cases: int, seed: int) -> None:
    start = time.perf_counter()
    report = fuzz_safety(cases, seed)
    print(
        f"layer fuzz: {report.cases} actions in {report.episodes} episodes (seed {seed}), "
        f"{report.holds} holds/e-stops, {time.perf_counter() - start:.1f} s"
    )
    print(f"  commands non-finite, reversed or outside a limit: {report.violations}")
    if report.violations:
        print(f"  broken: {dict(report.broken)}")
    print(
        f"  corrupted limits refused at construction: {report.bad_limits_refused}, "
        f"accepted: {len(report.bad_limits_accepted)} {report.bad_limits_accepted[:5]}"
    )
    print(f"  clamps: {dict(sorted(report.clamps.items()))}")


def pybullet_fuzz(steps: int, seed: int) -> None:
    """Translations into the walls, then sustained rotations (which swing an IK arm)."""
    rng = np.random.default_rng(seed)
    limits = SafetyLimits()
    low, high = np.asarray(limits.workspace_low), np.asarray(limits.workspace_high)
    outside = step_max = 0.0
    bad_commands = 0
    with make_robot("pybullet", tasks="single", task_index=0, seed=seed, safety=limits) as robot:
        ee = robot.get_observation()["state"][:3].astype(np.float64)
        for t in tqdm(range(steps), desc="pybullet robot", leave=False):
            if t % 150 == 0:
                robot.reset_episode(int(rng.integers(1_000_000, 2_000_000)))
                ee = robot.get_observation()["state"][:3].astype(np.float64)
                corner, axis = rng.choice([-1.0, 1.0], 3), rng.choice([-1.0, 0.0, 1.0], 3)
            action = np.zeros(11)
            if t % 150 < 40:
                action[:3] = corner
            else:
                action[3:6], action[:3] = axis, rng.uniform(-0.3, 0.3, 3)
            if rng.random() < 0.03:
                robot.hold()  # one control period passes: the arm may still move a little
                ee = robot.get_observation()["state"][:3].astype(np.float64)
            previous = robot.safety.previous.copy()
            sent = robot.send_action(action)
            bad_commands += bool(check_action(sent, previous, ee, limits, requested=action))
            now = robot.get_observation()["state"][:3].astype(np.float64)
            outside = max(outside, float(np.max(np.maximum(low - now, now - high))))
            step_max = max(step_max, float(np.linalg.norm(now - ee)))
            ee = now
        counts = robot.safety_counts()
    print(f"pybullet robot: {steps} adversarial actions (seed {seed})")
    print(f"  commands outside a limit: {bad_commands}")
    print(
        f"  grasp point measured: at most {outside * 100:.2f} cm outside the box, "
        f"at most {step_max * 100:.2f} cm in one step (limit {limits.max_translation_m * 100} cm)"
    )
    print(f"  clamps: {counts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pybullet-steps", type=int, default=4500)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    layer_fuzz(args.cases, args.seed)
    if args.pybullet_steps:
        pybullet_fuzz(args.pybullet_steps, args.seed)


if __name__ == "__main__":
    main()
