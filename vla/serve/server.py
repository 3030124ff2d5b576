"""``vla-serve``'s server: one policy behind a websocket (msgpack frames) and ``GET /healthz``.

Inference runs in a one-thread executor (the policy is not thread-safe), off the event loop,
so a slow model never blocks health checks, handshakes or other clients' error replies.
Every bad message is answered with a short error and the connection keeps serving; a frame
over ``max_message_bytes`` is refused by websockets itself (close code 1009).

**One controlling connection at a time.** The policy keeps one episode's memory (its frame
history), so one robot drives it: the first connection to send a valid ``infer`` or
``reset`` takes control (a client resets the policy at its episode start); until that
connection closes (or is closed idle), every ``infer`` or ``reset`` from another connection
is refused with an error, so a second client can neither change the first one's actions
nor reset its history.

**One request in flight per connection.** A new request on a connection supersedes the one
still in flight (its client gave up on it: the client drops late answers): the old one is
cancelled if it has not started and gets no answer. A closed connection's request is
cancelled the same way. Connection, time and memory bounds: :mod:`vla.serve.guard`.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import http
import json
import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from websockets.asyncio.server import Server, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from vla.serve.auth import API_KEY_HEADER, same_key, security_warnings
from vla.serve.guard import (
    ConnectionGuard,
    GuardedConnection,
    RateLimitedLog,
    raise_fd_limit,
    return_large_buffers_to_the_os,
)
from vla.serve.protocol import (
    ACTION_DIM,
    IMAGE_NAMES,
    MAX_CHUNK,
    MAX_MESSAGE_BYTES,
    PROTOCOL_VERSION,
    STATE_DIM,
    ProtocolError,
    brief,
    error_message,
    image_side_limit,
    pack,
    request_seq,
    unpack,
    validate_observation,
)

log = logging.getLogger(__name__)
# Connections the kernel queues for accept(): asyncio accepts up to this many in one go, so a
# burst of connects stalls the event loop for less; beyond it clients retry their SYN.
LISTEN_BACKLOG = 32
BUSY_AFTER_S = 1.0  # /healthz says "busy" while one inference has run longer than this
__all__ = ["API_KEY_HEADER", "PolicyServer"]


class PolicyServer:
    """Serve ``policy`` (``reset`` + ``select_action``; optional ``select_action_chunk``).

    Args:
        policy: the policy; one instance, driven by one controlling connection at a time.
        host, port: where to listen; port 0 picks a free port (see ``port`` after start).
        api_key: when set, the websocket handshake must carry header ``x-api-key: <key>``,
            and ``/healthz`` shows its counters only to requests that carry it.
        max_message_bytes: largest request accepted.
        max_connections: websocket sessions at most (and as many handshakes); see guard.py.
        read_timeout_s: a handshake or message must arrive whole this soon after it starts.
        idle_timeout_s: a connection with no message for this long is closed.
        max_image_side: largest camera image side; default 16 x the policy's image size.
    """

    unauthorized_text = "missing or wrong x-api-key\n"

    def __init__(
        self,
        policy: Any,
        host: str = "127.0.0.1",
        port: int = 8765,
        api_key: str | None = None,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        max_connections: int = 8,
        read_timeout_s: float = 10.0,
        idle_timeout_s: float = 60.0,
        max_image_side: int | None = None,
    ) -> None:
        limits = dict(
            max_connections=max_connections,
            read_timeout_s=read_timeout_s,
            idle_timeout_s=idle_timeout_s,
            max_message_bytes=max_message_bytes,
        )
        for name, value in limits.items():
            if not value > 0:
                raise ValueError(f"{name} must be > 0, got {value}")
        self.policy, self.host, self.port = policy, host, port
        self.api_key, self.max_message_bytes = api_key or None, max_message_bytes
        self.max_image_side = max_image_side or image_side_limit(
            getattr(policy, "image_size", None)
        )
        self.stats: Counter = Counter(requests=0, errors=0, connections=0, rejected=0)
        self.guard = ConnectionGuard(
            max_connections, read_timeout_s, idle_timeout_s, max_message_bytes, self.stats
        )
        self.errors_log = RateLimitedLog()
        self._inference_started: float | None = None
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
            "max_image_side": self.max_image_side,
            "control_hz": 20,
            "max_chunk": MAX_CHUNK if hasattr(self.policy, "select_action_chunk") else 1,
            "max_message_bytes": self.max_message_bytes,
            "control": "one connection at a time",
        }

    # -- HTTP side: health check and API key, before the websocket upgrade ---------------
    def authorized(self, request: Request) -> bool:
        """Whether the handshake carries the API key (always, when none is set)."""
        sent = request.headers.get(API_KEY_HEADER)
        return not self.api_key or (sent is not None and same_key(sent, self.api_key))

    def encode(self, message: dict[str, Any]) -> bytes | str:
        """One outgoing frame (the metadata or a reply) in this server's wire format."""
        return pack(message)

    def _process_request(self, connection: Any, request: Request) -> Response | None:
        authorized = self.authorized(request)
        if request.path.split("?")[0] == "/healthz":
            return self._health(connection, authorized)
        if not authorized:
            self.stats["rejected"] += 1
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, self.unauthorized_text)
        if not self.guard.admit_session():
            busy = f"server busy: all {self.guard.max_connections} sessions in use\n"
            return connection.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, busy)
        return None

    def _health(self, connection: Any, authorized: bool) -> Response:
        running = self._inference_started
        busy = running is not None and time.monotonic() - running > BUSY_AFTER_S
        body: dict[str, Any] = {"status": "busy" if busy else "ok"}
        if authorized:  # policy name and counters only for whoever holds the key
            body.update(policy=self.metadata()["policy"], **self.stats)
            body.update(
                open_connections=len(self.guard.open), controlled=bool(self.guard.controller)
            )
        response = connection.respond(http.HTTPStatus.OK, json.dumps(body) + "\n")
        response.headers["Content-Type"] = "application/json"
        return response

    # -- websocket side ------------------------------------------------------------------
    async def _handle(self, connection: GuardedConnection) -> None:
        self.stats["connections"] += 1
        in_flight: asyncio.Task | None = None
        try:
            await connection.send(self.encode(self.metadata()))
            async for frame in connection:
                connection.message_received()
                if in_flight is not None and not in_flight.done():
                    in_flight.cancel()  # superseded: its client has given up on it
                    self.stats["cancelled"] += 1
                in_flight = asyncio.ensure_future(self._serve(connection, frame))
                size, frame = len(frame), None  # the task holds it; a throttled loop must not
                await self.guard.throttle(connection, size)
        except ConnectionClosed:
            pass
        finally:
            if in_flight is not None and not in_flight.done():
                in_flight.cancel()  # the client is gone: nobody would read the answer
                self.stats["cancelled"] += 1
            self.guard.release_control(connection)

    async def _serve(self, connection: GuardedConnection, frame: bytes | str) -> None:
        connection.busy = True
        try:
            reply = await self._reply(connection, frame)
            await asyncio.shield(connection.send(self.encode(reply)))  # never cut a frame in half
        except ConnectionClosed:
            pass
        finally:
            connection.busy = False

    async def _reply(self, connection: GuardedConnection, frame: bytes | str) -> dict[str, Any]:
        received = time.perf_counter()
        seq = None
        try:
            message = unpack(frame, self.max_message_bytes)
            seq = request_seq(message)
            reply = await self._dispatch(connection, message, seq)
        except ProtocolError as err:
            reply = error_message(seq, str(err))
        except asyncio.CancelledError:
            raise
        except Exception as err:  # the policy failed: tell the client, keep serving
            if self.errors_log.allow("policy error"):
                log.exception("policy error")
            reply = error_message(seq, f"policy failed: {type(err).__name__}: {err}")
        if reply["type"] == "error":
            self.stats["errors"] += 1
        else:
            self.stats["requests"] += 1
            reply["timing"]["server_ms"] = (time.perf_counter() - received) * 1000
        return reply

    async def _dispatch(
        self, connection: GuardedConnection, message: dict[str, Any], seq: int
    ) -> dict[str, Any]:
        kind = message.get("type")
        if kind not in ("infer", "reset"):
            raise ProtocolError(f"unknown message type {brief(kind)}; use 'infer' or 'reset'")
        if self.guard.controller not in (None, connection):
            raise ProtocolError(
                "another connection controls this policy (one robot per server); it is "
                "released when that connection closes"
            )
        if kind == "infer":
            observation = validate_observation(message.get("observation"), self.max_image_side)
            chunk = message.get("chunk", 1)
            if not isinstance(chunk, int) or isinstance(chunk, bool) or not 1 <= chunk <= MAX_CHUNK:
                raise ProtocolError(
                    f"'chunk' must be an integer in [1, {MAX_CHUNK}], got {brief(chunk)}"
                )
        if self.guard.controller is None:  # the first valid request takes control
            self.guard.take_control(connection)
        start = time.perf_counter()
        if kind == "reset":
            await self._run(self.policy.reset)
            return {"type": "reset", "seq": seq, "timing": {"infer_ms": _ms(start)}}
        actions = await self._run(self._infer, observation, chunk)
        return {
            "type": "action",
            "seq": seq,
            "actions": actions,
            "timing": {"infer_ms": _ms(start)},
        }

    async def _run(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)`` on the inference thread (cancelled if it has not started)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(self._timed, fn, *args))

    def _timed(self, fn: Any, *args: Any) -> Any:
        self._inference_started = time.monotonic()
        try:
            return fn(*args)
        finally:
            self._inference_started = None

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
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(self.errors_log.loop_exception_handler)
        raise_fd_limit()
        return_large_buffers_to_the_os()
        # The policy, torch and friends are ~400,000 long-lived objects: keep the cyclic
        # garbage collector off them, or a burst of connections triggers full collections
        # that stall the event loop for half a second.
        gc.freeze()
        for warning in security_warnings(self.host, self.api_key):
            log.warning("%s", warning)
        server = await serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._process_request,
            create_connection=functools.partial(GuardedConnection, guard=self.guard),
            max_size=self.max_message_bytes,
            max_queue=1,  # one message waiting beyond the one being handled
            open_timeout=self.guard.read_timeout_s,
            close_timeout=2.0,
            ping_interval=None,  # the client's request timeouts detect a dead peer
            compression=None,  # images do not compress; deflate costs milliseconds
            logger=log,
            backlog=LISTEN_BACKLOG,
        )
        self._sweeper = loop.create_task(self.guard.sweep_forever())
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
            self._sweeper.cancel()
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
