"""Bodies the worlds are built from: a cheap-to-render Panda, blocks, bowls, tables.

Rendering cost in TinyRenderer grows with triangles, so the Panda is loaded with its
collision meshes as visuals (about 2 ms a frame instead of about 28 ms at 96x96), and
everything else is made of box primitives.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from pathlib import Path

import pybullet_data

from sim.bullet import p
from sim.geometry import BLOCK_SIZE, BOWL_FLOOR_THICKNESS, BOWL_INNER_RADIUS, BOWL_WALL_HEIGHT

PANDA_COLOR = (0.92, 0.92, 0.94, 1.0)
BOWL_WALL_SEGMENTS = 10
BOWL_WALL_THICKNESS = 0.008


def panda_lite_urdf() -> str:
    """Path of the Panda URDF with collision meshes as visuals (written once, atomically)."""
    data = Path(pybullet_data.getDataPath()) / "franka_panda"
    text = (data / "panda.urdf").read_text()
    text = text.replace("meshes/visual/", "meshes/collision/")
    text = text.replace("package://meshes", str(data / "meshes"))
    digest = hashlib.sha1(text.encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / "vla_sim_assets"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"panda_lite_{digest}.urdf"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    return str(path)


def create_box(
    client,
    half_extents: tuple[float, float, float],
    rgba: tuple[float, float, float, float],
    position: tuple[float, float, float],
    mass: float = 0.0,
) -> int:
    """A box body centred at ``position`` (m); ``mass=0`` makes it static."""
    col = client.createCollisionShape(p.GEOM_BOX, halfExtents=half_extents)
    vis = client.createVisualShape(p.GEOM_BOX, halfExtents=half_extents, rgbaColor=rgba)
    return client.createMultiBody(mass, col, vis, basePosition=position)


def create_static_collider(client, half_extents, position) -> int:
    """A static box with no visual (drawn analytically, see :mod:`sim.surfaces`)."""
    col = client.createCollisionShape(p.GEOM_BOX, halfExtents=half_extents)
    return hide(client, client.createMultiBody(0.0, col, -1, basePosition=position))


def create_block(client, rgba: tuple[float, float, float, float]) -> int:
    """A ``BLOCK_SIZE`` cube of 50 g with grippy friction, parked at the origin."""
    half = BLOCK_SIZE / 2
    body = create_box(client, (half, half, half), rgba, (0.0, 0.0, -1.0), mass=0.05)
    client.changeDynamics(body, -1, lateralFriction=1.0, spinningFriction=0.001)
    return body


def create_bowl(client, rgba: tuple[float, float, float, float]) -> int:
    """A static bowl: a square floor plate and a ring of wall boxes.

    The body's origin is the centre of the top of its floor, so a block resting inside
    sits at ``origin.z + BLOCK_SIZE / 2``.
    """
    radius = BOWL_INNER_RADIUS + BOWL_WALL_THICKNESS / 2
    wall_len = 2 * radius * math.tan(math.pi / BOWL_WALL_SEGMENTS) + BOWL_WALL_THICKNESS
    floor_half = (radius, radius, BOWL_FLOOR_THICKNESS / 2)
    shapes = [(floor_half, (0.0, 0.0, -BOWL_FLOOR_THICKNESS / 2), (0, 0, 0, 1))]
    for i in range(BOWL_WALL_SEGMENTS):
        angle = 2 * math.pi * i / BOWL_WALL_SEGMENTS
        center = (radius * math.cos(angle), radius * math.sin(angle), BOWL_WALL_HEIGHT / 2)
        half = (BOWL_WALL_THICKNESS / 2, wall_len / 2, BOWL_WALL_HEIGHT / 2)
        shapes.append((half, center, p.getQuaternionFromEuler((0, 0, angle))))
    kwargs = dict(
        shapeTypes=[p.GEOM_BOX] * len(shapes),
        halfExtents=[s[0] for s in shapes],
    )
    col = client.createCollisionShapeArray(
        **kwargs,
        collisionFramePositions=[s[1] for s in shapes],
        collisionFrameOrientations=[s[2] for s in shapes],
    )
    vis = client.createVisualShapeArray(
        **kwargs,
        rgbaColors=[rgba] * len(shapes),
        visualFramePositions=[s[1] for s in shapes],
        visualFrameOrientations=[s[2] for s in shapes],
    )
    return client.createMultiBody(0.0, col, vis, basePosition=(0.0, 0.0, -1.0))


def create_floor(client) -> int:
    """A collision-only ground plane at z = 0.

    It is not drawn: TinyRenderer's cost grows with the pixels a triangle covers, and a
    visible floor fills much of both camera images.
    """
    col = client.createCollisionShape(p.GEOM_PLANE)
    return hide(client, client.createMultiBody(0.0, col, -1, basePosition=(0.0, 0.0, 0.0)))


def hide(client, body: int) -> int:
    """Make ``body`` invisible to TinyRenderer, which skips fully transparent shapes (a body
    without a visual shape is otherwise drawn with its collision shape)."""
    client.changeVisualShape(body, -1, rgbaColor=(1.0, 1.0, 1.0, 0.0))
    return body
