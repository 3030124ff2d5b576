"""What one client can take from ``vla-serve``: connections, time, memory and log lines.

- **Connections.** At most ``max_connections`` websocket sessions, and as many again
  connections still in their handshake, are open at once. A connection over the cap evicts
  the oldest unfinished handshake, or is refused at once with an HTTP 503; an upgrade over
  the session cap evicts a session that has been idle for a second and does not control the
  policy, or is refused with an HTTP 503. ``GET /healthz`` needs no session slot.
- **Time.** A handshake or a message must arrive whole within ``read_timeout_s`` of its first
  byte, and a connection with no message for ``idle_timeout_s`` is closed.
- **Memory and work.** Each connection buffers at most one message beyond the one being
  handled (websockets' queue of one frame). While one connection controls the policy, every
  other connection's frames are capped at ``GUEST_MAX_BYTES`` (refused by websockets from the
  frame header, close code 1009): they could only be refused anyway, and full-size frames
  from many of them would cost the controller's requests time and the server memory. All
  connections that do not control the policy share ``GUEST_BYTES_PER_S`` of reading (each
  frame also costs ``FRAME_COST_BYTES``): a flood of them cannot starve the event loop.
  While nobody controls the policy the server holds at most about ``max_connections`` x 8 x
  ``max_message_bytes`` of messages (docs/experiments/2026-12-05-hardening.md).
- **Logs.** Errors the event loop reports (``accept()`` failing at the file-descriptor limit
  repeats forever) are logged one line each, at most ``burst`` per key per ``interval_s``.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import resource
import time
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.protocol import CONNECTING, OPEN

log = logging.getLogger("vla.serve")
EVICTABLE_IDLE_S = 1.0  # an established non-controller idle this long may make room
GUEST_MAX_BYTES = 256 * 1024  # frames of connections that do not control the policy
GUEST_BYTES_PER_S = 16 * 2**20  # what all of them together may make the server read
FRAME_COST_BYTES = 4096  # a frame's fixed cost, in bytes of that budget
MAX_GUEST_WAIT_S = 2.0


class GuardedConnection(ServerConnection):
    """A websockets server connection that reports to a :class:`ConnectionGuard`."""

    def __init__(self, *args: Any, guard: ConnectionGuard, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guard = guard
        self.last_active = time.monotonic()  # last complete message (or the connect)
        self.partial_since: float | None = None  # first byte of a message not yet whole
        self.controller = False  # set by the server while this connection controls the policy
        self.busy = False  # a request of this connection is being served

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.guard.admit(self)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.guard.forget(self)

    def data_received(self, data: bytes) -> None:
        if self.partial_since is None:
            self.partial_since = time.monotonic()
        super().data_received(data)
        if not self.has_partial_message():
            self.partial_since = None

    def has_partial_message(self) -> bool:
        """Bytes of a frame, or frames of a message, received but not yet whole."""
        return bool(self.protocol.reader.buffer) or len(self.recv_messages.frames) > 0

    def message_received(self) -> None:
        """The handler took one whole message."""
        self.last_active = time.monotonic()
        if not self.has_partial_message():
            self.partial_since = None


class ConnectionGuard:
    """Admission, eviction and timeouts for every connection of one server."""

    def __init__(
        self,
        max_connections: int,
        read_timeout_s: float,
        idle_timeout_s: float,
        max_message_bytes: int,
        stats: dict,
    ) -> None:
        self.max_connections = max_connections
        self.read_timeout_s, self.idle_timeout_s = read_timeout_s, idle_timeout_s
        self.max_message_bytes = max_message_bytes
        self.stats = stats
        self.open: dict[GuardedConnection, float] = {}  # connection -> time it connected
        self.controller: GuardedConnection | None = None
        self._guest_debt_until = 0.0  # when the guests' reading budget is paid off

    async def throttle(self, connection: GuardedConnection, size: int) -> None:
        """Called after each frame: a connection that does not control the policy waits until
        the guests' shared budget is paid off (at most ``MAX_GUEST_WAIT_S``), or until it takes
        control or is closed."""
        if connection.controller:
            return
        now = time.monotonic()
        cost = (size + FRAME_COST_BYTES) / GUEST_BYTES_PER_S
        self._guest_debt_until = min(
            max(self._guest_debt_until, now) + cost, now + MAX_GUEST_WAIT_S
        )
        while not connection.controller and connection.protocol.state is OPEN:
            remaining = self._guest_debt_until - time.monotonic()
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining, 0.05))

    def take_control(self, connection: GuardedConnection) -> None:
        """``connection`` now controls the policy: the others become guests."""
        self.controller, connection.controller = connection, True
        _frame_limit(connection, self.max_message_bytes)
        for other in self.open:
            if other is not connection:
                _frame_limit(other, min(GUEST_MAX_BYTES, self.max_message_bytes))

    def release_control(self, connection: GuardedConnection) -> None:
        """``connection`` (closing) gives control up: everyone may send full-size frames."""
        if self.controller is connection:
            self.controller, connection.controller = None, False
            for other in self.open:
                _frame_limit(other, self.max_message_bytes)

    def admit(self, connection: GuardedConnection) -> None:
        """On connect: up to twice ``max_connections`` may be open (sessions and handshakes);
        over that the oldest handshake makes room, or the newcomer gets an HTTP 503."""
        if len(self.open) >= 2 * self.max_connections:
            handshakes = [c for c in self.open if c.protocol.state is CONNECTING]
            if not handshakes:
                self.stats["refused"] += 1
                _refuse(connection, f"server busy: {len(self.open)} connections open")
                return
            self._evict(min(handshakes, key=lambda c: self.open[c]))
        self.open[connection] = time.monotonic()
        if self.controller is not None:
            _frame_limit(connection, min(GUEST_MAX_BYTES, self.max_message_bytes))

    def admit_session(self) -> bool:
        """Before a websocket upgrade: whether a session slot is free (an established guest
        idle for ``EVICTABLE_IDLE_S`` makes room; the controller never does)."""
        sessions = [c for c in self.open if c.protocol.state is OPEN]
        if len(sessions) < self.max_connections:
            return True
        now = time.monotonic()
        idle = [
            c
            for c in sessions
            if not c.controller and not c.busy and now - c.last_active >= EVICTABLE_IDLE_S
        ]
        if not idle:
            self.stats["refused"] += 1
            return False
        self._evict(min(idle, key=lambda c: c.last_active))
        return True

    def _evict(self, victim: GuardedConnection) -> None:
        self.stats["evicted"] += 1
        del self.open[victim]
        victim.transport.abort()

    def forget(self, connection: GuardedConnection) -> None:
        self.open.pop(connection, None)

    async def sweep_forever(self) -> None:
        """Close connections that send a message too slowly or nothing for too long."""
        period = min(1.0, self.read_timeout_s / 4, self.idle_timeout_s / 4)
        while True:
            await asyncio.sleep(period)
            self.sweep()

    def sweep(self) -> None:
        now = time.monotonic()
        for connection in list(self.open):
            if connection.protocol.state is not OPEN:
                continue  # handshakes: websockets' open_timeout (= read_timeout_s)
            started = connection.partial_since
            if started is not None and now - started > self.read_timeout_s:
                self.stats["timeouts"] += 1
                connection.transport.abort()  # a peer this slow would not read a close frame
            elif not connection.busy and now - connection.last_active > self.idle_timeout_s:
                self.stats["timeouts"] += 1
                asyncio.ensure_future(connection.close(1000, "idle timeout"))


def _frame_limit(connection: GuardedConnection, limit: int) -> None:
    """Change the largest frame websockets accepts on ``connection`` from the next frame on."""
    protocol = connection.protocol
    if hasattr(protocol, "max_message_size"):  # websockets >= 15
        protocol.max_message_size = limit
    else:
        protocol.max_size = limit


def raise_fd_limit(wanted: int = 4096) -> int:
    """Raise this process's soft limit on open files towards ``wanted`` (never above the hard
    limit), so refused connections have room to be accepted and closed; returns the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def return_large_buffers_to_the_os(threshold: int = 1 << 20) -> None:
    """Pin glibc's mmap threshold: it rises after large frees, so later multi-MiB messages
    land in the heap, which never shrinks, and a flood leaves the process twice its live
    size. A no-op where the C library is not glibc."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(-3, threshold)  # -3: M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def _refuse(connection: GuardedConnection, reason: str) -> None:
    body = reason.encode() + b"\n"
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    connection.transport.write(head.encode() + body)
    connection.transport.close()


class RateLimitedLog:
    """At most ``burst`` log lines per key per ``interval_s``, then one line saying how many
    were dropped; for errors that can repeat in a hot loop."""

    def __init__(self, burst: int = 5, interval_s: float = 10.0) -> None:
        self.burst, self.interval_s = burst, interval_s
        self._windows: dict[str, list] = {}  # key -> [window start, lines logged, dropped]

    def allow(self, key: str) -> bool:
        """Whether one more line for ``key`` may be logged now (counts the ones dropped)."""
        now = time.monotonic()
        window = self._windows.setdefault(key, [now, 0, 0])
        if now - window[0] >= self.interval_s:
            if window[2]:
                log.warning("%d more like %r in the last %.0f s", window[2], key, self.interval_s)
            window[:] = [now, 0, 0]
        if window[1] >= self.burst:
            window[2] += 1
            return False
        window[1] += 1
        return True

    def warning(self, key: str, message: str) -> bool:
        """Log ``message`` unless ``key`` is over its rate; returns whether it was logged."""
        if self.allow(key):
            log.warning("%s", message)
            return True
        return False

    def loop_exception_handler(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        """For ``loop.set_exception_handler``: one line per error, rate-limited, no traceback."""
        error = context.get("exception")
        key = str(context.get("message", "event loop error"))
        detail = f": {type(error).__name__}: {error}" if error is not None else ""
        self.warning(key, f"{key}{detail}"[:300])
