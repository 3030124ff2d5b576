"""Planning cost: one SayCan step (every candidate skill scored) on one CPU core.

    python benchmarks/say_benchmark.py                              # the bundled causal LM
    python benchmarks/say_benchmark.py --lm vla/assets/say_minilm   # the MiniLM Say
    python benchmarks/say_benchmark.py --tasks language             # words the LM never saw
    python benchmarks/say_benchmark.py --split held_out             # held-out wordings

The prompts are every step of the oracle's episode of the first ``--episodes`` tasks of a
suite (``--tasks``, default long_horizon: 4 blocks and 4 bowls, 30-60 candidate skills a
step), or with ``--split`` one task of each family of a ``plan_eval`` split (test seeds).
For each step it times the scorer's ``score(prompt, options)``: the first step of an
episode (a new instruction: MiniLM encodes it, or grounds the words the LM never saw,
``planner.ground_words``) and the later steps (the instruction is cached; each step has
the scene feedback of the one before, when the scorer was trained with it). Prints the
median and 90th percentile in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from planners.candidates import candidate_skills  # noqa: E402
from planners.prompt import build_prompt, observed_step, option_text  # noqa: E402
from sim import TEST_SEED_START  # noqa: E402
from sim.tasks import apply_skill, load_tasks, oracle_plan, symbolic_world  # noqa: E402
from sim.tasks.describe import scene_facts  # noqa: E402
from vla.planning.lm.corpus import scene_of  # noqa: E402
from vla.planning.saycan_runner import _scorer, wants_feedback  # noqa: E402
from vla.planning.splits import SPLITS, generate_tasks  # noqa: E402


def episode_prompts(task, feedback: bool = True):
    """(prompt, options) of every step of the oracle's episode of ``task``."""
    state = symbolic_world(task)
    scene = scene_of(task, state)
    options = [option_text(s) for s in candidate_skills(scene)]
    steps, prompts = [], []
    for skill in oracle_plan(task, state):
        prompts.append(
            build_prompt(
                task.instruction, scene.objects, steps, scene.places, scene.areas, facts=scene.facts
            )  # fmt: skip
        )
        if skill == "done":
            break
        before, state = scene_facts(state), apply_skill(state, skill)
        step = observed_step(skill, True, before, scene_facts(state))
        steps.append(step if feedback else type(step)(skill, True))
    return prompts, options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lm", default=None, help="Say or causal LM folder; default: bundled LM")
    parser.add_argument("--tasks", default="long_horizon", help="suite whose tasks are planned")
    parser.add_argument("--split", choices=SPLITS, help="plan_eval split instead of a suite")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument(
        "--feedback", action=argparse.BooleanOptionalAction, help="default: as trained"
    )
    parser.add_argument(
        "--ground-words", action=argparse.BooleanOptionalAction, help="default: as vla-eval"
    )
    parser.add_argument(
        "--ground-sentences", action=argparse.BooleanOptionalAction, help="default: as vla-eval"
    )
    parser.add_argument("--average-readings", action="store_true", help="both readings, averaged")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    scorer = _scorer(
        args.lm, "sum", args.ground_words, args.ground_sentences, args.average_readings
    )
    if args.split:
        tasks = generate_tasks(args.split, 1, seed=TEST_SEED_START)[: args.episodes]
    else:
        tasks = load_tasks(args.tasks)[: args.episodes]
    prompts, options = episode_prompts(tasks[0])
    scorer.score(prompts[0].replace(tasks[0].instruction, "warm up"), options)
    first, later, sizes = [], [], []
    for task in tasks:
        prompts, options = episode_prompts(task, wants_feedback(args.lm, args.feedback))
        sizes.append(len(options))
        for i, prompt in enumerate(prompts):
            start = time.perf_counter()
            scorer.score(prompt, options)
            (first if i == 0 else later).append(1000 * (time.perf_counter() - start))
    print(f"scorer: {type(scorer).__name__} ({args.lm or 'bundled LM'}), 1 thread")
    source = f"the {args.split} split" if args.split else args.tasks
    print(f"{len(tasks)} episodes of {source}, {min(sizes)}-{max(sizes)} candidates a step")
    for name, times in (("first step (new instruction)", first), ("later steps", later)):
        p90 = sorted(times)[int(0.9 * (len(times) - 1))]
        median = statistics.median(times)
        print(f"{name:30s} median {median:6.1f} ms, p90 {p90:6.1f} ms, n={len(times)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
