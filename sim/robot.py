"""A Franka Panda on a holonomic mobile base, driven by the 11-dim RT-1 action.

Action layout (:mod:`sim.contract`): ``[0:3]`` end-effector translation in the base frame
(x ``MAX_STEP`` m), ``[3:6]`` end-effector rotation as a rotation vector in the base
frame (x ``MAX_TURN`` rad), ``[6]`` gripper closedness (> 0 closes), ``[7:9]`` base
translation in the base frame (x ``MAX_BASE_STEP`` m), ``[9]`` base yaw (x
``MAX_BASE_TURN`` rad), ``[10]`` mode (0 arm, 1 base, 2 terminate: nothing moves).

The base is kinematic: its pose is interpolated over the physics substeps of a control
step. Grasping uses a grasp assist in the manner of Ravens: when the gripper closes with
a block between the fingertips, a fixed constraint attaches the block to the hand, and
opening the gripper removes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.assets import PANDA_COLOR, create_box, panda_lite_urdf
from sim.bullet import p
from sim.contract import (
    ARM,
    MAX_BASE_STEP,
    MAX_BASE_TURN,
    MAX_STEP,
    MAX_TURN,
    MODE_INDEX,
    TERMINATE,
)
from sim.geometry import BLOCK_SIZE, TABLE_TOP_Z

ARM_JOINTS = tuple(range(7))
FINGER_JOINTS = (9, 10)
EE_LINK = 11  # panda_grasptarget: the point between the fingertips
HAND_LINK = 8
REST_POSE = (0.0, -0.25, 0.0, -2.3, 0.0, 2.05, math.pi / 4)
JOINT_LOWER = (-2.9, -1.76, -2.9, -3.07, -2.9, -0.02, -2.9)
JOINT_UPPER = (2.9, 1.76, 2.9, -0.07, 2.9, 3.75, 2.9)
ARM_FORCES = (200.0,) * 4 + (60.0,) * 3

FINGER_OPEN = 0.032
PLATFORM_HALF = (0.15, 0.15)
# End-effector workspace in the base frame (m; z above the table top): x, y, z ranges.
EE_BOUNDS = ((0.15, 0.85), (-0.5, 0.5), (0.003, 0.5))
# Grasp zone around the grasp point in the hand frame (m): a block centre inside it is grasped.
GRASP_ZONE = (0.025, 0.03, 0.025)
DOWN = (math.pi, 0.0, 0.0)


@dataclass
class GraspState:
    """What the gripper holds; part of the env state that save/restore must cover."""

    closed: bool = False
    held_body: int | None = None
    constraint: int | None = None
    relative: tuple | None = None  # (position, quaternion) of the block in the hand frame


def yaw_matrix(yaw: float) -> np.ndarray:
    """3x3 rotation about z."""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


class MobilePanda:
    """The robot: owns its bodies in one ``BulletClient`` and applies actions."""

    def __init__(self, client, base_bounds: tuple[tuple[float, float], ...]):
        self.client = client
        self.base_bounds = base_bounds  # ((x_min, x_max), (y_min, y_max)) in world
        self.body = client.loadURDF(
            panda_lite_urdf(), basePosition=(0, 0, TABLE_TOP_Z), useFixedBase=True
        )
        for link in range(-1, client.getNumJoints(self.body)):
            client.changeVisualShape(self.body, link, rgbaColor=PANDA_COLOR)
        for joint in FINGER_JOINTS:
            client.changeDynamics(self.body, joint, lateralFriction=1.0)
        half = (*PLATFORM_HALF, TABLE_TOP_Z / 2)
        self.platform = create_box(client, half, (0.25, 0.25, 0.28, 1.0), (0, 0, TABLE_TOP_Z / 2))
        self.grasp = GraspState()
        self.base_pose = np.zeros(3)
        self.graspable: tuple[int, ...] = ()  # block bodies; set by the world
        self.arm_target: list[float] = list(REST_POSE)
        self.finger_target = FINGER_OPEN

    # ----------------------------------------------------------------- poses
    def set_base_pose(self, x: float, y: float, yaw: float) -> None:
        """Teleport the base (and the arm on it) to world pose (x, y, yaw)."""
        self.base_pose = np.array([x, y, yaw], dtype=np.float64)
        orn = p.getQuaternionFromEuler((0, 0, yaw))
        self.client.resetBasePositionAndOrientation(self.body, (x, y, TABLE_TOP_Z), orn)
        self.client.resetBasePositionAndOrientation(self.platform, (x, y, TABLE_TOP_Z / 2), orn)

    def read_base_pose(self) -> np.ndarray:
        """Base pose (x, y, yaw) in the world, read back from the simulator."""
        pos, orn = self.client.getBasePositionAndOrientation(self.body)
        return np.array([pos[0], pos[1], p.getEulerFromQuaternion(orn)[2]])

    def reset_joints(self, joints: tuple[float, ...] = REST_POSE) -> None:
        """Put the arm at ``joints`` with zero velocity and motors holding it, gripper open."""
        for j, q in zip(ARM_JOINTS, joints):
            self.client.resetJointState(self.body, j, q, 0.0)
        for j in FINGER_JOINTS:
            self.client.resetJointState(self.body, j, FINGER_OPEN, 0.0)
        self.drive_arm(list(joints))
        self.drive_fingers(FINGER_OPEN)

    def ee_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """Grasp-point position (m) and orientation quaternion (xyzw), world frame."""
        state = self.client.getLinkState(self.body, EE_LINK, computeForwardKinematics=True)
        return np.array(state[4]), np.array(state[5])

    def ee_pose_in_base(self) -> tuple[np.ndarray, np.ndarray]:
        """Grasp-point position (m) and roll/pitch/yaw (rad) in the base frame."""
        pos, orn = self.ee_pose()
        rot = np.array(p.getMatrixFromQuaternion(orn)).reshape(3, 3)
        rpy = _rpy_from_matrix(yaw_matrix(-self.base_pose[2]) @ rot)
        return self.to_base(pos), rpy

    def to_base(self, position: np.ndarray) -> np.ndarray:
        """A world position (m) in the base frame (origin at table height under the base)."""
        x, y, yaw = self.base_pose
        return yaw_matrix(-yaw) @ (np.asarray(position) - np.array([x, y, TABLE_TOP_Z]))

    def gripper_opening(self) -> float:
        """Distance between the fingers (m)."""
        return float(sum(self.client.getJointState(self.body, j)[0] for j in FINGER_JOINTS))

    def move_ee_to(self, position: np.ndarray, orientation: np.ndarray) -> None:
        """Teleport the arm by IK so the grasp point is at ``position`` (world, m)."""
        for _ in range(4):
            joints = self._ik(position, orientation)
            for j, q in zip(ARM_JOINTS, joints):
                self.client.resetJointState(self.body, j, q, 0.0)
        self.drive_arm(joints)

    # --------------------------------------------------------------- actions
    def plan_action(self, action: np.ndarray) -> dict:
        """Turn one action into motor targets; call :meth:`substep` per physics step."""
        mode = int(np.clip(np.rint(action[MODE_INDEX]), ARM, TERMINATE))
        plan = {"mode": mode, "base_from": self.base_pose.copy(), "base_to": self.base_pose}
        if mode == TERMINATE:
            return plan
        self.command_gripper(bool(action[6] > 0.0))
        if mode == ARM:
            self.drive_arm(self._arm_targets(action[0:3], action[3:6]))
        else:
            plan["base_to"] = self._base_target(action[7:9], action[9])
        return plan

    def substep(self, plan: dict, fraction: float) -> None:
        """Interpolate the base along ``plan`` to ``fraction`` of the way (0..1]."""
        if plan["mode"] != 1:
            return
        start, end = plan["base_from"], plan["base_to"]
        x, y, yaw = start + fraction * np.array([*(end[:2] - start[:2]), _wrap(end[2] - start[2])])
        self.set_base_pose(x, y, yaw)

    def _arm_targets(self, translation: np.ndarray, rotation: np.ndarray) -> list[float]:
        pos, orn = self.ee_pose()
        x, y, yaw = self.base_pose
        base_rot = yaw_matrix(yaw)
        origin = np.array([x, y, TABLE_TOP_Z])
        local = base_rot.T @ (pos - origin) + np.clip(translation, -1, 1) * MAX_STEP
        for axis, (lo, hi) in enumerate(EE_BOUNDS):
            local[axis] = np.clip(local[axis], lo, hi)
        target = origin + base_rot @ local
        rotvec = base_rot @ (np.clip(rotation, -1, 1) * MAX_TURN)
        target_orn = _compose(rotvec, orn)
        return self._ik(target, target_orn)

    def _base_target(self, displacement: np.ndarray, turn: float) -> np.ndarray:
        x, y, yaw = self.base_pose
        dx, dy = yaw_matrix(yaw)[:2, :2] @ (np.clip(displacement, -1, 1) * MAX_BASE_STEP)
        (x_lo, x_hi), (y_lo, y_hi) = self.base_bounds
        new_yaw = _wrap(yaw + float(np.clip(turn, -1, 1)) * MAX_BASE_TURN)
        return np.array([np.clip(x + dx, x_lo, x_hi), np.clip(y + dy, y_lo, y_hi), new_yaw])

    def _ik(self, position: np.ndarray, orientation: np.ndarray) -> list[float]:
        ranges = [hi - lo for lo, hi in zip(JOINT_LOWER, JOINT_UPPER)]
        solution = self.client.calculateInverseKinematics(
            self.body,
            EE_LINK,
            list(position),
            list(orientation),
            lowerLimits=list(JOINT_LOWER),
            upperLimits=list(JOINT_UPPER),
            jointRanges=ranges,
            restPoses=list(REST_POSE),
            maxNumIterations=30,
            residualThreshold=1e-5,
        )
        return list(solution[:7])

    def drive_arm(self, joints: list[float]) -> None:
        self.arm_target = list(joints)
        self.client.setJointMotorControlArray(
            self.body, ARM_JOINTS, p.POSITION_CONTROL, targetPositions=joints, forces=ARM_FORCES
        )

    def drive_fingers(self, width: float) -> None:
        self.finger_target = width
        self.client.setJointMotorControlArray(
            self.body,
            FINGER_JOINTS,
            p.POSITION_CONTROL,
            targetPositions=[width] * 2,
            forces=[40.0, 40.0],
        )

    # --------------------------------------------------------------- grasping
    def command_gripper(self, close: bool) -> None:
        if close and not self.grasp.closed:
            self.grasp.closed = True
            body = self._block_in_grasp_zone()
            if body is not None:
                self.attach(body)
        elif not close and self.grasp.closed:
            self.grasp.closed = False
            self.release()
        width = FINGER_OPEN
        if self.grasp.closed:
            width = BLOCK_SIZE / 2 if self.grasp.held_body is not None else 0.0
        self.drive_fingers(width)

    def _block_in_grasp_zone(self) -> int | None:
        pos, orn = self.ee_pose()
        inv_pos, inv_orn = p.invertTransform(pos.tolist(), orn.tolist())
        best, best_dist = None, math.inf
        for body in self.graspable:
            obj_pos, _ = self.client.getBasePositionAndOrientation(body)
            local, _ = p.multiplyTransforms(inv_pos, inv_orn, obj_pos, (0, 0, 0, 1))
            if all(abs(v) <= lim for v, lim in zip(local, GRASP_ZONE)):
                dist = float(np.linalg.norm(local))
                if dist < best_dist:
                    best, best_dist = body, dist
        return best

    def attach(self, body: int, relative: tuple | None = None) -> None:
        """Rigidly attach ``body`` to the hand at ``relative`` (default: as they are now)."""
        if relative is None:
            pos, orn = self.ee_pose()
            obj_pos, obj_orn = self.client.getBasePositionAndOrientation(body)
            inv_pos, inv_orn = p.invertTransform(pos.tolist(), orn.tolist())
            relative = p.multiplyTransforms(inv_pos, inv_orn, obj_pos, obj_orn)
        rel_pos, rel_orn = relative
        self.grasp.constraint = self.client.createConstraint(
            self.body,
            EE_LINK,
            body,
            -1,
            p.JOINT_FIXED,
            (0, 0, 0),
            rel_pos,
            (0, 0, 0),
            parentFrameOrientation=rel_orn,
        )
        self.client.changeConstraint(self.grasp.constraint, maxForce=60.0)
        for j in FINGER_JOINTS:
            self.client.setCollisionFilterPair(self.body, body, j, -1, 0)
        self.grasp.held_body = body
        self.grasp.relative = relative
        self.grasp.closed = True

    def release(self) -> None:
        """Drop whatever is held."""
        if self.grasp.constraint is not None:
            self.client.removeConstraint(self.grasp.constraint)
        if self.grasp.held_body is not None:
            for j in FINGER_JOINTS:
                self.client.setCollisionFilterPair(self.body, self.grasp.held_body, j, -1, 1)
        self.grasp.held_body = None
        self.grasp.constraint = None
        self.grasp.relative = None


def _wrap(angle: float) -> float:
    return (angle + math.pi) % (2 * math.pi) - math.pi


def _compose(rotvec: np.ndarray, orn: np.ndarray) -> tuple[float, ...]:
    """Quaternion of rotating ``orn`` by world rotation vector ``rotvec``."""
    angle = float(np.linalg.norm(rotvec))
    if angle < 1e-9:
        return tuple(orn)
    axis = rotvec / angle
    delta = (*(axis * math.sin(angle / 2)), math.cos(angle / 2))
    return p.multiplyTransforms((0, 0, 0), delta, (0, 0, 0), tuple(orn))[1]


def _rpy_from_matrix(rot: np.ndarray) -> np.ndarray:
    pitch = -math.asin(float(np.clip(rot[2, 0], -1.0, 1.0)))
    roll = math.atan2(rot[2, 1], rot[2, 2])
    yaw = math.atan2(rot[1, 0], rot[0, 0])
    return np.array([roll, pitch, yaw])


def orientation_error(current: np.ndarray, yaw: float) -> np.ndarray:
    """World rotation vector taking quaternion ``current`` to gripper-down at ``yaw``."""
    target = p.getQuaternionFromEuler((DOWN[0], DOWN[1], yaw))
    inv = p.invertTransform((0, 0, 0), tuple(current))[1]
    err = p.multiplyTransforms((0, 0, 0), target, (0, 0, 0), inv)[1]
    x, y, z, w = err
    if w < 0:
        x, y, z, w = -x, -y, -z, -w
    angle = 2 * math.atan2(math.sqrt(x * x + y * y + z * z), w)
    norm = math.sqrt(x * x + y * y + z * z)
    return np.zeros(3) if norm < 1e-9 else np.array([x, y, z]) / norm * angle
