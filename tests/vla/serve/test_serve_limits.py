"""What one client can take from vla-serve: image sides, connections, time, the policy's
history, the inference thread, reply sizes, counters, and the log."""

import json
import logging
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from vla.serve import PolicyServer, RemotePolicy, RemotePolicyError, pack, unpack
from vla.serve.auth import API_KEY_ENV, resolve_api_key, security_warnings
from vla.serve.guard import RateLimitedLog
from vla.serve.launch import ServeConfig, build_server


class HistoryPolicy:
    """Remembers every state[0] it saw this episode: action[0] = how many, action[1] = sum."""

    policy_name = "history"
    image_size = 64

    def __init__(self):
        self.history, self.resets = [], 0

    def reset(self):
        self.history.clear()
        self.resets += 1

    def select_action(self, observation):
        self.history.append(float(observation["state"][0]))
        action = np.zeros(11, np.float32)
        action[0], action[1] = len(self.history), sum(self.history)
        return action


def open_ws(port, **kwargs):
    ws = connect(f"ws://127.0.0.1:{port}", open_timeout=2, max_size=None, **kwargs)
    ws = ws.__enter__()
    assert unpack(ws.recv(timeout=2))["type"] == "metadata"
    return ws


def test_image_sides_are_bounded_by_the_announced_camera_size(serve, make_obs):
    policy = HistoryPolicy()
    _, port = serve(policy)
    client = RemotePolicy(f"ws://127.0.0.1:{port}", timeout_s=5.0)
    assert client.connect()["max_image_side"] == 16 * 64
    sliver = make_obs()
    sliver["images"]["front"] = np.zeros((1_390_000, 1, 3), np.uint8)  # 4 MB, fits the frame
    with pytest.raises(RemotePolicyError, match=r"1390000x1 pixels.*up to 1024 \(max_image_side"):
        client.select_action(sliver)
    assert policy.history == []  # refused before the policy (and its resize) saw it
    camera = make_obs()
    camera["images"]["front"] = np.zeros((480, 640, 3), np.uint8)
    assert client.select_action(camera)[0] == 1
    client.close()


def test_error_replies_never_echo_a_large_request(serve, echo, make_obs):
    _, port = serve(echo())
    ws = open_ws(port)
    for message in (
        {"type": "infer", "seq": "x" * 4_000_000},
        {"type": "y" * 4_000_000, "seq": 1},
        {"type": "infer", "seq": 2, "chunk": [b"\xff" * 4_000_000]},
    ):
        ws.send(pack(message))
        reply = ws.recv(timeout=5)
        assert len(reply) < 1000 and unpack(reply)["type"] == "error"
    ws.close()


def test_a_second_client_can_neither_drive_nor_reset_the_first(serve, make_obs):
    policy = HistoryPolicy()
    _, port = serve(policy)
    url = f"ws://127.0.0.1:{port}"
    first, second = RemotePolicy(url, timeout_s=2.0), RemotePolicy(url, timeout_s=2.0)
    first.reset()
    assert first.select_action(make_obs(1.0))[0] == 1
    assert first.select_action(make_obs(2.0))[0] == 2
    with pytest.raises(RemotePolicyError, match="another connection controls this policy"):
        second.select_action(make_obs(100.0))
    with pytest.raises(RemotePolicyError, match="another connection controls this policy"):
        second.reset()
    action = first.select_action(make_obs(3.0))
    assert action[0] == 3 and action[1] == 6.0  # the second client changed nothing
    assert policy.resets == 1
    first.close()  # control is released with the connection
    deadline = time.monotonic() + 3
    while True:
        try:
            second.reset()
            break
        except RemotePolicyError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert second.select_action(make_obs(5.0))[0] == 1
    second.close()


def test_superseded_and_abandoned_requests_never_run(serve, echo, make_obs):
    policy = echo()
    policy.stall.set()  # the first call blocks the inference thread until released
    server, port = serve(policy)
    ws = open_ws(port)
    ws.send(pack({"type": "infer", "seq": 1, "observation": make_obs(1.0)}))
    time.sleep(0.2)  # request 1 is running
    ws.send(pack({"type": "infer", "seq": 2, "observation": make_obs(2.0)}))  # supersedes it
    time.sleep(0.2)  # request 2 waits for the inference thread
    ws.close()  # the client is gone: request 2 is abandoned
    time.sleep(0.2)
    policy.stall.clear()
    policy.release.set()
    time.sleep(0.3)
    assert policy.calls == 1 and server.stats["cancelled"] == 2


