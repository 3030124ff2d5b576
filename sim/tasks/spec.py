"""Task specs: the YAML contract the evaluation reads (parse, validate, load, dump).

A task file is a YAML list; each item is a mapping::

    - instruction: put the red block in the blue bowl      # required
      goal: [in(red block, blue bowl)]                     # required: all must hold at the end
      scene: tabletop                                      # optional, default tabletop
      objects: [red block, blue bowl, green block]         # optional: exactly these are placed
      initial: [in(green block, blue bowl)]                # optional: arranged at reset
      family: single                                       # optional label for results
      max_skills: 8                                        # optional cap for the planner

Unquoted predicates in a flow list (``[in(a, b)]``) are split by YAML at the comma; the parser
re-joins them, so both that and quoted or block-style lists work. Every problem raises a
one-line ``ValueError`` naming the source, the item (numbered from 1) and the problem; a file
that is not UTF-8 YAML text, nests too deep or repeats a key is refused whole
(:mod:`sim.tasks.yaml_text`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from sim.geometry import COLORS, MOBILE_AREAS, OBJECT_TYPES, TABLETOP_PLACES
from sim.tasks.arrangement import check_arrangement, check_goal, check_tabletop_capacity
from sim.tasks.predicates import (
    Predicate,
    check_predicate,
    normalize_name,
    object_type,
    parse_predicate,
    split_top_level,
)
from sim.tasks.yaml_text import MAX_FILE_BYTES, brief, decode_task_file, load_yaml

DEFAULT_SCENE = "tabletop"
SCENE_PLACES: dict[str, tuple[str, ...]] = {"tabletop": tuple(TABLETOP_PLACES), "mobile": ()}
SCENE_AREAS: dict[str, tuple[str, ...]] = {"tabletop": (), "mobile": tuple(MOBILE_AREAS)}
SCENES = tuple(SCENE_PLACES)

TASK_KEYS = ("instruction", "goal", "scene", "objects", "initial", "family", "max_skills")
INITIAL_PREDICATES = ("in", "on", "at", "holding", "robot_at")
MAX_INSTRUCTION_CHARS = 512  # as vla-serve takes them
MAX_SKILLS_CAP = 10_000
BUILTIN_SUITES = (
    "single",
    "nouns",
    "verbs",
    "structured",
    "embodiment",
    "long_horizon",
    "mobile",
    "language",
)


@dataclass(frozen=True)
class TaskSpec:
    """One task: an instruction, the goal predicates and how the scene starts."""

    instruction: str
    goal: tuple[Predicate, ...]
    scene: str = DEFAULT_SCENE
    objects: tuple[str, ...] | None = None
    initial: tuple[Predicate, ...] = ()
    family: str | None = None
    max_skills: int | None = None

    @property
    def all_objects(self) -> tuple[str, ...]:
        """Every object the scene must place: ``objects`` plus those named in predicates.

        Sorted blocks before bowls, then by the order of ``COLORS``.
        """
        names = set(self.objects or ())
        for pred in (*self.goal, *self.initial):
            names.update(pred.objects)
        return tuple(sorted(names, key=object_sort_key))

    def to_dict(self) -> dict[str, Any]:
        """A plain mapping that :func:`parse_tasks` turns back into an equal spec."""
        out: dict[str, Any] = {
            "instruction": self.instruction,
            "goal": [str(p) for p in self.goal],
            "scene": self.scene,
        }
        if self.objects is not None:
            out["objects"] = list(self.objects)
        if self.initial:
            out["initial"] = [str(p) for p in self.initial]
        if self.family is not None:
            out["family"] = self.family
        if self.max_skills is not None:
            out["max_skills"] = self.max_skills
        return out


def object_sort_key(name: str) -> tuple[int, int, str]:
    """Sort key for object names: blocks first, then bowls; within a type, ``COLORS`` order."""
    colour, _, kind = name.partition(" ")
    colours = list(COLORS)
    return (
        OBJECT_TYPES.index(kind) if kind in OBJECT_TYPES else len(OBJECT_TYPES),
        colours.index(colour) if colour in colours else len(colours),
        name,
    )


# ---------------------------------------------------------------------------------------------
# Loading


def load_tasks(suite_or_path: str | os.PathLike) -> list[TaskSpec]:
    """Load a built-in suite by name (see :data:`BUILTIN_SUITES`) or a task YAML file by path."""
    if isinstance(suite_or_path, str) and suite_or_path in BUILTIN_SUITES:
        text = suite_file(suite_or_path).read_text(encoding="utf-8")
        return parse_tasks_yaml(text, source=f"{suite_or_path}.yaml")
    path = Path(suite_or_path)
    if not path.is_file():
        raise ValueError(
            f"unknown task suite {brief(str(suite_or_path))}: no such file and not a built-in "
            f"suite ({', '.join(BUILTIN_SUITES)})"
        )
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise ValueError(f"{path}: cannot read the task file: {err.strerror}") from None
    return parse_tasks_yaml(decode_task_file(raw, str(path)), source=str(path))


def suite_file(name: str) -> Any:
    """The packaged YAML file of built-in suite ``name`` (an importlib resource)."""
    return resources.files("sim.tasks").joinpath("suites", f"{name}.yaml")


def parse_tasks_yaml(text: str, source: str = "<tasks>") -> list[TaskSpec]:
    """Parse YAML text holding a list of tasks."""
    return parse_tasks(load_yaml(text, source), source=source)


def parse_tasks(data: Any, source: str = "<tasks>") -> list[TaskSpec]:
    """Parse an already-loaded list of task mappings; ``source`` names it in error messages."""
    if not isinstance(data, list):
        got = "nothing" if data is None else type(data).__name__
        raise ValueError(f"{source}: expected a YAML list of tasks, got {got}")
    if not data:
        raise ValueError(f"{source}: the task list is empty")
    tasks = []
    for index, item in enumerate(data, start=1):
        try:
            tasks.append(parse_task(item))
        except ValueError as exc:
            message = " ".join(str(exc).split())
            raise ValueError(f"{_item_label(source, index, item)}: {message}") from None
    return tasks


def _item_label(source: str, index: int, item: Any) -> str:
    label = f"{source} item {index}"
    if isinstance(item, dict) and isinstance(item.get("instruction"), str):
        label += f" ({brief(item['instruction'])})"
    return label


# ---------------------------------------------------------------------------------------------
# One item


def parse_task(item: Any) -> TaskSpec:
    """Parse and validate one task mapping (errors name the problem, not the item)."""
    if not isinstance(item, dict):
        raise ValueError(
            f"a task must be a mapping with keys {', '.join(TASK_KEYS)}, got {brief(item)}"
        )
    unknown = [k for k in item if k not in TASK_KEYS]
    if unknown:
        raise ValueError(f"unknown key {brief(unknown[0])} (keys: {', '.join(TASK_KEYS)})")
    for key in ("instruction", "goal"):
        if item.get(key) in (None, "", []):
            raise ValueError(f"missing {key!r}")
    scene = _parse_scene(item.get("scene", DEFAULT_SCENE))
    task = TaskSpec(
        instruction=_parse_instruction(item["instruction"]),
        goal=_parse_predicates(item["goal"], "goal"),
        scene=scene,
        objects=_parse_objects(item.get("objects")),
        initial=_parse_predicates(item.get("initial") or [], "initial"),
        family=_parse_family(item.get("family")),
        max_skills=_parse_max_skills(item.get("max_skills")),
    )
    _validate(task)
    return task


def _parse_instruction(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"instruction must be non-empty text, got {brief(value)}")
    if len(value) > MAX_INSTRUCTION_CHARS:
        raise ValueError(f"instruction is {len(value)} characters; at most {MAX_INSTRUCTION_CHARS}")
    return " ".join(value.split())


def _parse_scene(value: Any) -> str:
    if not isinstance(value, str) or value not in SCENES:
        raise ValueError(f"unknown scene {brief(value)} (scenes: {', '.join(SCENES)})")
    return value


def _parse_family(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"family must be text, got {brief(value)}")
    return value


def _parse_max_skills(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SKILLS_CAP:
        raise ValueError(
            f"max_skills must be an integer from 1 to {MAX_SKILLS_CAP}, got {brief(value)}"
        )
    return value


def _text_list(value: Any, key: str) -> list[str]:
    """A list of strings from a YAML list (or one comma-separated string)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise ValueError(f"{key} must be a list of text entries, got {brief(value)}")
    return items


