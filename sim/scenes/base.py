"""The :class:`Scene` interface and its registry."""

from __future__ import annotations

from sim.geometry import Area
from sim.registry import Registry
from sim.surfaces import Surface

Rect = tuple[float, float, float, float]  # x_min, x_max, y_min, y_max (world, m)


class Scene:
    """Static world geometry. Subclasses set the class attributes and :meth:`build`."""

    name: str = ""
    places: dict[str, tuple[float, float]] = {}
    areas: dict[str, Area] = {}
    # ((x_min, x_max), (y_min, y_max)) the base may drive within (world, m)
    base_bounds: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 0.0), (0.0, 0.0))
    default_suite: str = "single"

    def build(self, client) -> list[Surface]:
        """Create the static bodies; returns the tables as surfaces to draw."""
        raise NotImplementedError

    def surfaces(self) -> dict[str | None, Rect]:
        """Where free objects may be spawned, by area name (None: the only surface)."""
        raise NotImplementedError

    def base_pose_at(self, location: str | None) -> tuple[float, float, float]:
        """Base pose (x, y, yaw) for a starting location (an area name or None)."""
        if location is None:
            return (0.0, 0.0, 0.0)
        return self.areas[location].dock


SCENES: Registry[type[Scene]] = Registry("scene")


def register_scene(cls: type[Scene]) -> type[Scene]:
    """Class decorator adding a scene to :data:`SCENES` under ``cls.name``."""
    return SCENES.add(cls.name, cls)


def make_scene(name: str) -> Scene:
    """Instantiate a registered scene by name (ValueError naming the scenes if unknown)."""
    return SCENES.get(name)()
