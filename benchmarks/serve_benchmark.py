"""Remote policy link on loopback: round trip, hostile messages, stalled server, restart.

python benchmarks/serve_benchmark.py --requests 2000 --hostile 1200 --seed 0
"""

from __future__ import annotations

import argparse
import logging
import threading
import time

import msgpack
import numpy as np
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from vla.robot import make_robot
from vla.robot.control_loop import ControlLoop, GuardedPolicy
from vla.serve import PolicyServer, RemotePolicy, pack, unpack


class ZeroPolicy:
    """No inference cost: the round trip alone is measured. Blocks while ``stall`` is set."""

    policy_name = "zero"

    def __init__(self) -> None:
        self.stall, self.release = threading.Event(), threading.Event()

    def reset(self) -> None:
        pass

    def select_action(self, observation: dict) -> np.ndarray:
        if self.stall.is_set():
            self.release.wait(10.0)
        return np.zeros(11, np.float32)


def observation(rng: np.random.Generator, size: int = 128) -> dict:
    image = lambda: rng.integers(0, 256, (size, size, 3), dtype=np.uint8)  # noqa: E731
    return {
        "images": {"front": image(), "wrist": image()},
        "state": rng.standard_normal(10).astype(np.float32),
        "instruction": "pick up the red block",
    }


def round_trip(url: str, rng: np.random.Generator, n: int) -> None:
    client = RemotePolicy(url, timeout_s=2.0)
    obs = observation(rng)
    for _ in range(50):  # warm-up
        client.select_action(obs)
    times, server = [], []
    for _ in range(n):
        start = time.perf_counter()
        client.select_action(obs)
        times.append((time.perf_counter() - start) * 1000)
        server.append(client.last_timing["infer_ms"])
    client.close()
    t = np.array(times)
    print(
        f"round trip, 2 x 128x128 RGB + state, {n} requests: median {np.median(t):.2f} ms, "
        f"p99 {np.percentile(t, 99):.2f} ms (policy call inside: median {np.median(server):.3f} ms)"
    )


def hostile(rng: np.random.Generator, good: dict, limit: int):
    """One hostile frame and whether websockets closes on it (over the size limit)."""
    kind = int(rng.integers(9))
    if kind == 0:
        return bytes(rng.integers(0, 256, int(rng.integers(1, 200)), dtype=np.uint8)), False
    if kind == 1:
        return "text frame", False
    if kind == 2:
        return pack(
            {
                "type": "infer",
                "seq": 1,
                "observation": {**good, "state": np.zeros(int(rng.integers(0, 9)), np.float32)},
            }
        ), False
    if kind == 3:
        bad = rng.integers(0, 256, (int(rng.integers(1, 9)), 5), dtype=np.uint8)
        return pack(
            {
                "type": "infer",
                "seq": 2,
                "observation": {**good, "images": {"front": bad, "wrist": bad}},
            }
        ), False
    if kind == 4:
        return pack({"type": rng.choice(["infer!", "exec", "pickle"]), "seq": 3}), False
    if kind == 5:
        return msgpack.packb(
            {
                "type": "infer",
                "seq": 4,
                "observation": {
                    "images": {
                        "front": {"__ndarray__": True, "dtype": "|O", "shape": [1], "data": b"x"}
                    }
                },
            }
        ), False
    if kind == 6:
        return pack({"type": "infer", "seq": "x", "observation": good}), False
    if kind == 7:
        return pack({"type": "infer", "seq": 5, "wrong_key": good}), False
    return bytes(limit + 1), True  # huge payload


def robustness(url: str, rng: np.random.Generator, n: int, limit: int) -> None:
    good = observation(rng, 16)
    answered = closed = 0
    ws = None
    for _ in range(n):
        if ws is None:
            ws = connect(url, open_timeout=5, max_size=limit).__enter__()
            ws.recv(timeout=5)
        frame, too_big = hostile(rng, good, limit)
        ws.send(frame)
        try:
            reply = unpack(ws.recv(timeout=5))
            answered += reply["type"] == "error"
        except ConnectionClosed as err:
            closed += too_big and err.rcvd is not None and err.rcvd.code == 1009
            ws = None
    client = RemotePolicy(url, timeout_s=2.0)
    ok = client.select_action(good).shape == (11,)
    client.close()
    print(
        f"robustness: {n} hostile messages: {answered} answered with an error, {closed} "
        f"over-size frames refused with close code 1009, unanswered {n - answered - closed}; "
        f"server still serving: {ok}"
    )


def stalled(url: str, policy: ZeroPolicy, trials: int) -> None:
    period = 0.05
    client = RemotePolicy(url, timeout_s=period)
    delays, decided = [], []
    with make_robot("pybullet", tasks="single", task_index=0, seed=1) as robot:
        loop = ControlLoop(robot, 1 / period)
        guarded = GuardedPolicy(client, robot, period)
        obs = loop.observe()
        for _ in range(trials):
            obs, *_ = loop.step(guarded.select_action(obs))
            policy.stall.set()
            start = time.perf_counter()  # the period's observation is taken; action is due
            action = guarded.select_action(obs)  # a hold once the period's deadline passes
            decided.append((time.perf_counter() - start) * 1000)
            robot.send_action(action)  # in sim: a physics step + render (~15-20 ms)
            delays.append((time.perf_counter() - start) * 1000)
            obs = loop.observe()
            policy.stall.clear()
            policy.release.set()
            time.sleep(0.01)
            policy.release.clear()
    client.close()
    d = np.array(delays)
    print(
        f"stalled server: {trials} stalls, robot held in {guarded.misses}; hold decided "
        f"{np.median(decided):.1f} ms (max {np.max(decided):.1f}) after the action was due, "
        f"hold applied (sim step done) {np.median(d):.1f} ms (max {d.max():.1f}); "
        f"control period {period * 1000:.0f} ms"
    )


def restart(policy: ZeroPolicy, port: int, rng: np.random.Generator, trials: int) -> None:
    server = PolicyServer(policy, port=port)
    server.start_in_thread()
    client = RemotePolicy(f"ws://127.0.0.1:{port}", timeout_s=2.0, reconnect_s=10.0)
    obs = observation(rng)
    client.select_action(obs)
    times = []
    for _ in range(trials):
        server.stop()
        server = PolicyServer(policy, port=port)
        server.start_in_thread()
        start = time.perf_counter()
        client.select_action(obs)
        times.append((time.perf_counter() - start) * 1000)
    server.stop()
    client.close()
    print(
        f"restart: server killed and restarted {trials} times; client reconnected "
        f"{client.reconnects} times, first request after a restart median "
        f"{np.median(times):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--hostile", type=int, default=1200)
    parser.add_argument("--stalls", type=int, default=20)
    parser.add_argument("--restarts", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    rng = np.random.default_rng(args.seed)
    policy = ZeroPolicy()
    limit = 1 << 20
    server = PolicyServer(policy, port=0, max_message_bytes=limit)
    port = server.start_in_thread()
    url = f"ws://127.0.0.1:{port}"
    round_trip(url, rng, args.requests)
    robustness(url, rng, args.hostile, limit)
    stalled(url, policy, args.stalls)
    server.stop()
    restart(ZeroPolicy(), port, rng, args.restarts)


if __name__ == "__main__":
    main()
