"""The SayCan loop: ``score = p_LM(skill | prompt) x affordance(observation, skill)``.

Each step scores every candidate skill of the scene with the language scorer ("Say"),
turns the scores into probabilities over the candidates (a softmax, so they sum to 1),
multiplies by the affordance ("Can"; ``done`` gets the fixed ``done_affordance``, as in
SayCan, since no value function is learned for it), and runs the best skill. The executor's
success flag is written into the prompt, so the next step sees it (closed loop): after a
failure the LM may retry the skill, and once a skill has failed ``max_failures`` times since
the last success it is removed from the candidates, so the next best replaces it. Given
``observe_facts`` (the scene's facts now: from the simulator, or from perception on a robot),
the prompt also gets the facts each skill changed (Inner Monologue's scene feedback), so the
planner sees what happened, not only whether the executor thinks it worked. The loop ends
when ``done`` wins or ``max_skills`` skills have run, or, unfinished with a logged warning, when
the history has grown the prompt past the LM's context.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from planners.affordance import Affordance, ConstantAffordance
from planners.candidates import SKILL_TEMPLATES, SceneDescription, candidate_skills
from planners.prompt import Step, build_prompt, observed_step, option_text
from planners.scorer import LanguageScorer, PromptTooLong

log = logging.getLogger(__name__)

SkillExecutor = Callable[[str], bool]  # runs a skill, returns whether it succeeded


@dataclass(frozen=True)
class CandidateScore:
    """One candidate at one step: say = softmax of the LM scores, can = affordance."""

    skill: str
    lm_score: float  # the scorer's raw output (log-prob sum or mean)
    say: float
    can: float
    combined: float


@dataclass
class StepRecord:
    """What happened at one step: the prompt, the best candidates and the outcome."""

    index: int
    prompt: str
    chosen: str
    top: list[CandidateScore]
    success: bool | None = None  # None for "done" (not executed)


@dataclass
class PlanResult:
    """A whole episode: the steps and whether the planner said done."""

    instruction: str
    steps: list[StepRecord] = field(default_factory=list)
    finished: bool = False  # True when "done" won before max_skills
    stopped: str = ""  # why the loop ended early (the prompt outgrew the LM's context)

    @property
    def skills(self) -> list[str]:
        """The skills chosen, in order (including failed ones and the final done)."""
        return [step.chosen for step in self.steps]


class SayCanPlanner:
    """Chooses and runs skills until ``done``.

    scorer: the LM; affordance: ``affordance(observation, skill) -> [0, 1]``;
    max_skills: skills run at most per episode (``done`` not counted);
    max_failures: failures since the last success after which a skill is dropped;
    top_k: candidates recorded per step; examples: few-shot episodes for the prompt.
    """

    def __init__(
        self,
        scorer: LanguageScorer,
        affordance: Affordance | None = None,
        max_skills: int = 16,
        max_failures: int = 2,
        done_affordance: float = 1.0,
        top_k: int = 5,
        examples: Sequence[str] = (),
        templates: dict[str, str] | None = None,
    ) -> None:
        if max_skills < 1 or max_failures < 1:
            raise ValueError("max_skills and max_failures must be at least 1")
        self.scorer = scorer
        self.affordance = affordance or ConstantAffordance()
        self.max_skills = max_skills
        self.max_failures = max_failures
        self.done_affordance = done_affordance
        self.top_k = top_k
        self.examples = tuple(examples)
        self.templates = templates or SKILL_TEMPLATES

    def step(
        self,
        instruction: str,
        scene: SceneDescription,
        history: Sequence[Step],
        observation: Any = None,
        exclude: Sequence[str] = (),
    ) -> StepRecord:
        """Score the candidates for the next skill and pick the best (nothing runs)."""
        prompt = build_prompt(
            instruction,
            scene.objects,
            history,
            scene.places,
            scene.areas,
            self.examples,
            scene.facts,
        )
        done = self.templates["done"]
        skills = [s for s in candidate_skills(scene, self.templates) if s not in exclude]
        lm_scores = self.scorer.score(prompt, [option_text(s) for s in skills])
        says = _softmax(lm_scores)
        cans = self._cans(observation, skills, done)
        scored = [
            CandidateScore(skill, lm_score, say, can, say * can)
            for skill, lm_score, say, can in zip(skills, lm_scores, says, cans)
        ]
        scored.sort(key=lambda c: c.combined, reverse=True)
        return StepRecord(len(history), prompt, scored[0].skill, scored[: self.top_k])

    def _cans(self, observation: Any, skills: Sequence[str], done: str) -> list[float]:
        """Affordance of each skill (``done``: the fixed value); one ``batch`` call when the
        affordance has one (a learned value function scores all candidates in one pass)."""
        others = [s for s in skills if s != done]
        batch = getattr(self.affordance, "batch", None)
        values = (
            batch(observation, others)
            if batch
            else [self.affordance(observation, s) for s in others]
        )
        by_skill = dict(zip(others, values))
        return [self.done_affordance if s == done else float(by_skill[s]) for s in skills]

    def plan(
        self,
        instruction: str,
        scene: SceneDescription,
        execute: SkillExecutor,
        observe: Callable[[], Any] | None = None,
        on_choice: Callable[[StepRecord], None] | None = None,
        observe_facts: Callable[[], Sequence[str]] | None = None,
    ) -> PlanResult:
        """Run the closed loop: choose, execute, feed the outcome back, repeat.

        ``observe()`` gives the affordance its observation; ``on_choice(record)`` sees each
        step as soon as it is chosen, before the skill runs (to print a plan as it goes);
        ``observe_facts()`` gives the scene's facts after each skill (``scene.facts`` holds
        them at the start), whose changes the prompt then reports.
        """
        result = PlanResult(instruction)
        history: list[Step] = []
        failures: dict[str, int] = {}
        facts = tuple(scene.facts)
        while len(history) < self.max_skills:
            exclude = [s for s, n in failures.items() if n >= self.max_failures]
            observation = observe() if observe else None
            try:
                record = self.step(instruction, scene, history, observation, exclude)
            except PromptTooLong as error:
                if not history:  # the instruction and scene alone do not fit: bad input
                    raise
                result.stopped = f"stopped after {len(history)} skills: {error}"
                log.warning("SayCan %s", result.stopped)
                break
            result.steps.append(record)
            if on_choice is not None:
                on_choice(record)
            if record.chosen == self.templates["done"]:
                result.finished = True
                break
            record.success = bool(execute(record.chosen))
            if observe_facts is None:
                history.append(Step(record.chosen, record.success))
            else:
                now = tuple(observe_facts())
                history.append(observed_step(record.chosen, record.success, facts, now))
                facts = now
            if record.success:
                failures.clear()
            else:
                failures[record.chosen] = failures.get(record.chosen, 0) + 1
        return result


def _softmax(scores: Sequence[float]) -> list[float]:
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]
    total = sum(weights)
    return [w / total for w in weights]
