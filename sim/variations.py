"""Variation switches for generalisation tests, applied at every reset from the env's RNG."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.camera import CameraRig

BASE_LIGHT = (0.4, -0.3, 1.0)
CHECKER_SIZES = (0.04, 0.06, 0.1, 0.15)  # checker square sizes (m) for table_texture


@dataclass
class Variations:
    """Which aspects of the world are randomised per episode.

    distractors: extra objects (unused colours) placed besides the task's own.
    table_color: random table colour.  table_texture: a checker of a random square size.
    light: random light direction.  camera_jitter: front camera moved by up to 2 cm.
    """

    distractors: int = 0
    table_color: bool = False
    table_texture: bool = False
    light: bool = False
    camera_jitter: bool = False

    def apply(self, world, rng: np.random.Generator) -> None:
        """Set table looks, light and camera pose on ``world`` for this episode."""
        rig: CameraRig = world.rig
        rig.light_direction = BASE_LIGHT
        rig.front_eye_offset = rig.front_target_offset = (0.0, 0.0, 0.0)
        if self.light:
            rig.light_direction = (*rng.uniform(-1.0, 1.0, size=2), float(rng.uniform(0.5, 1.5)))
        if self.camera_jitter:
            rig.front_eye_offset = tuple(rng.uniform(-0.02, 0.02, size=3))
            rig.front_target_offset = tuple(rng.uniform(-0.02, 0.02, size=3))
        for table, default in zip(world.tables, world.table_colors):
            table.rgb = tuple(rng.uniform(0.2, 0.9, size=3)) if self.table_color else default
            table.checker = float(rng.choice(CHECKER_SIZES)) if self.table_texture else 0.0
