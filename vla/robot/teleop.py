"""Keyboard teleoperation: keys to RT-1 actions, behind the policy API (``reset``,
``select_action``), so the control loop, the safety layer and the episode recorder treat a
person like any policy (``vla-record teleop=keyboard``).

Each control step reads the keys typed since the last step (a terminal in raw mode, no
extra library: a held key repeats at the terminal's rate) and adds one unit per key press:

=========  =============================================  ==================================
key        action                                         units
=========  =============================================  ==================================
w / s      end effector forward / back (+x / -x)          ``STEP`` of world_vector (x 3 cm)
a / d      left / right (+y / -y)                         same
r / f      up / down (+z / -z)                            same
q / e      yaw left / right                               ``STEP`` of rotation_delta_yaw
space      toggle the gripper (open -1 / closed +1)       held until toggled again
i / k      base forward / back (mode 1, base)             ``STEP`` of base_displacement_x
j / l      base turn left / right (mode 1)                ``STEP`` of base_rotation
enter      done: the terminate action ends the episode    mode 2
=========  =============================================  ==================================

Sums are clipped to [-1, 1]; no key means a still arm (the gripper as it is). ``x`` ends
the session (:class:`TeleopQuit`) without keeping the episode being recorded.
"""

from __future__ import annotations

import os
import select
import sys
import termios
import tty
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from sim.contract import ACTION_DIM, ARM, BASE, GRIPPER_INDEX, MODE_INDEX, TERMINATE

STEP = 0.5  # action units per key press: 1.5 cm of hand travel at the contract's 3 cm scale
ARM_KEYS = {"w": (0, 1), "s": (0, -1), "a": (1, 1), "d": (1, -1), "r": (2, 1), "f": (2, -1)}
ARM_KEYS |= {"q": (5, 1), "e": (5, -1)}
BASE_KEYS = {"i": (7, 1), "k": (7, -1), "j": (9, 1), "l": (9, -1)}
GRIPPER_KEY, DONE_KEYS, QUIT_KEY = " ", ("\r", "\n"), "x"


class TeleopQuit(Exception):
    """The operator ended the session (``x``)."""


def keys_to_action(keys: Iterable[str], gripper: float) -> tuple[np.ndarray, float]:
    """(the action for one step's key presses, the gripper state after them).

    ``gripper`` is -1 (open) or +1 (closed); ``space`` toggles it. A base key makes the
    step a base step (mode 1, arm still); enter makes it the terminate action.
    """
    action = np.zeros(ACTION_DIM, np.float32)
    mode = ARM
    for key in keys:
        if key == QUIT_KEY:
            raise TeleopQuit("x pressed")
        if key == GRIPPER_KEY:
            gripper = -gripper
        elif key in DONE_KEYS:
            mode = TERMINATE
        elif key in ARM_KEYS:
            index, sign = ARM_KEYS[key]
            action[index] += sign * STEP
        elif key in BASE_KEYS:
            index, sign = BASE_KEYS[key]
            action[index] += sign * STEP
            mode = BASE if mode != TERMINATE else mode
    np.clip(action, -1.0, 1.0, out=action)
    if mode == BASE:
        action[0:6] = 0.0  # the base moves alone
    if mode == TERMINATE:
        action[:] = 0.0
    action[GRIPPER_INDEX], action[MODE_INDEX] = gripper, mode
    return action, gripper


class KeyboardTeleop:
    """A person at the keyboard as a policy: ``select_action`` maps the keys typed since the
    last call (from ``keys``, an iterator of one string of key presses per step)."""

    def __init__(self, keys: Iterator[str]) -> None:
        self.keys, self.gripper = keys, -1.0

    def reset(self) -> None:
        self.gripper = -1.0  # every episode starts with the gripper open

    def select_action(self, observation: dict[str, Any]) -> np.ndarray:
        action, self.gripper = keys_to_action(next(self.keys, QUIT_KEY), self.gripper)
        return action


def scripted_keys(steps: Iterable[str]) -> Iterator[str]:
    """Key presses from a script, one string per step (a replay, or a test); ``x`` after."""
    yield from steps
    while True:
        yield QUIT_KEY


class TerminalKeys:
    """The keys typed in this terminal since the last step (raw mode, no echo); a context
    manager that restores the terminal, so a crash leaves it usable."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stdin
        if not self.stream.isatty():
            raise ValueError("teleop=keyboard needs a terminal: run it in one, not piped")
        self.fd = self.stream.fileno()
        self.saved: list | None = None

    def __enter__(self) -> TerminalKeys:
        self.saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        chars = []
        while select.select([self.fd], [], [], 0)[0]:
            chars.append(os.read(self.fd, 64).decode(errors="ignore"))
        return "".join(chars)
