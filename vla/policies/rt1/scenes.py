"""Localisation scenes: first frames of single-skill tasks, labelled with where the hand must go.

Behaviour cloning from a few thousand demonstrations does not teach RT-1 to *find* the
named object: its image encoder fits the training scenes and does not generalise to new
ones (measured; see docs/experiments/). A scene here costs one reset and one render (about 10 ms)
instead of a 40-step expert rollout, so tens of thousands are cheap. Each scene holds the
two camera images, the state, the skill text and the **goal offset**: the hand's offset
(base frame, m) to the point where the skill will close or open the gripper
(:meth:`sim.skills.Skill.key_point`), the same target :mod:`vla.policies.rt1.goals` gives a
recorded episode at its first step. ``vla-train scenes=DIR`` co-trains the goal head on
them.

``start="hover"`` scenes first move the hand, at carry height, over another object of the
scene (one of the goal object's colour when there is one), where a previous skill of a
longer task leaves it: measured in closed loop, RT-1 then takes a bowl of the named block's
colour below the hand for the block itself.

A scene set is a folder of shards ``scenes-00000.npz`` (``shard_size`` scenes each, written
atomically), so an interrupted recording keeps its finished shards and resumes. Scene ``i``
is drawn from seed ``SEED_START + i`` whatever the shard size or worker count.
"""

from __future__ import annotations

import io
import json
import random
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sim.env import VLAEnv
from sim.geometry import TABLE_TOP_Z
from sim.skill_text import parse_skill
from sim.skills import make_skill
from sim.skills.base import move_arm
from sim.tasks.generate import SUITE_MAKERS
from vla.durable import write_atomically
from vla.options import at_least, in_range
from vla.parallel import worker_map

SEED_START = 800_000  # scene i uses seed SEED_START + i: inside the train range
MAX_SCENES = 200_000  # keeps every seed below sim.TEST_SEED_START
FIELDS = ("front", "wrist", "state", "goal", "instruction")
STARTS = ("home", "hover")  # where the hand is when a scene is captured
HOVER_Z = TABLE_TOP_Z + 0.17  # the carry / lift height a previous skill ends at (m)
HOVER_JITTER = 0.02  # uniform +/- this on each coordinate of the hover point (m)
MAX_TRAVEL_STEPS = 40


@dataclass
class RecordScenesConfig:
    """Options of ``vla-record-scenes`` (configs/record_scenes.yaml)."""

    output_dir: str = "data/scenes"
    n_scenes: int = 40_000  # rounded up to whole shards
    shard_size: int = 1000  # scenes per file (an interrupted run keeps its finished files)
    image_size: int = 64  # pixels; must match the demonstrations the policy trains on
    num_workers: int = 0  # simulator worker processes (0: run in this process)
    start: str = (
        "home"  # home: the task's first frame; hover: the hand first moved over another object
    )

    def __post_init__(self) -> None:
        in_range(self, "n_scenes", 1, MAX_SCENES, high_open=False)
        at_least(self, 1, "shard_size", "image_size")
        at_least(self, 0, "num_workers")
        check_start(self.start)


@dataclass(frozen=True)
class ShardJob:
    """Shard ``index`` (scenes ``index * size`` onwards) at ``image_size`` pixels."""

    index: int
    size: int
    image_size: int


def shard_path(folder: Path, index: int) -> Path:
    return Path(folder) / f"scenes-{index:05d}.npz"


def scene_task(seed: int):
    """A random single-skill tabletop task (pick / place in, on, at), drawn from ``seed``."""
    rng = random.Random(seed)
    makers = SUITE_MAKERS["single"]
    return replace(makers[seed % len(makers)](rng), family="single")


def check_start(start: str) -> str:
    """``start`` if it is one of ``STARTS``, else a one-line ValueError."""
    if start not in STARTS:
        raise ValueError(f"start must be one of {STARTS}, got {start!r}")
    return start


def hover_point(world, instruction: str, rng: np.random.Generator) -> np.ndarray | None:
    """A point at carry height over another object than the skill's own (world, m): over
    one of the colour of the object the skill goes to when there is one; None if none."""
    call = parse_skill(instruction)
    state = world.snapshot()
    goes_to = call.obj if call.name == "pick" else call.target
    others = sorted(n for n in state.objects if n not in (call.obj, call.target))
    if not others:
        return None
    same = [n for n in others if n.split()[0] == str(goes_to).split()[0]]
    x, y, _ = state.objects[str(rng.choice(same or others))].position
    return np.array([x, y, HOVER_Z]) + rng.uniform(-HOVER_JITTER, HOVER_JITTER, 3)


def travel(world, point: np.ndarray) -> None:
    """Move the hand to ``point`` with the gripper as it is (a held block stays held)."""
    close = world.robot.grasp.closed
    for _ in range(MAX_TRAVEL_STEPS):
        action, error = move_arm(world, point, close)
        if error < 0.01:
            return
        world.step(action)


