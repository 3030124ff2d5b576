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


def latency_ms(policy, env: VLAEnv, n: int) -> tuple[float, float]:
    """Median and 90th percentile of ``select_action`` on real observations, ms."""
    obs, _ = env.reset(seed=TEST_SEED_START)
    obs = {**obs, "instruction": "pick up the red block"}
    policy.reset()
    for _ in range(10):  # warm-up (first calls allocate)
        policy.select_action(obs)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        policy.select_action(obs)
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


def train_rate(policy, batch_size: int, n: int) -> float:
    """Optimizer steps of the policy's model on random batches, samples/s (all cores)."""
    torch.set_num_threads(os.cpu_count() or 1)
    config = policy.config
    model = RT1(config).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    size = config.image_size
    shape = (batch_size, config.history, config.n_cameras, 3, size, size)
    images = torch.randint(0, 256, shape, dtype=torch.uint8)
    text = torch.randn(batch_size, config.text_dim)
    state = torch.randn(batch_size, config.history, config.state_dim)
    tokens = torch.randint(0, 3, (batch_size, config.n_action_dims))
    for i in range(n + 2):
        if i == 2:  # two warm-up steps
            start = time.perf_counter()
        loss = model.loss(model(images, text, state), tokens)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return n * batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default="rt1", help="registry name or checkpoint dir")
    parser.add_argument("--steps", type=int, default=300, help="timed calls / control steps")
    parser.add_argument("--batch-size", type=int, default=64, help="training batch")
    args = parser.parse_args()
    torch.set_num_threads(1)
    policy = load_policy(args.policy)
    env = VLAEnv("tabletop", tasks="single", image_size=policy.config.image_size)
    median, p90 = latency_ms(policy, env, args.steps)
    rate = closed_loop_rate(policy, env, args.steps)
    env.close()
    samples = train_rate(policy, args.batch_size, 20)
    print(f"\n| {args.policy}: {policy.config.image_size} px, {torch.__version__} | figure |")
    print("|---|---|")
    print(
        f"| select_action latency, batch 1, one core | median {median:.1f} ms, p90 {p90:.1f} ms |"
    )
    print(
        f"| closed loop (render both cameras + policy + physics), one core | {rate:.0f} steps/s |"
    )
    print(
        f"| training, model only, batch {args.batch_size}, {os.cpu_count()} cores "
        f"| {samples:.0f} samples/s |"
    )


if __name__ == "__main__":
    main()
