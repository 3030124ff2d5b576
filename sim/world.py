"""A PyBullet world: one ``BulletClient`` (DIRECT), a scene, the robot and an object pool.

Every block and bowl colour exists in the world; a reset empties the simulation
(``resetSimulation``), creates every body again in the same order (so body ids never
change), poses the objects the task needs and parks the others off-stage. About 20 ms, most
of it loading the arm's meshes.

Rebuilding is what makes a reset from a seed bit-exact whatever ran before. Restoring a
``saveState`` snapshot is not enough: it restores bodies and velocities, but the
broadphase (its pair cache, the rotating cursor that cleans it up, the order of the
contact manifolds) survives, and the order in which contacts are solved then depends on
the episodes run before (measured: the same scripted episode drifted apart after unrelated
ones, and the same RT-1 episode took 118 steps or 123 by turns).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.assets import create_block, create_bowl, create_floor
from sim.bullet import direct_client, p
from sim.camera import FRONT_FOV, WRIST_FOV, CameraRig
from sim.contract import CAMERA_NAMES, CONTROL_HZ
from sim.geometry import (
    BLOCK_SIZE,
    COLORS,
    OBJECT_TYPES,
    ROBOT_AT_TOLERANCE,
    TABLE_TOP_Z,
    ObjectState,
    WorldState,
)
from sim.layout import Layout
from sim.robot import DOWN, MobilePanda
from sim.scenes import make_scene
from sim.surfaces import Surface

PHYSICS_HZ = 240
SUBSTEPS = PHYSICS_HZ // CONTROL_HZ
HOME_EE = (0.36, 0.0, TABLE_TOP_Z + 0.25)  # base frame (m)
PARK_ORIGIN = (20.0, 20.0)


@dataclass
class SavedState:
    """What :meth:`SimWorld.save_state` returns; valid until that world's next reset."""

    bullet_state: int
    episode: int  # which reset of the world it belongs to
    held_body: int | None
    grasp_closed: bool
    grasp_relative: tuple | None
    base_pose: np.ndarray
    arm_target: list[float]
    finger_target: float


