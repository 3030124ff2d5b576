"""A free-form instruction gets a scene holding what it names and, where the task language
can tell, its goal."""

import random

import pytest

from sim.tasks import all_hold, apply_skill, oracle_plan, symbolic_world
from sim.tasks.language import CONSTRUCTIONS
from vla.evaluation.freeform import instruction_task


def test_named_objects_make_the_scene_and_the_goal_is_read():
    chosen = instruction_task(
        "stack the blue block on the red block", "long_horizon", None, "saycan"
    )
    assert chosen.goal_known and [str(g) for g in chosen.task.goal] == ["on(blue block, red block)"]
    assert set(chosen.task.all_objects) == {"blue block", "red block"}
    assert chosen.task.scene == "tabletop" and "built from the instruction" in chosen.message


def test_an_area_makes_a_mobile_scene_with_the_start_the_words_imply():
    chosen = instruction_task(
        "bring the red block from the table to the counter", "single", None, "oracle"
    )
    assert chosen.task.scene == "mobile"
    assert [str(p) for p in chosen.task.initial] == ["at(red block, table)"]
    assert [str(g) for g in chosen.task.goal] == ["at(red block, counter)"]


def test_every_block_gets_blocks_to_move_when_none_is_named():
    chosen = instruction_task("put all the blocks in the red bowl", "single", None, "saycan")
    blocks = [o for o in chosen.task.all_objects if o.endswith("block")]
    assert len(blocks) == 3 and all(
        g.args == (b, "red bowl") for g, b in zip(chosen.task.goal, blocks)
    )


def test_blocks_spoken_of_in_general_are_placed_even_without_a_goal():
    chosen = instruction_task("tidy the blocks away into the green bowl", "single", None, "saycan")
    assert not chosen.goal_known
    assert len([o for o in chosen.task.all_objects if o.endswith("block")]) == 3
    assert "green bowl" in chosen.task.all_objects


def test_an_area_without_objects_runs_in_a_mobile_scene():
    """ "go to the counter" has a goal there, from the other area; "wait by the counter"
    has none."""
    chosen = instruction_task("go to the counter", "long_horizon", None, "saycan")
    assert chosen.task.scene == "mobile" and chosen.goal_known
    assert [str(p) for p in chosen.task.goal] == ["robot_at(counter)"]
    assert [str(p) for p in chosen.task.initial if p.name == "robot_at"] == ["robot_at(table)"]
    assert chosen.message.startswith("the instruction names no object; scene of mobile task 0")
    waiting = instruction_task("wait by the counter", "long_horizon", None, "saycan")
    assert waiting.task.scene == "mobile" and not waiting.goal_known


def test_a_pinned_scene_says_what_it_holds_and_what_it_lacks():
    chosen = instruction_task("stack the blue block on the red block", "long_horizon", 0, "saycan")
    assert not chosen.goal_known and chosen.task.goal == ()
    assert chosen.message.startswith("scene of long_horizon task 0 (tabletop): ")
    assert chosen.message.endswith("it has no blue block, red block")
    held = instruction_task("put the red block in the blue bowl", "long_horizon", 3, "saycan")
    assert (
        held.goal_known
        and held.task.all_objects == instruction_task(None, "long_horizon", 3, "x").task.all_objects
    )


def test_suite_instructions_keep_their_task_and_bad_input_is_a_clear_error():
    first = instruction_task(None, "structured", None, "oracle").task
    assert instruction_task(first.instruction, "structured", None, "oracle").task == first
    with pytest.raises(ValueError, match="cannot tell the goal"):
        instruction_task("make the robot dance", "single", None, "oracle")
    assert not instruction_task("make the robot dance", "single", None, "saycan").goal_known
    with pytest.raises(ValueError, match="instruction is empty"):
        instruction_task("  ", "single", None, "saycan")
    with pytest.raises(ValueError, match="out of range"):
        instruction_task("x", "single", 99, "saycan")
    with pytest.raises(ValueError, match="at most 4"):
        text = "put the red block, green block, blue block, pink block and cyan block in it"
        instruction_task(text, "single", None, "saycan")


def test_objects_a_goal_needs_but_the_instruction_does_not_name_are_added_and_said():
    chosen = instruction_task(
        "swap the blocks in the red bowl and the blue bowl", "single", None, "saycan"
    )
    assert set(chosen.task.all_objects) == {"red bowl", "blue bowl", "green block", "yellow block"}
    assert [str(p) for p in chosen.task.initial] == [
        "in(green block, red bowl)",
        "in(yellow block, blue bowl)",
    ]
    assert chosen.message.endswith("; added for its goal: green block, yellow block")


@pytest.mark.parametrize("construction", sorted(CONSTRUCTIONS))
def test_each_construction_gets_a_scene_where_its_goal_is_still_to_reach(construction):
    """The instructions a construction says, read with their goal, in a start where the goal
    does not hold and the scripted plan reaches it (blocks the instruction refers to but does
    not name are added)."""
    rng = random.Random(3)
    for _ in range(12):
        said = CONSTRUCTIONS[construction](rng).instruction
        chosen = instruction_task(said + ".", "language", None, "saycan")  # not the suite task
        assert chosen.goal_known and chosen.task.instruction == said, said
        state = symbolic_world(chosen.task)
        assert not all_hold(chosen.task.goal, state), said
        for skill in oracle_plan(chosen.task, state)[:-1]:
            state = apply_skill(state, skill)
        assert all_hold(chosen.task.goal, state), said


def test_a_wording_the_reader_cannot_tell_is_read_as_the_closest_trained_instruction():
    """With SayCan's trained instructions, "stash ... in the cyan dish" (no template of the
    reader says "stash") has the goal of "put ... in the cyan bowl", and the message says so;
    a wording no trained instruction matches stays without a goal."""
    from vla.planning.sentences import TrainedInstructions

    trained = TrainedInstructions(
        [
            "put the red block in the green bowl",
            "bring the red block to the counter",
            "move the block into the red bowl",
        ]
    )
    chosen = instruction_task(
        "stash the purple block in the cyan dish", "single", None, "saycan", trained.nearest
    )
    assert chosen.goal_known and [str(g) for g in chosen.task.goal] == [
        "in(purple block, cyan bowl)"
    ]
    assert chosen.read_as == "put the purple block in the cyan bowl"
    assert chosen.message.endswith('goal read as that of "put the purple block in the cyan bowl"')
    assert (
        instruction_task(
            "stash the purple block in the cyan dish", "single", None, "saycan"
        ).read_as
        is None
    )  # without the Say's instructions: as before, no goal
    carried = instruction_task(
        "take the pink block to the counter", "single", None, "saycan", trained.nearest
    )
    assert carried.task.scene == "mobile" and [str(g) for g in carried.task.goal] == [
        "at(pink block, counter)"
    ]
    lone = instruction_task("juggle the red block", "single", None, "saycan", trained.nearest)
    assert not lone.goal_known and lone.read_as is None
    tidy = "tidy the blocks away into the green bowl"  # closest: "move the block into ..."
    assert trained.nearest(tidy) == "move the block into the green bowl"
    general = instruction_task(tidy, "single", None, "saycan", trained.nearest)
    assert not general.goal_known and general.read_as is None  # not one block for all
    assert len([o for o in general.task.all_objects if o.endswith("block")]) == 3
