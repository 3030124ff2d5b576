"""The remote-policy wire format: msgpack maps over websocket binary frames, never pickle.

A numpy array travels as the map ``{"__ndarray__": true, "dtype": "<f4", "shape": [n, ...],
"data": <bin: C-order bytes>}`` (dtype in numpy's ``dtype.str`` form, numeric kinds
only). Messages (docs/serve.md has the full schema):

- server -> client on connect: ``{"type": "metadata", "protocol": 1, ...}``
- client -> server: ``{"type": "infer", "seq": int, "observation": {...}, "chunk": int}``
  or ``{"type": "reset", "seq": int}``
- server -> client: ``{"type": "action", "seq", "actions": (n, 11) float32, "timing"}``,
  ``{"type": "reset", "seq", "timing"}``, or ``{"type": "error", "seq", "error": str}``
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable
from typing import Any

import msgpack
import numpy as np

from sim.contract import ACTION_DIM, CAMERA_NAMES, STATE_DIM  # noqa: F401  (ACTION_DIM: server)

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 8 * 1024 * 1024  # a 2-camera 512x512 observation is 1.5 MiB
MAX_INSTRUCTION_CHARS = 512
MAX_CHUNK = 64
MAX_ERROR_CHARS = 300  # an error reply never echoes a large request back
# Camera images may be at most this many times the side the policy sees (it resizes them),
# or MAX_IMAGE_SIDE when the policy announces no size; the server announces its limit as
# ``max_image_side`` and refuses larger sides before any resize.
IMAGE_SIDE_FACTOR = 16
MAX_IMAGE_SIDE = 1024
ALLOWED_KINDS = "biuf"  # bool, signed/unsigned int, float: no objects, no strings, no voids
IMAGE_NAMES = CAMERA_NAMES


class ProtocolError(ValueError):
    """A message that does not follow the schema; its text is sent back to the client."""


_brief = reprlib.Repr()
_brief.maxstring = _brief.maxother = 60


def brief(value: Any) -> str:
    """A short repr of client data for an error message."""
    return _brief.repr(value)


def image_side_limit(image_size: int | None) -> int:
    """The largest image side a server takes for a policy that sees ``image_size`` pixels."""
    return MAX_IMAGE_SIDE if not image_size else max(int(image_size) * IMAGE_SIDE_FACTOR, 64)


def _encode(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in ALLOWED_KINDS:
            raise TypeError(f"cannot send arrays of dtype {obj.dtype}")
        array = np.ascontiguousarray(obj)
        return {
            "__ndarray__": True,
            "dtype": array.dtype.str,
            "shape": list(array.shape),
            "data": array.tobytes(),
        }
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot send {type(obj).__name__}")


def _decode(obj: dict) -> Any:
    if obj.get("__ndarray__") is not True:
        return obj
    try:
        dtype = np.dtype(obj["dtype"])
        shape = tuple(int(n) for n in obj["shape"])
        data = obj["data"]
    except (KeyError, TypeError, ValueError) as err:
        raise ProtocolError(f"bad array header: {err}") from None
    if dtype.kind not in ALLOWED_KINDS or dtype.hasobject:
        raise ProtocolError(f"array dtype {brief(obj['dtype'])} not allowed (numeric only)")
    if not isinstance(data, bytes) or any(n < 0 for n in shape):
        raise ProtocolError("array data must be bytes and its shape non-negative")
    if int(np.prod(shape, dtype=np.int64)) * dtype.itemsize != len(data):
        raise ProtocolError(
            f"array of shape {list(shape)} {dtype} needs "
            f"{int(np.prod(shape)) * dtype.itemsize} bytes, got {len(data)}"
        )
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def pack(message: dict[str, Any]) -> bytes:
    """Encode one message (numpy arrays and scalars included)."""
    return msgpack.packb(message, default=_encode, use_bin_type=True)


def unpack(
    data: bytes | str,
    max_bytes: int = MAX_MESSAGE_BYTES,
    object_hook: Callable[[dict], Any] | None = None,
    sender: str = "",
) -> dict[str, Any]:
    """Decode one message (arrays with ``object_hook``, default this protocol's encoding);
    ProtocolError (one line) for anything that is not a valid map. ``sender`` names the
    client's packer in the error for a text frame."""
    if not isinstance(data, bytes):
        raise ProtocolError(f"send binary msgpack frames{sender}, not text")
    if len(data) > max_bytes:
        raise ProtocolError(f"message of {len(data)} bytes exceeds the {max_bytes}-byte limit")
    if not data or not (0x80 <= data[0] <= 0x8F or data[0] in (0xDE, 0xDF)):  # fixmap, map16/32
        raise ProtocolError("not valid msgpack for a message: a message must be a map")
    hook = object_hook or _decode
    try:
        message = msgpack.unpackb(data, object_hook=hook, raw=False, strict_map_key=True)
    except ProtocolError:
        raise
    except Exception as err:  # msgpack raises several unrelated types for bad bytes
        raise ProtocolError(f"not valid msgpack: {type(err).__name__}: {err}"[:200]) from None
    if not isinstance(message, dict):
        raise ProtocolError(f"a message must be a map, got {type(message).__name__}")
    return message


def request_seq(message: dict[str, Any]) -> int:
    """The message's ``seq`` (a non-negative int)."""
    seq = message.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ProtocolError(f"'seq' must be a non-negative integer, got {brief(seq)}")
    return seq


def validate_observation(observation: Any, max_image_side: int = MAX_IMAGE_SIDE) -> dict[str, Any]:
    """Check an observation against the contract of ARCHITECTURE.md; returns it.

    Image sides above ``max_image_side`` are refused here, before any resize can cost the
    inference thread seconds and a gigabyte (a 1,390,000 x 1 image).
    """
    if not isinstance(observation, dict):
        raise ProtocolError("'observation' must be a map with images, state, instruction")
    images = observation.get("images")
    if not isinstance(images, dict) or set(images) != set(IMAGE_NAMES):
        raise ProtocolError(f"observation.images must map exactly {list(IMAGE_NAMES)} to arrays")
    for name in IMAGE_NAMES:
        image = images[name]
        if not (
            isinstance(image, np.ndarray)
            and image.dtype == np.uint8
            and image.ndim == 3
            and image.shape[2] == 3
            and min(image.shape[:2]) > 0
        ):
            raise ProtocolError(f"observation.images.{name} must be an (H, W, 3) uint8 array")
        if max(image.shape[:2]) > max_image_side:
            height, width = image.shape[:2]
            raise ProtocolError(
                f"observation.images.{name} is {height}x{width} pixels; this server takes "
                f"sides up to {max_image_side} (max_image_side in its metadata)"
            )
    state = observation.get("state")
    if not (
        isinstance(state, np.ndarray)
        and state.shape == (STATE_DIM,)
        and state.dtype.kind == "f"
        and np.all(np.isfinite(state))
    ):
        raise ProtocolError(f"observation.state must be ({STATE_DIM},) finite floats")
    instruction = observation.get("instruction")
    if not isinstance(instruction, str) or len(instruction) > MAX_INSTRUCTION_CHARS:
        raise ProtocolError(
            f"observation.instruction must be a string of at most "
            f"{MAX_INSTRUCTION_CHARS} characters"
        )
    return {"images": images, "state": state.astype(np.float32), "instruction": instruction}


def error_message(seq: int | None, error: str) -> dict[str, Any]:
    """An error response (``seq`` is None when the request had no readable seq); the text is
    cut to ``MAX_ERROR_CHARS`` characters."""
    if len(error) > MAX_ERROR_CHARS:
        error = error[: MAX_ERROR_CHARS - 3] + "..."
    return {"type": "error", "seq": seq, "error": error}
