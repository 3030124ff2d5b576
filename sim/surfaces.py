"""Tables drawn analytically and composited into camera images by depth.

TinyRenderer costs about 0.37 us for every pixel a triangle covers, and the tables fill
most of both camera views (one full-view box: 3.4 ms at 96x96). So tables have collision
shapes but no visual; after TinyRenderer draws everything else, each pixel's camera ray
is intersected with the table boxes in numpy, and where a table is nearer than what was
drawn, the pixel takes the table's Lambert-shaded colour (optionally a checker texture).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

AMBIENT, DIFFUSE = 0.55, 0.45


@dataclass
class Surface:
    """An axis-aligned box (world frame, m) with a colour (RGB in 0..1).

    ``checker`` > 0 draws a two-tone checker pattern with squares of that size (m).
    """

    center: tuple[float, float, float]
    half_extents: tuple[float, float, float]
    rgb: tuple[float, float, float]
    checker: float = 0.0


@lru_cache(maxsize=16)
def _pixel_grid(fov: float, height: int, width: int) -> np.ndarray:
    """Camera-frame ray directions (H*W, 3) with z = -1 (OpenGL: the camera looks down -z)."""
    tan = np.tan(np.radians(fov) / 2)
    xs = (2 * (np.arange(width) + 0.5) / width - 1) * tan * width / height
    ys = (1 - 2 * (np.arange(height) + 0.5) / height) * tan
    grid = np.stack(np.broadcast_arrays(xs[None, :], ys[:, None], -np.ones((1, 1))), axis=-1)
    return grid.reshape(-1, 3)


def camera_rays(view: list[float], fov: float, height: int, width: int):
    """Eye position and per-pixel ray directions (H*W, 3), scaled so that the ray
    parameter equals eye-space depth (the distance along the viewing axis)."""
    v = np.asarray(view, dtype=np.float64).reshape(4, 4).T  # pybullet: column-major
    rot, trans = v[:3, :3], v[:3, 3]
    return -rot.T @ trans, _pixel_grid(fov, height, width) @ rot  # rot's rows: camera axes


def table_layer(
    eye: np.ndarray,
    rays: np.ndarray,
    surfaces: list[Surface],
    light: tuple[float, float, float],
    near: float,
    far: float,
) -> tuple[np.ndarray, np.ndarray]:
    """What the surfaces alone look like: per pixel (H*W) the depth-buffer value of the
    nearest surface (2.0, beyond any buffer value, where none is hit) and its RGB (uint8)."""
    depth = np.full(rays.shape[0], np.inf)
    colour = np.zeros((rays.shape[0], 3), dtype=np.uint8)
    light_dir = np.asarray(light, dtype=np.float64) / np.linalg.norm(light)
    components = np.ascontiguousarray(rays.T)  # (3, N): 1-D vector ops are fastest in numpy
    with np.errstate(divide="ignore"):
        inverse = 1.0 / components
    for surface in surfaces:
        entry, leave, face = _slab(eye, inverse, surface)
        idx = np.flatnonzero((leave >= entry) & (entry > 0) & (entry < depth))
        if idx.size == 0:
            continue
        axis = face[idx]
        sign = -np.sign(components[axis, idx])  # the entry face's outward normal: sign * e_axis
        shade = AMBIENT + DIFFUSE * np.clip(sign * light_dir[axis], 0.0, 1.0)
        rgb = np.asarray(surface.rgb)[None, :] * shade[:, None]
        if surface.checker > 0:
            xy = eye[:2, None] + components[:2, idx] * entry[idx]
            cells = np.floor(xy / surface.checker).sum(axis=0) % 2
            rgb = rgb * (0.8 + 0.2 * cells)[:, None]
        colour[idx] = np.clip(rgb * 255, 0, 255).astype(np.uint8)
        depth[idx] = entry[idx]
    with np.errstate(divide="ignore"):
        buffer = np.where(np.isfinite(depth), (far - far * near / depth) / (far - near), 2.0)
    return buffer, colour


def composite(image: np.ndarray, depth_buffer: np.ndarray, layer) -> np.ndarray:
    """Put a :func:`table_layer` into ``image`` (H, W, 3) where it is nearer than what
    TinyRenderer drew (``depth_buffer`` (H, W), OpenGL [0, 1] values)."""
    buffer, colour = layer
    nearer = (buffer < depth_buffer.reshape(-1))[:, None]
    return np.where(nearer, colour, image.reshape(-1, 3)).reshape(image.shape)


def _slab(eye: np.ndarray, inverse: np.ndarray, surface: Surface):
    """Ray/box slab test: entry and exit parameters and the entry face's axis, per ray."""
    lo = np.subtract(surface.center, surface.half_extents)
    hi = np.add(surface.center, surface.half_extents)
    entry = np.full(inverse.shape[1], -np.inf)
    leave = np.full(inverse.shape[1], np.inf)
    face = np.zeros(inverse.shape[1], dtype=np.int64)
    with np.errstate(invalid="ignore"):
        for axis in range(3):
            t1 = (lo[axis] - eye[axis]) * inverse[axis]
            t2 = (hi[axis] - eye[axis]) * inverse[axis]
            near = np.minimum(t1, t2)
            face = np.where(near > entry, axis, face)
            entry = np.maximum(entry, near)
            leave = np.minimum(leave, np.maximum(t1, t2))
    return entry, leave, face
