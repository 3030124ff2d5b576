"""Safety fuzz: random and adversarial actions through the safety layer; counts violations.

python benchmarks/safety_fuzz.py --n 20000 --seed 0
"""

from __future__ import annotations

import argparse
import logging

import numpy as np

from vla.robot import SafetyLayer, SafetyLimits, check_action

KINDS = ("uniform", "huge", "nonfinite", "sign_flip", "jump", "bad_mode", "outside_box")


def make_action(kind: str, rng: np.random.Generator, previous: np.ndarray) -> np.ndarray:
    a = rng.uniform(-1, 1, 11)
    a[10] = rng.integers(3)
    if kind == "huge":
        a[:10] *= 10.0 ** rng.integers(1, 300)
    elif kind == "nonfinite":
        a[rng.integers(11, size=rng.integers(1, 4))] = rng.choice([np.nan, np.inf, -np.inf])
    elif kind == "sign_flip":
        a[:10] = -np.sign(previous[:10] + 1e-9)
    elif kind == "jump":
        a[:10] = np.sign(rng.uniform(-1, 1, 10))
    elif kind == "bad_mode":
        a[10] = rng.choice([-3.7, 2.6, 1e9, 0.4])
    elif kind == "outside_box":
        a[:3] = rng.choice([-1.0, 1.0], 3)
    return a


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    rng = np.random.default_rng(args.seed)
    limits = SafetyLimits(
        max_translation_m=0.02,
        max_base_speed_mps=0.4,
        max_action_jump=0.3,
        max_gripper_closedness=0.8,
    )  # stricter than the sim's own scales
    layer = SafetyLayer(limits)
    ee = np.array([0.5, 0.0, 0.2])
    violations = 0
    for i in range(args.n):
        kind = KINDS[i % len(KINDS)]
        previous = layer.previous.copy()
        safe = layer.filter(make_action(kind, rng, previous), ee)
        violations += bool(check_action(safe, previous, ee, limits))
        ee = ee + safe[:3] * limits.step_m  # the end effector moves as commanded
    print(f"safety fuzz: {args.n} actions ({', '.join(KINDS)}), seed {args.seed}")
    print(f"commands outside the limits: {violations}")
    print(f"clamps: {dict(sorted(layer.counts.items()))}")


if __name__ == "__main__":
    main()
