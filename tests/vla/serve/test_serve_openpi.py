"""vla-serve protocol=openpi, driven by a client that follows openpi_client's encoding byte for
byte (``openpi_client`` 0.1: ``msgpack_numpy`` and ``WebsocketClientPolicy``, re-written
here from its source; the package itself pins numpy 1.26 and is not installed next to us)."""

import msgpack
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from sim.env import VLAEnv
from sim.rollout import run_policy
from vla.policies import load_policy
from vla.serve.launch import PROTOCOLS, ServeConfig
from vla.serve.openpi_server import OpenPIPolicyServer
from vla.serve.openpi_wire import pack_openpi, unpack_openpi


# -- the client side of openpi's wire format, as openpi_client writes it ------------------
def _client_pack_array(obj):
    if isinstance(obj, np.ndarray):
        return {b"__ndarray__": True, b"data": obj.tobytes(), b"dtype": obj.dtype.str,
                b"shape": obj.shape}  # fmt: skip
    if isinstance(obj, np.generic):
        return {b"__npgeneric__": True, b"data": obj.item(), b"dtype": obj.dtype.str}
    return obj


def _client_unpack_array(obj):
    if b"__ndarray__" in obj:
        return np.ndarray(buffer=obj[b"data"], dtype=np.dtype(obj[b"dtype"]), shape=obj[b"shape"])
    if b"__npgeneric__" in obj:
        return np.dtype(obj[b"dtype"]).type(obj[b"data"])
    return obj


def client_packb(obj) -> bytes:
    return msgpack.Packer(default=_client_pack_array).pack(obj)


def client_unpackb(data: bytes):
    return msgpack.unpackb(data, object_hook=_client_unpack_array)


class OpenPIWireClient:
    """``WebsocketClientPolicy``'s behaviour: connect (API key as ``Authorization: Api-Key``),
    read the metadata frame, then ``infer(obs)``: one binary frame out, one frame back; a
    text frame is the server's error."""

    def __init__(self, port: int, api_key: str | None = None) -> None:
        headers = {"Authorization": f"Api-Key {api_key}"} if api_key else None
        self.ws = connect(
            f"ws://127.0.0.1:{port}", compression=None, max_size=None, additional_headers=headers
        ).__enter__()  # the context-manager form this websockets version wants
        self.metadata = client_unpackb(self.ws.recv(timeout=5))

    def infer(self, obs: dict) -> dict:
        self.ws.send(client_packb(obs))
        response = self.ws.recv(timeout=10)
        if isinstance(response, str):
            raise RuntimeError(f"Error in inference server:\n{response}")
        return client_unpackb(response)

    def close(self) -> None:
        self.ws.close()


def openpi_obs(obs: dict, **extra) -> dict:
    """Our contract's observation under openpi-style flat keys."""
    return {
        "images/front": obs["images"]["front"],
        "images/wrist": obs["images"]["wrist"],
        "state": obs["state"],
        "prompt": obs["instruction"],
        **extra,
    }


@pytest.fixture
def serve_openpi():
    servers = []

    def start(policy, **kwargs):
        server = OpenPIPolicyServer(policy, port=0, **kwargs)
        servers.append(server)
        return server, server.start_in_thread()

    yield start
    for server in servers:
        server.stop()


# -- the encoding, pinned to the bytes -------------------------------------------------------
ONE_BYTE_ARRAY = (  # np.array([7], np.uint8) as openpi's msgpack_numpy.packb writes it
    b"\x84\xc4\x0b__ndarray__\xc3\xc4\x04data\xc4\x01\x07\xc4\x05dtype\xa3|u1\xc4\x05shape\x91\x01"
)


def test_encoding_is_openpis_byte_for_byte():
    array = np.array([7], np.uint8)
    assert client_packb(array) == ONE_BYTE_ARRAY
    assert pack_openpi(array) == ONE_BYTE_ARRAY
    message = {"actions": np.arange(22, dtype=np.float32).reshape(2, 11), "x": np.float32(2.5)}
    assert pack_openpi(message) == client_packb(message)
    decoded = unpack_openpi(client_packb(message))
    np.testing.assert_array_equal(decoded["actions"], message["actions"])
    assert decoded["x"] == np.float32(2.5) and decoded["x"].dtype == np.float32


@pytest.mark.parametrize(
    ("header", "match"),
    [
        ({b"dtype": "O", b"shape": [1], b"data": b"\x00" * 8}, "numeric only"),
        ({b"dtype": "(100000,)f4", b"shape": [1], b"data": b""}, "numeric only"),
        ({b"dtype": "(100000,100000)f4", b"shape": [1], b"data": b""}, "not a numpy dtype"),
        ({b"dtype": "<f4", b"shape": [2], b"data": b"\x00" * 4}, "needs 8 bytes, got 4"),
        ({b"dtype": "<f4", b"shape": [-1], b"data": b""}, "sizes >= 0"),
        ({b"dtype": "<f4", b"shape": [1], b"data": "text"}, "msgpack bin"),
    ],
)
def test_hostile_array_headers_are_one_line_errors(header, match):
    frame = msgpack.packb({"state": {b"__ndarray__": True, **header}}, use_bin_type=True)
    with pytest.raises(ValueError, match=match):
        unpack_openpi(frame)


