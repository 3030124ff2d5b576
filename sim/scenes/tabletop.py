"""``tabletop``: one table in front of a parked robot, with five named places."""

from __future__ import annotations

from sim.assets import create_box
from sim.geometry import TABLE_TOP_Z, TABLETOP_PLACES, TABLETOP_WORKSPACE
from sim.scenes.base import Rect, Scene, register_scene

TABLE_CENTER = (0.52, 0.0)
TABLE_HALF = (0.32, 0.5)
TABLE_COLOR = (0.62, 0.47, 0.33, 1.0)


@register_scene
class TabletopScene(Scene):
    name = "tabletop"
    places = TABLETOP_PLACES
    areas = {}
    default_suite = "single"

    def build(self, client) -> list[int]:
        half = (*TABLE_HALF, TABLE_TOP_Z / 2)
        return [create_box(client, half, TABLE_COLOR, (*TABLE_CENTER, TABLE_TOP_Z / 2))]

    def surfaces(self) -> dict[str | None, Rect]:
        return {None: TABLETOP_WORKSPACE}
