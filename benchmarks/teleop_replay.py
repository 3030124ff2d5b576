"""Keyboard teleoperation in the simulator: record episodes, then replay their actions.

No person types here: the scripted expert does, through the keyboard mapping. Each step its
action is quantized to key presses (``STEP`` units on x, y, z and yaw, at most two presses
per axis; space when its gripper command flips; enter when it terminates), so the episodes
have the keyboard's resolution, not the expert's. Each recorded episode is then sent again,
action by action, through a fresh robot reset at its seed; the replay's goal check is
compared with the recorded success label.

OMP_NUM_THREADS=1 python benchmarks/teleop_replay.py --episodes 10 --output /tmp/teleop_demo
"""

from __future__ import annotations

import argparse

import numpy as np

from sim.expert import ScriptedExpert
from vla.data.recording import RecordConfig
from vla.options import build
from vla.robot import make_robot
from vla.robot.config import PyBulletRobotConfig
from vla.robot.teleop import STEP
from vla.robot.teleop_record import record_teleop

AXIS_KEYS = {0: ("w", "s"), 1: ("a", "d"), 2: ("r", "f"), 5: ("q", "e")}


class ExpertTyping:
    """One string of key presses per step: the expert's next action, as typed."""

    def __init__(self, robot) -> None:
        self.robot, self.expert, self.gripper = robot, None, -1.0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.expert is None:
            self.expert = ScriptedExpert(self.robot.env)
        action = self.expert.select_action(self.robot.get_observation())
        if int(round(action[10])) == 2:
            self.expert.reset()
            self.gripper = -1.0
            return "\r"
        keys = ""
        for index, (plus, minus) in AXIS_KEYS.items():
            presses = int(np.clip(np.round(action[index] / STEP), -2, 2))
            keys += (plus if presses > 0 else minus) * abs(presses)
        if action[6] != 0 and np.sign(action[6]) != np.sign(self.gripper):
            keys += " "
            self.gripper = -self.gripper
        return keys


def replay(record: dict, actions: np.ndarray, task_index: int) -> bool:
    """Send the recorded actions (all but the terminate step) again; the goal check."""
    with make_robot("pybullet", tasks="single", task_index=task_index, safety=True) as robot:
        robot.reset_episode(record["seed"])
        for action in actions[:-1]:
            robot.send_action(action)
        return robot.is_success()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--output", default="/tmp/teleop_demo")
    args = parser.parse_args()
    agree = successes = 0
    for task_index in range(args.episodes):
        robot_cfg = PyBulletRobotConfig(tasks="single", task_index=task_index)
        options = {"teleop": "keyboard", "output_dir": args.output, "robot": robot_cfg}
        robot = make_robot("pybullet", **{**robot_cfg.options(), "safety": True})
        store = record_teleop(build(RecordConfig, options), ExpertTyping(robot), robot)
        record = store.episodes()[-1]
        replayed = replay(record, store.load_episode(record["episode_id"])["action"], task_index)
        successes += record["success"]
        agree += replayed == record["success"]
        print(f"{record['instruction']}: recorded success {record['success']}, replay {replayed}")
    print(
        f"{successes}/{args.episodes} recorded successes; replay agrees on {agree}/{args.episodes}"
    )


if __name__ == "__main__":
    main()
