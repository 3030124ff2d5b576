"""The SayCan loop with a fake scorer and a fake executor."""

from collections.abc import Sequence

import pytest

from planners import ConstantAffordance, SayCanPlanner, SceneDescription, make_affordance
from planners.prompt import build_prompt, observed_step, option_text, read_prompt

SCENE = SceneDescription(("red block", "blue bowl"), places=("middle",))


class ScriptedScorer:
    """Prefers the next skill of a script, reading progress from the prompt's step number."""

    def __init__(self, script: Sequence[str]):
        self.script = list(script)
        self.prompts: list[str] = []

    def score(self, prompt: str, options: Sequence[str]) -> list[float]:
        self.prompts.append(prompt)
        step = int(prompt.rsplit("\n", 1)[-1].rstrip(".")) - 1
        want = option_text(self.script[min(step, len(self.script) - 1)])
        return [0.0 if option == want else -5.0 for option in options]


def test_stops_at_done_and_records_top_candidates():
    script = ["pick up the red block", "place the red block in the blue bowl", "done"]
    planner = SayCanPlanner(ScriptedScorer(script), top_k=3)
    ran = []
    result = planner.plan("put the red block in the blue bowl", SCENE, lambda s: ran.append(s) or 1)
    assert result.finished and result.skills == script
    assert ran == script[:2]
    first = result.steps[0]
    assert len(first.top) == 3 and first.top[0].skill == script[0]
    assert first.top[0].combined == pytest.approx(first.top[0].say * first.top[0].can)
    assert first.top[0].say > first.top[1].say
    assert result.steps[-1].success is None


def test_stops_at_max_skills():
    planner = SayCanPlanner(ScriptedScorer(["pick up the red block"]), max_skills=3)
    result = planner.plan("keep picking", SCENE, lambda s: True)
    assert not result.finished and len(result.steps) == 3


def test_failure_is_fed_back_then_skill_is_replaced():
    planner = SayCanPlanner(ScriptedScorer(["pick up the red block"] * 9), max_failures=2)
    outcomes = iter([False, False, True])
    result = planner.plan("pick it", SCENE, lambda s: next(outcomes, True))
    assert result.skills[:2] == ["pick up the red block"] * 2  # retried once
    assert result.skills[2] != "pick up the red block"  # then replaced by the next best
    assert "result: failure" in result.steps[1].prompt
    assert "result: failure" not in result.steps[0].prompt


def test_affordance_multiplies_say():
    class NoPick:
        def __call__(self, observation, skill):
            return 0.0 if skill.startswith("pick") else 0.5

    script = ["pick up the red block", "done"]
    planner = SayCanPlanner(ScriptedScorer(script), affordance=NoPick(), done_affordance=0.1)
    record = planner.step("pick", SCENE, [])
    assert record.chosen != "pick up the red block"
    done = next(c for c in record.top if c.skill == "done")
    assert done.can == 0.1


def test_constant_affordance_registry():
    assert make_affordance("constant", value=0.3)(None, "done") == 0.3
    with pytest.raises(ValueError, match="unknown affordance"):
        make_affordance("nope")
    with pytest.raises(ValueError):
        ConstantAffordance(2.0)


def test_prompt_format():
    prompt = build_prompt("do it", ["red block"], places=["middle"])
    assert prompt == "instruction: do it\nobjects: red block\nplaces: middle\n1."
    facts = ("red block in blue bowl", "robot at table")
    prompt = build_prompt("do it", ["red block"], areas=["table"], facts=facts)
    assert prompt.splitlines()[2:4] == [
        "areas: table",
        "scene: red block in blue bowl, robot at table",
    ]


def test_the_scene_facts_reach_the_prompt():
    scorer = ScriptedScorer(["done"])
    scene = SceneDescription(("red block", "blue bowl"), facts=("red block in blue bowl",))
    SayCanPlanner(scorer).plan("empty the bowl", scene, lambda skill: True)
    assert "\nscene: red block in blue bowl\n1." in scorer.prompts[0]


class TableAffordance:
    """Values from a table; ``batch`` scores many skills at once and counts its calls."""

    def __init__(self, values: dict[str, float]):
        self.values, self.batches = values, 0

    def __call__(self, observation, skill: str) -> float:
        raise AssertionError("the planner should use batch() when an affordance has it")

    def batch(self, observation, skills: Sequence[str]) -> list[float]:
        self.batches += 1
        return [self.values.get(s, 0.5) for s in skills]


def test_a_batch_affordance_is_called_once_per_step_and_can_overrule_the_lm():
    script = ["pick up the red block", "done"]
    can = TableAffordance({"pick up the red block": 0.0, "place the red block at the middle": 0.9})
    planner = SayCanPlanner(ScriptedScorer(script), can, max_skills=1)
    record = planner.step("pick up the red block", SCENE, [])
    assert can.batches == 1
    assert record.chosen != "pick up the red block"  # the LM's favourite cannot be done now
    assert {c.skill: c.can for c in record.top}.get("done") == 1.0  # done keeps its fixed value


def test_scene_feedback_reports_the_facts_each_skill_changed():
    """Inner Monologue's loop: after every skill the prompt says what changed in the scene,
    so a place that 'succeeded' but dropped the block beside the bowl is visible."""
    script = ["pick up the red block", "place the red block in the blue bowl", "done"]
    scorer = ScriptedScorer(script)
    scene = SceneDescription(("red block", "blue bowl"), facts=("red block at middle",))
    world = {"facts": ["red block at middle"]}
    effects = {
        "pick up the red block": ["holding red block"],
        "place the red block in the blue bowl": [],  # dropped beside the bowl
    }

    def execute(skill: str) -> bool:
        world["facts"] = effects[skill]
        return True

    SayCanPlanner(scorer).plan(
        "put it in the bowl", scene, execute, observe_facts=lambda: world["facts"]
    )
    second, third = scorer.prompts[1], scorer.prompts[2]
    assert "result: success\nchanges: +holding red block, -red block at middle\n2." in second
    assert third.endswith("result: success\nchanges: -holding red block\n3.")
    view = read_prompt(third)
    assert view.facts == ("red block at middle",) and view.now == ()
    assert [s.skill for s in view.steps] == script[:2]


def test_without_feedback_the_prompt_has_no_changes_lines():
    scorer = ScriptedScorer(["pick up the red block", "done"])
    SayCanPlanner(scorer).plan("pick it", SCENE, lambda s: False)
    assert "changes:" not in scorer.prompts[-1] and "result: failure" in scorer.prompts[-1]


def test_read_prompt_tracks_the_scene_through_the_changes():
    steps = [
        observed_step(
            "pick up the red block", True, ["red block on green block"], ["holding red block"]
        ),
        observed_step(
            "place the red block at the middle", False, ["holding red block"], ["holding red block"]
        ),
    ]
    prompt = build_prompt(
        "x", ["red block", "green block"], steps, facts=["red block on green block"]
    )
    view = read_prompt(build_prompt("y", ["a"], examples=[prompt]) + "\n" + prompt)
    assert view.instruction == "x" and view.now == ("holding red block",)
    assert view.steps[1].success is False and view.steps[1].observed
    assert "changes: none" in prompt
    with pytest.raises(ValueError, match="not a SayCan prompt"):
        read_prompt("hello")
