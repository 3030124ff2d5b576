"""The observation/action contract (ARCHITECTURE.md "Contracts"), defined once.

The simulator, the policies, the tokenizer, the dataset schema, the robot backends, the
safety layer and the policy server all speak this contract and import its constants from
here. ``sim`` is the lowest layer of the stack (``vla`` imports ``sim``, never the reverse),
so the contract lives in ``sim``; this module imports nothing.

Observation::

    {"images": {"front": (H, W, 3) uint8, "wrist": (H, W, 3) uint8},
     "state": (STATE_DIM,) float32 (layout STATE_LAYOUT), "instruction": str}

Action: (ACTION_DIM,) float32 in RT-1's layout (ACTION_NAMES): ``[0:3]`` end-effector
translation in the robot base frame, x ``MAX_STEP`` m; ``[3:6]`` end-effector rotation as a
rotation vector in the base frame, x ``MAX_TURN`` rad; ``[6]`` gripper closedness (-1 open,
+1 closed); ``[7:9]`` base translation in the base frame, x ``MAX_BASE_STEP`` m; ``[9]`` base
yaw, x ``MAX_BASE_TURN`` rad; ``[10]`` mode (``ARM``, ``BASE`` or ``TERMINATE``). The ten
continuous dimensions lie in [-1, 1]. One action is one control step at ``CONTROL_HZ``.
"""

from __future__ import annotations

CAMERA_NAMES: tuple[str, ...] = ("front", "wrist")  # observation["images"] keys, in order

STATE_DIM = 10
STATE_LAYOUT = (
    "ee_x ee_y ee_z (m, base frame), ee_roll ee_pitch ee_yaw (rad, base frame), "
    "gripper_opening (m), base_x base_y (m, world), base_yaw (rad, world)"
)

ACTION_DIM = 11
N_CONTINUOUS = 10  # dims 0-9 are continuous in [-1, 1]; the last one is the mode
MODE_INDEX = 10  # the action dimension holding the mode
ARM, BASE, TERMINATE = 0, 1, 2  # mode values
N_MODES = 3
ACTION_NAMES: tuple[str, ...] = (
    "world_vector_x",
    "world_vector_y",
    "world_vector_z",
    "rotation_delta_roll",
    "rotation_delta_pitch",
    "rotation_delta_yaw",
    "gripper_closedness",
    "base_displacement_x",
    "base_displacement_y",
    "base_rotation",
    "mode",
)
GRIPPER_INDEX = ACTION_NAMES.index("gripper_closedness")

# Action scales: what one unit of a continuous action dimension moves per control step.
MAX_STEP = 0.03  # m of end-effector translation per unit of action[0:3]
MAX_TURN = 0.15  # rad of end-effector rotation per unit of action[3:6]
MAX_BASE_STEP = 0.05  # m of base translation per unit of action[7:9]
MAX_BASE_TURN = 0.15  # rad of base yaw per unit of action[9]

CONTROL_HZ = 20  # control steps (actions) per second
