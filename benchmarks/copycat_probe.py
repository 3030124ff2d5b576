"""Does a policy read the scene, or copy its own motion? (the "copycat" problem of
behaviour cloning with history, Wen et al. 2020).

    python benchmarks/copycat_probe.py --policy rt1 --data data/demos_test --skill pick

Teacher-forced on recorded expert episodes: at each of the first ``--steps`` control
steps the policy sees the expert's frames, and its arm translation is compared with the
expert's label. Only the sign of each x/y/z dimension where the expert moves decisively
(|a| > 0.5 of the max step) is scored: that is "which way is the target". Two passes:

- ``history``: the policy keeps its frame history (the expert's previous frames), as in
  a normal rollout;
- ``no history``: the history is wiped before every step, so the only evidence is the
  current frame and state.

A policy that localises the target scores the same in both passes and at every step. A
copycat scores low at step 0 (no motion to copy yet) and high afterwards with history,
since the previous frames show which way the expert was already going; in closed loop its
own first wrong step is then copied. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from vla.data.episode_store import EpisodeStore  # noqa: E402
from vla.policies import load_policy  # noqa: E402

DECISIVE = 0.5  # |expert action| above this (normalised units) counts as a direction


def step_hits(policy, episode: dict, instruction: str, steps: int, wipe: bool) -> list:
    """Per step: (correct signs, decisive dims) of the policy's translation."""
    policy.reset()
    out = []
    for t in range(min(steps, len(episode["action"]))):
        if wipe:
            policy.reset()
        obs = {
            "images": {"front": episode["front"][t], "wrist": episode["wrist"][t]},
            "state": episode["state"][t],
            "instruction": instruction,
        }
        action = np.asarray(policy.select_action(obs))[:3]
        expert = episode["action"][t][:3]
        decisive = np.abs(expert) > DECISIVE
        correct = decisive & (np.sign(action) == np.sign(expert))
        out.append((int(correct.sum()), int(decisive.sum())))
    return out


def probe(policy, store: EpisodeStore, skill: str, episodes: int, steps: int) -> dict:
    """{pass name: per-step sign accuracy} over the first ``episodes`` of ``skill``."""
    records = [r for r in store.episodes() if r.get("skill") == skill][:episodes]
    if not records:
        raise SystemExit(f"no {skill!r} episodes in {store.path}: record some with vla-record")
    result = {}
    for name, wipe in (("history", False), ("no history", True)):
        hits = np.zeros((steps, 2))
        for r in records:
            episode = store.load_episode(r["episode_id"])
            for t, (ok, n) in enumerate(step_hits(policy, episode, r["instruction"], steps, wipe)):
                hits[t] += (ok, n)
        result[name] = hits[:, 0] / np.maximum(hits[:, 1], 1)
    result["episodes"] = len(records)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policy", default="rt1", help="registry name or checkpoint folder")
    parser.add_argument("--data", required=True, help="vla-record dataset (held-out seeds)")
    parser.add_argument("--skill", default="pick")
    parser.add_argument("--episodes", type=int, default=60)
    parser.add_argument("--steps", type=int, default=6)
    args = parser.parse_args()
    policy = load_policy(args.policy)
    store = EpisodeStore.open(args.data)
    result = probe(policy, store, args.skill, args.episodes, args.steps)
    print(
        f"\n{args.policy} on {result['episodes']} `{args.skill}` episodes of {args.data}: "
        "sign accuracy of the arm translation, teacher-forced\n"
    )
    print("| pass | " + " | ".join(f"step {t}" for t in range(args.steps)) + " |")
    print("|---|" + "---|" * args.steps)
    for name in ("history", "no history"):
        print(f"| {name} | " + " | ".join(f"{v:.0%}" for v in result[name]) + " |")


if __name__ == "__main__":
    main()
