"""Reading free-form instructions with the task language: names and goals."""

import random

from sim.tasks import BUILTIN_SUITES, load_tasks
from sim.tasks.language import go_to
from sim.tasks.reader import canonical, named, read_goal, resolve, speaks_of_blocks


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


def test_goals_read_back_from_every_suite_sentence_they_can_say():
    """Every reading of a built-in task's instruction is that task's goal (negated goals,
    which need the scene, are left out), and the simpler suites are read in full."""
    for suite in BUILTIN_SUITES:
        read = 0
        for task in load_tasks(suite):
            reading = read_goal(task.instruction)
            if reading is None:
                continue
            read += 1
            goal = set(reading.goal) or {
                f"in({b}, {reading.every_block})" for b in task.all_objects if b.endswith("block")
            }
            assert goal == {str(p) for p in task.goal if not p.negated}, task
        if suite in ("single", "nouns", "verbs", "structured", "embodiment", "mobile"):
            assert read == len(load_tasks(suite)), suite


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
