"""How every command-line app ends on bad input or Ctrl-C: one line, no traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def run_app(name: str, job: Callable[[Any], Any], cfg: Any, on_interrupt: str = "") -> None:
    """Run ``job(cfg)``; a ValueError exits 2 with ``<name>: error: ...``, Ctrl-C exits 130."""
    try:
        job(cfg)
    except ValueError as error:
        raise SystemExit(f"{name}: error: {error}") from None
    except KeyboardInterrupt:
        print(f"{name}: interrupted{'; ' + on_interrupt if on_interrupt else ''}", file=sys.stderr)
        raise SystemExit(130) from None
