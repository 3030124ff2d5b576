"""Scene geometry constants and the world-state snapshot that predicates read.

Everything is in SI units (metres, radians) in the world frame unless a name says
otherwise. The table top of every scene is at ``TABLE_TOP_Z``; the Panda's base sits on
a mobile platform whose top is level with the table top.
"""

from __future__ import annotations

from dataclasses import dataclass, field

COLORS: dict[str, tuple[float, float, float, float]] = {
    "red": (0.85, 0.12, 0.12, 1.0),
    "green": (0.15, 0.70, 0.20, 1.0),
    "blue": (0.15, 0.30, 0.90, 1.0),
    "yellow": (0.95, 0.85, 0.10, 1.0),
    "orange": (1.00, 0.55, 0.05, 1.0),
    "purple": (0.55, 0.20, 0.75, 1.0),
    "pink": (1.00, 0.50, 0.75, 1.0),
    "cyan": (0.10, 0.85, 0.90, 1.0),
}
OBJECT_TYPES = ("block", "bowl")

TABLE_TOP_Z = 0.40
BLOCK_SIZE = 0.04  # cube edge length
BOWL_INNER_RADIUS = 0.065  # radius of the bowl's floor inside the walls
BOWL_WALL_HEIGHT = 0.035
BOWL_FLOOR_THICKNESS = 0.006
PLACE_RADIUS = 0.06  # an object is "at" a named place within this xy distance

# Named places on the tabletop, (x, y) in the robot's base frame at its home pose,
# which is the world origin. "top" is far from the robot, "left" is the robot's left (+y).
TABLETOP_PLACES: dict[str, tuple[float, float]] = {
    "top left corner": (0.66, 0.26),
    "top right corner": (0.66, -0.26),
    "bottom left corner": (0.36, 0.26),
    "bottom right corner": (0.36, -0.26),
    "middle": (0.51, 0.0),
}
# Region where objects are spawned on a tabletop, (x_min, x_max, y_min, y_max).
TABLETOP_WORKSPACE = (0.32, 0.70, -0.30, 0.30)


@dataclass(frozen=True)
class Area:
    """A rectangular surface the robot can drive to (the ``mobile`` scene).

    ``center``/``half_extents`` describe the surface in world xy; ``dock`` is the base
    pose (x, y, yaw) from which the arm reaches the whole surface.
    """

    name: str
    center: tuple[float, float]
    half_extents: tuple[float, float]
    dock: tuple[float, float, float]

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        """Whether world point (x, y) lies on the surface, shrunk by ``margin``."""
        return (
            abs(x - self.center[0]) <= self.half_extents[0] - margin
            and abs(y - self.center[1]) <= self.half_extents[1] - margin
        )


MOBILE_AREAS: dict[str, Area] = {
    "table": Area("table", center=(0.51, 0.0), half_extents=(0.2, 0.3), dock=(0.0, 0.0, 0.0)),
    "counter": Area("counter", center=(0.51, 1.6), half_extents=(0.2, 0.3), dock=(0.0, 1.6, 0.0)),
}
ROBOT_AT_TOLERANCE = 0.05  # base within this distance (m) of a dock counts as "at" it


@dataclass(frozen=True)
class ObjectState:
    """One object in a world-state snapshot.

    ``position`` is the centre of a block, or the centre of a bowl's floor top surface,
    in world coordinates (m).
    """

    name: str
    kind: str
    position: tuple[float, float, float]


@dataclass(frozen=True)
class WorldState:
    """A snapshot of what the goal predicates and the oracle planner may look at.

    ``places`` maps named tabletop places to world xy; ``areas`` maps area names to
    :class:`Area`; ``robot_location`` names the area whose dock the base is at (or None).
    """

    objects: dict[str, ObjectState]
    held: str | None = None
    robot_location: str | None = None
    base_pose: tuple[float, float, float] = (0.0, 0.0, 0.0)
    places: dict[str, tuple[float, float]] = field(default_factory=dict)
    areas: dict[str, Area] = field(default_factory=dict)
