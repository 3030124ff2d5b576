"""Oracle planner: a correct skill sequence for a task from a world-state snapshot.

The planner works symbolically: it copies the snapshot, applies each skill it emits with
:func:`apply_skill` (a strict symbolic executor with the skills' preconditions and idealised
effects) and reads facts back with :func:`sim.tasks.predicates.evaluate`, so "already true" means
exactly what the evaluation means. Goals are handled in dependency order: placements bottom-up
(stacks from the base), then negated goals, then ``holding``, then ``robot_at``; goals already
true cost nothing.

:func:`symbolic_world` builds a snapshot from a task's ``initial`` predicates; it is a planning
and testing aid (deterministic idealised positions), not what the physics scene produces.
All positions are world coordinates in metres.
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
from sim.skill_text import parse_skill, skill_text
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


def _near(state: WorldState, xy: tuple[float, float], radius: float) -> list[str]:
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
    return [p for p, xy in state.places.items() if not _near(state, xy, radius)]


def _free_spot(state: WorldState, spots) -> tuple[float, float] | None:
    return next((s for s in spots if not _near(state, s, SPOT_CLEARANCE)), None)


def _area_spots(area_name: str, areas) -> list[tuple[float, float]]:
    cx, cy = areas[area_name].center
    return [(cx + dx, cy + dy) for dx, dy in AREA_SPOT_OFFSETS]


def bowl_slot(state: WorldState, bowl: str) -> tuple[float, float] | None:
    """A free (x, y) slot inside ``bowl`` (world, m), or None when every slot is taken."""
    bx, by = state.objects[bowl].position[:2]
    for dx, dy in BOWL_SLOTS:
        slot = (bx + dx, by + dy)
        if not [n for n in _near(state, slot, SLOT_TOLERANCE) if state.objects[n].kind == "block"]:
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
    near = _near(state, state.places[place], PLACE_RADIUS)
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
# Planner


def oracle_plan(task: TaskSpec, state: WorldState) -> list[str]:
    """Skill texts that take ``state`` to ``task.goal``, ending with ``"done"``.

    ValueError if an object is missing from ``state`` or the goal cannot be planned.
    """
    for name in task.all_objects:
        if name not in state.objects:
            raise ValueError(f"object {name!r} of task {task.instruction!r} is not in the state")
    planner = _Planner(task, state)
    try:
        planner.run()
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"cannot plan {task.instruction!r}: {exc}") from None
    return planner.plan


def oracle_next_skill(task: TaskSpec, state: WorldState) -> str:
    """The first skill of :func:`oracle_plan` (``"done"`` when the goal already holds)."""
    return oracle_plan(task, state)[0]


def _goal_order(goal: tuple[Predicate, ...]) -> list[Predicate]:
    """Placements bottom-up, then negations, then holding, then robot_at."""
    below = {p.args[0]: p.args[1] for p in goal if p.name == "on"}

    def depth(pred: Predicate) -> int:
        seen, block = set(), pred.args[0]
        while block in below and block not in seen:
            seen.add(block)
            block = below[block]
        return len(seen)

    placements = sorted((p for p in goal if p.name in ("in", "on", "at")), key=depth)
    rest = [p for p in goal if p.name in ("not", "holding", "robot_at")]
    rank = {"not": 0, "holding": 1, "robot_at": 2}
    return placements + sorted(rest, key=lambda p: rank[p.name])


class _Planner:
    """Emits skills onto ``plan`` while tracking the symbolic ``state``."""

    def __init__(self, task: TaskSpec, state: WorldState):
        self.goal = _goal_order(task.goal)
        self.state = state
        self.plan: list[str] = []
        self.max_rounds = 8 * len(self.goal) + 2 * len(state.objects) + 8

    def run(self) -> None:
        for _ in range(self.max_rounds):
            pending = [g for g in self.goal if not self._done(g)]
            if not pending:
                self.emit("done")
                return
            ready = [g for g in pending if self._ready_for_held(g)]
            self.achieve(ready[0] if ready else pending[0])
        pending = ", ".join(str(g) for g in self.goal if not self._done(g))
        raise ValueError(
            f"the goals cannot all be reached together (contradictory, or beyond this planner); "
            f"still unmet: {pending}"
        )

    # -- bookkeeping

    def holds(self, pred: Predicate) -> bool:
        return evaluate(pred, self.state)

    def emit(self, name: str, obj: str | None = None, target: str | None = None) -> None:
        text = skill_text(name, obj, target)
        self.state = apply_skill(self.state, text)
        self.plan.append(text)

    def _placement_goals(self, block: str) -> list[Predicate]:
        return [g for g in self.goal if g.name in ("in", "on", "at") and g.args[0] == block]

    def _done(self, goal: Predicate) -> bool:
        """A placement is done once final (nothing under it will move); others once true."""
        if goal.name in ("in", "on", "at"):
            return self._final(goal.args[0])
        return self.holds(goal)

    def _under(self, block: str) -> str | None:
        """The block that ``block`` rests on, if any."""
        if self.state.held == block or self.state.objects[block].kind != "block":
            return None
        blocks = [n for n, o in self.state.objects.items() if o.kind == "block" and n != block]
        return next((n for n in blocks if self.holds(Predicate("on", (block, n)))), None)

    def _final(self, name: str, seen: frozenset = frozenset()) -> bool:
        """Whether ``name`` meets its placement goals and rests on nothing that must move."""
        if name in seen or not all(self.holds(g) for g in self._placement_goals(name)):
            return False
        under = self._under(name)
        return under is None or self._final(under, seen | {name})

    def make_final(self, name: str) -> None:
        """One step towards ``_final(name)``: place it, fix what is under it, or move it off."""
        unmet = [g for g in self._placement_goals(name) if not self.holds(g)]
        if unmet:
            self.achieve(unmet[0])
        elif self._placement_goals(name):
            self.make_final(self._under(name))
        else:
            self.move_away(name)  # no goal of its own: the table is final

    def _ready_for_held(self, goal: Predicate) -> bool:
        """A placement goal for the held block whose target is ready: place it right away."""
        if goal.name not in ("in", "on", "at") or goal.args[0] != self.state.held:
            return False
        if goal.name == "on":
            target = goal.args[1]
            return self._final(target) and not blocks_on(self.state, target)
        if goal.name == "at" and goal.args[1] in self.state.places:
            return not self._blocks_at(goal.args[1])
        return True

    # -- goals

    def achieve(self, goal: Predicate) -> None:
        if goal.negated:
            self._undo(goal.inner)
        elif goal.name == "holding":
            self.fetch(goal.args[0])
        elif goal.name == "robot_at":
            self.go(goal.args[0])
        elif object_type(goal.args[0]) == "bowl":
            raise ValueError(f"{goal} needs a bowl moved, and no skill moves bowls")
        elif self.holds(goal):  # true, but another goal of the block or its support is not
            self.make_final(goal.args[0])
        elif goal.name == "on" and not self._final(goal.args[1]):
            self.make_final(goal.args[1])
        else:
            {"in": self._put_in, "on": self._put_on, "at": self._put_at}[goal.name](*goal.args)

    def _put_in(self, block: str, bowl: str) -> None:
        self.fetch(block)
        self.go(area_of(self.state, bowl))
        self.emit("place_in", block, bowl)

    def _put_on(self, block: str, target: str) -> None:
        self.clear(target)
        if self.state.held == target:
            self.put_down(target)
        self.fetch(block)
        self.go(area_of(self.state, target))
        self.emit("place_on", block, target)

    def _put_at(self, block: str, location: str) -> None:
        if location in self.state.areas:
            self.fetch(block)
            self.go(location)
            self.emit("place_on", block, location)
            return
        if self.state.held != block:  # empty the hand first, not onto the place
            self.clear(block)
            self.free_hand(avoid=location)
        for other in self._blocks_at(location):
            if other != block:
                self.move_away(other, avoid=location)
        self.fetch(block)
        self.emit("place_at", block, location)

    def _blocks_at(self, place: str) -> list[str]:
        near = _near(self.state, self.state.places[place], PLACE_RADIUS)
        return [n for n in near if self.state.objects[n].kind == "block"]

    def _undo(self, pred: Predicate) -> None:
        """Make positive ``pred`` false."""
        if pred.name == "holding":
            self.put_down(pred.args[0])
        elif pred.name == "robot_at":
            self.go(next(a for a in self.state.areas if a != pred.args[0]))
        elif object_type(pred.args[0]) == "bowl":
            raise ValueError(f"not({pred}) needs a bowl moved, and no skill moves bowls")
        else:
            avoid = pred.args[1] if pred.name == "at" else None
            self.move_away(pred.args[0], avoid=avoid)

    # -- skills with their preconditions

    def go(self, area: str | None) -> None:
        if self.state.areas and area is not None and self.state.robot_location != area:
            self.emit("go_to", target=area)

    def fetch(self, block: str) -> None:
        """Make the robot hold ``block``."""
        if self.state.held == block:
            return
        self.free_hand()
        self.clear(block)
        self.go(area_of(self.state, block))
        self.emit("pick", block)

    def free_hand(self, avoid: str | None = None) -> None:
        """Empty the hand: place the held block at its goal if ready, else put it down."""
        held = self.state.held
        if held is None:
            return
        ready = [g for g in self.goal if not self.holds(g) and self._ready_for_held(g)]
        if ready:
            self.achieve(ready[0])
        else:
            self.put_down(held, avoid)

    def clear(self, block: str) -> None:
        """Move whatever rests on ``block`` away."""
        for upper in blocks_on(self.state, block):
            self.move_away(upper)

    def move_away(self, block: str, avoid: str | None = None) -> None:
        self.fetch(block)
        self.put_down(block, avoid)

    def put_down(self, block: str, avoid: str | None = None) -> None:
        """Put held ``block`` somewhere neutral: on the tabletop a free place (else an open
        place, else a bowl the goal does not name); in the mobile scene the current area."""
        if self.state.areas:
            self._put_down_on_area(block, avoid)
            return
        wanted = {name for g in self.goal for name in g.positive.args}
        for radius in (FREE_PLACE_RADIUS, PLACE_RADIUS):  # roomy places first, then any open
            places = [p for p in free_places(self.state, radius) if p != avoid]
            places.sort(key=lambda p: p in wanted)  # keep places the goal needs free if possible
            if places:
                self.emit("place_at", block, places[0])
                return
        bowl = self._spare_bowl()
        if bowl is None:
            raise ValueError(f"no free place or spare bowl to put {block!r} down")
        self.emit("place_in", block, bowl)

    def _put_down_on_area(self, block: str, avoid: str | None) -> None:
        area = self.state.robot_location
        if area is None or area == avoid:
            area = next(a for a in self.state.areas if a != avoid)
        self.go(area)
        self.emit("place_on", block, area)

    def _spare_bowl(self) -> str | None:
        named = {name for g in self.goal for name in g.objects}
        for name, obj in self.state.objects.items():
            if obj.kind == "bowl" and name not in named and bowl_slot(self.state, name):
                return name
        return None


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
