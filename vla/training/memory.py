"""Keep the memory a training step frees for the next step (glibc's malloc, Linux).

By default glibc serves every block of 128 KiB or more (at first; the limit then adapts up
to 32 MiB) with a fresh ``mmap`` and hands it back with ``munmap`` when it is freed, and it
gives the top of its heap back to the system too. A training step allocates and frees the
same large activations and gradients every time, so the pages are faulted in and zeroed
again on every step. On RT-1's bf16 step on 2 cores that cost about a tenth of the step
(``benchmarks/train_benchmark.py``; PyTorch's CPU tuning guide suggests a caching
allocator such as jemalloc for the same reason). :func:`keep_freed_memory` moves both
thresholds up with ``mallopt``, so freed blocks go back to malloc's own free lists.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (malloc.h)
MMAP_THRESHOLD = 32 << 20  # glibc's largest on 64-bit: bigger blocks are still mmapped
TRIM_THRESHOLD = 1 << 30  # free heap top kept before it is given back


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to serve blocks below 32 MiB from its heap and to keep up to 1 GiB
    of freed heap; the process's memory then stays at its peak instead of being returned.
    Returns whether it applied (False off Linux or where the C library is not glibc)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
