"""A symbolic world: idealised object positions, queries on them, and skill effects.

:func:`apply_skill` is a strict symbolic executor (each skill's preconditions and idealised
effects); :func:`symbolic_world` builds a snapshot from a task's ``initial`` predicates. They
are what the oracle planner (:mod:`sim.tasks.oracle`) thinks with, and a testing aid; not
what the physics scene produces. All positions are world coordinates in metres.
"""

from __future__ import annotations

import math
from dataclasses import replace

from sim.geometry import (
    BLOCK_SIZE,
    BOWL_FLOOR_THICKNESS,
    MOBILE_AREAS,
    PLACE_RADIUS,
    ROBOT_AT_TOLERANCE,
    TABLE_TOP_Z,
    TABLETOP_PLACES,
    ObjectState,
    WorldState,
)
from sim.skill_text import parse_skill
from sim.tasks.predicates import Predicate, evaluate, object_type
from sim.tasks.spec import TaskSpec

BLOCK_Z = TABLE_TOP_Z + BLOCK_SIZE / 2  # centre of a block resting on a surface
BOWL_Z = TABLE_TOP_Z + BOWL_FLOOR_THICKNESS  # top of a bowl's floor
GRIPPER_OFFSET = (0.4, 0.3)  # held object: this far ahead of the base (x) and above the table
FREE_PLACE_RADIUS = 2 * PLACE_RADIUS  # a place is free with no object this close (xy)
SPOT_CLEARANCE = 0.1  # a spawn spot is free with no object this close (xy)
# Deterministic spawn spots on the tabletop, clear of every named place by > FREE_PLACE_RADIUS.
TABLETOP_SPOTS = (
    (0.36, 0.13),
    (0.36, -0.13),
    (0.51, 0.13),
    (0.51, -0.13),
    (0.66, 0.13),
    (0.66, -0.13),
    (0.36, 0.0),
    (0.66, 0.0),
)
AREA_SPOT_OFFSETS = tuple((dx, dy) for dy in (0.0, 0.2, -0.2) for dx in (0.0, 0.12, -0.12))
BOWL_SLOTS = tuple(  # block centres inside a bowl, relative to the bowl's centre
    (0.028 * math.cos(math.radians(a)), 0.028 * math.sin(math.radians(a))) for a in (90, 210, 330)
)
SLOT_TOLERANCE = BLOCK_SIZE / 2


# ---------------------------------------------------------------------------------------------
# Symbolic snapshot queries


def gripper_position(base_pose: tuple[float, float, float]) -> tuple[float, float, float]:
    """Idealised position of a held object for a base pose (x, y, yaw)."""
    x, y, yaw = base_pose
    ahead, up = GRIPPER_OFFSET
    return (x + ahead * math.cos(yaw), y + ahead * math.sin(yaw), TABLE_TOP_Z + up)


def objects_near(state: WorldState, xy: tuple[float, float], radius: float) -> list[str]:
    """Objects (not held) within ``radius`` of ``xy``."""
    return [
        name
        for name, obj in state.objects.items()
        if name != state.held
        and math.hypot(obj.position[0] - xy[0], obj.position[1] - xy[1]) <= radius
    ]


def blocks_on(state: WorldState, block: str) -> list[str]:
    """Blocks resting directly on ``block``."""
    return [
        name
        for name, obj in state.objects.items()
        if obj.kind == "block" and name != block and evaluate(Predicate("on", (name, block)), state)
    ]


def area_of(state: WorldState, name: str) -> str | None:
    """The area whose surface holds object ``name`` (None if held, tabletop or off every area)."""
    if state.held == name:
        return None
    x, y = state.objects[name].position[:2]
    return next((a for a, area in state.areas.items() if area.contains(x, y)), None)


def free_places(state: WorldState, radius: float = FREE_PLACE_RADIUS) -> list[str]:
    """Named places with no object within ``radius`` (m; held objects don't count)."""
    return [p for p, xy in state.places.items() if not objects_near(state, xy, radius)]


def _free_spot(state: WorldState, spots) -> tuple[float, float] | None:
    return next((s for s in spots if not objects_near(state, s, SPOT_CLEARANCE)), None)


def _area_spots(area_name: str, areas) -> list[tuple[float, float]]:
    cx, cy = areas[area_name].center
    return [(cx + dx, cy + dy) for dx, dy in AREA_SPOT_OFFSETS]


