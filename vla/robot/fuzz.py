"""A seeded property fuzz of the safety layer: random limits, poses, pose models and actions.

Each episode draws limits (one in five corrupted: NaN, inf, a wrong sign, a reversed box, a
bool or text, which construction must refuse), a grasp point (sometimes outside the box), a
pose model (rigid tool offset, an IK-like model that swings the arm on rotations, or one that
answers NaN) and then runs actions of every adversarial kind through the layer, with holds
and emergency stops in between. Every command sent is checked independently of the layer's
own bookkeeping: after a hold the checker's reference is rest, whatever the layer remembers.

    report = fuzz_safety(cases=100_000, seed=0)
    report.violations  # commands that were non-finite, reversed or outside a limit
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vla.robot.base import Robot
from vla.robot.limits import ARM_CAPS, BASE_CAPS, SCALES
from vla.robot.safety import SafetyLimits, check_action, hold_action
from vla.robot.xarm_robot import rotvec_matrix

ACTION_KINDS = (
    "uniform",
    "huge",
    "nonfinite",
    "sign_flip",
    "jump",
    "bad_mode",
    "outside_box",
    "rotate",
    "garbage",
)
NAN, INF = float("nan"), float("inf")
BAD_NUMBERS = (NAN, INF, -INF, True, "1", None)
BAD_VALUES = {
    **{n: BAD_NUMBERS + (-1.0, 0.0) for n in SCALES + ARM_CAPS},
    **{n: BAD_NUMBERS + (-1e-3, -1.0) for n in BASE_CAPS},
    "max_gripper_closedness": BAD_NUMBERS + (1.5, -1.01),
    "workspace_low": ((0.1, NAN, 0.2), (0.0, 0.0), "box", (INF, 0.0, 0.0)),
    "workspace_high": ((0.1, 0.2, -INF), (1.0, 1.0, 1.0, 1.0), None),
}


@dataclass
class FuzzReport:
    """What one fuzz run found."""

    cases: int = 0  # actions filtered
    episodes: int = 0
    holds: int = 0  # holds and emergency stops between actions
    bad_limits_refused: int = 0
    bad_limits_accepted: list[str] = field(default_factory=list)  # must stay empty
    broken: Counter = field(default_factory=Counter)  # limit kind -> commands breaking it
    clamps: Counter = field(default_factory=Counter)

    @property
    def violations(self) -> int:
        """Commands that broke anything (non-finite, reversed or out of a limit)."""
        return sum(self.broken.values())


def random_limits(rng: np.random.Generator) -> dict[str, Any]:
    """Valid limit values, spread over several orders of magnitude."""
    low = rng.uniform(-1.0, 0.5, 3)
    return {
        "step_m": 10 ** rng.uniform(-3, -1),
        "turn_rad": 10 ** rng.uniform(-2, 0),
        "base_step_m": 10 ** rng.uniform(-3, -1),
        "base_turn_rad": 10 ** rng.uniform(-2, 0),
        "control_hz": rng.choice([5.0, 10.0, 20.0, 50.0, 500.0]),
        "workspace_low": tuple(low),
        "workspace_high": tuple(low + rng.uniform(0.01, 1.0, 3)),
        "max_translation_m": 10 ** rng.uniform(-3, -1),
        "max_rotation_rad": 10 ** rng.uniform(-2, 0),
        "max_base_speed_mps": rng.choice([0.0, 10 ** rng.uniform(-2, 0.5)]),
        "max_base_turn_rps": rng.choice([0.0, 10 ** rng.uniform(-2, 0.5)]),
        "max_action_jump": 10 ** rng.uniform(-2, 0.5),
        "max_gripper_closedness": rng.uniform(-1, 1),
    }


def corrupt(values: dict[str, Any], rng: np.random.Generator) -> tuple[dict[str, Any], str]:
    """``values`` with one field made invalid (or the box reversed); returns it and how."""
    bad = dict(values)
    if rng.random() < 0.1:
        bad["workspace_low"], bad["workspace_high"] = (
            values["workspace_high"],
            (values["workspace_low"] if rng.random() < 0.5 else values["workspace_high"]),
        )
        return bad, f"box {bad['workspace_low']} .. {bad['workspace_high']}"
    name = sorted(BAD_VALUES)[rng.integers(len(BAD_VALUES))]
    choices = BAD_VALUES[name]
    bad[name] = choices[rng.integers(len(choices))]
    return bad, f"{name}={bad[name]!r}"


class KinematicArm(Robot):
    """A rigid-body arm in numpy, behind the real ``Robot`` base class (so holds, emergency
    stops and the safety wiring are the production code): the grasp point moves as its pose
    model says, and every command that reaches it is logged for the checker."""

    robot_name = "kinematic-fuzz"

    def __init__(self, limits: SafetyLimits, ee: np.ndarray, model: str, rng: np.random.Generator):
        super().__init__(limits)
        self.ee, self.model, self.connected = np.asarray(ee, np.float64), model, False
        self.offset = rng.normal(size=3) * rng.uniform(0, 0.15)  # grasp point from the wrist
        self.orientation = rotvec_matrix(rng.normal(size=3))
        self.swing = rng.normal(size=3) * rng.uniform(0.1, 1.0)  # m per rad: IK flips
        self.log: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (sent, ee, after)

    @property
    def is_connected(self) -> bool:
        return self.connected

    def _connect(self) -> None:
        self.connected = True

    def _disconnect(self) -> None:
        self.connected = False

    def _observe(self) -> dict[str, Any]:
        return {"state": np.r_[self.ee, np.zeros(7)].astype(np.float32)}

    def _ee_position(self) -> np.ndarray:
        return self.ee.copy()

    def _after(self, action: np.ndarray) -> np.ndarray:
        """The grasp point after ``action`` (m)."""
        if action[10] != 0:
            return self.ee.copy()
        lim = self.safety.limits
        rotvec = np.asarray(action[3:6], np.float64) * lim.turn_rad
        lever = self.orientation @ self.offset
        moved = self.ee + action[0:3] * lim.step_m + (rotvec_matrix(rotvec) - np.eye(3)) @ lever
        if self.model == "swing":
            moved = moved + self.swing * float(np.linalg.norm(rotvec))
        if self.model == "nan" and np.linalg.norm(action[3:6]) > 0.5:
            moved = moved * np.nan
        return moved

    def pose_predictor(self) -> Any:
        return None if self.model == "none" else self._after

    def _apply(self, action: np.ndarray) -> None:
        after = self._after(action)
        self.log.append((action.copy(), self.ee.copy(), after))
        if np.all(np.isfinite(after)):
            self.ee = after


def adversarial_action(kind: str, rng: np.random.Generator, robot: KinematicArm) -> Any:
    """One action of ``kind`` (see ACTION_KINDS); ``garbage`` is not even 11 numbers."""
    a = rng.uniform(-1, 1, 11)
    a[10] = rng.integers(3)
    previous = robot.safety.previous
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
        centre = np.asarray(robot.safety.limits.workspace_low) + robot.safety.limits.workspace_high
        a[:3], a[10] = np.sign(robot.ee - centre / 2 + 1e-9), 0
    elif kind == "rotate":
        a[3:6], a[:3], a[10] = np.sign(rng.uniform(-1, 1, 3)), a[:3] * 0.1, 0
    elif kind == "garbage":
        junk = ["abc", None, [1, 2], np.zeros(12), [[0.5] * 11], {"a": 1}, object()]
        return junk[rng.integers(len(junk))]
    return a


def fuzz_safety(cases: int, seed: int = 0, episode_len: int = 40) -> FuzzReport:
    """Run ``cases`` actions through fresh limits and arms every ``episode_len`` steps or so."""
    rng = np.random.default_rng(seed)
    report = FuzzReport()
    logging.getLogger("vla.robot.safety").setLevel(logging.ERROR)  # clamps are the point
    while report.cases < cases:
        robot = _episode(rng, report)
        with robot:
            for _ in range(min(int(rng.integers(1, 2 * episode_len)), cases - report.cases)):
                _event(robot, rng, report)
                kind = ACTION_KINDS[rng.integers(len(ACTION_KINDS))]
                action = adversarial_action(kind, rng, robot)
                report.cases += 1
                robot.send_action(action)
                if robot.log:
                    _check(robot, action, report)
        report.clamps.update(robot.safety.counts)
    return report


def _episode(rng: np.random.Generator, report: FuzzReport) -> KinematicArm:
    """Fresh limits (bad ones must be refused first) and an arm somewhere near the box."""
    report.episodes += 1
    values = random_limits(rng)
    if rng.random() < 0.2:
        bad, how = corrupt(values, rng)
        try:
            SafetyLimits(**bad)
        except ValueError:
            report.bad_limits_refused += 1
        else:
            report.bad_limits_accepted.append(how)
    limits = SafetyLimits(**values)
    low, high = np.asarray(limits.workspace_low), np.asarray(limits.workspace_high)
    ee = rng.uniform(low, high)
    if rng.random() < 0.2:  # start outside: the pull-back must keep the step and jump limits
        ee = ee + rng.normal(size=3) * 0.1
    model = ("none", "rigid", "swing", "nan")[rng.integers(4)]
    return KinematicArm(limits, ee, model, rng)


def _event(robot: KinematicArm, rng: np.random.Generator, report: FuzzReport) -> None:
    """Now and then a hold (watchdog, missed deadline), an emergency stop, or a push."""
    roll = rng.random()
    if roll < 0.03:
        robot.hold()
        report.holds += 1
    elif roll < 0.04:
        robot.emergency_stop()
        for _ in range(int(rng.integers(0, 3))):
            robot.send_action(rng.uniform(-1, 1, 11))  # refused while latched
        robot.reset_emergency_stop()
        report.holds += 1
    elif roll < 0.05:
        robot.ee = robot.ee + rng.normal(size=3) * 0.05  # pushed, maybe out of the box


def _check(robot: KinematicArm, action: Any, report: FuzzReport) -> None:
    """Check the command that reached the arm against the one before it (a hold included)."""
    sent, ee, after = robot.log[-1]
    previous = robot.log[-2][0] if len(robot.log) > 1 else hold_action()
    try:
        requested = np.asarray(action, np.float64).reshape(-1)
    except (TypeError, ValueError):
        requested = None
    predicted = after if robot.model != "none" and np.all(np.isfinite(after)) else None
    broken = check_action(
        sent, previous, ee, robot.safety.limits, requested=requested, predicted=predicted
    )
    if not np.all(np.isfinite(sent)):
        broken = ["nonfinite"]
    report.broken.update(broken)
