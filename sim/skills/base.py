"""The :class:`Skill` interface, its registry and the motion helpers experts share.

A skill's expert is closed-loop and state-derived: every call to :meth:`Skill.act` reads
the privileged world state (where the hand is, what it holds, where the target is, whether
the gripper is closed) and returns the next 11-dim action from that alone, never from a
counter of its own. So it gives the right next action from any state, including states a
learner left it in, which is what per-step expert labels (DAgger) need. It ends by emitting
the terminate mode, after which :attr:`Skill.finished` is true; :attr:`Skill.max_steps`
control steps also end it.

Motion: the hand travels at a safe height and comes down to its target through a funnel
(:func:`funnel_height`): the height allowed above the target grows with the horizontal
distance to it, so the approach is near-vertical at the end and no phase switch (a pause
where one phase ends and the next begins) is needed on the way.
"""

from __future__ import annotations

import numpy as np

from sim.contract import ARM, BASE, MAX_BASE_STEP, MAX_BASE_TURN, MAX_STEP, MAX_TURN, TERMINATE
from sim.geometry import WorldState
from sim.registry import Registry
from sim.robot import orientation_error
from sim.skill_text import SkillCall, parse_skill
from sim.tasks.predicates import Predicate, evaluate

DEFAULT_MAX_STEPS = 120
FUNNEL_SLOPE = 3.0  # height allowed above the target per metre of horizontal distance
FUNNEL_RADIUS = 0.006  # horizontal distance (m) within which the hand may go all the way down
CLIMB_MARGIN = 0.03  # a hand this far below its funnel climbs straight up first (m) ...
NEAR_XY = 0.06  # ... unless it is this close to the target horizontally: then it aligns first


def action(
    translation=(0.0, 0.0, 0.0),
    rotation=(0.0, 0.0, 0.0),
    gripper: float = -1.0,
    base=(0.0, 0.0),
    base_turn: float = 0.0,
    mode: int = ARM,
) -> np.ndarray:
    """An 11-dim RT-1 action from its named parts (already scaled to [-1, 1])."""
    out = np.zeros(11, dtype=np.float32)
    out[0:3] = np.clip(translation, -1, 1)
    out[3:6] = np.clip(rotation, -1, 1)
    out[6] = gripper
    out[7:9] = np.clip(base, -1, 1)
    out[9] = np.clip(base_turn, -1, 1)
    out[10] = mode
    return out


class Skill:
    """One skill instance, e.g. ``pick up the red block``; subclasses set ``name``."""

    name: str = ""
    max_steps: int = DEFAULT_MAX_STEPS

    def __init__(self, call: SkillCall):
        self.call = call
        self.text = call.text
        self.steps = 0
        self.finished = False

    def act(self, world) -> np.ndarray:
        """Next action for ``world`` (a :class:`sim.world.SimWorld`)."""
        self.steps += 1
        if self.finished or self.steps >= self.max_steps:
            return self.terminate(world)
        return self.policy(world)

    def policy(self, world) -> np.ndarray:
        """The expert's action for the current state of ``world``; no hidden state."""
        raise NotImplementedError

    def terminate(self, world) -> np.ndarray:
        """The terminate action; the gripper keeps what it holds."""
        self.finished = True
        held = world.robot.grasp.held_body is not None
        return action(gripper=1.0 if held else -1.0, mode=TERMINATE)

    def goal(self) -> list[Predicate]:
        """Predicates that hold when the skill succeeded."""
        raise NotImplementedError

    def key_point(self, world) -> np.ndarray | None:
        """Where the hand (world frame, m) will close or open the gripper, seen from now;
        None for skills that never do (``go_to``, ``done``) or cannot start."""
        return None

    def success(self, state: WorldState) -> bool:
        """The simulator's success check for this skill."""
        return all(evaluate(pred, state) for pred in self.goal())


def move_arm(world, target: np.ndarray, close: bool, yaw: float = 0.0) -> tuple[np.ndarray, float]:
    """Arm action towards world position ``target`` with the gripper pointing down.

    Returns the action and the remaining distance (m).
    """
    pos, orn = world.robot.ee_pose()
    base_yaw = world.robot.base_pose[2]
    c, s = np.cos(-base_yaw), np.sin(-base_yaw)
    delta = target - pos
    local = np.array([c * delta[0] - s * delta[1], s * delta[0] + c * delta[1], delta[2]])
    rot_err = orientation_error(orn, base_yaw + yaw)
    rot_local = np.array(
        [c * rot_err[0] - s * rot_err[1], s * rot_err[0] + c * rot_err[1], rot_err[2]]
    )
    act = action(local / MAX_STEP, rot_local / MAX_TURN, 1.0 if close else -1.0)
    return act, float(np.linalg.norm(delta))


def funnel_height(distance_xy: float, target_z: float, travel_z: float) -> float:
    """The hand's height while it comes to a target ``distance_xy`` (m) away horizontally:
    ``travel_z`` far away, the target's own height within ``FUNNEL_RADIUS``, a straight slope
    in between."""
    rise = FUNNEL_SLOPE * max(0.0, distance_xy - FUNNEL_RADIUS)
    return target_z + min(rise, max(0.0, travel_z - target_z))


def approach(
    world, target: np.ndarray, travel_z: float, close: bool, yaw: float = 0.0
) -> tuple[np.ndarray, float]:
    """Arm action bringing the hand to world ``target`` from above: down the funnel; a hand
    below the funnel near the target moves level until it is above the target (the action
    changes smoothly with the state, so a learner that copies it has no knife edges to
    copy); one below the funnel far from the target climbs straight up first (so nothing
    is dragged sideways through objects). Returns the action and the remaining distance to
    ``target`` (m)."""
    ee = world.robot.ee_pose()[0]
    distance_xy = float(np.linalg.norm(target[:2] - ee[:2]))
    z = funnel_height(distance_xy, float(target[2]), travel_z)
    if ee[2] < z - CLIMB_MARGIN and distance_xy > NEAR_XY:
        waypoint = np.array([ee[0], ee[1], z])
    else:
        waypoint = np.array([target[0], target[1], min(z, max(ee[2], target[2]))])
    act, _ = move_arm(world, waypoint, close, yaw)
    return act, float(np.linalg.norm(target - ee))


def move_base(world, dock: tuple[float, float, float], close: bool) -> tuple[np.ndarray, float]:
    """Base action towards world pose ``dock``; returns it and the remaining error."""
    x, y, yaw = world.robot.base_pose
    c, s = np.cos(-yaw), np.sin(-yaw)
    dx, dy = dock[0] - x, dock[1] - y
    local = np.array([c * dx - s * dy, s * dx + c * dy])
    dyaw = (dock[2] - yaw + np.pi) % (2 * np.pi) - np.pi
    act = action(
        gripper=1.0 if close else -1.0,
        base=local / MAX_BASE_STEP,
        base_turn=dyaw / MAX_BASE_TURN,
        mode=BASE,
    )
    return act, float(np.hypot(dx, dy) + abs(dyaw) * 0.1)


SKILLS: Registry[type[Skill]] = Registry("skill")


def register_skill(cls: type[Skill]) -> type[Skill]:
    """Class decorator adding a skill under the template name ``cls.name``."""
    return SKILLS.add(cls.name, cls)


def make_skill(text: str) -> Skill:
    """The skill for a skill text (ValueError if no template matches)."""
    call = parse_skill(text)
    return SKILLS.get(call.name)(call)
