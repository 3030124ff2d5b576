"""How every command-line app ends on bad input or Ctrl-C: one line, no traceback.

Bad input (an unknown option, a value of the wrong type or out of range, a missing file, a
folder that cannot be written, a server that cannot be reached) prints
``<app>: error: <what was wrong>`` on stderr and exits with code 2; Ctrl-C exits with 130.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn

from hydra.errors import HydraException, MissingConfigException, OverrideParseException
from omegaconf import DictConfig
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from vla.options import config_error_line, to_object

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def fail(name: str, message: Any) -> NoReturn:
    """Print ``<name>: error: <message>`` (one line) on stderr and exit with code 2."""
    line = " ".join(str(message).split()) or "bad input"
    print(f"{name}: error: {line}", file=sys.stderr, flush=True)
    raise SystemExit(EXIT_BAD_INPUT)


def os_error_line(error: OSError) -> str:
    """``<reason>: <path>`` for an OSError about a file, else its text."""
    if error.filename is not None and error.strerror:
        return f"{error.strerror}: {error.filename}"
    return str(error) or type(error).__name__


def run_app(name: str, job: Callable[[Any], Any], cfg: Any, on_interrupt: str = "") -> Any:
    """Run ``job(config)`` with ``cfg`` as its typed config (a Hydra ``DictConfig`` becomes
    its dataclass); bad input exits 2 in one line, Ctrl-C exits 130."""
    try:
        config = to_object(cfg) if isinstance(cfg, DictConfig) else cfg
        return job(config)
    except ValueError as error:
        fail(name, error)
    except OSError as error:  # a path that cannot be read or written: bad input too
        fail(name, os_error_line(error))
    except KeyboardInterrupt:
        print(f"{name}: interrupted{'; ' + on_interrupt if on_interrupt else ''}", file=sys.stderr)
        raise SystemExit(EXIT_INTERRUPTED) from None


def config_error(error: Exception) -> str:
    """One line for an error Hydra raises while composing the config from the command line."""
    cause = error.__cause__
    if isinstance(error, MissingConfigException) and error.options:  # planner=bogus
        return f"{first_line(error)}; choose one of {', '.join(sorted(error.options))}"
    if isinstance(error, OverrideParseException):  # n_episodes=[1,2
        return f"{error.override}: {first_line(error)}"
    if isinstance(cause, (ConfigAttributeError, ConfigKeyError)):  # foo=1, planner.foo=1
        kind = getattr(cause, "object_type", None)
        known = ", ".join(getattr(kind, "__dataclass_fields__", {}))
        where = f"; {kind.__name__}'s options: {known}" if known else ""
        if not known and "." in str(cause.full_key):  # a key into a dict option
            where = f"; add a key to a dict option with +: +{cause.full_key}=VALUE"
        return f"unknown option {cause.full_key!r}{where}"
    if isinstance(cause, OmegaConfBaseException):  # n_episodes=two
        override = first_line(error).removeprefix("Error merging override ")
        if override != first_line(error):
            return f"{override}: {first_line(cause)}"
        return config_error_line(cause)
    return first_line(error)


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


CONFIG_ERRORS = (HydraException, OmegaConfBaseException)
