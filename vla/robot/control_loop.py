"""The fixed-rate control loop of ``vla-deploy``, shaped like a gymnasium env.

``ControlLoop.step(action)`` sends the action through the robot (and its safety layer),
waits for the next tick of the control clock and returns the new observation, so the
simulator's policy and plan loops (``sim.rollout.run_policy``, the planner runners of
``vla.evaluation.episode``) drive a real robot unchanged. ``GuardedPolicy`` turns a policy
that misses its deadline (remote timeout, lost server) into a hold for that period.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from sim.contract import CONTROL_HZ
from vla.robot.base import Robot
from vla.robot.safety import hold_action

log = logging.getLogger(__name__)


class ControlLoop:
    """Step ``robot`` at ``hz``; records tick times and observation-to-action latency."""

    def __init__(self, robot: Robot, hz: float = CONTROL_HZ) -> None:
        if not hz > 0:
            raise ValueError(f"control_hz must be > 0, got {hz}")
        self.robot, self.period = robot, 1.0 / hz
        self.ticks: list[float] = []
        self.latencies: list[float] = []  # seconds from observation to action sent
        self.overruns = 0  # periods where the step itself took longer than the period
        self.sent: list[np.ndarray] = []  # every action as the safety layer let it through
        self._obs_time = 0.0
        self._next_tick = 0.0

    def observe(self) -> dict[str, Any]:
        """The current observation; starts the control clock."""
        obs = self.robot.get_observation()
        self._obs_time = time.perf_counter()
        self._next_tick = self._obs_time + self.period
        self.ticks.append(self._obs_time)
        return obs

    def step(self, action: np.ndarray) -> tuple[dict[str, Any], float, bool, bool, dict]:
        """Send ``action``, wait for the next tick, observe; gymnasium's 5-tuple."""
        self.sent.append(self.robot.send_action(action))
        self.latencies.append(time.perf_counter() - self._obs_time)
        wait = self._next_tick - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        else:
            self.overruns += 1
        obs = self.robot.get_observation()
        now = time.perf_counter()
        self._obs_time, self._next_tick = now, max(self._next_tick + self.period, now)
        self.ticks.append(now)
        return obs, 0.0, False, False, {}

    @property
    def unwrapped(self) -> Any:
        """The simulator env behind a ``pybullet`` robot (planner runners read its state)."""
        env = getattr(self.robot, "env", None)
        if env is None:
            raise ValueError(f"robot={self.robot.robot_name} has no simulator state to plan from")
        return env.unwrapped

    def is_success(self) -> bool:
        """The sim task's goal check (False for hardware, which has none)."""
        check = getattr(self.robot, "is_success", None)
        return bool(check()) if check is not None else False

    def report(self) -> dict[str, Any]:
        """Achieved rate and latency percentiles (ms)."""
        gaps = np.diff(self.ticks) if len(self.ticks) > 1 else np.array([])
        lat = np.asarray(self.latencies) * 1000
        pct = {
            f"p{q}": round(float(np.percentile(lat, q)), 2) if lat.size else None
            for q in (50, 90, 99)
        }
        return {
            "steps": len(self.latencies),
            "target_hz": round(1.0 / self.period, 2),
            "achieved_hz": round(float(1.0 / gaps.mean()), 2) if gaps.size else None,
            "latency_ms": pct,
            "overruns": self.overruns,
        }


class GuardedPolicy:
    """``policy`` whose failures to answer in time become a hold action for that period.

    With ``queue`` (a :class:`vla.serve.ActionQueue`), actions come from it with the control
    period as the deadline.
    """

    def __init__(self, policy: Any, robot: Robot, period_s: float, queue: Any = None) -> None:
        self.policy, self.robot, self.period_s, self.queue = policy, robot, period_s, queue
        self.misses = 0  # periods without an action (the robot held)
        self.errors: list[str] = []

    def reset(self) -> None:
        (self.queue or self.policy).reset()

    def select_action(self, observation: dict[str, Any]) -> np.ndarray:
        try:
            if self.queue is not None:
                action = self.queue.next_action(observation, self.period_s)
            else:
                action = self.policy.select_action(observation)
        except (TimeoutError, ConnectionError, RuntimeError) as err:
            self.errors.append(f"{type(err).__name__}: {err}")
            action = None
        if action is None:
            self.misses += 1
            log.warning("no action within the control period: holding")
            return hold_action(self.robot._gripper)
        return np.asarray(action, np.float32)