def bowl_slot(state: WorldState, bowl: str) -> tuple[float, float] | None:
    """A free (x, y) slot inside ``bowl`` (world, m), or None when every slot is taken."""
    bx, by = state.objects[bowl].position[:2]
    for dx, dy in BOWL_SLOTS:
        slot = (bx + dx, by + dy)
        if not [
            n for n in objects_near(state, slot, SLOT_TOLERANCE) if state.objects[n].kind == "block"
        ]:
            return slot
    return None


# ---------------------------------------------------------------------------------------------
# Symbolic executor


def apply_skill(state: WorldState, text: str) -> WorldState:
    """The snapshot after skill ``text`` succeeds; ValueError if its preconditions fail.

    Preconditions: pick needs an empty hand and a clear block; place needs the object held and
    a free target; in the mobile scene the robot must be at the area of what it picks or
    places onto. Effects are idealised positions (blocks centred on places, stacked blocks
    exactly one block higher, blocks in bowl slots).
    """
    call = parse_skill(text)
    try:
        return _SKILL_EFFECTS[call.name](state, call.obj, call.target)
    except ValueError as exc:
        raise ValueError(f"cannot {text!r}: {exc}") from None


def is_feasible(state: WorldState, text: str) -> bool:
    """Whether skill ``text``'s preconditions hold in ``state`` (see :func:`apply_skill`)."""
    try:
        apply_skill(state, text)
    except ValueError:
        return False
    return True


def knocked_down(state: WorldState, name: str) -> WorldState:
    """The snapshot after block ``name`` falls (out of the hand, off a stack) onto a free spot
    of the surface under the robot: what a failed place or a toppled tower looks like.

    ValueError when another block rests on it or no spot is free.
    """
    if blocks_on(state, name):
        raise ValueError(f"{blocks_on(state, name)[0]!r} rests on {name!r}")
    spots = _area_spots(state.robot_location, state.areas) if state.areas else TABLETOP_SPOTS
    spot = _free_spot(state, spots)
    if spot is None:
        raise ValueError(f"no free spot for {name!r} to fall onto")
    held = None if state.held == name else state.held
    return _moved(state, name, (*spot, BLOCK_Z), held=held)


def _moved(state: WorldState, name: str, position, **changes) -> WorldState:
    objects = dict(state.objects)
    objects[name] = replace(objects[name], position=tuple(position))
    return replace(state, objects=objects, **changes)


def _require_object(state: WorldState, name: str, kind: str) -> None:
    if name not in state.objects or state.objects[name].kind != kind:
        raise ValueError(f"no {kind} named {name!r}")


def _require_reach(state: WorldState, name: str) -> None:
    if state.areas and area_of(state, name) != state.robot_location:
        raise ValueError(f"the robot is at {state.robot_location!r}, not at {name!r}")


def _require_held(state: WorldState, name: str) -> None:
    if state.held != name:
        raise ValueError(f"the robot holds {state.held!r}, not {name!r}")


def _pick(state: WorldState, obj: str, _target) -> WorldState:
    _require_object(state, obj, "block")
    if state.held is not None:
        raise ValueError(f"the hand already holds {state.held!r}")
    _require_reach(state, obj)
    if blocks_on(state, obj):
        raise ValueError(f"{blocks_on(state, obj)[0]!r} is on top of it")
    return _moved(state, obj, gripper_position(state.base_pose), held=obj)


def _place_in(state: WorldState, obj: str, bowl: str) -> WorldState:
    _require_held(state, obj)
    _require_object(state, bowl, "bowl")
    _require_reach(state, bowl)
    slot = bowl_slot(state, bowl)
    if slot is None:
        raise ValueError(f"{bowl!r} is full")
    return _moved(state, obj, (*slot, state.objects[bowl].position[2] + BLOCK_SIZE / 2), held=None)


def _place_on(state: WorldState, obj: str, target: str) -> WorldState:
    _require_held(state, obj)
    if target in state.areas:
        if state.robot_location != target:
            raise ValueError(f"the robot is at {state.robot_location!r}")
        spot = _free_spot(state, _area_spots(target, state.areas))
        if spot is None:
            raise ValueError(f"no free spot on {target!r}")
        return _moved(state, obj, (*spot, BLOCK_Z), held=None)
    _require_object(state, target, "block")
    if state.held == target or blocks_on(state, target):
        raise ValueError(f"{target!r} is not clear")
    _require_reach(state, target)
    x, y, z = state.objects[target].position
    return _moved(state, obj, (x, y, z + BLOCK_SIZE), held=None)


