"""What one client can take from ``vla-serve``: connections, time, memory and log lines.

- **Connections.** At most ``max_connections`` TCP connections are open at once, handshakes
  included. A connection over the cap first evicts the least recently active one that has
  not finished its handshake, or an established one that has been idle for a second and
  does not control the policy; if there is none it is refused at once with an HTTP 503.
- **Time.** A handshake or a message must arrive whole within ``read_timeout_s`` of its first
  byte, and a connection with no message for ``idle_timeout_s`` is closed.
- **Memory.** Each connection buffers at most one message of ``max_message_bytes`` beyond the
  one being handled (websockets' queue of one frame), so the server's own buffers stay under
  ``max_connections`` x (3 ``max_message_bytes`` + 1 MiB of handshake headers).
- **Logs.** Errors the event loop reports (``accept()`` failing at the file-descriptor limit
  repeats forever) are logged one line each, at most ``burst`` per key per ``interval_s``.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.protocol import CONNECTING, OPEN

log = logging.getLogger("vla.serve")
EVICTABLE_IDLE_S = 1.0  # an established non-controller idle this long may make room


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
        self, max_connections: int, read_timeout_s: float, idle_timeout_s: float, stats: dict
    ) -> None:
        self.max_connections = max_connections
        self.read_timeout_s, self.idle_timeout_s = read_timeout_s, idle_timeout_s
        self.stats = stats
        self.open: dict[GuardedConnection, float] = {}  # connection -> time it connected

    def admit(self, connection: GuardedConnection) -> None:
        """Called on connect: make room or refuse with an HTTP 503 and close."""
        if len(self.open) >= self.max_connections:
            victim = self._evictable()
            if victim is None:
                self.stats["refused"] += 1
                _refuse(connection, f"server busy: all {self.max_connections} connections in use")
                return
            self.stats["evicted"] += 1
            del self.open[victim]
            victim.transport.abort()
        self.open[connection] = time.monotonic()

    def forget(self, connection: GuardedConnection) -> None:
        self.open.pop(connection, None)

    def _evictable(self) -> GuardedConnection | None:
        now = time.monotonic()
        candidates = [
            c
            for c in self.open
            if c.protocol.state is CONNECTING
            or (
                c.protocol.state is OPEN
                and not c.controller
                and not c.busy
                and now - c.last_active >= EVICTABLE_IDLE_S
            )
        ]
        return min(candidates, key=lambda c: c.last_active, default=None)

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


def raise_fd_limit(wanted: int = 4096) -> int:
    """Raise this process's soft limit on open files towards ``wanted`` (never above the hard
    limit), so refused connections have room to be accepted and closed; returns the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


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

    def warning(self, key: str, message: str) -> bool:
        """Log ``message`` unless ``key`` is over its rate; returns whether it was logged."""
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
        log.warning("%s", message)
        return True

    def loop_exception_handler(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        """For ``loop.set_exception_handler``: one line per error, rate-limited, no traceback."""
        error = context.get("exception")
        key = str(context.get("message", "event loop error"))
        detail = f": {type(error).__name__}: {error}" if error is not None else ""
        self.warning(key, f"{key}{detail}"[:300])
