"""Which arrangements of objects a task may ask for: capacity, support and stacking rules.

An ``initial`` arrangement must be one a scene can show (one support per object, nothing
held twice, no cycles, bowls hold at most 3 blocks, stacks at most 3 high); a goal must not
contradict itself. Every problem is a one-line ValueError.
"""

from __future__ import annotations

from sim.tasks.predicates import Predicate, object_type

TABLETOP_MAX_OBJECTS = {"block": 4, "bowl": 4}  # space on the table is limited
MAX_BLOCKS_PER_BOWL = 3  # initial arrangements only
MAX_STACK_HEIGHT = 3  # initial arrangements only, in blocks


def check_tabletop_capacity(objects: tuple[str, ...]) -> None:
    for kind, limit in TABLETOP_MAX_OBJECTS.items():
        count = sum(1 for name in objects if name.endswith(" " + kind))
        if count > limit:
            raise ValueError(
                f"the tabletop scene holds at most {limit} {kind}s; this task names {count}"
            )


def check_goal(goal: tuple[Predicate, ...], scene: str) -> None:
    for pred in goal:
        if pred.negated and pred.inner in goal:
            raise ValueError(f"contradictory goal: both {pred.inner} and {pred}")
    positives = tuple(p for p in goal if not p.negated)
    check_arrangement(positives, scene, "goal", limits=False)


def check_arrangement(preds: tuple[Predicate, ...], scene: str, what: str, limits: bool) -> None:
    """Reject arrangements no scene can show (``limits``: bowl capacity and stack height)."""
    try:
        held = _unique_values(preds, "holding", "holding both {} and {}")
        _unique_values(preds, "robot_at", "the robot is at both {} and {}")
        support = _supports(preds, mobile=scene == "mobile")
        _check_held(held, support, preds)
        below = {p.args[0]: p.args[1] for p in support.values() if p.name == "on"}
        _check_stacks(below, max_height=MAX_STACK_HEIGHT if limits else None)
        if limits:
            _check_bowls(support, below)
        if scene == "tabletop":
            _check_places(preds)
        else:
            _check_areas(preds, support, below)
    except ValueError as exc:
        raise ValueError(f"contradictory {what}: {exc}") from None


def _unique_values(preds, name: str, message: str) -> str | None:
    values = [p.args[0] for p in preds if p.name == name]
    if len(set(values)) > 1:
        raise ValueError(message.format(repr(values[0]), repr(values[1])))
    return values[0] if values else None


def _supports(preds, mobile: bool) -> dict[str, Predicate]:
    """What each object rests in/on (and, on the tabletop, at): at most one per object."""
    support: dict[str, Predicate] = {}
    for pred in preds:
        if pred.name not in ("in", "on", "at") or (mobile and pred.name == "at"):
            continue
        obj = pred.args[0]
        if obj in support:
            raise ValueError(f"{obj!r} is placed twice: {support[obj]} and {pred}")
        if pred.name == "on" and pred.args[1] == obj:
            raise ValueError(f"{obj!r} cannot be on itself")
        support[obj] = pred
    return support


def _check_held(held: str | None, support: dict[str, Predicate], preds) -> None:
    if held is None:
        return
    if held in support:
        raise ValueError(f"{held!r} is held, so it cannot also be {support[held]}")
    for pred in preds:
        if pred.name in ("on", "at") and held in pred.args:
            raise ValueError(f"{held!r} is held, so {pred} cannot hold")


def _check_stacks(below: dict[str, str], max_height: int | None) -> None:
    tops: dict[str, str] = {}
    for upper, lower in below.items():
        if lower in tops:
            raise ValueError(f"both {tops[lower]!r} and {upper!r} are on {lower!r}")
        tops[lower] = upper
    for block in below:
        chain = _chain_down(block, below)
        if max_height is not None and len(chain) > max_height:
            raise ValueError(f"stack {' on '.join(chain)} is taller than {max_height} blocks")


def _chain_down(block: str, below: dict[str, str]) -> list[str]:
    """``block`` and the blocks under it, top first (ValueError on a cycle)."""
    chain = [block]
    while chain[-1] in below:
        nxt = below[chain[-1]]
        if nxt in chain:
            raise ValueError(f"on() cycle: {' on '.join([*chain, nxt])}")
        chain.append(nxt)
    return chain


def _check_bowls(support: dict[str, Predicate], below: dict[str, str]) -> None:
    counts: dict[str, int] = {}
    for obj in support:
        root = support.get(_chain_down(obj, below)[-1])
        if object_type(obj) == "block" and root is not None and root.name == "in":
            counts[root.args[1]] = counts.get(root.args[1], 0) + 1
    for bowl, count in counts.items():
        if count > MAX_BLOCKS_PER_BOWL:
            raise ValueError(f"{count} blocks in {bowl!r}; a bowl holds at most 3")


def _check_places(preds) -> None:
    taken: dict[str, str] = {}
    for pred in preds:
        if pred.name == "at":
            obj, place = pred.args
            if place in taken:
                raise ValueError(f"{place!r} is taken by both {taken[place]!r} and {obj!r}")
            taken[place] = obj


def _check_areas(preds, support: dict[str, Predicate], below: dict[str, str]) -> None:
    """In the mobile scene, everything in one bowl or stack shares one area."""
    claims: dict[str, tuple[str, str]] = {}  # root object -> (object, area)
    for pred in preds:
        if pred.name != "at":
            continue
        obj, area = pred.args
        root = _root(obj, support, below)
        if root in claims and claims[root][1] != area:
            other, other_area = claims[root]
            raise ValueError(
                f"{obj!r} is at {area!r} but {other!r}, which it rests with, is at {other_area!r}"
            )
        claims[root] = (obj, area)


def _root(obj: str, support: dict[str, Predicate], below: dict[str, str]) -> str:
    bottom = _chain_down(obj, below)[-1]
    pred = support.get(bottom)
    return pred.args[1] if pred is not None and pred.name == "in" else bottom