class SceneMaker:
    """A worker: one env, reused shard after shard (see :func:`vla.parallel.worker_map`).

    ``start``: ``"home"`` captures the first frame of the task; ``"hover"`` first moves the
    hand over another object (:func:`hover_point`).
    """

    def __init__(self, image_size: int, start: str = "home"):
        self.start = check_start(start)
        self.env = VLAEnv("tabletop", tasks=[scene_task(0)], image_size=image_size)

    def scene(self, seed: int) -> dict:
        """Reset to a new task from ``seed``; its first observation and goal offset."""
        task = scene_task(seed)
        obs, _ = self.env.reset(seed=seed, options={"task": task})
        world = self.env.unwrapped.world
        if self.start == "hover":
            hover = hover_point(world, task.instruction, np.random.default_rng(seed))
            if hover is not None:
                travel(world, hover)
                obs = self.env.unwrapped.observe()
        point = make_skill(task.instruction).key_point(world)
        if point is None:
            raise RuntimeError(f"scene seed {seed}: {task.instruction!r} has no key point")
        goal = world.robot.to_base(point) - obs["state"][:3]
        return {
            "front": obs["images"]["front"],
            "wrist": obs["images"]["wrist"],
            "state": obs["state"],
            "goal": goal.astype(np.float32),
            "instruction": task.instruction,
        }

    def __call__(self, job: ShardJob) -> tuple[int, bytes]:
        start = SEED_START + job.index * job.size
        scenes = [self.scene(seed) for seed in range(start, start + job.size)]
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **{k: np.stack([s[k] for s in scenes]) for k in FIELDS})
        return job.index, buffer.getvalue()

    def close(self) -> None:
        self.env.close()


def pending_shards(folder: Path, n_scenes: int, image_size: int, shard_size: int) -> list[ShardJob]:
    """The shards of an ``n_scenes`` set (rounded up to whole shards) that ``folder`` lacks."""
    if not 0 < n_scenes <= MAX_SCENES or shard_size < 1:
        raise ValueError(
            f"n_scenes must be in 1..{MAX_SCENES} and shard_size >= 1, "
            f"got {n_scenes} and {shard_size}"
        )
    count = -(-n_scenes // shard_size)
    return [
        ShardJob(i, shard_size, image_size)
        for i in range(count)
        if not shard_path(folder, i).exists()
    ]


def check_meta(folder: Path, image_size: int, shard_size: int, start: str = "home") -> None:
    """Write ``scenes.json`` for a new set; for an old one, insist on the same layout (a
    different shard size would map shard files to other seeds)."""
    check_start(start)
    meta = {"image_size": image_size, "shard_size": shard_size}
    if start != "home":  # sets recorded before `start` existed are home sets
        meta["start"] = start
    file = Path(folder) / "scenes.json"
    if file.exists():
        old = json.loads(file.read_text())
        if old != meta:
            raise ValueError(
                f"scenes {folder} were recorded with {old}, not {meta}: "
                "use the same settings or a new output_dir"
            )
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    write_atomically(file, json.dumps(meta).encode())


def record_scenes(cfg: RecordScenesConfig) -> Path:
    """Write the shards ``cfg`` asks for (``vla-record-scenes``); returns the folder."""
    folder = Path(cfg.output_dir)
    size, image_size = cfg.shard_size, cfg.image_size
    jobs = pending_shards(folder, cfg.n_scenes, image_size, size)
    check_meta(folder, image_size, size, cfg.start)
    maker = partial(SceneMaker, start=cfg.start)
    bar = tqdm(total=len(jobs) * size, desc="scenes", unit="scene", disable=None)
    for index, data in worker_map(maker, image_size, jobs, cfg.num_workers):
        write_shard(folder, index, data)
        bar.update(size)
    bar.close()
    print(f"scenes {folder}: {len(list(folder.glob('scenes-*.npz')))} shards of {size}")
    return folder


def write_shard(folder: Path, index: int, data: bytes) -> None:
    write_atomically(shard_path(folder, index), data)


@dataclass
class SceneSet:
    """Every shard of a scene folder, in memory: arrays keyed as ``FIELDS``."""

    front: np.ndarray  # (N, H, W, 3) uint8
    wrist: np.ndarray
    state: np.ndarray  # (N, 10) float32
    goal: np.ndarray  # (N, 3) float32, m, base frame
    instruction: np.ndarray  # (N,) str

    @classmethod
    def load(cls, folder: str | Path) -> SceneSet:
        files = sorted(Path(folder).glob("scenes-*.npz"))
        if not files:
            raise FileNotFoundError(
                f"no scene shards in {folder}: record them with "
                f"vla-record-scenes output_dir={folder}"
            )
        parts = [np.load(f) for f in files]
        return cls(**{k: np.concatenate([p[k] for p in parts]) for k in FIELDS})

    @classmethod
    def concat(cls, sets: list[SceneSet]) -> SceneSet:
        """One set holding the scenes of ``sets`` in order."""
        if not sets:
            raise ValueError("no scene sets to join: give at least one scenes folder")
        return cls(**{k: np.concatenate([getattr(s, k) for s in sets]) for k in FIELDS})

    def __len__(self) -> int:
        return len(self.goal)
