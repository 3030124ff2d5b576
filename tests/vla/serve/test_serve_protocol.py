"""Wire format: explicit ndarray maps, no pickle, one-line errors for bad input."""

import msgpack
import numpy as np
import pytest

from vla.serve.protocol import ProtocolError, pack, unpack, validate_observation


def test_arrays_round_trip_as_explicit_maps(make_obs):
    obs = make_obs(0.5, size=8)
    data = pack({"type": "infer", "seq": 3, "observation": obs, "x": np.float32(2.5)})
    raw = msgpack.unpackb(data, raw=False)
    front = raw["observation"]["images"]["front"]
    assert front == {
        "__ndarray__": True,
        "dtype": "|u1",
        "shape": [8, 8, 3],
        "data": bytes(8 * 8 * 3),
    }
    back = unpack(data)
    assert np.array_equal(back["observation"]["state"], obs["state"]) and back["x"] == 2.5
    assert back["observation"]["state"].flags.writeable


@pytest.mark.parametrize(
    "payload, match",
    [
        (b"\xc1\xff\x00", "not valid msgpack"),
        ("text", "binary msgpack"),
        (msgpack.packb([1, 2]), "must be a map"),
        (
            msgpack.packb({"a": {"__ndarray__": True, "dtype": "|O", "shape": [1], "data": b"x"}}),
            "not allowed",
        ),
        (
            msgpack.packb({"a": {"__ndarray__": True, "dtype": "<f4", "shape": [3], "data": b"x"}}),
            "needs 12 bytes",
        ),
        (msgpack.packb({"a": {"__ndarray__": True, "dtype": "<f4"}}), "bad array header"),
        (b"\x92" * 10 + bytes(100), "msgpack"),
    ],
)
def test_bad_payloads_are_protocol_errors(payload, match):
    with pytest.raises(ProtocolError, match=match):
        unpack(payload)


def test_size_limit_and_unpicklable_types(make_obs):
    with pytest.raises(ProtocolError, match="exceeds"):
        unpack(bytes(101), max_bytes=100)
    with pytest.raises(TypeError):
        pack({"obj": object()})
    with pytest.raises(TypeError):
        pack({"a": np.array([object()])})


def test_observation_validation(make_obs):
    good = make_obs()
    assert validate_observation(good)["state"].dtype == np.float32
    bad_image = {
        **good,
        "images": {"front": np.zeros((4, 4), np.uint8), "wrist": good["images"]["wrist"]},
    }
    with pytest.raises(ProtocolError, match="images.front"):
        validate_observation(bad_image)
    with pytest.raises(ProtocolError, match="state"):
        validate_observation({**good, "state": np.full(10, np.nan, np.float32)})
    with pytest.raises(ProtocolError, match="instruction"):
        validate_observation({**good, "instruction": 5})
