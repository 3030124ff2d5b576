"""Reading free-form instructions with the task language: names and goals."""

import random
import re

from sim.geometry import TABLETOP_PLACES
from sim.tasks import BUILTIN_SUITES, load_tasks
from sim.tasks.language import go_to
from sim.tasks.reader import canonical, named, read_goal, resolve, speaks_of_blocks
from vla.evaluation.freeform import goal_of


def test_noun_phrases_resolve_to_canonical_names_or_nothing():
    assert resolve("the crimson cube") == "red block"
    assert resolve("the bowl that is the colour of the sky") == "blue bowl"
    assert resolve("the far left corner") == "top left corner"
    assert resolve("the kitchen counter") == "counter"
    assert resolve("the red block and the blue bowl") is None
    assert named("put the azure dish next to the lime brick at the center") == (
        ["blue bowl", "green block"],
        ["middle"],
        [],
    )


def _shape(goal, named_objects) -> set[str]:
    """Goal texts with each block or bowl the instruction does not name as ``X block`` or
    ``X bowl``: the reader adds objects of its own colours where the suite's task has others."""
    name = re.compile(r"\b\w+ (block|bowl)\b")
    return {name.sub(lambda m: m[0] if m[0] in named_objects else f"X {m[1]}", g) for g in goal}


def test_goals_read_back_from_every_suite_sentence_they_can_say():
    """Every reading of a built-in task's instruction is that task's goal, up to the blocks
    the instruction does not name (a swap the reader starts at places of its own is left
    out), and the simpler suites are read in full."""
    for suite in BUILTIN_SUITES:
        read = 0
        for task in load_tasks(suite):
            reading = read_goal(task.instruction)
            if reading is None:
                continue
            read += 1
            if any(p in fact for fact in reading.initial for p in TABLETOP_PLACES):
                continue
            names = {*named(task.instruction)[0], reading.excluded}
            blocks = [b for b in task.all_objects if b.endswith("block")]
            goal = goal_of(reading, blocks) if reading.every_block else reading.goal
            assert _shape(goal, names) == _shape(map(str, task.goal), names), task
        if suite in ("single", "nouns", "verbs", "structured", "embodiment", "mobile"):
            assert read == len(load_tasks(suite)), suite
        if suite == "language":
            assert read >= 0.8 * len(load_tasks(suite))


def test_changes_are_read_with_the_start_their_goal_needs():
    """Negation, exclusion, clearing, swaps, transfers, emptying, returns and references by
    relation: the goal, a start where it does not hold yet, and the blocks it needs."""
    cases = {
        "ensure that the green block is no longer in the red bowl": (
            ("not(in(green block, red bowl))",), ("in(green block, red bowl)",), ()
        ),
        "make sure nothing is on the green block": (
            ("not(on(red block, green block))",), ("on(red block, green block)",), ("red block",)
        ),
        "swap the blocks in the red bowl and the blue bowl": (
            ("in(green block, blue bowl)", "in(yellow block, red bowl)"),
            ("in(green block, red bowl)", "in(yellow block, blue bowl)"),
            ("green block", "yellow block"),
        ),
        "swap the red block and the blue block": (
            ("at(red block, bottom right corner)", "at(blue block, top left corner)"),
            ("at(red block, top left corner)", "at(blue block, bottom right corner)"),
            (),
        ),
        "empty the red bowl onto the counter": (
            ("at(green block, counter)",),
            ("at(red bowl, table)", "in(green block, red bowl)"),
            ("green block",),
        ),
        "put the block in the yellow bowl at the top-left corner": (
            ("at(red block, top left corner)",), ("in(red block, yellow bowl)",), ("red block",)
        ),
        "place the block you are holding on the blue block": (
            ("on(red block, blue block)",), ("holding(red block)",), ("red block",)
        ),
        "put the green block in the bowl that is not red": (
            ("in(green block, blue bowl)",), (), ("red bowl", "blue bowl")
        ),
    }  # fmt: skip
    for text, (goal, initial, extra) in cases.items():
        reading = read_goal(text)
        assert (reading.goal, reading.initial, reading.extra) == (goal, initial, extra), text
    exclusion = read_goal("put every block except the crimson one in the blue bowl")
    assert (exclusion.every_block, exclusion.excluded) == ("blue bowl", "red block")
    assert exclusion.extra == ("red block", "green block", "yellow block")
    assert read_goal("take the red block back to the counter").initial == ("at(red block, table)",)
    side = read_goal("move the block further away to the top left corner").initial
    assert side == ("at(red block, top right corner)", "at(green block, bottom left corner)")
    assert read_goal("put the red block in the bowl").extra == ("green bowl",)  # the only one
    assert read_goal("put the red block in the bowl, then in the blue bowl") is None
    assert read_goal("swap the red block and the red block") is None
    assert read_goal("make sure nothing is on the blue bowl") is None


def test_unreadable_instructions_have_no_goal():
    assert read_goal("make the robot dance") is None
    assert (
        read_goal("put the red block in the blue bowl and the red block on the green block") is None
    )


def test_interchangeable_prepositions_and_quantifiers_read_alike():
    """The tables say "into" in one template and "in" in another; a person mixes them."""
    assert read_goal("drop the red block in the blue bowl").goal == ("in(red block, blue bowl)",)
    assert read_goal("put the red block inside of the blue bowl").goal == (
        "in(red block, blue bowl)",
    )
    assert read_goal("set the red block onto the blue block").goal == ("on(red block, blue block)",)
    # the target's type decides the goal, whichever preposition a person puts before it
    for text, goal in (
        ("relocate the red block to the blue bowl", "in(red block, blue bowl)"),
        ("relocate the red block into the blue bowl", "in(red block, blue bowl)"),
        ("carry the red block onto the green block", "on(red block, green block)"),
        ("carry the red block in the top left corner", "at(red block, top left corner)"),
    ):
        assert read_goal(text).goal == (goal,), text
    steps = "first relocate the red block into the blue bowl, then pick up the green block"
    assert read_goal(steps).goal == ("in(red block, blue bowl)", "holding(green block)")
    assert read_goal("relocate the red block into the robot") is None
    alike = ("put every block in the green bowl", "put the blocks in the green bowl")
    for text in (*alike, "put all the blocks in the green bowl", "place each block into it"):
        assert canonical(text).startswith(("put all the blocks in", "place all the blocks in"))
    for text in alike:
        assert read_goal(text).every_block == "green bowl", text
    assert speaks_of_blocks("tidy the cubes away") and speaks_of_blocks("gather every block")
    assert not speaks_of_blocks("put the red block in the blue bowl")


def test_going_to_an_area_reads_as_the_robot_ending_there():
    """Every ``go_to`` task (bare, or with a pick there) is read in full, in a start where
    its goal does not already hold."""
    rng = random.Random(0)
    for _ in range(60):
        task = go_to(rng)
        reading = read_goal(task.instruction)
        assert reading is not None, task.instruction
        assert set(reading.goal) == {str(p) for p in task.goal}, task.instruction
        assert reading.scene == "mobile"
        area = next(g for g in reading.goal if g.startswith("robot_at("))
        assert area not in reading.initial and reading.initial[0].startswith("robot_at(")
    held = read_goal("make your way to the countertop, then grab the crimson cube there")
    assert held.initial == ("robot_at(table)", "at(red block, counter)")
    assert read_goal("go to the counter and put the red block in the blue bowl") is None
    assert read_goal("go to the kitchen") is None  # no such area
