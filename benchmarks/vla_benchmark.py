"""Policy speed figures: select_action latency, the closed control loop, training throughput.

    python benchmarks/vla_benchmark.py                       # the bundled RT-1
    python benchmarks/vla_benchmark.py --policy outputs/train/checkpoints/best

Latency and the closed loop run on one core (one torch thread), as a robot's small computer
would; training throughput uses every core. Prints a markdown table for the RT-1 model card.
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
from vla.policies import load_policy  # noqa: E402
from vla.policies.rt1.model import RT1  # noqa: E402
from vla.training.memory import keep_freed_memory  # noqa: E402
from vla.training.setup import make_optimizer  # noqa: E402


def latency_ms(call, policy, env: VLAEnv, n: int) -> tuple[float, float]:
    """Median and 90th percentile of ``call(observation)`` on real observations, ms."""
    obs, _ = env.reset(seed=TEST_SEED_START)
    obs = {**obs, "instruction": "pick up the red block"}
    policy.reset()
    for _ in range(10):  # warm-up (first calls allocate)
        call(obs)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call(obs)
        times.append(1000 * (time.perf_counter() - start))
    return float(np.median(times)), float(np.percentile(times, 90))


def closed_loop_rate(policy, env: VLAEnv, n: int) -> float:
    """Control steps/s of render (both cameras) + policy + physics, the policy in charge."""
    obs, _ = env.reset(seed=TEST_SEED_START + 1)
    policy.reset()
    start = time.perf_counter()
    for _ in range(n):
        action = policy.select_action({**obs, "instruction": "pick up the red block"})
        action[10] = min(action[10], 1)  # keep going through terminate tokens
        obs, *_ = env.step(action)
    return n / (time.perf_counter() - start)


def train_rate(policy, batch_size: int, n: int, precision: str) -> float:
    """Optimizer steps of the policy's model on random batches (the model step alone, no
    data loading), samples/s on all cores; ``precision`` fp32 or bf16 (autocast)."""
    torch.set_num_threads(os.cpu_count() or 1)
    model = RT1(policy.config).train()
    optimizer = make_optimizer(model, lr=1e-4, weight_decay=0.1)  # the one vla-train uses
    batch = synthetic_batch(policy.config, batch_size)
    for i in range(n + 2):
        if i == 2:  # two warm-up steps
            start = time.perf_counter()
        model_step(model, optimizer, batch, precision == "bf16")
    return n * batch_size / (time.perf_counter() - start)


def synthetic_batch(config, batch_size: int) -> tuple[torch.Tensor, ...]:
    """Random (images, text, state, tokens) of an RT-1 ``config``'s shapes."""
    size = config.image_size
    shape = (batch_size, config.history, config.n_cameras, 3, size, size)
    chunk = (config.chunk,) if config.chunk > 1 else ()
    return (
        torch.randint(0, 256, shape, dtype=torch.uint8),
        torch.randn(batch_size, config.text_dim),
        torch.randn(batch_size, config.history, config.state_dim),
        torch.randint(0, 3, (batch_size, *chunk, config.n_action_dims)),
    )


def model_step(model: RT1, optimizer, batch: tuple[torch.Tensor, ...], bf16: bool) -> None:
    """Forward, loss, backward and optimizer step of one batch: the model step alone."""
    images, text, state, tokens = batch
    goal_head = model.config.goal_head
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        out = model(images, text, state, return_goal=goal_head)
    logits = out[0] if goal_head else out
    loss = model.loss(logits.float(), tokens)
    if goal_head:
        loss = loss + out[1].float().pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default="rt1", help="registry name or checkpoint dir")
    parser.add_argument("--steps", type=int, default=300, help="timed calls / control steps")
    parser.add_argument("--batch-size", type=int, default=64, help="training batch")
    parser.add_argument("--eager", action="store_true", help="RT-1 inference untraced")
    parser.add_argument("--skip-training", action="store_true", help="latency figures only")
    args = parser.parse_args()
    torch.set_num_threads(1)
    policy = load_policy(args.policy)
    if args.eager:
        policy.traced = False
    env = VLAEnv("tabletop", tasks="single", image_size=policy.config.image_size)
    call = latency_ms(policy.predict_chunk, policy, env, args.steps)
    act = latency_ms(policy.select_action, policy, env, args.steps)
    rate = closed_loop_rate(policy, env, args.steps)
    env.close()
    keep_freed_memory()  # as vla-train does
    precisions = () if args.skip_training else ("fp32", "bf16")
    samples = {p: train_rate(policy, args.batch_size, 20, p) for p in precisions}
    k = policy.config.chunk
    how = "eager" if args.eager else "traced"
    print(
        f"\n| {args.policy} ({how}): {policy.config.image_size} px, {torch.__version__} | figure |"
    )
    print("|---|---|")
    print(
        f"| one forward pass (chunk of {k}), batch 1, one core "
        f"| median {call[0]:.1f} ms, p90 {call[1]:.1f} ms |"
    )
    print(
        f"| select_action ({policy.chunk_execution}), batch 1, one core "
        f"| median {act[0]:.1f} ms, p90 {act[1]:.1f} ms per action |"
    )
    print(
        f"| closed loop (render both cameras + policy + physics), one core | {rate:.0f} steps/s |"
    )
    for precision, value in samples.items():
        print(
            f"| training step alone ({precision}), batch {args.batch_size}, "
            f"{os.cpu_count()} cores | {value:.0f} samples/s |"
        )


if __name__ == "__main__":
    main()
