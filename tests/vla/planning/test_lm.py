"""The planning corpus, LM training and the bundled SayCan LM."""

import random
from collections import Counter

import pytest
import torch

from planners import SayCanPlanner, make_scorer
from planners.hf_scorer import load_local_lm
from sim.tasks import all_hold, apply_skill, oracle_plan, parse_tasks, symbolic_world
from sim.tasks.describe import scene_facts
from sim.tasks.spec import BUILTIN_SUITES
from vla.planning.grounding import read_words
from vla.planning.lm import BUNDLED_LM
from vla.planning.lm.chain_tasks import chain_starts
from vla.planning.lm.corpus import (
    HELD_OUT_WORDS,
    generate_tasks,
    make_episode,
    render,
    split_tables,
    words,
)
from vla.planning.lm.plan_eval import run_task
from vla.planning.lm.train_lm import (
    LMTrainConfig,
    build_corpus,
    encode,
    make_batch,
    train_tokenizer,
)
from vla.planning.sentences import TrainedInstructions
from vla.planning.splits import TRAINED_CONSTRUCTIONS
from vla.planning.word_pairs import WordPairs


def test_split_holds_out_its_words():
    train = generate_tasks("train", 40, seed=3)
    rng = random.Random(0)
    train_words = set().union(*(words(render(make_episode(t, rng, 0.5))[0]) for t in train))
    assert not train_words & HELD_OUT_WORDS
    held = generate_tasks("held_out", 10, seed=3)
    assert held and all(words(t.instruction) & HELD_OUT_WORDS for t in held)
    assert "toss the {obj} into the {target}" in split_tables("held_out")["VERB_TEMPLATES"]["in"]


def test_episodes_state_the_scene_and_place_the_robot_like_the_simulator():
    tasks = generate_tasks("train", 30, seed=0, families=("mobile",))
    unplaced = [t for t in tasks if not any(p.name == "robot_at" for p in t.initial)]
    assert unplaced  # the generator leaves the start area to the simulator for some tasks
    rng = random.Random(0)
    starts = {make_episode(t, rng).header.split("robot at ")[1].split("\n")[0] for t in unplaced}
    assert starts == {"table", "counter"}  # both, like sim.layout.sample_layout
    clear = generate_tasks("train", 40, seed=0, families=("long_horizon",))
    headers = [make_episode(t, rng).header for t in clear if "bowl" in t.instruction.split()[-1]]
    assert any(" in " in h.split("scene: ")[-1] for h in headers if "scene: " in h)


def test_a_dropped_place_is_followed_by_a_new_pick_and_the_same_place():
    rng = random.Random(1)
    tasks = generate_tasks("train", 80, seed=0, families=("structured",))
    recoveries = []
    for task in tasks:
        steps = make_episode(task, rng, p_failure=1.0).steps
        recoveries += [
            steps[i : i + 3]
            for i in range(len(steps) - 2)
            if not steps[i].success
            and steps[i].skill.startswith("place")
            and steps[i + 2].skill == steps[i].skill
        ]
    assert recoveries
    for failed, pick, again in recoveries:
        block = failed.skill.split(" block")[0].removeprefix("place the ")
        assert (pick.skill, pick.success) == (f"pick up the {block} block", True)
        assert again.success
        assert failed.removed == (f"holding {block} block",)  # the feedback: it fell


def test_a_missed_pick_or_drive_is_tried_again():
    rng = random.Random(2)
    tasks = generate_tasks("train", 60, seed=0, families=("mobile", "structured"))
    retried = set()
    for task in tasks:
        steps = make_episode(task, rng, p_failure=1.0).steps
        for failed, after in zip(steps, steps[1:]):
            if not failed.success and not failed.skill.startswith("place"):
                if (after.skill, after.success) == (failed.skill, True):
                    retried.add(failed.skill.split()[0])
    assert retried == {"pick", "go"}


def test_a_bowl_is_cleared_in_the_order_the_scene_lists_its_blocks():
    tasks = generate_tasks("train", 60, seed=0, families=("long_horizon",))
    clears = [t for t in tasks if all(g.name == "not" for g in t.goal)]
    assert clears
    for task in clears:
        episode = make_episode(task, random.Random(0))
        inside = [f.split(" in ")[0] for f in episode.header.split("scene: ")[1].split(", ")]
        picks = [s.skill.removeprefix("pick up the ") for s in episode.steps if "pick" in s.skill]
        assert picks == [b for b in inside if b in picks]
        assert len(picks) == len(task.goal)


