"""Oracle planner: a correct skill sequence for a task from a world-state snapshot.

The planner works symbolically: it copies the snapshot, applies each skill it emits with
:func:`apply_skill` (a strict symbolic executor with the skills' preconditions and idealised
effects) and reads facts back with :func:`sim.tasks.predicates.evaluate`, so "already true" means
exactly what the evaluation means. Goals are handled in dependency order: placements bottom-up
(stacks from the base), then negated goals, then ``holding``, then ``robot_at``; goals already
true cost nothing.

The symbolic world it plans in lives in :mod:`sim.tasks.symbolic`.
"""

from __future__ import annotations

from sim.geometry import (
    PLACE_RADIUS,
    WorldState,
)
from sim.skill_text import skill_text
from sim.tasks.predicates import Predicate, evaluate, object_type
from sim.tasks.spec import TaskSpec, object_sort_key
from sim.tasks.symbolic import (
    FREE_PLACE_RADIUS,
    apply_skill,
    area_of,
    blocks_on,
    bowl_slot,
    free_places,
    objects_near,
)


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
    """Placements bottom-up, then negations, then holding, then robot_at.

    Negations go in object order (:func:`object_sort_key`, the order of the scene facts), so
    a bowl is cleared block by block as the facts list them, whatever order the task names
    its goals in: one right plan per scene is easier for a small LM to learn than many.
    """
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

    def key(pred: Predicate) -> tuple:
        return rank[pred.name], object_sort_key(pred.inner.args[0]) if pred.inner else ()

    return placements + sorted(rest, key=key)


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
        near = objects_near(self.state, self.state.places[place], PLACE_RADIUS)
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
