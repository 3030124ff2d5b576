"""Where objects go at reset: honour a task's ``initial`` predicates, sample the rest.

Free objects are sampled uniformly on the scene's surfaces with minimum spacing and are
kept clear of the named places, so that "place ... at the <place>" always has room.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim.geometry import (
    BLOCK_SIZE,
    BOWL_FLOOR_THICKNESS,
    BOWL_INNER_RADIUS,
    TABLE_TOP_Z,
)
from sim.scenes.base import Scene
from sim.tasks.predicates import object_type

FOOTPRINT = {"block": 0.03, "bowl": BOWL_INNER_RADIUS + 0.015}  # xy radius (m)
GAP = 0.012  # extra clearance between sampled objects (m)
PLACE_CLEARANCE = 0.045  # keep a free object's footprint this far from a place centre
IN_BOWL_OFFSETS = {
    1: [(0.03, 0.0)],  # off-centre, so a second block fits beside it
    2: [(0.03, 0.0), (-0.03, 0.0)],
    3: [(0.033, 0.0), (-0.0165, 0.0286), (-0.0165, -0.0286)],
}
MAX_TRIES = 400


@dataclass
class Layout:
    """Object poses (x, y, z, yaw) in the world, the held block and the robot's area."""

    poses: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    held: str | None = None
    robot_location: str | None = None


def sample_layout(scene: Scene, objects: list[str], initial, rng: np.random.Generator) -> Layout:
    """A layout of ``objects`` in ``scene`` satisfying ``initial`` (predicates).

    Raises ValueError when no arrangement is found, naming the scene and objects.
    """
    layout = Layout()
    support: dict[str, tuple[str, str]] = {}
    for pred in initial:
        if pred.name == "holding":
            layout.held = pred.args[0]
        elif pred.name == "robot_at":
            layout.robot_location = pred.args[0]
        else:  # in / on / at
            support[pred.args[0]] = (pred.name, pred.args[1])
    if layout.robot_location is None and scene.areas:
        layout.robot_location = str(rng.choice(sorted(scene.areas)))
    for _ in range(50):
        if _try_layout(scene, objects, support, layout, rng):
            return layout
    raise ValueError(
        f"could not lay out {objects} in scene {scene.name!r}: too many objects for the space"
    )


def _try_layout(scene, objects, support, layout: Layout, rng) -> bool:
    layout.poses.clear()
    roots = [o for o in objects if o not in support and o != layout.held]
    at_place = [o for o in objects if support.get(o, ("", ""))[0] == "at"]
    # bowls first: they need the most room
    for name in sorted(roots + at_place, key=lambda o: (object_type(o) != "bowl", o)):
        pose = _sample_root(scene, name, support.get(name), layout, rng)
        if pose is None:
            return False
        layout.poses[name] = pose
    for name in _stacking_order(support):
        relation, parent = support[name]
        if relation == "at":
            continue
        layout.poses[name] = _stacked_pose(name, relation, parent, support, layout)
    return True


def _sample_root(scene, name, sup, layout: Layout, rng):
    kind = object_type(name)
    yaw = float(rng.uniform(-0.4, 0.4)) if kind == "block" else 0.0
    z = TABLE_TOP_Z + (BLOCK_SIZE / 2 if kind == "block" else BOWL_FLOOR_THICKNESS)
    if sup is not None and sup[1] in scene.places:
        x, y = scene.places[sup[1]]
        jitter = rng.uniform(-0.01, 0.01, size=2)
        return (x + float(jitter[0]), y + float(jitter[1]), z, yaw)
    surfaces = scene.surfaces()
    if sup is not None:
        area = sup[1]
    elif None in surfaces:
        area = None
    else:
        area = str(rng.choice(sorted(surfaces)))
    x_lo, x_hi, y_lo, y_hi = surfaces[area]
    for _ in range(MAX_TRIES):
        x, y = float(rng.uniform(x_lo, x_hi)), float(rng.uniform(y_lo, y_hi))
        if _is_clear(scene, kind, x, y, layout):
            return (x, y, z, yaw)
    return None


def _is_clear(scene, kind: str, x: float, y: float, layout: Layout) -> bool:
    radius = FOOTPRINT[kind]
    for other, (ox, oy, _, _) in layout.poses.items():
        if math.hypot(x - ox, y - oy) < radius + FOOTPRINT[object_type(other)] + GAP:
            return False
    for px, py in scene.places.values():
        if math.hypot(x - px, y - py) < radius + PLACE_CLEARANCE:
            return False
    return True


def _stacking_order(support: dict[str, tuple[str, str]]) -> list[str]:
    """Children after their parents (in/on chains), deterministic."""
    depth: dict[str, int] = {}

    def level(name: str) -> int:
        if name not in support or support[name][0] == "at":
            return 0
        if name not in depth:
            depth[name] = 1 + level(support[name][1])
        return depth[name]

    return sorted(support, key=lambda n: (level(n), n))


def _stacked_pose(name, relation, parent, support, layout: Layout):
    px, py, pz, pyaw = layout.poses[parent]
    if relation == "on":
        return (px, py, pz + BLOCK_SIZE + 0.001, pyaw)
    siblings = sorted(n for n, (r, b) in support.items() if r == "in" and b == parent)
    dx, dy = IN_BOWL_OFFSETS[len(siblings)][siblings.index(name)]
    return (px + dx, py + dy, pz + BLOCK_SIZE / 2 + 0.001, 0.0)