def _place_at(state: WorldState, obj: str, place: str) -> WorldState:
    _require_held(state, obj)
    if place not in state.places:
        raise ValueError(f"no place named {place!r}")
    near = objects_near(state, state.places[place], PLACE_RADIUS)
    blocks = [n for n in near if state.objects[n].kind == "block"]
    if blocks:
        raise ValueError(f"{blocks[0]!r} is already there")
    z = state.objects[near[0]].position[2] + BLOCK_SIZE / 2 if near else BLOCK_Z  # into a bowl
    return _moved(state, obj, (*state.places[place], z), held=None)


def _go_to(state: WorldState, _obj, area: str) -> WorldState:
    if area not in state.areas:
        raise ValueError(f"no area named {area!r}")
    pose = state.areas[area].dock
    state = replace(state, robot_location=area, base_pose=pose)
    if state.held is not None:
        state = _moved(state, state.held, gripper_position(pose))
    return state


_SKILL_EFFECTS = {
    "pick": _pick,
    "place_in": _place_in,
    "place_on": _place_on,
    "place_at": _place_at,
    "go_to": _go_to,
    "done": lambda state, _obj, _target: state,
}


# ---------------------------------------------------------------------------------------------
# Symbolic world from a task's initial predicates


def symbolic_world(task: TaskSpec) -> WorldState:
    """A deterministic snapshot honouring ``task.initial`` (a planning/testing aid).

    Bowls and free blocks go to fixed spots clear of the named places; ``in`` puts a block in
    a bowl slot, ``on`` one block-height above its support, ``at`` on the place (tabletop) or a
    spot of the area (mobile; objects with no area go to the robot's home area, the one whose
    dock is the origin). Without ``robot_at`` the mobile robot is at its home area.
    """
    mobile = task.scene == "mobile"
    areas = dict(MOBILE_AREAS) if mobile else {}
    robot = _initial_arg(task, "robot_at") or (_home_area(areas) if mobile else None)
    state = WorldState(
        {},
        held=_initial_arg(task, "holding"),
        robot_location=robot,
        base_pose=areas[robot].dock if robot else (0.0, 0.0, 0.0),
        places={} if mobile else dict(TABLETOP_PLACES),
        areas=areas,
    )
    support = {p.args[0]: p for p in task.initial if p.name == "at"}
    support.update({p.args[0]: p for p in task.initial if p.name in ("in", "on")})
    for name in sorted(task.all_objects, key=lambda n: _support_depth(n, support)):
        area = _root_area(name, task, support, robot)
        position = _initial_position(state, name, support, area)
        state.objects[name] = ObjectState(name, object_type(name), position)
    return state


def _initial_arg(task: TaskSpec, name: str) -> str | None:
    return next((p.args[0] for p in task.initial if p.name == name), None)


def _home_area(areas) -> str | None:
    for name, area in areas.items():
        if math.hypot(area.dock[0], area.dock[1]) <= ROBOT_AT_TOLERANCE:
            return name
    return next(iter(areas), None)


def _support_depth(name: str, support: dict[str, Predicate]) -> int:
    depth = 0
    while name in support and support[name].name in ("in", "on"):
        name, depth = support[name].args[1], depth + 1
    return depth


def _root_area(name: str, task: TaskSpec, support, default: str | None) -> str | None:
    """The area of the bowl or stack ``name`` rests with (mobile), from any at() in it."""

    def root(obj: str) -> str:
        while obj in support and support[obj].name in ("in", "on"):
            obj = support[obj].args[1]
        return obj

    mine = root(name)
    for pred in task.initial:
        if pred.name == "at" and pred.args[1] in MOBILE_AREAS and root(pred.args[0]) == mine:
            return pred.args[1]
    return default


def _initial_position(state: WorldState, name: str, support, area: str | None):
    kind = object_type(name)
    z = BLOCK_Z if kind == "block" else BOWL_Z
    if state.held == name:
        return gripper_position(state.base_pose)
    pred = support.get(name)
    if pred is not None and pred.name == "in":
        bowl = state.objects[pred.args[1]].position
        return (*bowl_slot(state, pred.args[1]), bowl[2] + BLOCK_SIZE / 2)
    if pred is not None and pred.name == "on":
        x, y, lower_z = state.objects[pred.args[1]].position
        return (x, y, lower_z + BLOCK_SIZE)
    if pred is not None and pred.args[1] in state.places:
        return (*state.places[pred.args[1]], z)
    spots = _area_spots(area, state.areas) if state.areas else TABLETOP_SPOTS
    spot = _free_spot(state, spots)
    if spot is None:
        raise ValueError(f"no free spot for {name!r} in the symbolic world")
    return (*spot, z)
