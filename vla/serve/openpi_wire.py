"""openpi's wire format (``vla-serve protocol=openpi``): msgpack with openpi's numpy encoding.

What openpi's ``openpi_client`` (``msgpack_numpy`` + ``WebsocketClientPolicy``) sends and
expects, re-implemented here (nothing of openpi is imported or copied):

- A numpy array is the map ``{b"__ndarray__": True, b"data": <bin: C-order bytes>,
  b"dtype": "<f4", b"shape": [n, ...]}``: **bytes** keys (msgpack bin), in that order; the
  dtype in numpy's ``dtype.str`` form. A numpy scalar is ``{b"__npgeneric__": True,
  b"data": <value>, b"dtype": "<f4"}``. Everything else is plain msgpack (``use_bin_type``).
- On connect the server sends one binary frame, the metadata map.
- Each request is one binary frame: the observation map itself (no envelope, no ``seq``).
- Each answer is one binary frame: ``{"actions": (H, 11) float32, "server_timing":
  {"infer_ms": float, "prev_total_ms": float}}`` (``prev_total_ms``, the previous request's
  receive-to-sent time, from the second answer on), or, on error, one **text** frame.

Observation keys are our contract's: ``images/front`` and ``images/wrist`` (or a nested
``images`` map with ``front`` and ``wrist``), ``state`` (10 floats), and ``instruction`` or
its alias ``prompt`` (openpi's name). ``reset: true`` resets the policy's episode memory
before this inference (openpi's client has no reset message). Other keys are ignored.

Decoding is stricter than openpi's own: numeric dtypes only, header and sizes checked,
arrays copied out of the frame, so hostile bytes end in a one-line :class:`ProtocolError`.
"""

from __future__ import annotations

from typing import Any

import msgpack
import numpy as np

from vla.serve.protocol import (
    ALLOWED_KINDS,
    IMAGE_NAMES,
    MAX_MESSAGE_BYTES,
    ProtocolError,
    brief,
    unpack,
    validate_observation,
)

NDARRAY, NPGENERIC = b"__ndarray__", b"__npgeneric__"
MAX_DTYPE_CHARS = 16  # "<f4", "|u1": a long dtype string is a structured type, never ours


def _encode(obj: Any) -> Any:
    if isinstance(obj, np.ndarray | np.generic) and obj.dtype.kind not in ALLOWED_KINDS:
        raise TypeError(f"cannot send arrays of dtype {obj.dtype}")
    if isinstance(obj, np.ndarray):
        array = np.ascontiguousarray(obj)
        return {NDARRAY: True, b"data": array.tobytes(), b"dtype": array.dtype.str,
                b"shape": list(array.shape)}  # fmt: skip
    if isinstance(obj, np.generic):
        return {NPGENERIC: True, b"data": obj.item(), b"dtype": obj.dtype.str}
    raise TypeError(f"cannot send {type(obj).__name__}")


def pack_openpi(message: dict[str, Any]) -> bytes:
    """Encode one message as openpi's ``msgpack_numpy.packb`` does."""
    return msgpack.packb(message, default=_encode, use_bin_type=True)


def _dtype(value: Any) -> np.dtype:
    if not isinstance(value, str) or len(value) > MAX_DTYPE_CHARS:
        raise ProtocolError(f"array dtype {brief(value)} is not a numpy dtype string")
    try:
        dtype = np.dtype(value)
    except (TypeError, ValueError):
        raise ProtocolError(f"array dtype {brief(value)} is not a numpy dtype string") from None
    if dtype.kind not in ALLOWED_KINDS or dtype.hasobject:
        raise ProtocolError(f"array dtype {brief(value)} not allowed (numeric only)")
    return dtype


def _decode(obj: dict) -> Any:
    if NDARRAY in obj:
        dtype, shape, data = _dtype(obj.get(b"dtype")), obj.get(b"shape"), obj.get(b"data")
        if not isinstance(shape, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
        ):
            raise ProtocolError(f"array shape {brief(shape)} must be a list of sizes >= 0")
        if not isinstance(data, bytes):
            raise ProtocolError("array data must be msgpack bin (bytes)")
        need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if need != len(data):
            raise ProtocolError(
                f"array of shape {shape} {dtype} needs {need} bytes, got {len(data)}"
            )
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    if NPGENERIC in obj:
        value = obj.get(b"data")
        if not isinstance(value, int | float | bool) or isinstance(value, complex):
            raise ProtocolError(f"numpy scalar data {brief(value)} must be a number")
        return _dtype(obj.get(b"dtype")).type(value)
    return obj


def unpack_openpi(data: bytes | str, max_bytes: int = MAX_MESSAGE_BYTES) -> dict[str, Any]:
    """Decode one request frame; ProtocolError (one line) for anything but a valid map."""
    return unpack(data, max_bytes, object_hook=_decode, sender=" (openpi_client's packer)")


def contract_observation(message: dict[str, Any], max_image_side: int) -> tuple[dict, bool]:
    """(the observation of our contract, whether to reset first) from an openpi request."""
    images = message.get("images")
    flat = {name: message[f"images/{name}"] for name in IMAGE_NAMES if f"images/{name}" in message}
    if images is not None and flat:
        raise ProtocolError("send the images either as images/<camera> keys or as one map")
    if images is None:
        images = flat
    if "instruction" in message and "prompt" in message:
        raise ProtocolError("send the instruction as 'instruction' or 'prompt', not both")
    instruction = message.get("instruction", message.get("prompt"))
    reset = message.get("reset", False)
    if not isinstance(reset, bool):
        raise ProtocolError(f"'reset' must be true or false, got {brief(reset)}")
    observation = {"images": images, "state": message.get("state"), "instruction": instruction}
    return validate_observation(observation, max_image_side), reset
