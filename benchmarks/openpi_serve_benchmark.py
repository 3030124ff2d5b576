"""Round trip of ``vla-serve protocol=openpi`` against the native protocol, over loopback.

Both cameras at 64x64 (the bundled RT-1's size) + state; the bundled RT-1 (inference
included) and a zero policy (the transport alone). The openpi side sends what
``openpi_client.WebsocketClientPolicy.infer`` sends (msgpack_numpy frames, no envelope).

OMP_NUM_THREADS=1 python benchmarks/openpi_serve_benchmark.py --requests 500 --seed 0
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import torch
from websockets.sync.client import connect

from vla.policies import load_policy
from vla.serve import PolicyServer, RemotePolicy
from vla.serve.openpi_server import OpenPIPolicyServer
from vla.serve.openpi_wire import pack_openpi, unpack_openpi


class ZeroPolicy:
    policy_name = "zero"
    image_size = 64

    def reset(self) -> None:
        pass

    def select_action(self, observation: dict) -> np.ndarray:
        return np.zeros(11, np.float32)


def observation(rng: np.random.Generator, size: int = 64) -> dict:
    image = lambda: rng.integers(0, 256, (size, size, 3), dtype=np.uint8)  # noqa: E731
    return {
        "images": {"front": image(), "wrist": image()},
        "state": rng.standard_normal(10).astype(np.float32),
        "instruction": "pick up the red block",
    }


def native_times(port: int, obs: dict, n: int) -> list[float]:
    client = RemotePolicy(f"ws://127.0.0.1:{port}", timeout_s=5.0)
    times = []
    for i in range(n + 20):  # 20 warm-up requests
        start = time.perf_counter()
        client.select_action(obs)
        if i >= 20:
            times.append((time.perf_counter() - start) * 1000)
    client.close()
    return times


def openpi_times(port: int, obs: dict, n: int) -> list[float]:
    request = {
        "images/front": obs["images"]["front"],
        "images/wrist": obs["images"]["wrist"],
        "state": obs["state"],
        "prompt": obs["instruction"],
    }
    times = []
    with connect(f"ws://127.0.0.1:{port}", compression=None, max_size=None) as ws:
        ws.recv(timeout=5)  # the metadata frame
        for i in range(n + 20):
            start = time.perf_counter()
            ws.send(pack_openpi(request))
            answer = ws.recv(timeout=5)
            assert not isinstance(answer, str), answer
            unpack_openpi(answer)["actions"]
            if i >= 20:
                times.append((time.perf_counter() - start) * 1000)
    return times


def measure(server_class: type, policy, run, obs: dict, n: int) -> list[float]:
    server = server_class(policy, port=0)
    port = server.start_in_thread()
    try:
        return run(port, obs, n)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(1)
    obs = observation(np.random.default_rng(args.seed))
    for name, policy in (("zero policy", ZeroPolicy()), ("bundled RT-1", load_policy("rt1"))):
        for protocol, server_class, run in (
            ("native", PolicyServer, native_times),
            ("openpi", OpenPIPolicyServer, openpi_times),
        ):
            t = np.array(measure(server_class, policy, run, obs, args.requests))
            p50, p99 = np.percentile(t, 50), np.percentile(t, 99)
            print(f"{name:13s} {protocol:7s} 2 x 64x64: median {p50:.2f} ms, p99 {p99:.2f} ms")


if __name__ == "__main__":
    main()
