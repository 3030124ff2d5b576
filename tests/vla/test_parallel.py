"""worker_map: inline and in spawn processes, one torch thread per worker process."""

from __future__ import annotations

import torch

from vla.parallel import worker_map


class ThreadProbe:
    """A worker that remembers how many torch threads it was built with."""

    def __init__(self, offset: int):
        self.offset = offset
        self.threads_when_built = torch.get_num_threads()

    def __call__(self, item: int) -> tuple[int, int]:
        return item + self.offset, self.threads_when_built


def test_inline_keeps_order():
    out = list(worker_map(ThreadProbe, 10, [3, 1, 2], processes=0))
    assert [value for value, _ in out] == [13, 11, 12]


def test_worker_processes_are_built_with_one_torch_thread():
    # A policy's first forward pass in the factory sizes oneDNN's OpenMP team; built with
    # more than one thread, its spinning thread made 2-worker evaluations ~30x slower.
    out = list(worker_map(ThreadProbe, 10, [1, 2, 3, 4], processes=2))
    assert sorted(value for value, _ in out) == [11, 12, 13, 14]
    assert {threads for _, threads in out} == {1}
