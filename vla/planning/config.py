"""The ``planner`` option group of ``vla-eval``, ``vla-run`` and ``vla-deploy``.

``planner=none`` and ``planner=oracle`` take no options (:class:`PlannerConfig`);
``planner=saycan`` takes :class:`SayCanOptions` as ``planner.*``, e.g.
``vla-eval -m planner=saycan planner.affordance=learned,oracle,constant`` (a sweep).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vla.options import at_least, in_range, one_of


@dataclass
class PlannerConfig:
    """A planner by its registered name (:data:`vla.planning.runners.PLANNERS`)."""

    name: str = "none"  # none | oracle | saycan

    def options(self) -> dict[str, Any]:
        """The planner's own options (every field but ``name``), for reports."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "name"}


@dataclass
class SayCanOptions(PlannerConfig):
    """``planner=saycan``: each skill chosen by p_LM(skill | prompt) x affordance(obs, skill)."""

    name: str = "saycan"
    # None: the bundled causal LM (vla/assets/saycan_lm); or any local HF causal LM folder, or
    # a Say checkpoint folder (the bundled MiniLM Say: vla/assets/say_minilm)
    lm: str | None = None
    reduction: str = "sum"  # causal LMs: "sum" (log-prob of the option) or "mean" (per token)
    # after every skill the prompt gets the scene facts it changed; None: as the scorer was
    # trained (a Say checkpoint: yes; a causal LM, the bundled one included: no)
    feedback: bool | None = None
    # words of the instruction that the LM never saw are read by MiniLM as the known word
    # most like them in place (vla/planning/grounding.py); None: when the LM folder has the
    # words.txt that vla-train-lm writes (the bundled LM does)
    ground_words: bool | None = None
    # an instruction with such words is read as the trained instruction MiniLM finds closest,
    # naming the same things in the same order (vla/planning/sentences.py), and word by word
    # only where there is none; None: when the LM folder has the instructions.txt that
    # vla-train-lm writes (the bundled LM does)
    ground_sentences: bool | None = None
    # read such an instruction both ways and average the LM's scores over the two readings
    # (the default before: fewer plans on validation seeds, and slower)
    average_readings: bool = False
    affordance: str = "learned"  # learned (bundled value function) | oracle (sim state) | constant
    affordance_checkpoint: str | None = None  # for learned; None: the bundled one
    # Fixed "Can" of done (SayCan learns no value for it). Low: the learned values of RT-1's
    # skills stay well below 1, and done at 1.0 would win at the first step.
    done_affordance: float = 0.05
    max_failures: int = 2  # failures since the last success after which a skill is dropped
    top_k: int = 5  # candidates recorded per step

    def __post_init__(self) -> None:
        one_of(self, "reduction", ("sum", "mean"), prefix="planner.")
        in_range(self, "done_affordance", 0.0, 1.0, high_open=False, prefix="planner.")
        at_least(self, 1, "max_failures", "top_k", prefix="planner.")
        from vla.planning.lm import BUNDLED_LM, SENTENCES_FILE, WORDS_FILE

        for option, name in (("ground_words", WORDS_FILE), ("ground_sentences", SENTENCES_FILE)):
            if getattr(self, option) and not (Path(self.lm or BUNDLED_LM) / name).is_file():
                raise ValueError(
                    f"planner.{option}=true needs the LM's {name} in {self.lm or BUNDLED_LM} "
                    "(vla-train-lm writes it); or leave it unset"
                )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> SayCanOptions:
        """Options from a config mapping; a key that is not an option is a one-line error."""
        values = {k: v for k, v in dict(values or {}).items() if k != "name"}
        known = {f.name for f in dataclasses.fields(cls)} - {"name"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown planner option(s) {unknown}; known: {sorted(known)}")
        return cls(**values)