def test_failed_skill_is_context_not_target():
    task = generate_tasks("train", 1, seed=0, families=("single",))[0]
    episode = make_episode(task, random.Random(0), p_failure=1.0)
    text, spans = render(episode)
    assert "result: failure" in text
    learned = [text[a:b] for a, b in spans]
    assert learned == [f" {s.skill}\n" for s in episode.steps if s.success]
    assert text[spans[-1][0] : spans[-1][1]] == " done\n"


def test_a_few_training_steps_lower_the_loss():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    tasks = generate_tasks("train", 4, seed=0, families=("single", "verbs"))
    rng = random.Random(0)
    corpus = [render(make_episode(t, rng)) for t in tasks]
    tokenizer = train_tokenizer([text for text, _ in corpus], vocab_size=300)
    batch = make_batch([encode(tokenizer, *item) for item in corpus], tokenizer.pad_token_id)
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(vocab_size=len(tokenizer), n_positions=256, n_embd=32, n_layer=2, n_head=2)
    model = GPT2LMHeadModel(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(8):
        loss = model(**batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.5
    assert LMTrainConfig().n_layer <= 4


@pytest.mark.skipif(not (BUNDLED_LM / "config.json").is_file(), reason="bundled LM not trained")
def test_bundled_lm_plans_a_simple_instruction(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    task = parse_tasks(
        [
            {
                "instruction": "put the red block in the blue bowl",
                "goal": ["in(red block, blue bowl)"],
                "objects": ["red block", "green block", "blue bowl", "yellow bowl"],
            }
        ]
    )[0]
    planner = SayCanPlanner(make_scorer("hf", model=BUNDLED_LM), max_skills=6)
    success, result = run_task(planner, task, feedback=False)  # as it was trained
    assert result.skills == oracle_plan(task, symbolic_world(task))
    assert success


def test_init_from_continues_a_saved_lm_with_its_tokenizer(tmp_path):
    from vla.planning.lm.train_lm import train_lm, write_grounding_files

    small = dict(steps=2, batch_size=4, tasks_per_family=2, warmup_steps=1, vocab_size=300)
    small.update(n_layer=1, n_embd=32, n_head=2, n_positions=1024)
    first = train_lm(LMTrainConfig(output_dir=str(tmp_path / "a"), **small))
    more = train_lm(
        LMTrainConfig(output_dir=str(tmp_path / "b"), init_from=str(tmp_path / "a"), **small)
    )
    assert more["parameters"] == first["parameters"]
    a, b = ((tmp_path / d / "tokenizer.json").read_text() for d in "ab")
    assert a == b  # the tokenizer is kept, not retrained
    words_a, words_b = (read_words(tmp_path / d) for d in "ab")
    assert "block" in words_a and set(words_a) <= set(words_b)  # the LM's words, kept
    pairs_a, pairs_b = (WordPairs.read(tmp_path / d) for d in "ab")
    assert pairs_a.counts and all(pairs_b.counts[p] > n for p, n in pairs_a.counts.items())
    (tmp_path / "c").mkdir()
    write_grounding_files(tmp_path / "c", ["instruction: tip the blue bowl"], str(tmp_path / "a"))
    sentences_a, sentences_c = (TrainedInstructions.read(tmp_path / d) for d in "ac")
    assert set(sentences_c.sentences) == {*sentences_a.sentences, "tip the red bowl"}
    assert sentences_c.vectors.shape == (len(sentences_c), 384)


def test_a_continued_lm_grows_its_positions_and_keeps_the_trained_ones(tmp_path):
    from vla.planning.lm.train_lm import train_lm

    small = dict(steps=1, batch_size=2, tasks_per_family=4, warmup_steps=1, vocab_size=300)
    small.update(n_layer=1, n_embd=32, n_head=2)
    family_weights = dict.fromkeys(BUILTIN_SUITES, 0.0) | {"single": 1.0}
    first = LMTrainConfig(
        output_dir=str(tmp_path / "a"), n_positions=400, family_weights=family_weights, **small
    )
    train_lm(first)
    before = load_local_lm(tmp_path / "a")[0].transformer.wpe.weight.detach().clone()
    cfg = LMTrainConfig(
        output_dir=str(tmp_path / "b"), init_from=str(tmp_path / "a"), n_positions=900, lr=1e-9,
        precision="bf16", family_weights=family_weights, **small,
    )  # fmt: skip
    train_lm(cfg)
    grown = load_local_lm(tmp_path / "b")[0]
    assert grown.config.n_positions == 900 and grown.transformer.wpe.weight.shape[0] == 900
    assert torch.allclose(grown.transformer.wpe.weight[:400], before, atol=1e-6)
    assert grown.transformer.wpe.weight[400:].std() > 0.01  # initialised, not zeros


def test_grown_layers_start_as_identity_and_then_learn():
    from vla.planning.lm.train_lm import grow_layers

    model, tokenizer = load_local_lm(BUNDLED_LM)
    model.eval()
    ids = torch.tensor(
        [tokenizer("instruction: put the red block in the blue bowl\n1.")["input_ids"]]
    )
    before = model(ids).logits
    layers = model.config.n_layer
    grow_layers(model, layers + 2)
    assert len(model.transformer.h) == model.config.n_layer == layers + 2
    assert torch.equal(model(ids).logits, before)  # the grown model computes the same
    model(ids, labels=ids).loss.backward()
    assert model.transformer.h[-1].mlp.c_proj.weight.grad.abs().sum() > 0
    grow_layers(model, 1)  # never shrinks
    assert len(model.transformer.h) == layers + 2


def test_family_weights_scale_the_corpus_per_family():
    weights = {"structured": 2.0, "single": 0.0, "embodiment": 0.0, "language": 0.0}
    corpus = build_corpus(LMTrainConfig(tasks_per_family=2, family_weights=weights))
    assert len(corpus) == 2 * 4 + 4  # four families at 1, structured at 2, two at 0
    assert sum("and then" in text or ", then" in text for text, _ in corpus) >= 2
    with pytest.raises(ValueError, match="family_weights: unknown"):
        build_corpus(LMTrainConfig(tasks_per_family=1, family_weights={"sorting": 1.0}))


def test_chain_tasks_start_where_earlier_tasks_left_the_world():
    """Each starts from a state the oracle made (some fact on its scene line), its goal not
    yet met, worded without held-out words; the corpus gains them and keeps its others."""
    tasks = generate_tasks("train", 10, 0, ("structured",))
    starts = chain_starts(tasks, 30, random.Random(0))
    assert len(starts) == 30 and all(scene_facts(state) for _, state in starts)
    assert not any(all_hold(task.goal, state) for task, state in starts)
    assert not any(words(task.instruction) & HELD_OUT_WORDS for task, _ in starts)
    for task, state in starts:  # the oracle plan from that state reaches the goal
        for skill in oracle_plan(task, state)[:-1]:
            state = apply_skill(state, skill)
        assert all_hold(task.goal, state)
    weights = dict.fromkeys(BUILTIN_SUITES, 0.0) | {"structured": 1.0}
    plain = build_corpus(LMTrainConfig(tasks_per_family=2, family_weights=weights))
    chained = build_corpus(LMTrainConfig(tasks_per_family=2, family_weights=weights, chain_tasks=3))
    assert chained[: len(plain)] == plain and len(chained) == len(plain) + 3
    assert all("\nscene: " in text for text, _ in chained[len(plain) :])


def test_construction_weights_scale_the_language_family_per_construction():
    weights = {"swap": 3.0, "descriptions": 0.0}
    tasks = generate_tasks("train", 2, 0, ("language",), construction_weights=weights)
    counts = Counter(task.family for task in tasks)
    assert counts["language.swap"] == 6 and "language.descriptions" not in counts
    assert set(counts.values()) == {2, 6} and len(counts) == len(TRAINED_CONSTRUCTIONS) - 1
    plain = generate_tasks("train", 2, 0, ("language",))
    assert plain == generate_tasks("train", 2, 0, ("language",), {"swap": 1.0})
    with pytest.raises(ValueError, match="construction_weights: unknown"):
        build_corpus(LMTrainConfig(tasks_per_family=1, construction_weights={"but_first": 1}))
