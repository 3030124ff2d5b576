"""Vision-language co-training data made from our own recorded demonstrations.

RT-2 keeps its backbone's language ability by mixing web vision-language data into the robot
batches. Offline we have no web data, so we write visual question/answer pairs about the
recorded frames: every recorded episode is a successful skill, so its instruction says what
the scene looks like at its first frame (the object being placed is in the gripper) and at
its last frame (the goal holds). The questions ask about colours, which block is in which
bowl, what a block stands on, where an object is and where the robot is.

A pair is ``(episode_id, step, question, answer)``; the frame is the episode's own camera
image at ``step``, so the answer is visible in the picture the model is given.
"""

from __future__ import annotations

from typing import NamedTuple

from sim.skill_text import parse_skill
from vla.data.episode_store import EpisodeStore

QUESTION_WORDS = "what is the robot holding which bowl is in where color does it stand on yes no of"


class VQAPair(NamedTuple):
    """One question about frame ``step`` of episode ``episode_id``."""

    episode_id: int
    step: int
    question: str
    answer: str


def _colour(obj: str) -> str:
    return obj.split()[0]


def _pick(obj: str, target: str | None, last: int) -> list[tuple[int, str, str]]:
    kind = obj.split()[-1]
    return [
        (last, "what is the robot holding?", f"the {obj}"),
        (last, f"what color is the {kind} in the gripper?", _colour(obj)),
    ]


def _place(relation: str) -> object:
    questions = {
        "in": lambda o, t: [
            (f"which bowl is the {o} in?", f"the {t}"),
            (f"what is in the {t}?", f"the {o}"),
        ],
        "on": lambda o, t: [
            (f"what is the {o} on?", f"the {t}"),
            (f"what is on the {t}?", f"the {o}"),
        ],
        "at": lambda o, t: [(f"where is the {o}?", f"at the {t}")],
    }[relation]

    def make(obj: str, target: str | None, last: int) -> list[tuple[int, str, str]]:
        held = [(0, "what is the robot holding?", f"the {obj}")]
        held.append((0, f"what color is the {obj.split()[-1]} in the gripper?", _colour(obj)))
        return held + [(last, q, a) for q, a in questions(obj, target)]

    return make


def _go_to(obj: str | None, target: str | None, last: int) -> list[tuple[int, str, str]]:
    return [(last, "where is the robot?", f"at the {target}")]


MAKERS = {
    "pick": _pick,
    "place_in": _place("in"),
    "place_on": _place("on"),
    "place_at": _place("at"),
    "go_to": _go_to,
}


def episode_pairs(record: dict) -> list[VQAPair]:
    """Question/answer pairs for one episode record of an ``EpisodeStore`` (successes only;
    a failed episode says nothing reliable about its last frame)."""
    if not record.get("success", False):
        return []
    try:
        call = parse_skill(record["instruction"])
    except ValueError:  # a raw task instruction, not a skill text: nothing to ask
        return []
    maker = MAKERS.get(call.name)
    if maker is None:
        return []
    last = int(record["n_steps"]) - 1
    items = maker(call.obj, call.target, last)
    return [VQAPair(int(record["episode_id"]), step, q, a) for step, q, a in items]


def scene_vqa_pairs(store: EpisodeStore, episode_ids: list[int]) -> list[VQAPair]:
    """All pairs of the given episodes, in episode order."""
    return [pair for i in episode_ids for pair in episode_pairs(store.record(i))]
