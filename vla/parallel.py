"""``worker_map``: run items through a stateful worker, inline or in spawn worker processes.

Recording, evaluation and affordance collection all hold simulators (and policies) that
are expensive to build and cheap to reuse: each process builds one worker with
``factory(arg)`` and calls it on item after item. The worker may have ``close()``; inline it
is called at the end. Each worker process uses one torch thread (one core per process).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch

from vla.quiet import quiet_libraries

_WORKER: Any = None  # the worker of this process


def _init(factory: Callable[[Any], Any], arg: Any) -> None:
    global _WORKER
    # Several processes share the cores: one torch thread each, set before the worker is
    # built (a policy's first forward pass sizes oneDNN's OpenMP team, whose spinning
    # thread otherwise slows every step several times over).
    torch.set_num_threads(1)
    quiet_libraries()
    _WORKER = factory(arg)


def _call(item: Any) -> Any:
    return _WORKER(item)


def worker_map(
    factory: Callable[[Any], Any], arg: Any, items: Iterable, processes: int
) -> Iterator[Any]:
    """``factory(arg)(item)`` for each item; in completion order with ``processes >= 1``
    spawn processes (``factory`` and ``arg`` must pickle), in order in this one with 0."""
    if processes <= 0:
        worker = factory(arg)
        try:
            yield from map(worker, items)
        finally:
            close = getattr(worker, "close", None)
            if close is not None:
                close()
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes, initializer=_init, initargs=(factory, arg)) as pool:
        yield from pool.imap_unordered(_call, items, chunksize=1)
