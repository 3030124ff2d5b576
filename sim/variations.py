"""Variation switches for generalisation tests, applied at every reset from the env's RNG."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import numpy as np

from sim.camera import CameraRig

BASE_LIGHT = (0.4, -0.3, 1.0)


@dataclass
class Variations:
    """Which aspects of the world are randomised per episode.

    distractors: extra objects (unused colours) placed besides the task's own.
    table_color: random table colour.  table_texture: a random checker texture.
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
        for table in world.tables:
            rgba = (0.62, 0.47, 0.33, 1.0)
            if self.table_color:
                rgba = (*rng.uniform(0.2, 0.9, size=3), 1.0)
            texture = -1
            if self.table_texture:
                texture = _checker_texture(world.client, int(rng.integers(4)))
            world.client.changeVisualShape(table, -1, rgbaColor=rgba, textureUniqueId=texture)


_TEXTURES: dict[tuple[int, int], int] = {}


def _checker_texture(client, variant: int) -> int:
    """One of four checker textures, written once per process and loaded once per client."""
    key = (id(client), variant)
    if key not in _TEXTURES:
        import imageio.v3 as iio

        cells = (4, 6, 8, 12)[variant]
        grid = (np.indices((64, 64)) // (64 // cells)).sum(axis=0) % 2
        image = (np.stack([grid * 60 + 150] * 3, axis=-1)).astype(np.uint8)
        path = os.path.join(tempfile.gettempdir(), f"vla_checker_{variant}_{os.getpid()}.png")
        iio.imwrite(path, image)
        _TEXTURES[key] = client.loadTexture(path)
    return _TEXTURES[key]
