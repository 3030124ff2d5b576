"""vla-serve under siege: 1,000 hostile connections held at once while a robot client that
connected first keeps asking for actions at 20 Hz. Prints the server's peak memory, the
robot's latency and missed deadlines, and whether /healthz and a newcomer still get through.

python benchmarks/serve_siege.py --connections 1000 --seconds 20 --seed 0

The server runs in its own process (its memory is read from /proc); the attackers run in a
third one, at nice 10 (real attackers bring their own CPUs; here they share the server's).
Hostile kinds, held in equal turns and reopened a second after the server closes them: idle
TCP, slow HTTP handshakes (a byte every 0.5 s), idle websockets, half-sent 8 MiB frames, and
floods of full-size frames whose replies are never read. ``--no-robot`` leaves the policy
uncontrolled (the worst case for memory: guests may then send full-size frames).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import os
import subprocess
import sys
import time
import urllib.request

import numpy as np
from websockets.asyncio.client import connect

from vla.serve import RemotePolicy
from vla.serve.protocol import MAX_MESSAGE_BYTES

FLOOD = bytes(MAX_MESSAGE_BYTES - 64)
KINDS = ("idle_tcp", "slow_handshake", "idle_websocket", "half_frame", "flood")
SERVER = """
import sys, time, numpy as np
from vla.serve import PolicyServer
from vla.policies import load_policy
class Zero:
    policy_name, image_size = "zero", 64
    def reset(self): pass
    def select_action(self, observation): return np.zeros(11, np.float32)
