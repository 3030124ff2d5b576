"""Options of ``vla-eval`` (:class:`EvalConfig`) and ``vla-run`` (:class:`RunConfig`).

``policy`` means the same in every app: a registered policy name (``rt1``, ``rt2``: the
bundled checkpoint when one ships), a checkpoint folder, a ``ws://host:port`` URL of a
``vla-serve`` server, or (evaluation only) ``expert``, the privileged scripted expert.
``planner`` is the option group of :mod:`vla.planning.config` (``planner=saycan
planner.affordance=oracle``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim import TEST_SEED_START
from vla.options import at_least, one_of
from vla.planning.config import PlannerConfig

EVAL_MODES = ("episodes", "chain")


@dataclass
class EvalConfig:
    """``vla-eval``: closed-loop success of a policy (and planner) on a task suite."""

    planner: PlannerConfig = field(default_factory=PlannerConfig)  # none | oracle | saycan
    mode: str = "episodes"  # episodes | chain (chains of chain_length instructions, one scene)
    n_chains: int = 20  # mode=chain: chains to run
    chain_length: int = 5
    tasks: str = "single"  # built-in suite name, all (every suite, interleaved), or a YAML path
    policy: str = "rt1"  # registered name, checkpoint folder, ws:// URL, or expert
    # an opt-in hand-written rule around the policy (vla/filters), e.g. stall_toggle, with its
    # options ("+policy_filter_options={steps: 3, goal_reach: 0.06}": the + adds the keys);
    # reported as such
    policy_filter: str | None = None
    policy_filter_options: dict[str, float] = field(default_factory=dict)
    n_episodes: int | None = None  # None: one episode per task in the suite
    # Episode i runs at seed + i: test seeds from 1,000,000; choose settings on validation
    # seeds (2,000,000).
    seed: int = TEST_SEED_START
    num_workers: int = 1  # worker processes, one env + one policy copy each
    n_videos: int = 3  # videos of the first episodes (output_dir/videos/)
    image_size: int = 64  # camera resolution given to the policy (pixels)
    render_size: int = 160  # video frames (pixels)
    output_dir: str = "outputs/eval"

    def __post_init__(self) -> None:
        one_of(self, "mode", EVAL_MODES)
        at_least(self, 1, "n_chains", "chain_length", "n_episodes", "image_size", "render_size")
        at_least(self, 0, "seed", "num_workers", "n_videos")


@dataclass
class RunConfig:
    """``vla-run``: one instruction in PyBullet, with a video and a report."""

    # saycan | oracle | none; with no options given, saycan runs with SayCanOptions' defaults
    planner: PlannerConfig = field(default_factory=lambda: PlannerConfig("saycan"))
    # a task instruction of `tasks`, or any text: its scene and goal are read from it
    # (planner=saycan runs it even when its goal is unknown)
    instruction: str | None = None
    tasks: str = "long_horizon"  # built-in suite name or a task-spec YAML path
    task_index: int | None = None  # the task (default 0); with a free-form instruction: its scene
    seed: int = TEST_SEED_START  # test seeds start at 1,000,000
    policy: str = "rt1"  # registered name, checkpoint folder, ws:// URL, or expert
    image_size: int = 64  # camera resolution given to the policy (pixels)
    render_size: int = 224  # video frames (TinyRenderer costs ~0.37 us a pixel)
    max_skills: int | None = None  # None: the task's max_skills, else oracle plan length + 3
    output_dir: str = "outputs/run"

    def __post_init__(self) -> None:
        at_least(self, 1, "image_size", "render_size", "max_skills")
        at_least(self, 0, "task_index", "seed")
