"""``mobile``: a ``table`` and a ``counter`` 1.6 m apart; the base drives between them."""

from __future__ import annotations

from sim.assets import create_static_collider
from sim.geometry import MOBILE_AREAS, TABLE_TOP_Z
from sim.scenes.base import Rect, Scene, register_scene
from sim.surfaces import Surface

SURFACE_COLORS = {"table": (0.62, 0.47, 0.33), "counter": (0.55, 0.58, 0.62)}
SPAWN_MARGIN = 0.06  # keep spawned objects this far inside an area's edge (m)


@register_scene
class MobileScene(Scene):
    name = "mobile"
    places = {}
    areas = MOBILE_AREAS
    base_bounds = ((-0.3, 0.05), (-0.3, 1.9))
    default_suite = "mobile"

    def build(self, client) -> list[Surface]:
        surfaces = []
        for name, area in self.areas.items():
            half = (area.half_extents[0] + 0.04, area.half_extents[1] + 0.04, TABLE_TOP_Z / 2)
            position = (*area.center, TABLE_TOP_Z / 2)
            create_static_collider(client, half, position)
            surfaces.append(Surface(position, half, SURFACE_COLORS[name]))
        return surfaces

    def surfaces(self) -> dict[str | None, Rect]:
        rects = {}
        for name, area in self.areas.items():
            (cx, cy), (hx, hy) = area.center, area.half_extents
            m = SPAWN_MARGIN
            rects[name] = (cx - hx + m, cx + hx - m, cy - hy + m, cy + hy - m)
        return rects
