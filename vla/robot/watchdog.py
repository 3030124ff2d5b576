"""Watchdog: hold the robot when no fresh action has arrived within a timeout.

A background thread checks the age of the last action; when it exceeds ``timeout_s`` the
``on_timeout`` callback runs (the robot holds position and its base stops), then again
every ``timeout_s`` while actions stay away. A fresh action (``feed``) re-arms it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Watchdog:
    """Calls ``on_timeout()`` when ``feed()`` has not been called for ``timeout_s`` seconds."""

    def __init__(self, timeout_s: float, on_timeout: Callable[[], None]) -> None:
        if not timeout_s > 0:
            raise ValueError(f"watchdog timeout must be > 0 s, got {timeout_s}")
        self.timeout_s = float(timeout_s)
        self.on_timeout = on_timeout
        self.fired = 0  # times on_timeout ran
        self.last_fire_time: float | None = None
        self._last_feed = time.monotonic()
        self._last_fire = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def feed(self) -> None:
        """A fresh action was sent."""
        self._last_feed = time.monotonic()

    def check(self) -> bool:
        """Fire if overdue (at most once per ``timeout_s``); returns whether it fired."""
        now = time.monotonic()
        if now - self._last_feed < self.timeout_s or now - self._last_fire < self.timeout_s:
            return False
        self._last_fire = now
        self.fired += 1
        self.last_fire_time = now
        log.warning("watchdog: no action for %.3f s; holding the robot", now - self._last_feed)
        try:
            self.on_timeout()
        except Exception:  # a failing hold must not kill the watchdog thread
            log.exception("watchdog: the hold callback failed")
        return True

    def start(self) -> None:
        """Check in a daemon thread, every quarter timeout (at most 5 ms apart)."""
        if self._thread is not None:
            return
        self.feed()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="robot-watchdog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        period = min(self.timeout_s / 4, 0.005)
        while not self._stop.wait(period):
            self.check()

    def stop(self) -> None:
        """Stop the checking thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        self._thread = None
