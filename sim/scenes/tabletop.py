"""``tabletop``: one table in front of a parked robot, with five named places."""

from __future__ import annotations

from sim.assets import create_static_collider
from sim.geometry import TABLE_TOP_Z, TABLETOP_PLACES, TABLETOP_WORKSPACE
from sim.scenes.base import Rect, Scene, register_scene
from sim.surfaces import Surface

TABLE_CENTER = (0.52, 0.0)
TABLE_HALF = (0.32, 0.5)
TABLE_COLOR = (0.62, 0.47, 0.33)


@register_scene
class TabletopScene(Scene):
    name = "tabletop"
    places = TABLETOP_PLACES
    areas = {}
    default_suite = "single"

    def build(self, client) -> list[Surface]:
        half, center = (*TABLE_HALF, TABLE_TOP_Z / 2), (*TABLE_CENTER, TABLE_TOP_Z / 2)
        create_static_collider(client, half, center)
        return [Surface(center, half, TABLE_COLOR)]

    def surfaces(self) -> dict[str | None, Rect]:
        return {None: TABLETOP_WORKSPACE}
