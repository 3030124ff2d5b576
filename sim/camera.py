"""The two cameras of the observation contract, rendered with TinyRenderer (CPU).

``front`` is fixed in the robot's base frame, high on the far side of the work area and
looking back at it and the arm (as if on a boom; with the base parked, as on the
tabletop, it is a fixed camera). Robot-left appears on the image's right.
``wrist`` is mounted on the hand and looks along the gripper's approach direction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.bullet import p
from sim.geometry import TABLE_TOP_Z
from sim.surfaces import Surface, camera_rays, composite, table_layer

FRONT_EYE = (1.05, 0.0, TABLE_TOP_Z + 0.62)  # base frame (m)
FRONT_TARGET = (0.47, 0.0, TABLE_TOP_Z)
FRONT_FOV = 50.0
WRIST_FOV = 75.0
WRIST_BACK = 0.09  # camera sits this far behind the grasp point along the approach axis
WRIST_SIDE = 0.07  # and this far off to the side, so the fingers do not fill the view
NEAR, FAR = 0.02, 5.0


@dataclass
class CameraRig:
    """Camera settings for one episode: resolution, jitter, light, and the tables.

    ``surfaces`` are drawn analytically (:mod:`sim.surfaces`), not by TinyRenderer.
    """

    height: int = 64
    width: int = 64
    front_eye_offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    front_target_offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    light_direction: tuple[float, float, float] = (0.4, -0.3, 1.0)
    surfaces: list[Surface] = field(default_factory=list)
    _layers: dict = field(default_factory=dict, repr=False)

    def render(self, client, view: list[float], fov: float, size=None) -> np.ndarray:
        """RGB image (H, W, 3) uint8 seen through ``view`` (a pybullet view matrix)."""
        height, width = size or (self.height, self.width)
        proj = client.computeProjectionMatrixFOV(fov, width / height, NEAR, FAR)
        _, _, rgba, depth, _ = client.getCameraImage(
            width,
            height,
            view,
            proj,
            renderer=p.ER_TINY_RENDERER,
            flags=p.ER_NO_SEGMENTATION_MASK,
            shadow=0,
            lightDirection=list(self.light_direction),
        )
        image = np.asarray(rgba, dtype=np.uint8).reshape(height, width, 4)[:, :, :3]
        if not self.surfaces:
            return image
        return composite(image, np.asarray(depth), self._layer(view, fov, height, width))

    def _layer(self, view, fov: float, height: int, width: int):
        """The tables' layer for this view; the last one per camera is kept, so a camera
        at rest (the front camera of a parked base) composites with a single np.where."""
        looks = tuple((s.center, s.half_extents, s.rgb, s.checker) for s in self.surfaces)
        key = (tuple(view), height, width, tuple(self.light_direction), looks)
        cached = self._layers.get((fov, height, width))  # one slot per camera and size
        if cached is None or cached[0] != key:
            eye, rays = camera_rays(view, fov, height, width)
            layer = table_layer(eye, rays, self.surfaces, self.light_direction, NEAR, FAR)
            cached = self._layers[(fov, height, width)] = (key, layer)
        return cached[1]

    def front_view(self, client, base_pose: np.ndarray) -> list[float]:
        """View matrix of the base-mounted front camera for base pose (x, y, yaw)."""
        eye = _base_to_world(np.add(FRONT_EYE, self.front_eye_offset), base_pose)
        target = _base_to_world(np.add(FRONT_TARGET, self.front_target_offset), base_pose)
        return client.computeViewMatrix(eye.tolist(), target.tolist(), [0, 0, 1])

    def wrist_view(self, client, ee_pos: np.ndarray, ee_orn: np.ndarray) -> list[float]:
        """View matrix of the hand camera for a grasp-point pose (world frame)."""
        rot = np.array(p.getMatrixFromQuaternion(ee_orn)).reshape(3, 3)
        approach, side = rot[:, 2], rot[:, 0]
        eye = ee_pos - WRIST_BACK * approach + WRIST_SIDE * side
        target = ee_pos + 0.15 * approach + 0.02 * side
        return client.computeViewMatrix(eye.tolist(), target.tolist(), rot[:, 1].tolist())


def _base_to_world(point: np.ndarray, base_pose: np.ndarray) -> np.ndarray:
    x, y, yaw = base_pose
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([x + c * point[0] - s * point[1], y + s * point[0] + c * point[1], point[2]])
