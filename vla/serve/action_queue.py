"""An asynchronous action queue: ask for the next chunk before the current one runs out.

The control loop calls ``next_action(observation, timeout_s)`` once per period. When at most
``low_water`` actions are left, a request for ``chunk`` more (from this observation) goes out
in a background thread; the loop keeps executing the queued actions meanwhile, so network
and inference time hide behind execution. When the queue is empty the call waits for the
request in flight up to ``timeout_s`` and returns None if it has not come (the caller then
holds the robot).
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import numpy as np


class ActionQueue:
    """Prefetching queue over ``policy.infer(observation, chunk) -> (n, 11)``.

    Args:
        policy: a :class:`~vla.serve.client.RemotePolicy` (anything with ``infer``).
        chunk: actions asked for per request.
        low_water: refill when this many or fewer actions remain.
    """

    def __init__(self, policy: Any, chunk: int = 1, low_water: int = 1) -> None:
        self.policy, self.chunk, self.low_water = policy, chunk, low_water
        self.queue: deque[np.ndarray] = deque()
        self.errors: list[str] = []
        self._pending: Future | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="action-queue")

    def reset(self) -> None:
        """Drop queued actions and forget the request in flight (its answer is discarded)."""
        self.queue.clear()
        self._pending = None
        self.policy.reset()

    def _collect(self, wait_s: float) -> None:
        if self._pending is None:
            return
        try:
            actions = self._pending.result(timeout=max(wait_s, 0.0))
        except FutureTimeout:
            return
        except Exception as err:  # timeout or error of the request: counted, then retried
            self.errors.append(f"{type(err).__name__}: {err}")
        else:
            self.queue.extend(np.asarray(actions, np.float32))
        self._pending = None

    def next_action(self, observation: dict[str, Any], timeout_s: float) -> np.ndarray | None:
        """The next queued action, or None if none arrived within ``timeout_s``."""
        self._collect(0.0)
        if len(self.queue) <= self.low_water and self._pending is None:
            self._pending = self._pool.submit(self.policy.infer, observation, self.chunk)
        if not self.queue:
            self._collect(timeout_s)
        return self.queue.popleft() if self.queue else None

    def close(self) -> None:
        """Stop the background thread (a request in flight is abandoned)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