def test_connection_cap_refuses_cleanly_and_makes_room_from_idle_connections(serve, echo, make_obs):
    server, port = serve(echo(), max_connections=2)
    robot = RemotePolicy(f"ws://127.0.0.1:{port}", timeout_s=2.0)
    robot.select_action(make_obs())  # connected and in control
    idle = open_ws(port)
    with pytest.raises(InvalidStatus) as refused:
        open_ws(port)
    assert refused.value.response.status_code == 503
    assert b"server busy" in refused.value.response.body
    time.sleep(1.2)  # now the idle non-controller may make room; the controller never does
    newcomer = open_ws(port)
    with pytest.raises(ConnectionClosed):
        idle.recv(timeout=2)
    assert robot.select_action(make_obs(0.5))[0] == 0.5
    assert server.stats["refused"] == 1 and server.stats["evicted"] == 1
    newcomer.close()
    robot.close()


def test_half_open_handshakes_make_room_for_a_real_client(serve, echo, make_obs):
    server, port = serve(echo(), max_connections=2)
    squatters = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]  # 2 x 2
    time.sleep(0.2)
    client = RemotePolicy(f"ws://127.0.0.1:{port}", timeout_s=2.0)
    assert client.select_action(make_obs(0.25))[0] == 0.25
    assert server.stats["evicted"] >= 1
    client.close()
    for sock in squatters:
        sock.close()


def test_read_and_idle_timeouts_close_slow_and_silent_connections(serve, echo):
    server, port = serve(echo(), read_timeout_s=0.3, idle_timeout_s=0.6)
    slowloris = socket.create_connection(("127.0.0.1", port))
    slowloris.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the rest
    slowloris.settimeout(3)
    assert slowloris.recv(100) == b""  # closed by the server
    half_frame = open_ws(port)
    # A masked binary frame announcing 1000 bytes, of which 10 ever arrive.
    half_frame.socket.sendall(bytes([0x82, 0xFE, 0x03, 0xE8, 1, 2, 3, 4]) + bytes(10))
    start = time.monotonic()
    with pytest.raises(ConnectionClosed):
        half_frame.recv(timeout=3)
    assert time.monotonic() - start < 2.5
    silent = open_ws(port)
    with pytest.raises(ConnectionClosed):
        silent.recv(timeout=3)
    assert server.stats["timeouts"] >= 2
    slowloris.close()


def test_healthz_shows_counters_only_with_the_key(serve, echo):
    _, port = serve(echo(), api_key="s3cret")
    url = f"http://127.0.0.1:{port}/healthz"
    anonymous = json.loads(urllib.request.urlopen(url, timeout=2).read())
    assert anonymous == {"status": "ok"}
    request = urllib.request.Request(url, headers={"x-api-key": "s3cret"})
    keyed = json.loads(urllib.request.urlopen(request, timeout=2).read())
    assert keyed["status"] == "ok" and "requests" in keyed and keyed["policy"] == "echo"


def test_api_key_from_environment_or_file(serve, echo, make_obs, monkeypatch, tmp_path):
    monkeypatch.setenv(API_KEY_ENV, "from-env")
    assert resolve_api_key() == "from-env" and resolve_api_key("explicit") == "explicit"
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    assert resolve_api_key(None, str(key_file)) == "from-file"
    key_file.write_text("  \n")
    with pytest.raises(ValueError, match="is empty"):
        resolve_api_key(None, str(key_file))
    with pytest.raises(ValueError, match="cannot read api_key_file"):
        resolve_api_key(None, str(tmp_path / "missing"))
    _, port = serve(echo(), api_key=resolve_api_key())
    client = RemotePolicy(f"ws://127.0.0.1:{port}", timeout_s=2.0)  # the key from the env
    assert client.select_action(make_obs(1.0))[0] == 1.0
    client.close()
    monkeypatch.delenv(API_KEY_ENV)
    with pytest.raises(ValueError, match="HTTP 401"):
        RemotePolicy(f"ws://127.0.0.1:{port}").connect()


def test_vla_serve_options_reach_the_server(tmp_path, monkeypatch):
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    monkeypatch.setenv(API_KEY_ENV, "from-env")  # the file comes first
    options = dict(max_connections=3, read_timeout_s=2.0, idle_timeout_s=5.0)
    server = build_server(ServeConfig(api_key_file=str(key_file), **options))
    guard = server.guard
    assert server.api_key == "from-file"
    assert (guard.max_connections, guard.read_timeout_s, guard.idle_timeout_s) == (3, 2.0, 5.0)


