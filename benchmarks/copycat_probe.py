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

A policy that localises the target scores about the same at every step. A copycat
scores low at step 0 (no motion to copy yet) and near 100% afterwards: with history the
previous frames show which way the expert was going, and even without it the hand's
displacement from the fixed home pose does (the expert moves in straight lines); in closed
loop it then copies its own first wrong step. Step 0 is therefore the honest measure of
"finds the target in the image"; ``--step0-actions`` also prints how often each sign
pattern was chosen there, which exposes a policy that answers with the dataset's prior.
``--goal-head`` (RT-1 checkpoints trained with ``model.goal_head=true``) also compares the
goal head's step-0 offset with the recorded one (:mod:`vla.policies.rt1.goals`). Prints markdown.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from vla.data.episode_store import EpisodeStore  # noqa: E402
from vla.policies import load_policy  # noqa: E402
from vla.policies.rt1.goals import GOAL_SCALE, goal_offsets  # noqa: E402

DECISIVE = 0.5  # |expert action| above this (normalised units) counts as a direction


def step_hits(policy, episode: dict, instruction: str, steps: int, wipe: bool) -> list:
    """Per step: (correct signs, decisive dims, policy x/y signs, expert x/y signs)."""
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
        signs = (sign_pattern(action), sign_pattern(expert))
        out.append((int(correct.sum()), int(decisive.sum()), *signs))
    return out


def sign_pattern(action: np.ndarray) -> str:
    """ "+-" style signs of the x and y translation ("0" below 0.1 of the max step)."""
    return "".join("0" if abs(v) < 0.1 else "+-"[int(v < 0)] for v in action[:2])


def probe(policy, store: EpisodeStore, skill: str, episodes: int, steps: int) -> dict:
    """{pass name: per-step sign accuracy} over the first ``episodes`` of ``skill``."""
    records = [r for r in store.episodes() if r.get("skill") == skill][:episodes]
    if not records:
        raise SystemExit(f"no {skill!r} episodes in {store.path}: record some with vla-record")
    result = {"episodes": len(records), "step0": []}
    for name, wipe in (("history", False), ("no history", True)):
        hits = np.zeros((steps, 2))
        for r in records:
            episode = store.load_episode(r["episode_id"])
            rows = step_hits(policy, episode, r["instruction"], steps, wipe)
            for t, (ok, n, *_) in enumerate(rows):
                hits[t] += (ok, n)
            if not wipe:
                result["step0"].append(tuple(rows[0][2:]))
        result[name] = hits[:, 0] / np.maximum(hits[:, 1], 1)
    return result


def goal_probe(policy, store: EpisodeStore, skill: str, episodes: int) -> np.ndarray:
    """Rows x, y, z of (correlation, RMSE dm, spread dm): the goal head at step 0 against the
    recorded offset, over the first ``episodes`` of ``skill`` that have a goal."""
    config, predicted, true = policy.config, [], []
    for r in [r for r in store.episodes() if r.get("skill") == skill][:episodes]:
        episode = store.load_episode(r["episode_id"])
        offsets, valid = goal_offsets(episode["state"], episode["action"])
        if not valid[0]:
            continue
        frame = np.stack([episode[c][0] for c in ("front", "wrist")])
        images = torch.from_numpy(frame).permute(0, 3, 1, 2)
        images = images[None, None].expand(1, config.history, *images.shape)
        state = torch.from_numpy(episode["state"][0])[None, None].expand(1, config.history, -1)
        text = policy.encoder.encode([r["instruction"]])
        with torch.inference_mode():
            _, goal = policy.model(
                images, text, state if config.state_dim else None, return_goal=True
            )
        predicted.append(goal[0].numpy())
        true.append(offsets[0] * GOAL_SCALE)
    p, t = np.array(predicted), np.array(true)
    corr = [np.corrcoef(p[:, i], t[:, i])[0, 1] for i in range(3)]
    return np.stack([corr, np.sqrt(((p - t) ** 2).mean(0)), t.std(0)], axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policy", default="rt1", help="registry name or checkpoint folder")
    parser.add_argument("--data", required=True, help="vla-record dataset (held-out seeds)")
    parser.add_argument("--skill", default="pick")
    parser.add_argument("--episodes", type=int, default=60)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--step0-actions", action="store_true", help="x/y sign counts at step 0")
    parser.add_argument("--goal-head", action="store_true", help="goal head vs truth at step 0")
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
    if args.step0_actions:
        for who, column in (("policy", 0), ("expert", 1)):
            counts = Counter(row[column] for row in result["step0"])
            print(f"step 0, x/y translation signs, {who}: {dict(counts.most_common())}")
    if args.goal_head:
        if not getattr(policy.config, "goal_head", False):
            raise SystemExit(f"{args.policy} has no goal head (train with model.goal_head=true)")
        rows = goal_probe(policy, store, args.skill, args.episodes)
        print("\n| goal offset at step 0 | correlation | RMSE (dm) | spread (dm) |")
        print("|---|---|---|---|")
        for axis, (corr, rmse, spread) in zip("xyz", rows, strict=True):
            print(f"| {axis} | {corr:.2f} | {rmse:.2f} | {spread:.2f} |")


if __name__ == "__main__":
    main()
