"""Server and client on loopback: metadata, healthz, API key, hostile messages, stale
responses, reconnect after a restart, inference off the event loop, prefetching queue."""

import json
import time
import urllib.request

import msgpack
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from vla.policies import load_policy
from vla.serve import ActionQueue, PolicyServer, RemotePolicy, RemotePolicyError, pack, unpack


def test_metadata_inference_timing_and_healthz(serve, echo, make_obs):
    server, port = serve(echo())
    policy = load_policy(f"ws://127.0.0.1:{port}", timeout_s=2.0)
    assert isinstance(policy, RemotePolicy)
    meta = policy.connect()
    assert meta["policy"] == "echo" and meta["protocol"] == 1 and meta["action_dim"] == 11
    action = policy.select_action(make_obs(0.25))
    assert action.shape == (11,) and action[0] == pytest.approx(0.25)
    assert policy.last_timing["server_ms"] >= policy.last_timing["infer_ms"] >= 0
    policy.reset()
    assert server.policy.resets == 1
    health = json.loads(
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
    )
    assert health["status"] == "ok" and health["requests"] == 2
    policy.close()


def test_api_key(serve, echo, make_obs):
    _, port = serve(echo(), api_key="s3cret")
    with pytest.raises(ValueError, match="HTTP 401"):
        RemotePolicy(f"ws://127.0.0.1:{port}", api_key="wrong").connect()
    good = RemotePolicy(f"ws://127.0.0.1:{port}", api_key="s3cret", timeout_s=2.0)
    assert good.select_action(make_obs(1.0))[0] == 1.0
    good.close()


def hostile_frames(rng, make_obs):
    good = make_obs()
    yield b"\xc1"
    yield "a text frame"
    yield msgpack.packb({"type": "infer"})
    yield pack({"type": "infer", "seq": -1, "observation": good})
    yield pack({"type": "fly", "seq": 1})
    yield pack({"type": "infer", "seq": 1, "observation": good, "chunk": 0})
    yield pack({"type": "infer", "seq": 1, "observation": {**good, "state": np.zeros(3)}})
    yield pack(
        {
            "type": "infer",
            "seq": 1,
            "observation": {**good, "images": {"front": good["images"]["front"]}},
        }
    )
    yield msgpack.packb(
        {
            "seq": 1,
            "type": "infer",
            "observation": {
                "images": {
                    "front": {"__ndarray__": True, "dtype": "<f8", "shape": [10**6], "data": b""}
                }
            },
        }
    )
    yield bytes(rng.integers(0, 256, 64, dtype=np.uint8))


def test_hostile_messages_get_errors_and_server_keeps_serving(serve, echo, make_obs):
    server, port = serve(echo(), max_message_bytes=1 << 20)
    rng = np.random.default_rng(0)
    with connect(f"ws://127.0.0.1:{port}", open_timeout=2) as ws:
        ws.recv(timeout=2)
        frames = list(hostile_frames(rng, make_obs))
        for frame in frames:
            ws.send(frame)
            reply = unpack(ws.recv(timeout=2))
            assert reply["type"] == "error" and reply["error"]
    with connect(f"ws://127.0.0.1:{port}", open_timeout=2) as ws:  # over the size limit
        ws.recv(timeout=2)
        ws.send(bytes(2 << 20))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=2)
        assert closed.value.rcvd.code == 1009  # message too big
    client = RemotePolicy(f"ws://127.0.0.1:{port}", timeout_s=2.0)
    assert client.select_action(make_obs(0.5))[0] == 0.5
    assert server.stats["errors"] == len(frames)
    client.close()


def test_server_side_errors_are_raised_by_the_client(serve, echo, make_obs):
    _, port = serve(echo())
    client = RemotePolicy(f"ws://127.0.0.1:{port}", timeout_s=2.0)
    bad = make_obs()
    bad["state"] = np.zeros(4, np.float32)
    with pytest.raises(RemotePolicyError, match="observation.state"):
        client.select_action(bad)
    client.close()


def test_a_request_given_up_on_is_superseded_not_answered(serve, echo, make_obs):
    server, port = serve(echo(delay_s=0.15))
    client = RemotePolicy(f"ws://127.0.0.1:{port}", timeout_s=0.05)
    with pytest.raises(TimeoutError):
        client.select_action(make_obs(1.0))
    client.timeout_s = 2.0
    action = client.select_action(make_obs(2.0))
    assert action[0] == 2.0 and action[1] == 2  # the answer to request 2, not request 1
    assert server.stats["cancelled"] == 1 and client.dropped == 0  # request 1: no answer
    client.close()


def test_reconnects_after_the_server_restarts(echo, make_obs):
    first = PolicyServer(echo(), port=0)
    port = first.start_in_thread()
    client = RemotePolicy(f"ws://127.0.0.1:{port}", timeout_s=2.0, reconnect_s=5.0)
    try:
        assert client.select_action(make_obs(1.0))[0] == 1.0
        first.stop()
        second = PolicyServer(echo(), port=port)
        second.start_in_thread()
        assert client.select_action(make_obs(3.0))[0] == 3.0
        assert client.reconnects == 1
    finally:
        client.close()
        second.stop()


def test_slow_inference_does_not_block_health_or_other_clients(serve, echo, make_obs):
    policy = echo()
    policy.stall.set()
    _, port = serve(policy)
    stuck = RemotePolicy(f"ws://127.0.0.1:{port}", timeout_s=0.1)
    with pytest.raises(TimeoutError):
        stuck.select_action(make_obs())
    start = time.perf_counter()
    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
    other = RemotePolicy(f"ws://127.0.0.1:{port}", timeout_s=2.0)
    other.connect()
    with pytest.raises(RemotePolicyError):
        other.request({"type": "nope"})
    assert time.perf_counter() - start < 0.5
    policy.release.set()
    stuck.close()
    other.close()


def test_action_queue_prefetches(serve, echo, make_obs):
    _, port = serve(echo(delay_s=0.02))
    client = RemotePolicy(f"ws://127.0.0.1:{port}", timeout_s=2.0)
    queue = ActionQueue(client, chunk=1, low_water=1)
    got = [queue.next_action(make_obs(float(i)), timeout_s=1.0) for i in range(5)]
    assert all(a is not None for a in got)
    calls = [int(a[1]) for a in got]
    assert calls == sorted(calls) and len(set(calls)) == 5
    queue.close()
    client.close()
