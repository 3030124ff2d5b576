"""``vla-serve``'s server: one policy behind a websocket (msgpack frames) and ``GET /healthz``.

Inference runs in a one-thread executor (the policy is not thread-safe), off the event loop,
so a slow model never blocks health checks, handshakes or other clients' error replies.
Every bad message is answered with an error and the connection keeps serving; a frame over
``max_message_bytes`` is refused by websockets itself (close code 1009).
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from vla.serve.protocol import (
    ACTION_DIM,
    IMAGE_NAMES,
    MAX_CHUNK,
    MAX_MESSAGE_BYTES,
    PROTOCOL_VERSION,
    STATE_DIM,
    ProtocolError,
    error_message,
    pack,
    request_seq,
    unpack,
    validate_observation,
)

log = logging.getLogger(__name__)
API_KEY_HEADER = "x-api-key"


class PolicyServer:
    """Serve ``policy`` (``reset`` + ``select_action``; optional ``select_action_chunk``).

    Args:
        policy: the policy; one instance shared by all connections (one episode memory).
        host, port: where to listen; port 0 picks a free port (see ``port`` after start).
        api_key: when set, the websocket handshake must carry header ``x-api-key: <key>``.
        max_message_bytes: largest request accepted.
    """

    def __init__(
        self,
        policy: Any,
        host: str = "127.0.0.1",
        port: int = 8765,
        api_key: str | None = None,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self.policy, self.host, self.port = policy, host, port
        self.api_key, self.max_message_bytes = api_key or None, max_message_bytes
        self.stats = {"requests": 0, "errors": 0, "connections": 0, "rejected": 0}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="policy")
        self._server: Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Event | None = None

    def metadata(self) -> dict[str, Any]:
        """What a client receives on connect."""
        return {
            "type": "metadata",
            "protocol": PROTOCOL_VERSION,
            "policy": getattr(self.policy, "policy_name", "") or type(self.policy).__name__,
            "action_dim": ACTION_DIM,
            "state_dim": STATE_DIM,
            "image_names": list(IMAGE_NAMES),
            "image_size": getattr(self.policy, "image_size", None),
            "control_hz": 20,
            "max_chunk": MAX_CHUNK if hasattr(self.policy, "select_action_chunk") else 1,
            "max_message_bytes": self.max_message_bytes,
        }

    # -- HTTP side: health check and API key, before the websocket upgrade ---------------
    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path.split("?")[0] == "/healthz":
            body = json.dumps({"status": "ok", "policy": self.metadata()["policy"], **self.stats})
            response = connection.respond(http.HTTPStatus.OK, body + "\n")
            response.headers["Content-Type"] = "application/json"
            return response
        if self.api_key and request.headers.get(API_KEY_HEADER) != self.api_key:
            self.stats["rejected"] += 1
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, "missing or wrong x-api-key\n")
        return None

    # -- websocket side ------------------------------------------------------------------
    async def _handle(self, connection: ServerConnection) -> None:
        self.stats["connections"] += 1
        try:
            await connection.send(pack(self.metadata()))
            async for frame in connection:
                reply = await self._reply(frame)
                await connection.send(pack(reply))
        except ConnectionClosed:
            pass

    async def _reply(self, frame: bytes | str) -> dict[str, Any]:
        received = time.perf_counter()
        seq = None
        try:
            message = unpack(frame, self.max_message_bytes)
            seq = request_seq(message)
            reply = await self._dispatch(message, seq)
        except ProtocolError as err:
            reply = error_message(seq, str(err))
        except Exception as err:  # the policy failed: tell the client, keep serving
            log.exception("policy error")
            reply = error_message(seq, f"policy failed: {type(err).__name__}: {err}"[:300])
        if reply["type"] == "error":
            self.stats["errors"] += 1
        else:
            self.stats["requests"] += 1
            reply["timing"]["server_ms"] = (time.perf_counter() - received) * 1000
        return reply

    async def _dispatch(self, message: dict[str, Any], seq: int) -> dict[str, Any]:
        kind = message.get("type")
        loop = asyncio.get_running_loop()
        start = time.perf_counter()
        if kind == "reset":
            await loop.run_in_executor(self._executor, self.policy.reset)
            return {"type": "reset", "seq": seq, "timing": {"infer_ms": _ms(start)}}
        if kind != "infer":
            raise ProtocolError(f"unknown message type {kind!r}; use 'infer' or 'reset'")
        observation = validate_observation(message.get("observation"))
        chunk = message.get("chunk", 1)
        if not isinstance(chunk, int) or isinstance(chunk, bool) or not 1 <= chunk <= MAX_CHUNK:
            raise ProtocolError(f"'chunk' must be an integer in [1, {MAX_CHUNK}], got {chunk!r}")
        actions = await loop.run_in_executor(self._executor, self._infer, observation, chunk)
        return {
            "type": "action",
            "seq": seq,
            "actions": actions,
            "timing": {"infer_ms": _ms(start)},
        }

    def _infer(self, observation: dict[str, Any], chunk: int) -> np.ndarray:
        if chunk > 1 and hasattr(self.policy, "select_action_chunk"):
            actions = self.policy.select_action_chunk(observation, chunk)
        else:
            actions = self.policy.select_action(observation)
        actions = np.asarray(actions, np.float32).reshape(-1, ACTION_DIM)
        if not np.all(np.isfinite(actions)):
            raise ValueError("the policy produced a non-finite action")
        return actions

    # -- running -------------------------------------------------------------------------
    async def start(self) -> int:
        """Start listening on the running loop; returns the bound port."""
        server = await serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._process_request,
            max_size=self.max_message_bytes,
            ping_interval=None,  # the client's request timeouts detect a dead peer
            compression=None,  # images do not compress; deflate costs milliseconds
        )
        # The port first: start_in_thread polls ``_server`` from another thread and then
        # reads ``port`` (set the other way round it could read port 0).
        self.port = server.sockets[0].getsockname()[1]
        self._server = server
        return self.port

    async def serve_forever(self) -> None:
        """Start and serve until ``stop`` (or the task is cancelled)."""
        self._stopped = asyncio.Event()
        await self.start()
        log.info("serving %s on ws://%s:%d", self.metadata()["policy"], self.host, self.port)
        try:
            await self._stopped.wait()
        finally:
            self._server.close()
            await self._server.wait_closed()

    def start_in_thread(self, timeout_s: float = 10.0) -> int:
        """Serve from a daemon thread (tests, benchmarks); returns the bound port."""
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            task = self._loop.create_task(self.serve_forever())
            self._loop.call_soon(ready.set)
            self._loop.run_until_complete(task)
            self._loop.close()

        self._thread = threading.Thread(target=run, name="policy-server", daemon=True)
        self._thread.start()
        ready.wait(timeout_s)
        deadline = time.monotonic() + timeout_s
        while self._server is None and time.monotonic() < deadline:
            time.sleep(0.005)
        if self._server is None:
            raise RuntimeError("policy server did not start")
        return self.port

    def stop(self) -> None:
        """Stop serving (closes every connection); idempotent."""
        if self._loop is not None and self._stopped is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        self._executor.shutdown(wait=False, cancel_futures=True)


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000
