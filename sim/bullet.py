"""PyBullet, imported and connected without the lines its C code prints.

``import pybullet`` prints ``pybullet build time: ...`` (to stderr) and each connection
prints ``argv[0]=`` (to stdout) from C, straight to the file descriptors, on every app
start. Every module of ``sim`` imports pybullet from here (``from sim.bullet import p``) and
connects with :func:`direct_client`, which silence exactly those two calls.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def c_output_silenced() -> Iterator[None]:
    """Send what C code writes to file descriptors 1 and 2 to /dev/null while the block
    runs (Python exceptions still propagate: they are raised, not printed)."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
    except (OSError, ValueError):  # no descriptors to redirect: nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        _flush_c_stdio()  # C stdio buffers a pipe: flush while it still points at /dev/null
        for fd, copy in zip((1, 2), saved):
            os.dup2(copy, fd)
            os.close(copy)
        os.close(devnull)


def _flush_c_stdio() -> None:
    with contextlib.suppress(Exception):  # no C library to call (rare platforms): skip
        ctypes.CDLL(None).fflush(None)


with c_output_silenced():
    import pybullet as p
    from pybullet_utils import bullet_client


def direct_client() -> bullet_client.BulletClient:
    """A new headless (DIRECT) physics client of its own."""
    with c_output_silenced():
        return bullet_client.BulletClient(connection_mode=p.DIRECT)


__all__ = ["bullet_client", "c_output_silenced", "direct_client", "p"]
