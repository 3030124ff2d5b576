"""A task for a free-form instruction: a scene that fits it and, where the language allows,
its goal.

``vla-run instruction="stack the blue block on the red block"`` should not run in a scene
without those blocks. The instruction is read with the task language
(:mod:`sim.tasks.reader`): the objects it names are placed in a scene of their own (tabletop,
or mobile when it names an area), and the goal it states, if the reader can tell, is checked
at the end. Where the reader cannot tell and SayCan plans, the goal is read from the
closest trained instruction that the Say finds for the wording (:mod:`vla.planning.sentences`),
and the message names that instruction. With ``task_index`` the user pins the scene of that
task instead; a one-line message then says what the scene holds and which named objects it
lacks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from sim.geometry import COLORS
from sim.tasks import TaskSpec, load_tasks
from sim.tasks.reader import Reading, named, normalize, read_goal, speaks_of_blocks
from sim.tasks.spec import parse_task

FREEFORM = "freeform"
EVERY_BLOCK_COUNT = 3  # blocks placed for "put all the blocks ..." when none is named


@dataclass(frozen=True)
class InstructionTask:
    """The task to run, whether its goal is known, and what to tell the user about it."""

    task: TaskSpec
    goal_known: bool
    message: str
    read_as: str | None = None  # the closest trained instruction whose goal was read


def instruction_task(
    instruction: str | None,
    tasks: str,
    task_index: int | None,
    planner: str,
    closest: Callable[[str], str | None] | None = None,
) -> InstructionTask:
    """The task ``vla-run`` runs (see the module docstring); ValueError (one line) on input
    that cannot run: a task_index out of range, a goal-less instruction without SayCan, or
    an instruction naming more objects than a scene holds. ``closest``: the trained
    instruction closest to a wording, or None (the Say's, with SayCan)."""
    suite = load_tasks(tasks)
    if task_index is not None and not 0 <= task_index < len(suite):
        raise ValueError(f"task_index={task_index} out of range: {tasks} has {len(suite)} tasks")
    if instruction is None:
        return InstructionTask(suite[task_index or 0], True, "")
    if not instruction.strip():
        raise ValueError(
            'instruction is empty: write one (instruction="put the red block in the blue '
            'bowl"), or leave it out to run a task of the suite'
        )
    wanted = normalize(instruction)
    for task in suite:
        if normalize(task.instruction) == wanted and task_index in (None, suite.index(task)):
            return InstructionTask(task, True, "")
    reading, read_as = read_goal(wanted), None
    if reading is None and closest is not None:
        reading, read_as = _closest_reading(wanted, closest)
    if task_index is not None:
        result = _pinned(wanted, reading, suite[task_index], tasks, task_index)
    else:
        result = _own_scene(wanted, reading, suite[0], tasks)
    if result.goal_known and read_as is not None:
        message = f'{result.message}; goal read as that of "{read_as}"'
        result = replace(result, message=message, read_as=read_as)
    if not result.goal_known and planner != "saycan":
        raise ValueError(
            f"cannot tell the goal of {instruction!r}, and planner={planner} needs one: use "
            f"planner=saycan, or an instruction of {tasks!r}"
        )
    return result


def _closest_reading(text: str, closest: Callable[[str], str | None]):
    """The reading of the trained instruction closest to ``text`` and that instruction, or
    (None, None): also when ``text`` speaks of blocks in general and it does not ("tidy the
    blocks away ..." read as "move the block ...": the goal would leave blocks out)."""
    near = closest(text)
    if near is None or (speaks_of_blocks(text) and not speaks_of_blocks(near)):
        return None, None
    reading = read_goal(near)
    return reading, near if reading is not None else None


def _pinned(text: str, reading: Reading | None, scene: TaskSpec, tasks: str, index: int):
    objects = scene.all_objects
    missing = [o for o in named(text)[0] if o not in objects]
    message = f"scene of {tasks} task {index} ({scene.scene}): {', '.join(objects)}"
    if missing:
        message += f"; it has no {', '.join(missing)}"
    base = replace(scene, instruction=text, goal=(), family=FREEFORM, max_skills=None)
    if reading is None or missing:
        return InstructionTask(base, False, message)
    goal = goal_of(reading, objects)
    task = _parsed(base, goal, objects, scene.initial, scene.scene)
    return InstructionTask(task or base, task is not None, message)


def _own_scene(text: str, reading: Reading | None, fallback: TaskSpec, tasks: str):
    said, _, areas = named(text)
    extra = reading.extra if reading else ()
    objects = list(dict.fromkeys([*said, *extra]))
    scene = reading.scene if reading else ("mobile" if areas else "tabletop")
    general = (reading and reading.every_block) or (objects and speaks_of_blocks(text))
    if general and not any(o.endswith("block") for o in objects):
        used = {o.split()[0] for o in objects}
        spare = [c for c in COLORS if c not in used][:EVERY_BLOCK_COUNT]
        objects = [f"{c} block" for c in spare] + objects
    if not objects:
        if areas and fallback.scene != "mobile":  # "go to the counter": a scene with areas
            fallback, tasks = load_tasks("mobile")[0], "mobile"
        base = replace(fallback, instruction=text, goal=(), family=FREEFORM, max_skills=None)
        message = (
            f"the instruction names no object; scene of {tasks} task 0: "
            f"{', '.join(fallback.all_objects)}"
        )
        if reading is not None:  # "go to the counter": its goal, from where the reading starts
            initial = [p for p in fallback.initial if p.name != "robot_at"] + [*reading.initial]
            task = _parsed(base, reading.goal, fallback.all_objects, initial, fallback.scene)
            return InstructionTask(task or base, task is not None, message)
        return InstructionTask(base, False, message)
    blocks = [o for o in objects if o.endswith("block")]
    if len(blocks) > 4 or len(objects) - len(blocks) > 4:
        raise ValueError(
            f"the instruction names {len(blocks)} blocks and {len(objects) - len(blocks)} bowls; "
            "a scene holds at most 4 of each"
        )
    base = TaskSpec(text, (), scene, tuple(objects), family=FREEFORM)
    goal = goal_of(reading, objects) if reading else ()
    task = _parsed(base, goal, objects, reading.initial, scene) if reading else None
    message = f"scene built from the instruction ({scene}): {', '.join(objects)}"
    added = [o for o in extra if o not in said]
    if task is not None and added:
        message += f"; added for its goal: {', '.join(added)}"
    return InstructionTask(task or base, task is not None, message)


def goal_of(reading: Reading, objects) -> tuple[str, ...]:
    """The goal texts of ``reading`` in a scene of ``objects`` (every block into a bowl: the
    scene's blocks, but the one left out)."""
    if reading.every_block:
        bowl, left_out = reading.every_block, reading.excluded
        goal = [f"in({o}, {bowl})" for o in objects if o.endswith("block") and o != left_out]
        return (*goal, *([f"not(in({left_out}, {bowl}))"] if left_out else []))
    return reading.goal


def _parsed(base: TaskSpec, goal, objects, initial, scene) -> TaskSpec | None:
    """The task with ``goal``, or None when the goal does not fit the scene."""
    item = {"instruction": base.instruction, "goal": list(goal), "scene": scene}
    item.update({"objects": list(objects), "initial": [str(p) for p in initial]})
    item["family"] = FREEFORM
    try:
        return parse_task(item)
    except ValueError:
        return None
