"""``vla-record teleop=keyboard``: a person drives the robot (simulated or real) through the
:class:`~vla.robot.base.Robot` interface, with the safety layer on, and every episode is
written to the same ``vla-episodes`` dataset the expert recordings use (crash-safe; a rerun
adds episodes after the ones there, keys ``teleop/<n>``).

An episode is one instruction: the typed ``instruction=``, or the simulator task's own. It
ends with enter (the terminate action, recorded as the last step) or after
``teleop_max_steps``; ``x`` ends the session and drops the unfinished episode. In the
simulator the n-th teleop episode of a dataset resets the task at seed
``task_seed(split, TELEOP_SEED_BLOCK, n)`` (inside the split's seed range, apart from the
expert's suite blocks) and the task's goal check labels ``success``; on a real robot (no
goal check) an episode ended with enter counts as a success, so drop failures with ``x``.
"""

from __future__ import annotations

import codecs
import contextlib
import sys
from typing import Any

from sim.contract import CONTROL_HZ
from sim.rollout import run_policy
from sim.skill_text import parse_skill
from vla.data.episode_store import EpisodeStore
from vla.robot import make_robot
from vla.robot.control_loop import ControlLoop
from vla.robot.episode_recorder import RecordingPolicy
from vla.robot.teleop import KeyboardTeleop, TeleopQuit, TerminalKeys, scripted_keys

TELEOP_DEVICES = ("keyboard",)
TELEOP_SEED_BLOCK = 9  # the last block of 100,000 seeds of a split
HELP = (
    "teleop: w/s a/d r/f move the hand (x, y, z), q/e yaw, space gripper, i/k j/l base, "
    "enter done, x quit"
)


def read_key_file(path: str) -> list[str]:
    """A key file: one line per control step holding that step's keys, with Python escapes
    (``\\r`` is enter; a space is a space; an empty line is a step without keys)."""
    with open(path, encoding="utf-8") as f:
        return [codecs.decode(line, "unicode_escape") for line in f.read().splitlines()]


def _skill_name(instruction: str) -> str:
    try:
        return parse_skill(instruction).name
    except ValueError:
        return ""


def record_teleop(cfg: Any, keys: Any = None, robot: Any = None) -> EpisodeStore:
    """Record ``cfg.teleop_episodes`` teleoperated episodes into ``cfg.output_dir``.

    ``cfg`` is a :class:`vla.data.recording.RecordConfig`; ``keys`` (one string of key
    presses per step) replaces the terminal, e.g. :func:`vla.robot.teleop.scripted_keys`;
    without it, ``cfg.teleop_keys`` names a file of one line per step, else the terminal.
    ``robot``: a built (not connected) robot to use instead of the one ``cfg.robot`` names.
    """
    options = cfg.robot.options()
    options["safety"] = options.get("safety") or True  # a person drives: never without it
    robot = robot or make_robot(cfg.robot.name, **options)
    source = contextlib.nullcontext(keys)
    if keys is None and cfg.teleop_keys:
        source = contextlib.nullcontext(scripted_keys(read_key_file(cfg.teleop_keys)))
    elif keys is None:
        source = TerminalKeys()
    size = (int(options.get("image_size", 64)),) * 2
    with (
        source as key_stream,
        EpisodeStore.open_or_create(cfg.output_dir, image_size=size) as store,
    ):
        teleop = KeyboardTeleop(iter(key_stream))
        print(HELP, file=sys.stderr)
        robot.connect()
        try:
            _session(cfg, robot, teleop, store)
        finally:
            robot.hold()
            robot.disconnect()
        print(f"dataset {cfg.output_dir}: {store.summary()}")
    return EpisodeStore.open(cfg.output_dir)


def _session(cfg: Any, robot: Any, teleop: KeyboardTeleop, store: EpisodeStore) -> None:
    from vla.data.recording import task_seed

    loop = ControlLoop(robot, CONTROL_HZ)
    done = sum(r["key"].startswith("teleop/") for r in store.episodes())
    for n in range(cfg.teleop_episodes):
        reset = getattr(robot, "reset_episode", None)
        seed = task_seed(cfg.split, TELEOP_SEED_BLOCK, done + n) if reset is not None else None
        if reset is not None:
            reset(seed)
        observation = loop.observe()
        instruction = cfg.instruction or observation["instruction"]
        if not instruction:
            raise ValueError('give instruction="..." (a real robot has no task to read it from)')
        sim = getattr(robot, "env", None)
        fields = {
            "split": cfg.split,
            "family": getattr(getattr(sim, "task", None), "family", None) or "teleop",
            "skill": _skill_name(instruction),
            "scene": str(getattr(cfg.robot, "scene", "")),
            "seed": seed,
            "meta": {"teleop": cfg.teleop, "robot": robot.robot_name},
        }
        check = robot.is_success if sim is not None else (lambda: True)
        recorder = RecordingPolicy(teleop, loop, store, "teleop", fields, check)
        print(f"episode {n + 1}/{cfg.teleop_episodes}: {instruction}", file=sys.stderr)
        try:
            run_policy(loop, recorder, instruction, observation, cfg.teleop_max_steps)
        except TeleopQuit:
            return  # the unfinished episode is dropped
        recorder.finish()
