"""RT-2 speed and constrained-decoding figures.

    python benchmarks/rt2_benchmark.py                       # small config, untrained
    python benchmarks/rt2_benchmark.py --policy outputs/rt2/checkpoints/best --steps 10000

Latency: ``select_action`` at batch 1 on a real simulator observation (one torch thread on
CPU), for autoregressive decoding (11 cached steps) and parallel decoding (one pass over 11
slots; only for a model trained with ``decoding=parallel``), with float32 and bfloat16
weights; tokens/s = 11 / latency. Constrained decoding: ``--steps`` action steps (11 tokens
each) generated in batches of 100 on random camera images and suite instructions, per VLM
family (the tiny random models of ``vla.policies.rt2.tiny``, and the policy's own model), in
both decoding modes, counting tokens that are not valid at their position; the same count
without the logits processor shows what it prevents. Where CUDA is available the latency and
throughput (batch 64) are measured there too. ``--success-episodes N`` runs the first N
episodes of the ``single`` suite on test seeds (as ``vla-eval tasks=single``) once per
decoding mode with the same checkpoint. ``--val-data data/demos`` adds, per decoding mode,
the share of action tokens decoded exactly as recorded on frames of the held-out episodes
(the split vla-train validates on), and the exact-match rate on co-training questions about
them. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import os
import tempfile
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
from vla.policies.rt2.tiny import TINY_FAMILIES, write_backbone  # noqa: E402
from vla.tokenizer import N_ACTION_DIMS  # noqa: E402


def decodings(model: RT2) -> list[str]:
    return (
        ["autoregressive", "parallel"]
        if model.config.decoding == "parallel"
        else ["autoregressive"]
    )


def latency_ms(policy: RT2Policy, n: int) -> tuple[float, float, float]:
    """Median and 90th percentile of ``select_action`` on a real observation, and the median
    CPU time of the calling thread (what the wall time is on an idle core: on a shared
    machine the wall time also counts the time other processes held the core), ms."""
    env = VLAEnv("tabletop", image_size=policy.image_size)
    try:
        obs, _ = env.reset(seed=TEST_SEED_START)
    finally:
        env.close()
    obs = {**obs, "instruction": "pick up the red block"}
    for _ in range(5):  # warm-up
        policy.select_action(obs)
    wall, cpu = [], []
    for _ in range(n):
        start, start_cpu = time.perf_counter(), time.thread_time()
        policy.select_action(obs)
        wall.append(1000 * (time.perf_counter() - start))
        cpu.append(1000 * (time.thread_time() - start_cpu))
    return float(np.median(wall)), float(np.percentile(wall, 90)), float(np.median(cpu))


def random_inputs(
    size: int, batch: int, rng: np.random.Generator
) -> tuple[torch.Tensor, list[str]]:
    """Random uint8 camera images (batch, 2, 3, size, size) and instructions of the suites."""
    images = torch.from_numpy(rng.integers(0, 256, (batch, 2, 3, size, size), dtype=np.uint8))
    texts = [t for t in corpus_texts() if "{" not in t]
    return images, [texts[i] for i in rng.integers(0, len(texts), batch)]


def invalid_tokens(
    model: RT2, steps: int, decoding: str, batch: int = 100
) -> tuple[int, int, float]:
    """(invalid tokens, tokens, seconds) over ``steps`` constrained action steps."""
    rng, invalid, done = np.random.default_rng(0), 0, 0
    start = time.perf_counter()
    while done < steps:
        images, texts = random_inputs(model.config.image_size, min(batch, steps - done), rng)
        ids = model.generate_action_ids(images, texts, decoding)
        invalid += model.vocab.invalid_count(ids)
        done += ids.shape[0]
    return invalid, done * N_ACTION_DIMS, time.perf_counter() - start


@torch.no_grad()
def unconstrained_invalid(model: RT2, steps: int) -> tuple[int, int]:
    """The same count for plain greedy autoregressive decoding (no logits processor)."""
    images, texts = random_inputs(model.config.image_size, steps, np.random.default_rng(1))
    seq, vision = model.sequences(images, [model.prompt_text(t) for t in texts], [[]] * steps)
    ids = model.greedy_decode(seq, vision, None, N_ACTION_DIMS)
    return model.vocab.invalid_count(ids), ids.numel()


def latency_rows(policy: RT2Policy, n: int, where: str) -> list[str]:
    rows = []
    for dtype in ("float32", "bfloat16"):
        policy.model.to(getattr(torch, dtype))
        for decoding in decodings(policy.model):
            policy.decoding = decoding
            median, p90, cpu = latency_ms(policy, n)
            rows.append(
                f"| {where} latency / action, batch 1, {decoding}, {dtype} | {median:.1f} ms "
                f"(p90 {p90:.1f}; CPU time {cpu:.1f}); "
                f"{1000 * N_ACTION_DIMS / median:.0f} action tokens/s |"
            )
    policy.model.to(torch.float32)
    return rows


@torch.no_grad()
def gpu_throughput(model: RT2, batch: int = 64, repeats: int = 10) -> list[str]:
    """Actions/s at ``batch`` on CUDA, per decoding, bfloat16 weights."""
    model.to("cuda", torch.bfloat16)
    rows = []
    for decoding in decodings(model):
        images, texts = random_inputs(model.config.image_size, batch, np.random.default_rng(2))
        model.generate_action_ids(images, texts, decoding)  # warm-up
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(repeats):
            model.generate_action_ids(images, texts, decoding)
        torch.cuda.synchronize()
        rate = batch * repeats / (time.perf_counter() - start)
        rows.append(
            f"| GPU throughput, batch {batch}, {decoding}, bfloat16 | {rate:.0f} actions/s |"
        )
    model.to("cpu", torch.float32)
    return rows


def family_rows(policy_model: RT2, steps: int) -> list[str]:
    """Invalid-token counts per family (tiny random models) and for the policy's model."""
    rows = [
        "",
        "| family | decoding | invalid tokens | action steps | tokens/s |",
        "|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        models = {"policy": policy_model}
        for family in TINY_FAMILIES:
            folder = write_backbone(family, os.path.join(tmp, family))
            config = RT2Config(backbone=str(folder), image_size=32, decoding="parallel")
            models[family] = RT2.build(config).eval()
        for name, model in models.items():
            for decoding in decodings(model):
                invalid, total, seconds = invalid_tokens(model, steps, decoding)
                rows.append(
                    f"| {name} ({model.family.name}) | {decoding} | {invalid} of {total:,} | "
                    f"{total // N_ACTION_DIMS:,} | {total / seconds:.0f} |"
                )
    return rows


def success_rows(policy: RT2Policy, n: int) -> list[str]:
    """Closed-loop success on ``n`` ``single``-suite episodes (test seeds) per decoding."""
    from vla.evaluation.episode import run_episode
    from vla.evaluation.runner import make_jobs, resolve_tasks

    rows, envs = [], {}
    jobs = make_jobs(resolve_tasks("single"), n, TEST_SEED_START, 0)
    try:
        for decoding in decodings(policy.model):
            policy.decoding = decoding
            wins = 0
            for job in jobs:
                scene = job.task.scene
                if scene not in envs:
                    envs[scene] = VLAEnv(scene, image_size=policy.image_size)
                wins += run_episode(envs[scene], policy, job.task, job.seed).success
            rows.append(
                f"| sim success, single suite, {n} test episodes, {decoding} | {wins}/{n} |"
            )
    finally:
        for env in envs.values():
            env.close()
    return rows


def held_out(data: str) -> tuple[EpisodeStore, list[int]]:
    """The dataset and the episodes ``vla-train`` validates on (val_fraction 0.1, seed 0)."""
    store = EpisodeStore.open(data)
    return store, split_episodes(store, 0.1, 0, split="train", group_field="seed")[1]


@torch.no_grad()
def token_accuracy_rows(policy: RT2Policy, data: str, n: int) -> list[str]:
    """Per decoding: share of the 11 action tokens (and of the mode token) decoded exactly as
    recorded, over ``n`` frames of the held-out episodes (batches of 32)."""
    store, episodes = held_out(data)
    frames, instructions, actions = [], [], []
    for episode_id in episodes:
        episode = store.load_episode(episode_id)
        instruction = store.record(episode_id)["instruction"]
        for step in range(len(episode["action"])):
            pair = [torch.from_numpy(episode[c][step]).permute(2, 0, 1) for c in ("front", "wrist")]
            frames.append(torch.stack(pair))
            instructions.append(instruction)
            actions.append(episode["action"][step])
    keep = np.random.default_rng(0).permutation(len(frames))[:n]
    targets = torch.from_numpy(policy.tokenizer.encode(np.stack([actions[i] for i in keep])))
    rows = []
    for decoding in decodings(policy.model):
        ids = torch.cat(
            [
                policy.model.generate_action_ids(
                    torch.stack([frames[i] for i in chunk]),
                    [instructions[i] for i in chunk],
                    decoding,
                )
                for chunk in np.array_split(keep, max(1, len(keep) // 32))
            ]
        )
        correct = policy.model.vocab.from_ids(ids) == targets
        rows.append(
            f"| held-out action tokens decoded exactly, {len(keep)} frames, {decoding} | "
            f"{correct.float().mean():.1%} (mode token {correct[:, -1].float().mean():.1%}) |"
        )
    return rows


def vqa_exact_match(model: RT2, data: str, n: int) -> tuple[float, int]:
    """Exact-match rate of ``model.answer`` on (up to) ``n`` scene questions of held-out
    episodes, and how many were asked."""
    store, val_ids = held_out(data)
    pairs = scene_vqa_pairs(store, val_ids)
    correct, n = 0, min(n, len(pairs))
    for i in np.random.default_rng(0).choice(len(pairs), n, replace=False):
        pair = pairs[i]
        episode = store.load_episode(pair.episode_id)
        frames = [
            torch.from_numpy(episode[c][pair.step]).permute(2, 0, 1) for c in ("front", "wrist")
        ]
        correct += model.answer(torch.stack(frames)[None], pair.question) == pair.answer
    return correct / n, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default=None, help="rt2 checkpoint; default: small, untrained")
    parser.add_argument("--steps", type=int, default=10_000, help="constrained action steps")
    parser.add_argument("--latency-steps", type=int, default=100)
    parser.add_argument("--success-episodes", type=int, default=0, help="sim episodes per mode")
    parser.add_argument("--val-data", default=None, help="EpisodeStore the policy trained on")
    parser.add_argument("--val-frames", type=int, default=500)
    parser.add_argument("--vqa-questions", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    policy = (
        load_policy(args.policy)
        if args.policy
        else RT2Policy(RT2Config(decoding="parallel"))  # explicitly untrained
    )
    model = policy.model
    name = args.policy or "rt2 small config (untrained)"
    emit([f"| policy | {name} ({model.num_params():,} parameters) |", "|---|---|"])
    emit(latency_rows(policy, args.latency_steps, "CPU (1 thread)"))
    if torch.cuda.is_available():
        gpu = RT2Policy(norm_stats=policy.norm_stats, device="cuda", model=model)
        emit([f"| GPU | {torch.cuda.get_device_name()} |"])
        emit(latency_rows(gpu, args.latency_steps, "GPU"))
        emit(gpu_throughput(model))
        model.to("cpu")
    if args.success_episodes:
        emit(success_rows(policy, args.success_episodes))
    bad, n = unconstrained_invalid(model, 200)
    emit([f"| without the logits processor | {bad} of {n:,} invalid (200 action steps) |"])
    if args.val_data:
        emit(token_accuracy_rows(policy, args.val_data, args.val_frames))
        rate, asked = vqa_exact_match(model, args.val_data, args.vqa_questions)
        emit([f"| scene VQA exact match, {asked} held-out questions | {rate:.0%} |"])
    if args.steps:
        families = family_rows(model, args.steps)
        emit(families)
        if any(" 0 of " not in row for row in families[3:]):
            raise SystemExit("invalid tokens under constrained decoding")


def emit(rows: list[str]) -> None:
    """Print table rows as soon as they are measured."""
    print("\n".join(rows), flush=True)


if __name__ == "__main__":
    main()