# -- the server ---------------------------------------------------------------------------
def test_openpi_client_gets_metadata_actions_and_timing(serve_openpi, echo, make_obs):
    policy = echo()
    _, port = serve_openpi(policy)
    client = OpenPIWireClient(port)
    assert client.metadata["protocol"] == "openpi" and client.metadata["action_horizon"] == 1
    first = client.infer(openpi_obs(make_obs(3.0)))
    assert first["actions"].shape == (1, 11) and first["actions"].dtype == np.float32
    assert first["actions"][0, 0] == 3.0 and set(first["server_timing"]) == {"infer_ms"}
    nested = make_obs(4.0)  # the nested images map and "instruction" work too
    second = client.infer({**nested, "images": nested["images"]})
    assert second["actions"][0, 0] == 4.0 and second["server_timing"]["prev_total_ms"] > 0
    assert policy.resets == 1  # taking control started an episode
    client.infer(openpi_obs(make_obs(), reset=True))
    assert policy.resets == 2
    client.close()


def test_errors_are_text_frames_and_the_connection_keeps_serving(serve_openpi, echo, make_obs):
    server, port = serve_openpi(echo())
    client = OpenPIWireClient(port)
    big = make_obs(size=server.max_image_side + 1)
    bad = [
        {"images/front": make_obs()["images"]["front"], "state": make_obs()["state"]},
        openpi_obs(make_obs(), state=np.zeros(3, np.float32)),
        {**openpi_obs(make_obs()), "instruction": "both"},
        openpi_obs(big),
    ]
    for obs in bad:
        with pytest.raises(RuntimeError, match="Error in inference server:\nvla-serve: "):
            client.infer(obs)
    client.ws.send(b"\xc1 not msgpack")
    assert "not valid msgpack" in client.ws.recv(timeout=5)
    assert client.infer(openpi_obs(make_obs(1.5)))["actions"][0, 0] == 1.5
    assert server.stats["errors"] == 5 and server.stats["requests"] == 1
    client.close()


def test_api_key_from_the_authorization_header(serve_openpi, echo, make_obs):
    _, port = serve_openpi(echo(), api_key="sesame")
    with pytest.raises(InvalidStatus, match="401"):
        OpenPIWireClient(port)
    with pytest.raises(InvalidStatus, match="401"):
        OpenPIWireClient(port, api_key="wrong")
    client = OpenPIWireClient(port, api_key="sesame")
    assert client.infer(openpi_obs(make_obs(2.0)))["actions"][0, 0] == 2.0
    client.close()


def test_limits_and_one_controller_hold_in_openpi_mode(serve_openpi, echo, make_obs):
    server, port = serve_openpi(echo(), max_message_bytes=64 * 1024)
    driver = OpenPIWireClient(port)
    driver.infer(openpi_obs(make_obs()))
    other = OpenPIWireClient(port)
    with pytest.raises(RuntimeError, match="another connection controls this policy"):
        other.infer(openpi_obs(make_obs()))
    other.close()
    driver.ws.send(client_packb(openpi_obs(make_obs(size=128))))  # 98 KiB > 64 KiB
    with pytest.raises(ConnectionClosed) as closed:
        driver.ws.recv(timeout=5)
    assert closed.value.rcvd.code == 1009


class ChunkPolicy:
    policy_name = "chunk"

    def reset(self):
        pass

    def select_action(self, observation):
        return self.select_action_chunk(observation, 1)[0]

    def select_action_chunk(self, observation, n):
        actions = np.zeros((n, 11), np.float32)
        actions[:, 0] = np.arange(n)
        return actions


def test_chunk_sets_the_action_horizon(serve_openpi, echo, make_obs):
    _, port = serve_openpi(ChunkPolicy(), chunk=4)
    client = OpenPIWireClient(port)
    assert client.metadata["action_horizon"] == 4
    actions = client.infer(openpi_obs(make_obs()))["actions"]
    assert actions.shape == (4, 11) and list(actions[:, 0]) == [0, 1, 2, 3]
    client.close()
    with pytest.raises(ValueError, match="one action per step"):
        OpenPIPolicyServer(echo(), chunk=4)


def test_protocol_option_picks_the_registered_server():
    assert PROTOCOLS.names() == ["native", "openpi"]
    with pytest.raises(ValueError, match="unknown serve protocol 'grpc'"):
        ServeConfig(protocol="grpc")
    with pytest.raises(ValueError, match="chunk= is for protocol=openpi"):
        ServeConfig(chunk=4)


class OpenPIRemote:
    """The policy API over the openpi client, to run a sim episode through the server."""

    def __init__(self, client: OpenPIWireClient) -> None:
        self.client, self.reset_next = client, False

    def reset(self):
        self.reset_next = True

    def select_action(self, obs):
        answer = self.client.infer(openpi_obs(obs, reset=self.reset_next))
        self.reset_next = False
        return answer["actions"][0]


def episode(policy, env, seed=1_000_000, steps=30):
    """(actions, final state, success) of a seeded RT-1 episode run with ``policy``."""
    obs, _ = env.reset(seed=seed, options={"task_index": 0})
    actions = []
    _, last = run_policy(
        env, policy, env.task_description, obs, steps, on_step=lambda o, a: actions.append(a.copy())
    )
    return np.array(actions), last["state"], env.is_success()


def test_loopback_episode_gives_the_local_policys_actions(serve_openpi, one_thread):
    rt1 = load_policy("rt1")
    env = VLAEnv("tabletop", tasks="single")
    try:
        local = episode(rt1, env)
        _, port = serve_openpi(rt1)
        client = OpenPIWireClient(port)
        remote = episode(OpenPIRemote(client), env)
        client.close()
    finally:
        env.close()
    assert len(local[0]) == len(remote[0]) > 0
    np.testing.assert_array_equal(local[0], remote[0])
    np.testing.assert_array_equal(local[1], remote[1])
    assert local[2] == remote[2]
