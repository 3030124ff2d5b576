"""The MiniLM Say: steps from the task grammar, batches, the head, training and the scorer."""

from __future__ import annotations

import json
import math
import random

import pytest
import torch

from planners.prompt import build_prompt, observed_step, option_text
from sim.tasks import parse_tasks
from vla.planning.lm import BUNDLED_LM
from vla.planning.say.checkpoint import is_say_checkpoint, load_head, save_head
from vla.planning.say.data import StepArrays, TextBank, make_batch
from vla.planning.say.examples import task_steps
from vla.planning.say.features import TokenStates
from vla.planning.say.model import SayConfig, SayHead
from vla.planning.splits import generate_tasks

TINY = SayConfig(width=32, heads=2, context_layers=1, candidate_layers=1, slots=2)


@pytest.fixture(scope="module")
def minilm() -> TokenStates:
    torch.set_num_threads(1)
    return TokenStates()


@pytest.fixture(scope="module")
def corpus(minilm):
    tasks = generate_tasks("train", 3, seed=0, families=("single", "long_horizon"))
    rng = random.Random(0)
    data = StepArrays.from_steps([s for t in tasks for s in task_steps(t, rng, p_detour=1.0)])
    return data, TextBank.build(data.texts, minilm)


def test_training_tasks_never_use_a_held_out_construction():
    from sim.tasks.language import CONSTRUCTIONS, HELD_OUT_CONSTRUCTIONS

    held = {f"language.{name}" for name in HELD_OUT_CONSTRUCTIONS}
    train = generate_tasks("train", 2, seed=0, families=("language",))
    assert train and not {t.family for t in train} & held
    assert len({t.family for t in train}) == len(CONSTRUCTIONS) - len(HELD_OUT_CONSTRUCTIONS)
    unseen = generate_tasks("held_out_constructions", 2, seed=0)
    assert {t.family for t in unseen} == held


def test_steps_follow_the_oracle_from_every_state_and_detours_leave_the_plan():
    objects = ["red block", "green block", "blue bowl"]
    task = parse_tasks([{
        "instruction": "put the red block in the blue bowl", "goal": ["in(red block, blue bowl)"],
        "objects": objects, "initial": ["on(green block, red block)"],
    }])[0]  # fmt: skip
    steps = task_steps(task, random.Random(0))
    chosen = [s.candidates[s.target] for s in steps]
    assert chosen == [
        "pick up the green block", "place the green block at the top left corner",
        "pick up the red block", "place the red block in the blue bowl", "done",
    ]  # fmt: skip
    assert steps[0].now == steps[0].facts == ("green block on red block",)
    assert steps[1].now == ("holding green block",) and steps[1].facts == steps[0].facts
    detoured = [task_steps(task, random.Random(seed), p_detour=1.0) for seed in range(6)]
    assert any(len(s) > len(steps) for s in detoured)


def test_batches_keep_the_target_among_sampled_candidates(corpus):
    data, bank = corpus
    batch = make_batch(data, bank, range(8), negatives=3, rng=random.Random(0))
    assert batch["candidates"].shape == (8, 4) and batch["phrases"].shape[-1] == 384
    picked = batch["candidates"][torch.arange(8), batch["target"]]
    full = make_batch(data, bank, range(8))
    truth = full["candidates"][torch.arange(8), full["target"]]
    assert (picked >= 0).all() and (truth >= 0).all()
    assert torch.equal(batch["phrases"][picked], full["phrases"][truth])  # the same skill texts
    assert batch["instruction_mask"][:, 0].all()


def test_hard_negatives_are_the_skills_closest_to_the_target(corpus):
    from vla.planning.say.data import _candidates

    data, _ = corpus
    words = data.word_sets
    chosen, target = _candidates(data, list(range(8)), 2, random.Random(0), hard=1.0)
    for row in range(8):
        goal = int(data.candidates[row, data.target[row]])
        assert chosen[row, target[row]] == goal
        others = [int(c) for c in data.candidates[row] if c >= 0 and c != goal]
        best = sorted((len(words[c] & words[goal]) for c in others), reverse=True)[:2]
        kept = [int(c) for i, c in enumerate(chosen[row]) if i != target[row]]
        assert sorted((len(words[c] & words[goal]) for c in kept), reverse=True) == best


