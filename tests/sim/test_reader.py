"""Reading free-form instructions with the task language: names and goals."""

from sim.tasks import BUILTIN_SUITES, load_tasks
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
    alike = ("put every block in the green bowl", "put the blocks in the green bowl")
    for text in (*alike, "put all the blocks in the green bowl", "place each block into it"):
        assert canonical(text).startswith(("put all the blocks in", "place all the blocks in"))
    for text in alike:
        assert read_goal(text).every_block == "green bowl", text
    assert speaks_of_blocks("tidy the cubes away") and speaks_of_blocks("gather every block")
    assert not speaks_of_blocks("put the red block in the blue bowl")
