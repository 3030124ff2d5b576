"""Reading a task file's bytes into YAML data, with one-line errors that name the file.

Task files come from users, so nothing in them may crash the reader or flood the terminal:
the file must be UTF-8 text under ``MAX_FILE_BYTES``; YAML nesting deeper than ``MAX_DEPTH``
(which would exhaust Python's recursion) and a key given twice in one mapping (which YAML
would silently resolve to the last) are errors; every message names the file and, where
YAML knows it, the line.
"""

from __future__ import annotations

import reprlib
from typing import Any

import yaml

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 32  # a task list is 3-4 levels deep

_brief = reprlib.Repr()
_brief.maxstring = _brief.maxother = 80
_brief.maxlist = _brief.maxdict = 4
_brief.maxlevel = 2


def brief(value: Any) -> str:
    """A short repr of file content for an error message (never the whole of a huge value)."""
    return _brief.repr(value)


def decode_task_file(raw: bytes, source: str) -> str:
    """The text of a task file; a one-line ValueError for anything that is not UTF-8 text."""
    if len(raw) > MAX_FILE_BYTES:
        raise ValueError(
            f"{source}: {len(raw)} bytes is too large for a task file "
            f"(at most {MAX_FILE_BYTES // 2**20} MiB)"
        )
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError(
            f"{source}: is UTF-16 text (it starts with a byte-order mark); save it as UTF-8"
        )
    if b"\x00" in raw:
        raise ValueError(f"{source}: is not text (it contains NUL bytes); a task file is YAML")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        byte = raw[err.start]
        raise ValueError(
            f"{source}: is not UTF-8 text (byte 0x{byte:02x} at offset {err.start}, e.g. "
            "Latin-1); save it as UTF-8"
        ) from None


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and deep nesting."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.YAMLError(
                    f"nested more than {MAX_DEPTH} levels deep at line {mark.line + 1}"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # "<<: *defaults": merged keys may be overridden, as YAML intends
            key = self.construct_object(key_node, deep=deep)
            try:
                if key in seen:
                    raise yaml.YAMLError(
                        f"key {brief(key)} appears twice in one mapping (lines "
                        f"{seen[key] + 1} and {key_node.start_mark.line + 1})"
                    )
                seen[key] = key_node.start_mark.line
            except TypeError:
                pass  # an unhashable key: SafeLoader reports it below
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, source: str) -> Any:
    """``yaml.safe_load`` with the checks above; ValueError ``<source>: malformed YAML: ...``."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: malformed YAML: {_yaml_problem(exc)}") from None
    except RecursionError:  # belt and braces: MAX_DEPTH stops this first
        raise ValueError(f"{source}: malformed YAML: nested too deeply") from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return " ".join(f"{problem}{where}".split())[:300]