VARIANTS = {
    "pooled": {},
    "fact_tokens": {"fact_tokens": True},
    "candidate_tokens": {"candidate_tokens": True},
    "match_features": {"candidate_tokens": True, "match_features": True},
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_few_training_steps_fit_a_small_corpus(corpus, variant):
    data, bank = corpus
    torch.manual_seed(0)
    model = SayHead(SayConfig(**{**TINY.to_dict(), **VARIANTS[variant]}))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    rows = list(range(32))
    losses = []
    for _ in range(40):
        batch = make_batch(data, bank, rows)
        target = batch.pop("target")
        loss = torch.nn.functional.cross_entropy(model(**batch), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) / 5 < 0.6 * losses[0]


def test_checkpoint_round_trip_and_clear_errors(tmp_path):
    model = SayHead(TINY).eval()
    save_head(model, tmp_path / "say", {"note": 1})
    assert is_say_checkpoint(tmp_path / "say") and not is_say_checkpoint(tmp_path)
    loaded = load_head(tmp_path / "say")
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert torch.allclose(a.half().float(), b), name
    with pytest.raises(ValueError, match="no Say checkpoint"):
        load_head(tmp_path)


def test_scorer_returns_log_probs_that_ignore_fact_order(tmp_path, minilm):
    from planners import make_scorer
    from vla.planning.say.scorer import MiniLMSay

    torch.manual_seed(0)
    save_head(SayHead(TINY), tmp_path / "say")
    say = make_scorer("minilm", model=tmp_path / "say")
    assert isinstance(say, MiniLMSay)
    say.text = minilm  # share the encoder loaded once for the module
    objects = ["red block", "green block", "blue bowl"]
    options = [option_text(s) for s in ("pick up the red block", "pick up the green block", "done")]
    facts = ["red block in blue bowl", "green block at middle"]
    first = say.score(build_prompt("empty the bowl", objects, facts=facts), options)
    assert math.isclose(sum(math.exp(s) for s in first), 1.0, rel_tol=1e-5)
    swapped = say.score(build_prompt("empty the bowl", objects, facts=facts[::-1]), options)
    assert swapped == pytest.approx(first, abs=1e-5)
    step = observed_step("pick up the red block", True, facts, ["holding red block", facts[1]])
    later = say.score(build_prompt("empty the bowl", objects, [step], facts=facts), options)
    assert later != pytest.approx(first, abs=1e-4)  # the scene now differs
    assert say.score("instruction: x\n1.", []) == []


def test_planner_lm_picks_the_say_or_a_causal_lm(tmp_path):
    from vla.planning.say.scorer import MiniLMSay
    from vla.planning.saycan_runner import _scorer

    save_head(SayHead(TINY), tmp_path / "say")
    assert isinstance(_scorer(str(tmp_path / "say"), "sum"), MiniLMSay)
    with pytest.raises(ValueError, match="local Hugging Face model folder"):
        _scorer(str(tmp_path / "nothing"), "sum")


def test_match_features_need_word_piece_candidates():
    with pytest.raises(ValueError, match="match_features needs candidate_tokens"):
        SayHead(SayConfig(**{**TINY.to_dict(), "match_features": True}))


def test_feedback_follows_how_the_scorer_was_trained(tmp_path):
    from vla.planning.saycan_runner import wants_feedback

    save_head(SayHead(TINY), tmp_path / "say")
    assert wants_feedback(str(tmp_path / "say"), None) is True
    assert wants_feedback(None, True) is True
    assert wants_feedback(str(tmp_path / "say"), False) is False
    for trained in (True, False):  # a causal LM: as its vla-train-lm record says
        lm = tmp_path / f"lm_{trained}"
        lm.mkdir()
        (lm / "training.json").write_text(json.dumps({"config": {"feedback": trained}}))
        assert wants_feedback(str(lm), None) is trained
    assert wants_feedback(str(tmp_path), None) is False  # no record: a prompt without feedback
    bundled = json.loads((BUNDLED_LM / "training.json").read_text())["config"]
    assert wants_feedback(None, None) is bundled.get("feedback", False)


def test_bundled_say_is_small_and_scores_every_candidate(minilm):
    from vla.planning.say import BUNDLED_SAY
    from vla.planning.say.scorer import MiniLMSay

    assert (BUNDLED_SAY / "model.safetensors").stat().st_size < 20_000_000
    assert "python -m vla.planning.say.train" in (BUNDLED_SAY / "README.md").read_text()
    say = MiniLMSay()
    say.text = minilm
    objects = ["red block", "green block", "blue bowl"]
    skills = ["pick up the red block", "pick up the green block", "done"]
    prompt = build_prompt("pick up the red block", objects)
    scores = say.score(prompt, [option_text(s) for s in skills])
    assert len(scores) == 3 and math.isclose(sum(math.exp(x) for x in scores), 1.0, rel_tol=1e-5)