policy = Zero() if sys.argv[1] == "zero" else load_policy(sys.argv[1])
server = PolicyServer(policy, port=0, api_key=sys.argv[2] or None)
print("PORT", server.start_in_thread(), flush=True)
time.sleep(3600)
"""


def rss_mib(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def hostile(kind: str, port: int, key: str | None, stop: asyncio.Event, counts: dict):
    """One hostile connection of ``kind``, reopened whenever it is closed, until ``stop``."""
    headers = {"x-api-key": key} if key else None
    while not stop.is_set():
        counts["opened"] += 1
        try:
            if kind in ("idle_tcp", "slow_handshake"):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                request = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                while not stop.is_set() and not reader.at_eof():
                    if kind == "slow_handshake" and request:
                        writer.write(request[:1])
                        request = request[1:]
                    await asyncio.sleep(0.5)
                writer.close()
            else:
                async with connect(
                    f"ws://127.0.0.1:{port}",
                    additional_headers=headers,
                    max_size=None,
                    open_timeout=5,
                    ping_interval=None,
                    compression=None,
                    max_queue=1,
                ) as ws:
                    if kind == "half_frame":  # announces 8 MiB, sends 64 KiB
                        size = (MAX_MESSAGE_BYTES).to_bytes(8, "big")
                        ws.transport.write(bytes([0x82, 0xFF]) + size + bytes(4 + 65536))
                    while not stop.is_set():
                        if kind == "flood":
                            await ws.send(FLOOD)
                        else:
                            await asyncio.sleep(0.5)
        except Exception:
            counts["refused_or_closed"] += 1
        await asyncio.sleep(1.0)


def siege(port: int, kinds: tuple, n: int, stop, counts) -> None:
    """The attackers (in their own process): ``n`` hostile connections until ``stop`` is set."""
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # writes to refused sockets
    os.nice(10)  # real attackers bring their own CPUs; here they share the server's cores
    tally = {"opened": 0, "refused_or_closed": 0}

    async def run() -> None:
        done = asyncio.Event()
        tasks = [
            asyncio.ensure_future(hostile(kinds[i % len(kinds)], port, None, done, tally))
            for i in range(n)
        ]
        while not stop.is_set():
            await asyncio.sleep(0.1)
        done.set()
        await asyncio.wait(tasks, timeout=10)

    asyncio.run(run())
    counts.update(tally)


def observation(rng: np.random.Generator) -> dict:
    image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    return {
        "images": {"front": image, "wrist": image.copy()},
        "state": np.zeros(10, np.float32),
        "instruction": "pick up the red block",
    }


def drive(robot: RemotePolicy, obs: dict, seconds: float, pid: int, port: int, key) -> dict:
    """The robot's 20 Hz requests for ``seconds``, with the server's memory and probes."""
    latencies, misses, peak, health, newcomer = [], 0, 0.0, [], []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        tick = time.perf_counter()
        try:
            if robot is not None:
                robot.select_action(obs)
            latencies.append((time.perf_counter() - tick) * 1000)
        except (TimeoutError, ConnectionError, RuntimeError):
            misses += 1
        peak = max(peak, rss_mib(pid))
        if (len(latencies) + misses) % 40 == 0:
            health.append(probe_health(port))
            newcomer.append(probe_newcomer(port, key))
        time.sleep(max(0.0, 0.05 - (time.perf_counter() - tick)))
    return {
        "latencies": np.array(latencies),
        "misses": misses,
        "peak": peak,
        "health": health,
        "newcomer": newcomer,
    }


def report(name: str, run: dict, baseline: float, deadline_ms: float) -> None:
    lat, misses = run["latencies"], run["misses"]
    ok = [h for h in run["health"] if h is not None]
    print(
        f"  {name}: server memory peak {run['peak']:.0f} MiB (+{run['peak'] - baseline:.0f}); "
        f"robot {len(lat) + misses} requests, missed the {deadline_ms:.0f} ms deadline "
        f"{misses}, latency median {np.median(lat):.1f} / p99 {np.percentile(lat, 99):.1f} / "
        f"max {lat.max():.1f} ms; /healthz {len(ok)}/{len(run['health'])} answered; a newcomer "
        f"got its metadata within 2 s {sum(x is not None for x in run['newcomer'])}/"
        f"{len(run['newcomer'])}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--policy", default="zero", help="zero (no inference cost) or a name")
    parser.add_argument("--api-key", default="", help="the server's key (attackers lack it)")
    parser.add_argument("--deadline-ms", type=float, default=50.0)
    parser.add_argument("--kinds", default=",".join(KINDS), help="hostile kinds to use")
    parser.add_argument("--no-robot", action="store_true", help="nobody controls the policy")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    kinds = tuple(args.kinds.split(","))
    rng = np.random.default_rng(args.seed)
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, args.policy, args.api_key],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    line = server.stdout.readline()
    while not line.startswith("PORT"):
        line = server.stdout.readline()
    port, key = int(line.split()[1]), args.api_key or None
    robot = RemotePolicy(f"ws://127.0.0.1:{port}", timeout_s=5.0, api_key=key)
    obs = observation(rng)
    robot.reset()
    for _ in range(20):
        robot.select_action(obs)
    robot.timeout_s = args.deadline_ms / 1000
    if args.no_robot:
        robot.close()
        robot = None
    baseline = rss_mib(server.pid)
    quiet = drive(robot, obs, args.seconds, server.pid, port, key)
    stop, result = multiprocessing.Event(), multiprocessing.Manager().dict()
    attacker = multiprocessing.Process(
        target=siege, args=(port, kinds, args.connections, stop, result)
    )
    attacker.start()
    time.sleep(3.0)  # let the siege build up
    loud = drive(robot, obs, args.seconds, server.pid, port, key)
    stop.set()
    attacker.join()
    if robot is not None:
        robot.close()
    server.kill()
    print(
        f"siege: {args.connections} hostile connections ({', '.join(kinds)}) against "
        f"policy={args.policy}, api_key={'set' if key else 'none'}; server memory before "
        f"{baseline:.0f} MiB; {args.seconds:.0f} s quiet, then {args.seconds:.0f} s under siege"
    )
    report("quiet", quiet, baseline, args.deadline_ms)
    report("siege", loud, baseline, args.deadline_ms)
    print(
        f"  hostile connections opened {result.get('opened', 0)}, of which refused or closed "
        f"by the server with an error on the attacker's side {result.get('refused_or_closed', 0)}"
    )


def probe_health(port: int) -> float | None:
    start = time.perf_counter()
    try:
        json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read())
    except Exception:
        return None
    return (time.perf_counter() - start) * 1000


def probe_newcomer(port: int, key: str | None) -> float | None:
    start = time.perf_counter()
    client = RemotePolicy(f"ws://127.0.0.1:{port}", api_key=key, connect_timeout_s=2.0)
    try:
        client.connect()
    except Exception:
        return None
    finally:
        client.close()
    return (time.perf_counter() - start) * 1000


if __name__ == "__main__":
    main()