def _parse_predicates(value: Any, key: str) -> tuple[Predicate, ...]:
    items = _text_list(value, key)
    if not items:
        return ()
    texts = [t for t in split_top_level(", ".join(items)) if t.strip()]
    preds = tuple(parse_predicate(t) for t in texts)
    seen = set()
    for pred in preds:
        if pred in seen:
            raise ValueError(f"{pred} appears twice in {key}")
        seen.add(pred)
    return preds


def _parse_objects(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = _text_list(value, "objects")
    names = [normalize_name(n) for t in items for n in t.split(",") if n.strip()]
    for i, name in enumerate(names):
        object_type(name)
        if name in names[:i]:
            raise ValueError(f"{name!r} is listed twice in objects")
    return tuple(names)


# ---------------------------------------------------------------------------------------------
# Validation


def _validate(task: TaskSpec) -> None:
    places, areas = SCENE_PLACES[task.scene], SCENE_AREAS[task.scene]
    for pred in (*task.goal, *task.initial):
        check_predicate(pred, places, areas)
    for pred in task.initial:
        if pred.name not in INITIAL_PREDICATES:
            raise ValueError(f"initial cannot use {pred.name}() ({pred}); list what holds instead")
    if task.scene == "tabletop":
        check_tabletop_capacity(task.all_objects)
    check_arrangement(task.initial, task.scene, "initial", limits=True)
    check_goal(task.goal, task.scene)


# ---------------------------------------------------------------------------------------------
# Dumping


def dump_tasks(tasks: list[TaskSpec], header: str = "") -> str:
    """YAML text for ``tasks`` (one flow list per line) that :func:`parse_tasks_yaml` reads back."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for task in tasks:
        for i, (key, value) in enumerate(task.to_dict().items()):
            text = _yaml_value(value, quote=key in ("goal", "initial"))
            lines.append(f"{'- ' if i == 0 else '  '}{key}: {text}")
    return "\n".join(lines) + "\n"


def _yaml_value(value: Any, quote: bool = False) -> str:
    """One YAML value; ``quote`` forces double quotes on list items (used for predicates)."""
    if isinstance(value, list):
        items = (json.dumps(v) if quote else _yaml_scalar(v, flow=True) for v in value)
        return "[" + ", ".join(items) + "]"
    if isinstance(value, str):
        return _yaml_scalar(value, flow=False)
    return str(value)


def _yaml_scalar(text: str, flow: bool) -> str:
    """``text`` unquoted when YAML reads it back unchanged, else JSON-quoted."""
    plain_ok = not (flow and any(c in text for c in ",[]{}"))
    if plain_ok:
        try:
            plain_ok = yaml.safe_load(f"[{text}]" if flow else text) == ([text] if flow else text)
        except yaml.YAMLError:
            plain_ok = False
    return text if plain_ok else json.dumps(text)
