"""Gymnasium env over a :class:`sim.world.SimWorld` and a list of task specs.

Observation (ARCHITECTURE.md): ``{"images": {"front": HxWx3 uint8, "wrist": HxWx3
uint8}, "state": float32 (10,) laid out as ``sim.contract.STATE_LAYOUT``, "instruction":
str}``. Action: the 11-dim RT-1 layout (``sim.robot``). Reward is sparse: 1 when every
goal predicate of the task holds, which also terminates the episode.
"""

from __future__ import annotations

import string

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from sim.camera import CameraRig
from sim.contract import ARM, CAMERA_NAMES, CONTROL_HZ, STATE_DIM, TERMINATE
from sim.layout import sample_layout
from sim.tasks import TaskSpec, load_tasks
from sim.tasks.predicates import evaluate
from sim.variations import Variations
from sim.world import SimWorld

INSTRUCTION_CHARSET = string.ascii_letters + string.digits + " ,.;:'-()!?"
SCENE_SAMPLE = {"block": (2, 4), "bowl": (2, 3)}  # objects a scene samples without a list


class VLAEnv(gym.Env):
    """A scene with a robot, carrying out one task spec per episode.

    Args:
        scene: registered scene name (``tabletop``, ``mobile``).
        tasks: a built-in suite name, a task-spec YAML path or a list of TaskSpec;
            default: the scene's default suite.
        image_size: camera resolution (square), pixels.
        variations: a :class:`Variations` or a dict of its fields.
        render_size: resolution of :meth:`render` frames (for videos).
        cameras: False skips rendering and returns black images (for expert-only
            benchmarks that never look at pixels).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": CONTROL_HZ}

    def __init__(
        self,
        scene: str = "tabletop",
        tasks: str | list[TaskSpec] | None = None,
        image_size: int = 64,
        variations: Variations | dict | None = None,
        render_size: int = 256,
        render_mode: str | None = "rgb_array",
        cameras: bool = True,
    ):
        self.cameras = cameras
        self.world = SimWorld(scene, CameraRig(height=image_size, width=image_size))
        self.scene_name = scene
        if tasks is None:
            tasks = self.world.scene.default_suite
        self.tasks = load_tasks(tasks) if isinstance(tasks, str) else list(tasks)
        for spec in self.tasks:
            if spec.scene != scene:
                raise ValueError(
                    f"task {spec.instruction!r} is for scene {spec.scene!r}, not {scene!r}: "
                    f"make the env with scene={spec.scene!r}"
                )
        if isinstance(variations, dict):
            variations = Variations(**variations)
        self.variations = variations or Variations()
        self.render_size = render_size
        self.render_mode = render_mode
        self.task: TaskSpec | None = None
        image = spaces.Box(0, 255, (image_size, image_size, 3), np.uint8)
        self.observation_space = spaces.Dict(
            {
                "images": spaces.Dict({name: image for name in CAMERA_NAMES}),
                "state": spaces.Box(-np.inf, np.inf, (STATE_DIM,), np.float32),
                "instruction": spaces.Text(256, min_length=0, charset=INSTRUCTION_CHARSET),
            }
        )
        low = np.array([-1.0] * 10 + [0.0], dtype=np.float32)
        high = np.array([1.0] * 10 + [2.0], dtype=np.float32)
        self.action_space = spaces.Box(low, high, dtype=np.float32)

    @property
    def task_description(self) -> str:
        """The current task's instruction."""
        return self.task.instruction if self.task else ""

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        options = options or {}
        if "task" in options:
            self.task = options["task"]
        elif "task_index" in options:
            index = int(options["task_index"])
            if not 0 <= index < len(self.tasks):
                raise ValueError(f"task_index={index} is out of range: {len(self.tasks)} tasks")
            self.task = self.tasks[index]
        else:
            self.task = self.tasks[int(self.np_random.integers(len(self.tasks)))]
        objects = self._objects_for(self.task)
        layout = sample_layout(self.world.scene, objects, self.task.initial, self.np_random)
        self.variations.apply(self.world, self.np_random)
        self.world.reset(layout)
        return self.observe(), self._info(mode=ARM)

    def _objects_for(self, task: TaskSpec) -> list[str]:
        rng = self.np_random
        named = list(task.all_objects)
        if task.objects is None:
            for kind, (lo, hi) in SCENE_SAMPLE.items():
                have = [o for o in named if o.endswith(kind)]
                pool = [o for o in SimWorld.object_names() if o.endswith(kind) and o not in named]
                extra = max(0, int(rng.integers(lo, hi + 1)) - len(have))
                named += list(rng.choice(pool, size=min(extra, len(pool)), replace=False))
        pool = [o for o in SimWorld.object_names() if o not in named]
        n = min(self.variations.distractors, len(pool))
        named += list(rng.choice(pool, size=n, replace=False)) if n else []
        return sorted(str(o) for o in named)

    def step(self, action):
        action = np.asarray(action, dtype=np.float32)
        if action.shape != (11,) or not np.all(np.isfinite(action)):
            raise ValueError(f"action must be 11 finite numbers (RT-1 layout), got {action!r}")
        mode = self.world.step(action)
        info = self._info(mode)
        success = info["is_success"]
        return self.observe(), float(success), success, False, info

    def is_success(self) -> bool:
        """Whether every goal predicate of the current task holds."""
        state = self.world.snapshot()
        return all(evaluate(pred, state) for pred in self.task.goal)

    def observe(self) -> dict:
        """The observation of the current state (cameras rendered now)."""
        if self.cameras:
            images = self.world.render()
        else:
            blank = np.zeros((self.world.rig.height, self.world.rig.width, 3), np.uint8)
            images = {name: blank.copy() for name in CAMERA_NAMES}
        return {
            "images": images,
            "state": self.world.proprio(),
            "instruction": self.task_description,
        }

    def _info(self, mode: int) -> dict:
        held = self.world.robot.grasp.held_body
        return {
            "is_success": self.is_success(),
            "task": self.task_description,
            "family": self.task.family,
            "held": self.world.names[held] if held is not None else None,
            "terminate": mode == TERMINATE,
        }

    def render(self):
        size = (self.render_size, self.render_size)
        return self.world.render(size, cameras=("front",))["front"]

    def save_state(self):
        """Snapshot the episode (physics, grasp, motor targets, task)."""
        return (self.world.save_state(), self.task)

    def restore_state(self, saved) -> None:
        """Return to a :meth:`save_state` snapshot of this env."""
        self.world.restore_state(saved[0])
        self.task = saved[1]

    def close(self):
        self.world.close()
