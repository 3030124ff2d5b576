"""RT-2 speed and constrained-decoding figures.

    python benchmarks/rt2_benchmark.py                                  # small config, untrained
    python benchmarks/rt2_benchmark.py --policy /work/runs/rt2/checkpoints/best

Latency: ``select_action`` at batch 1 on real simulator observations (one torch thread on
CPU), and the decode rate of the 11 action tokens (tokens/s = 11 / latency). Constrained
decoding: ``--steps`` action steps (11 tokens each) generated in batches on simulator-like
inputs (random camera images, instructions of the task suites), counting tokens that are not
valid at their position; the same count without the logits processor shows what it prevents.
Where CUDA is available the latency is measured there too. ``--vqa-data data/demos`` adds
the exact-match rate on co-training questions about held-out episodes. Prints a markdown
table.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from sim import TEST_SEED_START  # noqa: E402
from sim.env import VLAEnv  # noqa: E402
from vla.data.episode_store import EpisodeStore  # noqa: E402
from vla.data.torch_dataset import split_episodes  # noqa: E402
from vla.policies import RT2Policy, load_policy  # noqa: E402
from vla.policies.rt2.model import RT2, RT2Config  # noqa: E402
from vla.policies.rt2.scene_vqa import scene_vqa_pairs  # noqa: E402
from vla.policies.rt2.text import corpus_texts  # noqa: E402
from vla.tokenizer import N_ACTION_DIMS  # noqa: E402


def latency_ms(policy: RT2Policy, n: int) -> tuple[float, float]:
    """Median and 90th percentile of ``select_action`` on a real observation, ms."""
    env = VLAEnv("tabletop", image_size=policy.image_size)
    try:
        obs, _ = env.reset(seed=TEST_SEED_START)
    finally:
        env.close()
    obs = {**obs, "instruction": "pick up the red block"}
    for _ in range(5):  # warm-up
        policy.select_action(obs)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        policy.select_action(obs)
        times.append(1000 * (time.perf_counter() - start))
    return float(np.median(times)), float(np.percentile(times, 90))


def random_inputs(
    model: RT2, batch: int, rng: np.random.Generator
) -> tuple[torch.Tensor, list[str]]:
    """Random uint8 camera images and instructions drawn from the suites."""
    size = model.config.image_size
    images = torch.from_numpy(rng.integers(0, 256, (batch, 2, 3, size, size), dtype=np.uint8))
    texts = [t for t in corpus_texts() if "{" not in t]
    return images, [texts[i] for i in rng.integers(0, len(texts), batch)]


def invalid_tokens(model: RT2, steps: int, batch: int) -> tuple[int, int]:
    """(invalid tokens, tokens) over ``steps`` constrained action steps."""
    rng, invalid, done = np.random.default_rng(0), 0, 0
    while done < steps:
        images, texts = random_inputs(model, min(batch, steps - done), rng)
        ids = model.generate_action_ids(images, texts)
        invalid += model.vocab.invalid_count(ids)
        done += ids.shape[0]
    return invalid, done * N_ACTION_DIMS


@torch.no_grad()
def unconstrained_invalid(model: RT2, steps: int) -> tuple[int, int]:
    """The same count for plain greedy decoding (no logits processor)."""
    images, texts = random_inputs(model, steps, np.random.default_rng(1))
    batch = model.batch([model.prompt_ids(t) for t in texts], [[] for _ in texts])
    ids = model.greedy_decode(batch, images, None, N_ACTION_DIMS)
    return model.vocab.invalid_count(ids), ids.numel()


def vqa_exact_match(model: RT2, data: str, n: int) -> float:
    """Exact-match rate of ``model.answer`` on ``n`` scene questions of held-out (val)
    episodes of ``data`` (the split ``vla-train`` uses with val_fraction 0.1, seed 0)."""
    store = EpisodeStore.open(data)
    _, val_ids = split_episodes(store, 0.1, 0, split="train", group_field="seed")
    pairs = scene_vqa_pairs(store, val_ids)
    correct = 0
    for i in np.random.default_rng(0).choice(len(pairs), n, replace=False):
        pair = pairs[i]
        episode = store.load_episode(pair.episode_id)
        frames = [
            torch.from_numpy(episode[c][pair.step]).permute(2, 0, 1) for c in ("front", "wrist")
        ]
        correct += model.answer(torch.stack(frames)[None], pair.question) == pair.answer
    return correct / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default=None, help="rt2 checkpoint; default: small, untrained")
    parser.add_argument("--steps", type=int, default=10_000, help="constrained action steps")
    parser.add_argument("--latency-steps", type=int, default=100)
    parser.add_argument("--vqa-data", default=None, help="EpisodeStore for the VQA check")
    parser.add_argument("--vqa-questions", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    policy = load_policy(args.policy) if args.policy else RT2Policy(RT2Config())
    model = policy.model
    name = args.policy or "rt2 small config (untrained)"
    rows = [f"| policy | {name} ({model.num_params():,} parameters) |", "|---|---|"]
    median, p90 = latency_ms(policy, args.latency_steps)
    rows.append(
        f"| CPU latency / action step, batch 1, 1 thread | {median:.1f} ms (p90 {p90:.1f}) |"
    )
    rows.append(f"| CPU action tokens/s, batch 1 | {1000 * N_ACTION_DIMS / median:.0f} |")
    if torch.cuda.is_available():
        gpu = RT2Policy(norm_stats=policy.norm_stats, device="cuda", model=model)
        median, p90 = latency_ms(gpu, args.latency_steps)
        rows.append(f"| GPU latency / action step, batch 1 | {median:.1f} ms (p90 {p90:.1f}) |")
        rows.append(f"| GPU action tokens/s, batch 1 | {1000 * N_ACTION_DIMS / median:.0f} |")
        model = policy.model.to("cpu")
    start = time.perf_counter()
    invalid, total = invalid_tokens(model, args.steps, batch=100)
    seconds = time.perf_counter() - start
    rows.append(
        f"| constrained decoding: invalid tokens | {invalid} of {total:,} "
        f"({args.steps:,} action steps, batch 100, {total / seconds:.0f} tokens/s) |"
    )
    bad, n = unconstrained_invalid(model, 200)
    rows.append(f"| without the logits processor | {bad} of {n:,} invalid (200 action steps) |")
    if args.vqa_data:
        rate = vqa_exact_match(model, args.vqa_data, args.vqa_questions)
        rows.append(
            f"| scene VQA exact match, {args.vqa_questions} held-out questions | {rate:.0%} |"
        )
    print("\n".join(rows))
    if invalid:
        raise SystemExit(f"{invalid} invalid tokens under constrained decoding")


if __name__ == "__main__":
    main()