class SimWorld:
    """Physics, robot and objects of one scene; no gymnasium API (see :mod:`sim.env`)."""

    def __init__(self, scene: str = "tabletop", rig: CameraRig | None = None):
        self.client = direct_client()
        self.scene = make_scene(scene)
        self.rig = rig or CameraRig()
        self.episode = 0  # counts resets: a saved state is only valid within its episode
        self.tables = self._build()
        self.table_colors = [t.rgb for t in self.tables]
        self.rig.surfaces = self.tables
        self.placed: list[str] = []

    def _build(self) -> list[Surface]:
        """Create every body of an empty simulation, always in the same order (same ids).

        The robot is a new :class:`MobilePanda` each time (no grasp, no motor targets); code
        reaches it through ``world.robot``, never a reference kept across a reset.
        """
        self.client.setPhysicsEngineParameter(
            deterministicOverlappingPairs=1,
            fixedTimeStep=1.0 / PHYSICS_HZ,
            numSubSteps=0,
        )
        self.client.setGravity(0, 0, -9.81)
        self.floor = create_floor(self.client)
        tables = self.scene.build(self.client)
        self.robot = MobilePanda(self.client, self.scene.base_bounds)
        self.bodies: dict[str, int] = {}
        for color, rgba in COLORS.items():
            self.bodies[f"{color} block"] = create_block(self.client, rgba)
            self.bodies[f"{color} bowl"] = create_bowl(self.client, rgba)
        self.names = {body: name for name, body in self.bodies.items()}
        self.robot.graspable = tuple(b for n, b in self.bodies.items() if n.endswith("block"))
        self._park_all()
        return tables

    # ------------------------------------------------------------------ reset
    def reset(self, layout: Layout) -> None:
        """Empty and rebuild the simulation, then arrange the world as ``layout`` says."""
        self.client.resetSimulation()
        self.episode += 1
        self._build()  # the tables keep their surfaces (and this episode's looks)
        self.robot.set_base_pose(*self.scene.base_pose_at(layout.robot_location))
        self.robot.reset_joints()
        self.robot.move_ee_to(self._home_world(), p.getQuaternionFromEuler(DOWN))
        self.placed = sorted(set(layout.poses) | ({layout.held} if layout.held else set()))
        for name, body in self.bodies.items():  # parked objects are not drawn (fill cost)
            alpha = 1.0 if name in self.placed else 0.0
            rgba = (*COLORS[name.split(" ")[0]][:3], alpha)
            self.client.changeVisualShape(body, -1, rgbaColor=rgba)
        for name, (x, y, z, yaw) in layout.poses.items():
            orn = p.getQuaternionFromEuler((0, 0, yaw))
            self.client.resetBasePositionAndOrientation(self.bodies[name], (x, y, z), orn)
        if layout.held:
            pos, orn = self.robot.ee_pose()
            body = self.bodies[layout.held]
            self.client.resetBasePositionAndOrientation(body, pos.tolist(), orn.tolist())
            self.robot.attach(body)
            self.robot.command_gripper(True)
        for _ in range(SUBSTEPS):
            self.client.stepSimulation()

    def _home_world(self) -> np.ndarray:
        x, y, yaw = self.robot.base_pose
        c, s = np.cos(yaw), np.sin(yaw)
        hx, hy, hz = HOME_EE
        return np.array([x + c * hx - s * hy, y + s * hx + c * hy, hz])

    def _park_all(self) -> None:
        for i, body in enumerate(self.bodies.values()):
            pos = (PARK_ORIGIN[0] + 0.3 * i, PARK_ORIGIN[1], BLOCK_SIZE / 2)
            self.client.resetBasePositionAndOrientation(body, pos, (0, 0, 0, 1))

    # ------------------------------------------------------------------- step
    def step(self, action: np.ndarray) -> int:
        """Apply one 11-dim action for one control period; returns the mode applied."""
        plan = self.robot.plan_action(np.asarray(action, dtype=np.float64))
        for i in range(SUBSTEPS):
            self.robot.substep(plan, (i + 1) / SUBSTEPS)
            self.client.stepSimulation()
        return plan["mode"]

    # ------------------------------------------------------------ observation
    def render(
        self, size: tuple[int, int] | None = None, cameras: tuple[str, ...] = CAMERA_NAMES
    ) -> dict[str, np.ndarray]:
        """Camera images, (H, W, 3) uint8 each, at the rig's resolution or ``size``."""
        images = {}
        if "front" in cameras:
            view = self.rig.front_view(self.client, self.robot.base_pose)
            images["front"] = self.rig.render(self.client, view, FRONT_FOV, size)
        if "wrist" in cameras:
            view = self.rig.wrist_view(self.client, *self.robot.ee_pose())
            images["wrist"] = self.rig.render(self.client, view, WRIST_FOV, size)
        return images

    def proprio(self) -> np.ndarray:
        """The ``state`` vector, float32 (STATE_DIM,) laid out as ``sim.contract.STATE_LAYOUT``."""
        pos, rpy = self.robot.ee_pose_in_base()
        opening = self.robot.gripper_opening()
        return np.concatenate([pos, rpy, [opening], self.robot.base_pose]).astype(np.float32)

    def snapshot(self) -> WorldState:
        """The privileged state that predicates and the expert read."""
        objects = {}
        for name in self.placed:
            pos, _ = self.client.getBasePositionAndOrientation(self.bodies[name])
            objects[name] = ObjectState(name, name.rsplit(" ", 1)[1], tuple(map(float, pos)))
        held = self.robot.grasp.held_body
        return WorldState(
            objects=objects,
            held=self.names[held] if held is not None else None,
            robot_location=self._robot_location(),
            base_pose=tuple(map(float, self.robot.base_pose)),
            places=dict(self.scene.places),
            areas=dict(self.scene.areas),
        )

    def _robot_location(self) -> str | None:
        x, y, yaw = self.robot.base_pose
        for name, area in self.scene.areas.items():
            dx, dy, dyaw = x - area.dock[0], y - area.dock[1], yaw - area.dock[2]
            if np.hypot(dx, dy) <= ROBOT_AT_TOLERANCE and abs(np.sin(dyaw / 2)) < 0.05:
                return name
        return None

    def contacts(self) -> list[tuple]:
        """Contact points among all bodies, rounded nowhere (for exact comparisons)."""
        return [c[1:10] for c in self.client.getContactPoints()]

    # ------------------------------------------------------------ save/restore
    def save_state(self) -> SavedState:
        """An in-memory snapshot, including grasp and motor targets (not in Bullet's)."""
        g = self.robot.grasp
        return SavedState(
            bullet_state=self.client.saveState(),
            episode=self.episode,
            held_body=g.held_body,
            grasp_closed=g.closed,
            grasp_relative=g.relative,
            base_pose=self.robot.base_pose.copy(),
            arm_target=list(self.robot.arm_target),
            finger_target=self.robot.finger_target,
        )

    def restore_state(self, saved: SavedState) -> None:
        """Return exactly to ``saved``; continuing from here replays bit for bit."""
        if saved.episode != self.episode:
            raise ValueError(
                "this saved state is from an earlier episode (a reset rebuilds the simulation);"
                " save the state again after the reset"
            )
        self.robot.release()
        self.client.restoreState(saved.bullet_state)
        self.robot.base_pose = saved.base_pose.copy()
        if saved.held_body is not None:
            self.robot.attach(saved.held_body, relative=saved.grasp_relative)
        self.robot.grasp.closed = saved.grasp_closed
        self.robot.drive_arm(list(saved.arm_target))
        self.robot.drive_fingers(saved.finger_target)

    def close(self) -> None:
        """Disconnect the physics client (idempotent)."""
        try:
            self.client.disconnect()
        except p.error:
            pass

    @staticmethod
    def object_names() -> list[str]:
        """Every object a world can hold, ``<colour> <type>``."""
        return [f"{c} {t}" for c in COLORS for t in OBJECT_TYPES]
