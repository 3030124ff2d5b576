"""``RemotePolicy``: the Policy API over a ``vla-serve`` websocket.

Every request carries a fresh sequence number; a response to an older request (one that
timed out) is dropped, never used. A closed connection (server restart) is reopened and the
request sent again, for up to ``reconnect_s`` seconds.

    policy = RemotePolicy("ws://gpu-box:8765", timeout_s=0.2)
    action = policy.select_action(observation)
"""

from __future__ import annotations

import itertools
import os
import pathlib
import threading
import time
from typing import Any

import numpy as np
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from vla.policies.base import Policy
from vla.serve.auth import API_KEY_HEADER, resolve_api_key
from vla.serve.protocol import MAX_MESSAGE_BYTES, ProtocolError, pack, unpack


class RemotePolicyError(RuntimeError):
    """The server answered a request with an error."""


class RemotePolicy(Policy):
    """A policy served by ``vla-serve`` at ``url`` (``ws://host:port``).

    Args:
        url: the server.
        timeout_s: how long one request may take before ``TimeoutError``.
        api_key: sent as header ``x-api-key`` when the server wants one; default: the
            environment variable ``VLA_SERVE_API_KEY`` (keeps the key out of ``ps``).
        connect_timeout_s: how long one connection attempt may take.
        reconnect_s: how long to keep trying to reconnect after the connection drops.
    """

    policy_name = "remote"

    def __init__(
        self,
        url: str,
        timeout_s: float = 1.0,
        api_key: str | None = None,
        connect_timeout_s: float = 5.0,
        reconnect_s: float = 10.0,
    ) -> None:
        if not url.startswith(("ws://", "wss://")):
            raise ValueError(f"remote policy URL must start with ws:// or wss://, got {url!r}")
        self.url, self.timeout_s, self.api_key = url, timeout_s, resolve_api_key(api_key)
        self.connect_timeout_s, self.reconnect_s = connect_timeout_s, reconnect_s
        self.metadata: dict[str, Any] = {}
        self.last_timing: dict[str, float] = {}
        self.dropped = 0  # stale responses discarded
        self.reconnects = 0
        self._seq = itertools.count(1)
        self._ws: ClientConnection | None = None
        self._lock = threading.Lock()

    # -- connection ----------------------------------------------------------------------
    def connect(self) -> dict[str, Any]:
        """Open the websocket and read the server's metadata."""
        headers = {API_KEY_HEADER: self.api_key} if self.api_key else None
        try:
            ws = connect(
                self.url,
                open_timeout=self.connect_timeout_s,
                additional_headers=headers,
                max_size=MAX_MESSAGE_BYTES,
                compression=None,
                ping_interval=None,
            ).__enter__()  # websockets >= 16 returns a context manager; < 16 the connection
        except InvalidStatus as err:
            status = err.response.status_code
            if status == 401:
                raise ValueError(
                    f"{self.url} refused the connection (HTTP 401); check api_key"
                ) from None
            body = bytes(err.response.body or b"").decode("utf-8", "replace").strip()[:200]
            message = f"{self.url} refused the connection (HTTP {status}): {body}"
            raise ConnectionError(message) from None
        ws.socket.setsockopt(6, 1, 1)  # TCP_NODELAY: small frames go out at once
        metadata = unpack(ws.recv(timeout=self.connect_timeout_s))
        if metadata.get("type") != "metadata":
            ws.close()
            raise ValueError(f"{self.url} is not a vla-serve server (no metadata on connect)")
        self._ws, self.metadata = ws, metadata
        return metadata

    def _reconnect(self) -> None:
        was_connected = bool(self.metadata)
        self.close()
        deadline = time.monotonic() + self.reconnect_s
        delay = 0.02
        while True:
            try:
                self.connect()
                self.reconnects += was_connected
                return
            except (OSError, TimeoutError, ConnectionClosed) as err:
                if time.monotonic() + delay > deadline:
                    raise ConnectionError(
                        f"cannot reach {self.url} for {self.reconnect_s} s: {err}"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def close(self) -> None:
        """Close the connection (a later request reconnects)."""
        if self._ws is not None:
            self._ws.close()
            self._ws = None

    # -- requests ------------------------------------------------------------------------
    def request(self, message: dict[str, Any], timeout_s: float | None = None) -> dict[str, Any]:
        """Send ``message`` with a new ``seq`` and return its response.

        Raises:
            TimeoutError: no response within ``timeout_s`` (default ``self.timeout_s``).
            RemotePolicyError: the server answered with an error.
            ConnectionError: the server stayed unreachable for ``reconnect_s``.
        """
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        with self._lock:
            for attempt in range(2):
                if self._ws is None:
                    self._reconnect()
                seq = next(self._seq)
                try:
                    self._ws.send(pack({**message, "seq": seq}))
                    return self._await(seq, time.monotonic() + timeout_s)
                except TimeoutError:
                    raise  # the connection is fine; the late answer will be dropped
                except (ConnectionClosed, OSError) as err:
                    self._ws = None
                    if attempt == 1:
                        raise ConnectionError(f"lost {self.url}: {err}") from None
        raise AssertionError("unreachable")

    def _await(self, seq: int, deadline: float) -> dict[str, Any]:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.url}: no response to request {seq} in time")
            reply = unpack(self._ws.recv(timeout=remaining))
            if reply.get("seq") != seq:
                self.dropped += 1  # the answer to a request we gave up on: never act on it
                continue
            if reply.get("type") == "error":
                raise RemotePolicyError(f"{self.url}: {reply.get('error')}")
            self.last_timing = dict(reply.get("timing", {}))
            return reply

    def infer(
        self, observation: dict[str, Any], chunk: int = 1, timeout_s: float | None = None
    ) -> np.ndarray:
        """(n, 11) float32 actions for ``observation`` (n <= ``chunk``)."""
        reply = self.request(
            {"type": "infer", "observation": _wire(observation), "chunk": chunk}, timeout_s
        )
        actions = reply.get("actions")
        if not isinstance(actions, np.ndarray) or actions.ndim != 2 or actions.shape[1] != 11:
            raise ProtocolError(f"{self.url} sent actions that are not an (n, 11) array")
        return actions.astype(np.float32)

    # -- Policy API ----------------------------------------------------------------------
    def reset(self) -> None:
        """Clear the served policy's episode memory."""
        self.request({"type": "reset"})

    def select_action(self, observation: dict[str, Any]) -> np.ndarray:
        """The served policy's next (11,) float32 action."""
        return self.infer(observation)[0]

    def save_pretrained(self, directory: str | os.PathLike) -> pathlib.Path:
        raise ValueError("a remote policy has no local weights: save the policy on the server")

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, **kwargs: Any) -> RemotePolicy:
        """``directory`` is the server URL here."""
        return cls(str(directory), **kwargs)


def _wire(observation: dict[str, Any]) -> dict[str, Any]:
    """The contract's fields as arrays (a state list becomes float32)."""
    return {
        "images": {k: np.asarray(v) for k, v in observation["images"].items()},
        "state": np.asarray(observation["state"], np.float32),
        "instruction": str(observation.get("instruction", "")),
    }
