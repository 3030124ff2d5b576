"""MiniLM word grounding: words the Say never saw read as the known word most like them."""

import re

import pytest
import torch

from planners import SayCanPlanner
from sim.tasks import parse_tasks
from vla.planning.config import SayCanOptions
from vla.planning.grounding import GroundedScorer, WordGrounder, corpus_words, grounded, read_words
from vla.planning.lm import BUNDLED_LM, WORDS_FILE
from vla.planning.lm.plan_eval import run_task
from vla.planning.saycan_runner import _scorer
from vla.planning.substitutes import substitute_states
from vla.planning.word_pairs import WordPairs

pytestmark = pytest.mark.skipif(
    not (BUNDLED_LM / WORDS_FILE).is_file(), reason="bundled LM has no word list"
)


@pytest.fixture(scope="module")
def grounder() -> WordGrounder:
    return WordGrounder(read_words(BUNDLED_LM), pairs=WordPairs.read(BUNDLED_LM))


class Recorder:
    """The scorer a GroundedScorer wraps: keeps the prompts it was given."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def score(self, prompt: str, options) -> list[float]:
        self.prompts.append(prompt)
        return [0.0] * len(options)


def test_corpus_words_are_the_sorted_lower_case_words():
    assert corpus_words(["Put the red block", "top-left; 2. done"]) == [
        "block", "done", "left", "put", "red", "the", "top",
    ]  # fmt: skip


def test_unseen_verbs_become_known_ones_and_known_words_stay(grounder):
    known = set(grounder.known)
    assert {"relocate", "deposit", "once"}.isdisjoint(known)
    assert grounder.ground("relocate the red block to the top left corner") == (
        "move the red block to the top left corner"
    )
    assert grounder.ground("deposit the red block in the blue bowl") == (
        "put the red block in the blue bowl"
    )
    text = "Relocate the red block to the top-left corner; once that is done, stack them"
    out = grounder.ground(text)
    assert set(corpus_words([out])) <= known
    assert out.endswith(" that is done, stack them") and "top-left corner; " in out
    assert (
        grounder.ground("put the red block in the blue bowl")
        == "put the red block in the blue bowl"
    )


def test_word_pairs_put_a_verb_where_a_verb_stands():
    known = read_words(BUNDLED_LM)
    text = "rest the green block on the cyan block"  # "the rest" reads like "the remaining"
    by_meaning = WordGrounder(known).ground(text)
    with_pairs = WordGrounder(known, pairs=WordPairs.read(BUNDLED_LM)).ground(text)
    assert by_meaning.split()[0] not in {"put", "place", "set", "stack"}
    assert with_pairs.split()[0] in {"put", "place", "set", "stack"}
    assert with_pairs.split()[1:] == text.split()[1:]


def test_bf16_states_choose_the_words_fp32_states_choose():
    known, pairs = read_words(BUNDLED_LM), WordPairs.read(BUNDLED_LM)
    text = "toss the block that is the colour of a frog into the bowl; once done, rest it"
    chosen = {}
    for bf16 in (False, True):
        grounder = WordGrounder(known, pairs=pairs)
        grounder._bf16 = bf16  # what native_bf16() decides from the CPU
        chosen[bf16] = grounder.ground(text)
    assert chosen[True] == chosen[False] != text


def test_a_word_is_read_in_a_window_of_context_words_each_side(grounder):
    def states(text: str, context: int | None) -> torch.Tensor:
        reader = WordGrounder(grounder.known, grounder.encoder, context=context)
        parts = re.split(r"([A-Za-z]+)", text)
        left, right = reader._context(parts, parts.index("grasp"))
        return substitute_states(grounder.encoder, left, "grasp", right, ["take"], 6)

    text = "please now grasp the red block , then put it down"
    assert grounder.context == 6  # as many plans as the whole text on validation seeds
    assert grounder.layers == 6  # the last: fewer lost plans on validation seeds
    window = states("please now grasp the red", None)
    assert torch.allclose(states(text, 2), window, atol=1e-5)
    assert torch.allclose(states(text, 20), states(text, None), atol=1e-5)
    assert not torch.allclose(states(text, None), window, atol=1e-3)


def test_only_instruction_lines_are_grounded(grounder):
    recorder = Recorder()
    scorer = GroundedScorer(recorder, grounder)
    prompt = "instruction: deposit the red block in the blue bowl\nobjects: deposit\n1."
    assert scorer.score(prompt, [" done\n", " pick up the red block\n"]) == [0.0, 0.0]
    assert recorder.prompts == [
        "instruction: put the red block in the blue bowl\nobjects: deposit\n1."
    ]


def test_grounding_lets_the_bundled_lm_plan_an_unseen_verb():
    spec = {
        "instruction": "relocate the red block to the top left corner",
        "goal": ["at(red block, top left corner)"],
        "objects": ["red block", "green block", "blue bowl"],
    }
    task = parse_tasks([spec])[0]
    outcomes = {}
    for ground in (False, True):
        planner = SayCanPlanner(_scorer(None, "sum", ground, ground), max_skills=6)
        outcomes[ground], _ = run_task(planner, task, feedback=False)  # as the LM was trained
    assert outcomes == {False: False, True: True}


def test_ground_words_follows_the_option_and_the_word_list(tmp_path):
    inner = Recorder()
    assert grounded(inner, tmp_path, None) is inner  # no word list: the LM as it is
    assert grounded(inner, BUNDLED_LM, False, False) is inner
    scorer = grounded(inner, BUNDLED_LM, None)
    assert isinstance(scorer, GroundedScorer) and scorer.grounder.pairs is not None
    with pytest.raises(ValueError, match=WORDS_FILE):
        grounded(inner, tmp_path, True)
    with pytest.raises(ValueError, match="planner.ground_words=true needs"):
        SayCanOptions(lm=str(tmp_path), ground_words=True)
    assert SayCanOptions(ground_words=True).ground_words  # the bundled LM has its list


def test_unseen_words_and_the_sentence_query_are_embedded_in_one_batch(monkeypatch):
    scorer = _scorer(None, "sum", average_readings=True)
    assert isinstance(scorer, GroundedScorer) and scorer.sentences is not None
    encoder = scorer.grounder.encoder
    instruction = "grasp the red block and toss it into the blue bowl"
    assert scorer.grounder.unseen(instruction) == ["grasp", "toss"]
    query = scorer.sentences.query(instruction)
    assert query is not None and query != instruction  # its names set aside
    batches = []
    embed = encoder._embed
    monkeypatch.setattr(encoder, "_embed", lambda t: batches.append(list(t)) or embed(t))
    encoder.clear_cache()
    together = scorer.readings(instruction)
    assert batches == [["grasp", "toss", query]]  # one pass, then cache hits
    encoder.clear_cache()
    scorer._readings.clear()
    scorer.grounder._cache.clear()
    monkeypatch.setattr(scorer, "_embed_at_once", lambda text: None)
    assert scorer.readings(instruction) == together  # the same readings one by one
    assert len(batches) == 4  # grasp, toss and the query each alone
