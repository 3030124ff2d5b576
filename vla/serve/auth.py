"""Where ``vla-serve``'s API key comes from, and when to warn that there is none.

A key on the command line is visible to every user of the machine (``ps``); the server and
the client therefore also take it from a file (``api_key_file``) or the environment variable
``VLA_SERVE_API_KEY``. Precedence: an explicit ``api_key``, then the file, then the variable.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import pathlib
import socket

API_KEY_HEADER = "x-api-key"
API_KEY_ENV = "VLA_SERVE_API_KEY"
MAX_KEY_FILE_BYTES = 4096


def resolve_api_key(api_key: str | None = None, api_key_file: str | None = None) -> str | None:
    """The key to require (server) or send (client); None when none is configured.

    Raises:
        ValueError: the key file is missing, unreadable, too large or empty.
    """
    if api_key:
        return str(api_key)
    if api_key_file:
        path = pathlib.Path(api_key_file).expanduser()
        try:
            if path.stat().st_size > MAX_KEY_FILE_BYTES:
                raise ValueError(f"api_key_file {path} is over {MAX_KEY_FILE_BYTES} bytes")
            key = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as err:
            reason = getattr(err, "strerror", None) or type(err).__name__
            raise ValueError(f"cannot read api_key_file {path}: {reason}") from None
        if not key:
            raise ValueError(f"api_key_file {path} is empty")
        return key
    return os.environ.get(API_KEY_ENV) or None


def same_key(sent: str, expected: str) -> bool:
    """Whether the key a client sent is the server's, compared in constant time."""
    return hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8"))


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
        except (OSError, ValueError):
            return False


def security_warnings(host: str, api_key: str | None) -> list[str]:
    """What an operator should hear before serving on ``host``."""
    if api_key or is_loopback(host):
        return []
    return [
        f"serving on {host or 'every interface'} without an API key: anyone who can reach "
        f"this port can drive the robot's policy; set {API_KEY_ENV}, api_key_file= or api_key="
    ]