def test_serving_beyond_loopback_without_a_key_warns(echo, caplog):
    assert security_warnings("127.0.0.1", None) == [] and security_warnings("::1", None) == []
    assert security_warnings("0.0.0.0", "key") == []
    assert "without an API key" in security_warnings("192.168.1.10", None)[0]
    server = PolicyServer(echo(), host="0.0.0.0", port=0)
    with caplog.at_level(logging.WARNING, logger="vla.serve.server"):
        server.start_in_thread()
    server.stop()
    assert any("without an API key" in r.message for r in caplog.records)


def test_rate_limited_log_lets_a_burst_through_then_counts(caplog):
    limited = RateLimitedLog(burst=3, interval_s=60.0)
    with caplog.at_level(logging.WARNING, logger="vla.serve"):
        logged = [limited.warning("accept", f"accept failed {i}") for i in range(1000)]
    assert sum(logged) == 3 and len(caplog.records) == 3


CHILD = textwrap.dedent(
    """
    import resource, sys, time
    import numpy as np
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    import logging; logging.basicConfig(level=logging.WARNING)
    from vla.serve import PolicyServer
    class Zero:
        def reset(self): pass
        def select_action(self, observation): return np.zeros(11, np.float32)
    server = PolicyServer(Zero(), port=0, max_connections=1000)  # no cap: hit the fd limit
    print("PORT", server.start_in_thread(), flush=True)
    time.sleep(30)
    """
)


def test_accept_errors_at_the_file_descriptor_limit_are_logged_at_a_bounded_rate(tmp_path):
    """The unpatched server logged ~5,000 traceback lines a second here."""
    log_path = tmp_path / "stderr.txt"
    with open(log_path, "w") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )
    try:
        line = child.stdout.readline()
        while not line.startswith("PORT"):
            assert line, "the child server did not start"
            line = child.stdout.readline()
        port = int(line.split()[1])
        sockets = []
        for _ in range(150):
            try:
                sockets.append(socket.create_connection(("127.0.0.1", port), timeout=2))
            except OSError:
                pass
        time.sleep(3.0)
    finally:
        child.kill()
        child.wait()
    lines = [x for x in log_path.read_text().splitlines() if "pybullet build time" not in x]
    assert any("out of system resource" in x for x in lines)
    assert len(lines) <= 12 and "Traceback" not in "\n".join(lines)


def test_a_small_siege_leaves_the_robot_served_and_the_server_bounded(serve, make_obs):
    """benchmarks/serve_siege.py in small: 100 hostile connections held for a few seconds."""
    import asyncio
    import threading

    from websockets.asyncio.client import connect as aconnect

    server, port = serve(HistoryPolicy(), max_connections=4, read_timeout_s=1.0)
    robot = RemotePolicy(f"ws://127.0.0.1:{port}", timeout_s=2.0)
    robot.reset()  # in control before the siege
    stop, seen = threading.Event(), {"open": 0, "closed_1009": 0}

    async def hostile(kind: int) -> None:
        while not stop.is_set():
            try:
                if kind < 2:  # idle TCP, or a handshake that never ends
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.write(b"GET / HTTP/1.1\r\n" if kind else b"")
                    await asyncio.wait_for(reader.read(), 5)
                    writer.close()
                else:  # an idle websocket, or one flooding 1 MiB frames
                    async with aconnect(f"ws://127.0.0.1:{port}", open_timeout=5) as ws:
                        while not stop.is_set():
                            if kind == 3:
                                await ws.send(bytes(1 << 20))
                            await asyncio.sleep(0.05)
            except ConnectionClosed as err:
                seen["closed_1009"] += err.rcvd is not None and err.rcvd.code == 1009
            except Exception:
                pass
            await asyncio.sleep(0.2)

    async def siege() -> None:
        tasks = [asyncio.ensure_future(hostile(i % 4)) for i in range(100)]
        while not stop.is_set():
            seen["open"] = max(seen["open"], len(server.guard.open))
            await asyncio.sleep(0.01)
        await asyncio.wait(tasks, timeout=10)

    attacker = threading.Thread(target=asyncio.run, args=(siege(),))
    attacker.start()
    try:
        time.sleep(1.0)
        actions = [robot.select_action(make_obs(1.0)) for _ in range(40)]  # none may time out
    finally:
        stop.set()
        attacker.join(15)
    assert [a[0] for a in actions] == list(range(1, 41))  # every request, in order, answered
    assert seen["open"] <= 2 * 4  # sessions plus handshakes, never more
    assert seen["closed_1009"] > 0  # guests' full-size frames refused from their header
    assert server.stats["refused"] + server.stats["evicted"] > 0
    robot.close()
