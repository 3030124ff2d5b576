"""``planner=saycan``: the SayCan loop choosing skills that a policy executes in the simulator.

The "Say" is the bundled causal LM ``saycan_lm`` (scored by
:class:`planners.hf_scorer.HFScorer`) unless ``lm`` names another folder: any local Hugging
Face causal LM, or a Say checkpoint (:mod:`vla.planning.say`; the bundled MiniLM Say is
``vla/assets/say_minilm``).
The affordance ("Can") is ``learned`` (the bundled value function), ``oracle`` (privileged
simulator state) or ``constant`` (no affordance: the LM alone). Each chosen skill runs with
:func:`sim.rollout.run_skill`; its simulator success check, and with ``feedback`` the scene
facts it changed (:func:`sim.tasks.describe.scene_facts`), go back into the prompt.
Scorers and affordances are built once per process (and per env for ``oracle``) and reused.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from planners import SayCanPlanner, StepRecord, make_affordance, make_scorer
from planners.affordance import Affordance
from planners.scorer import LanguageScorer
from sim.rollout import PLAN_SLACK, FrameHook, SkillResult, run_skill
from sim.tasks import TaskSpec, oracle_plan
from vla.planning import oracle_affordance  # noqa: F401  (registers affordance "oracle")
from vla.planning.config import SayCanOptions


@functools.lru_cache(maxsize=4)
def _scorer(
    lm: str | None,
    reduction: str,
    ground_words: bool | None = None,
    ground_sentences: bool | None = None,
    average_readings: bool = False,
):
    """The MiniLM Say for a Say checkpoint, else a causal LM's scorer (None: the bundled LM; an
    ensemble when its folder has an ``ensemble.json``: :func:`planners.ensemble.lm_scorer`),
    with its instructions grounded in the LM's words and trained instructions as
    ``ground_words``, ``ground_sentences`` and ``average_readings`` say
    (:func:`vla.planning.grounding.grounded`)."""
    from planners.ensemble import lm_scorer
    from vla.planning.grounding import grounded
    from vla.planning.lm import BUNDLED_LM
    from vla.planning.say.checkpoint import is_say_checkpoint

    if lm is not None and is_say_checkpoint(lm):
        import vla.planning.say.scorer  # noqa: F401  (registers "minilm")

        scorer = make_scorer("minilm", model=lm)
    else:
        scorer = lm_scorer(lm or BUNDLED_LM, reduction)
    return grounded(scorer, lm or BUNDLED_LM, ground_words, ground_sentences, average_readings)


def options_scorer(options: SayCanOptions) -> LanguageScorer:
    """The (cached) scorer that ``options`` asks for."""
    return _scorer(
        options.lm,
        options.reduction,
        options.ground_words,
        options.ground_sentences,
        options.average_readings,
    )


def read_instruction(options: SayCanOptions, instruction: str) -> list[str]:
    """``instruction`` as the Say reads it: its readings when the scorer of ``options``
    grounds it (``planner.ground_words``, ``planner.ground_sentences``), else itself."""
    from vla.planning.grounding import GroundedScorer

    scorer = options_scorer(options)
    if isinstance(scorer, GroundedScorer):
        return scorer.readings(instruction)
    return [instruction]


def closest_instruction(options: SayCanOptions) -> Callable[[str], str | None] | None:
    """The function that gives the trained instruction closest to a wording, as the Say of
    ``options`` finds it (:meth:`vla.planning.sentences.TrainedInstructions.nearest`), or None
    when its scorer reads no sentences."""
    sentences = getattr(options_scorer(options), "sentences", None)
    return sentences.nearest if sentences is not None else None


def wants_feedback(lm: str | None, feedback: bool | None) -> bool:
    """Whether prompts carry the scene facts after each skill: ``feedback``, or when None, as
    the scorer was trained: a Say checkpoint was; a causal LM was when the ``training.json``
    that ``vla-train-lm`` wrote beside it says so (any other LM: no feedback)."""
    from vla.planning.lm import BUNDLED_LM
    from vla.planning.say.checkpoint import is_say_checkpoint

    if feedback is not None:
        return feedback
    if lm is not None and is_say_checkpoint(lm):
        return True
    record = Path(lm or BUNDLED_LM) / "training.json"
    if not record.is_file():
        return False
    return bool(json.loads(record.read_text()).get("config", {}).get("feedback", False))


_AFFORDANCES: dict[tuple, Affordance] = {}


def _affordance(options: SayCanOptions, env: Any) -> Affordance:
    """One affordance per (kind, checkpoint), and per env for the privileged oracle."""
    name = options.affordance
    key = (name, options.affordance_checkpoint, id(env) if name == "oracle" else None)
    if key not in _AFFORDANCES:
        kwargs: dict[str, Any] = {"env": env}
        if name == "learned":
            import vla.planning.affordance  # noqa: F401  (registers affordance "learned")

            kwargs["checkpoint"] = options.affordance_checkpoint
        _AFFORDANCES[key] = make_affordance(name, **kwargs)
    return _AFFORDANCES[key]


def build_planner(options: SayCanOptions, env: Any, max_skills: int) -> SayCanPlanner:
    """A SayCan planner for ``env`` with the (cached) scorer and affordance of ``options``."""
    return SayCanPlanner(
        options_scorer(options),
        _affordance(options, env),
        max_skills=max_skills,
        max_failures=options.max_failures,
        done_affordance=options.done_affordance,
        top_k=options.top_k,
    )


def skill_cap(task: TaskSpec, env: Any) -> int:
    """Skills allowed: the task's own cap, else the oracle plan from here plus slack."""
    if task.max_skills:
        return task.max_skills
    return len(oracle_plan(task, env.unwrapped.world.snapshot())) + PLAN_SLACK


def run_saycan(
    env: Any,
    policy: Any,
    task: TaskSpec,
    observation: dict,
    on_step: FrameHook | None = None,
    on_skill: Callable[[SkillResult], None] | None = None,
    on_choice: Callable[[StepRecord], None] | None = None,
    max_skills: int | None = None,
    planner_options: SayCanOptions | Mapping[str, Any] | None = None,
    **_: Any,
) -> list[SkillResult]:
    """Plan ``task.instruction`` with SayCan, executing each chosen skill with ``policy``."""
    from vla.planning.lm.corpus import scene_of

    options = planner_options
    if not isinstance(options, SayCanOptions):
        options = SayCanOptions.from_mapping(options)
    planner = build_planner(options, env, max_skills or skill_cap(task, env))
    results: list[SkillResult] = []
    latest = {"observation": observation}

    def execute(skill: str) -> bool:
        result = run_skill(env, policy, skill, latest["observation"], on_step=on_step)
        latest["observation"] = result.observation
        results.append(result)
        if on_skill is not None:
            on_skill(result)
        return result.success

    world = getattr(env.unwrapped, "world", None)  # the facts as the episode starts
    scene = scene_of(task, world.snapshot() if world is not None else None)
    observe_facts = None
    if wants_feedback(options.lm, options.feedback) and world is not None:
        from sim.tasks.describe import scene_facts

        def observe_facts() -> tuple[str, ...]:
            return scene_facts(world.snapshot())

    planner.plan(
        task.instruction, scene, execute, lambda: latest["observation"], on_choice, observe_facts
    )
    return results
