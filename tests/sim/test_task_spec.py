"""Task-spec parsing, validation, loading and dumping (sim/tasks/spec.py)."""

from __future__ import annotations

import pytest

from sim.tasks import BUILTIN_SUITES, dump_tasks, load_tasks, parse_tasks, parse_tasks_yaml
from sim.tasks.predicates import Predicate

EXAMPLE = """
- instruction: put the red block in the blue bowl      # required
  goal: [in(red block, blue bowl)]                     # required: all must hold at the end
  scene: tabletop                                      # optional, default tabletop
  objects: [red block, blue bowl, green block]         # optional: exactly these are placed
  initial: [in(green block, blue bowl)]                # optional: arranged at reset
  family: single                                       # optional label for per-family results
  max_skills: 8                                        # optional cap for the planner
"""


def _parse_one(**item) -> object:
    item.setdefault("instruction", "do it")
    return parse_tasks([item], source="tasks.yaml")[0]


def test_example_parses():
    (task,) = parse_tasks_yaml(EXAMPLE, source="tasks.yaml")
    assert task.instruction == "put the red block in the blue bowl"
    assert task.goal == (Predicate("in", ("red block", "blue bowl")),)
    assert task.scene == "tabletop"
    assert task.objects == ("red block", "blue bowl", "green block")
    assert task.initial == (Predicate("in", ("green block", "blue bowl")),)
    assert task.family == "single"
    assert task.max_skills == 8
    assert task.all_objects == ("red block", "green block", "blue bowl")


def test_defaults_and_all_objects_from_predicates():
    task = _parse_one(goal=["on(Yellow  Block , red block)"], initial=["at(blue bowl, middle)"])
    assert task.scene == "tabletop"
    assert task.objects is None and task.family is None and task.max_skills is None
    assert str(task.goal[0]) == "on(yellow block, red block)"
    assert task.all_objects == ("red block", "yellow block", "blue bowl")


@pytest.mark.parametrize(
    "goal_yaml",
    [
        "[in(red block, blue bowl), not(on(green block, red block))]",
        "['in(red block, blue bowl)', 'not(on(green block, red block))']",
        "\n    - in(red block, blue bowl)\n    - not(on(green block, red block))",
        "in(red block, blue bowl), not(on(green block, red block))",
    ],
)
def test_goal_list_styles_agree(goal_yaml):
    (task,) = parse_tasks_yaml(f"- instruction: x\n  goal: {goal_yaml}\n")
    assert [str(p) for p in task.goal] == [
        "in(red block, blue bowl)",
        "not(on(green block, red block))",
    ]


def test_to_dict_and_dump_round_trip():
    tasks = parse_tasks_yaml(EXAMPLE) + [
        _parse_one(
            instruction="bring it: now, please",
            goal=["at(red block, table)", "robot_at(counter)"],
            scene="mobile",
            initial=["at(red block, counter)"],
        )
    ]
    assert parse_tasks([t.to_dict() for t in tasks]) == tasks
    assert parse_tasks_yaml(dump_tasks(tasks, header="a header")) == tasks


BAD_ITEMS = [
    ({"goal": ["holding(red block)"]}, "missing 'instruction'"),
    ({"instruction": "x"}, "missing 'goal'"),
    ({"instruction": "x", "goal": []}, "missing 'goal'"),
    ({"instruction": "x", "goal": ["holding(red block)"], "goals": []}, "unknown key 'goals'"),
    ({"instruction": "x", "goal": ["holding(magenta block)"]}, "unknown colour 'magenta'"),
    ({"instruction": "x", "goal": ["holding(red ball)"]}, "unknown object type 'ball'"),
    ({"instruction": "x", "goal": ["holding(thing)"]}, "unknown object 'thing'"),
    ({"instruction": "x", "goal": ["at(red block, top corner)"]}, "unknown place 'top corner'"),
    ({"instruction": "x", "goal": ["at(red block, table)"]}, "unknown place 'table'"),
    (
        {"instruction": "x", "goal": ["at(red block, kitchen)"], "scene": "mobile"},
        "unknown area 'kitchen'",
    ),
    ({"instruction": "x", "goal": ["robot_at(table)"]}, "needs the mobile scene"),
    ({"instruction": "x", "goal": ["inside(red block, blue bowl)"]}, "unknown predicate 'inside'"),
    ({"instruction": "x", "goal": ["in(red block)"]}, "wrong number of arguments"),
    ({"instruction": "x", "goal": ["holding(red block, blue block)"]}, "holding takes 1"),
    ({"instruction": "x", "goal": ["in red block"]}, "cannot parse predicate"),
    ({"instruction": "x", "goal": ["in(red block, blue bowl"]}, "unbalanced parentheses"),
    ({"instruction": "x", "goal": ["not(not(holding(red block)))"]}, "nested not"),
    (
        {"instruction": "x", "goal": ["in(red block, green block)"]},
        "second argument must be a bowl",
    ),
    ({"instruction": "x", "goal": ["on(red block, blue bowl)"]}, "use in(red block, blue bowl)"),
    ({"instruction": "x", "goal": ["holding(blue bowl)"]}, "first argument must be a block"),
    ({"instruction": "x", "goal": ["holding(red block)"], "scene": "kitchen"}, "unknown scene"),
    ({"instruction": "x", "goal": ["holding(red block)"], "max_skills": 0}, "max_skills"),
    ({"instruction": "x", "goal": ["holding(red block)"], "max_skills": "8"}, "max_skills"),
    ({"instruction": "x", "goal": ["holding(red block)"], "max_skills": True}, "max_skills"),
    ({"instruction": "x", "goal": ["holding(red block)"], "family": 3}, "family must be text"),
    ({"instruction": "", "goal": ["holding(red block)"]}, "missing 'instruction'"),
    ({"instruction": "x", "goal": [3]}, "goal must be a list of text"),
    (
        {"instruction": "x", "goal": ["holding(red block)"], "objects": ["red block", "red block"]},
        "listed twice",
    ),
    (
        {"instruction": "x", "goal": ["holding(red block)", "holding(red block)"]},
        "appears twice",
    ),
    (
        {
            "instruction": "x",
            "goal": ["holding(red block)"],
            "objects": [f"{c} block" for c in ("green", "blue", "yellow", "pink")],
        },
        "at most 4 blocks",
    ),
    (
        {
            "instruction": "x",
            "goal": ["holding(red block)"],
            "initial": ["not(holding(red block))"],
        },
        "initial cannot use not()",
    ),
]

BAD_INITIAL = [
    (["holding(red block)", "holding(green block)"], "holding both"),
    (["in(red block, blue bowl)", "in(red block, green bowl)"], "placed twice"),
    (["in(red block, blue bowl)", "at(red block, middle)"], "placed twice"),
    (["on(red block, red block)"], "on itself"),
    (["on(red block, green block)", "on(green block, red block)"], "cycle"),
    (["holding(red block)", "in(red block, blue bowl)"], "is held"),
    (["holding(red block)", "on(green block, red block)"], "is held"),
    (["on(red block, blue block)", "on(green block, blue block)"], "are on 'blue block'"),
    (
        [f"in({c} block, blue bowl)" for c in ("red", "green", "yellow")]
        + ["on(pink block, red block)"],
        "4 blocks in 'blue bowl'",
    ),
    (
        ["on(red block, green block)", "on(green block, blue block)", "on(blue block, pink block)"],
        "taller than 3",
    ),
    (["at(red block, middle)", "at(blue bowl, middle)"], "taken by both"),
]

BAD_MOBILE_INITIAL = [
    (["robot_at(table)", "robot_at(counter)"], "robot is at both"),
    (["in(red block, blue bowl)", "at(red block, table)", "at(blue bowl, counter)"], "rests with"),
    (["on(red block, green block)", "at(red block, table)", "at(green block, counter)"], "rests"),
    (["at(red block, table)", "at(red block, counter)"], "rests with"),
]


@pytest.mark.parametrize("item,expected", BAD_ITEMS)
def test_bad_item_messages(item, expected):
    _assert_error([{"instruction": "fine", "goal": ["holding(red block)"]}, item], 2, expected)


@pytest.mark.parametrize("initial,expected", BAD_INITIAL)
def test_contradictory_initial(initial, expected):
    item = {"instruction": "x", "goal": ["at(red block, middle)"], "initial": initial}
    _assert_error([item], 1, "contradictory initial: ")
    _assert_error([item], 1, expected)


@pytest.mark.parametrize("initial,expected", BAD_MOBILE_INITIAL)
def test_contradictory_mobile_initial(initial, expected):
    item = {"instruction": "x", "goal": ["holding(cyan block)"], "scene": "mobile"}
    _assert_error([{**item, "initial": initial}], 1, expected)


@pytest.mark.parametrize(
    "goal,expected",
    [
        (["in(red block, blue bowl)", "not(in(red block, blue bowl))"], "contradictory goal"),
        (["holding(red block)", "holding(green block)"], "holding both"),
        (["on(red block, green block)", "on(green block, red block)"], "cycle"),
        (["holding(red block)", "in(red block, blue bowl)"], "is held"),
    ],
)
def test_contradictory_goal(goal, expected):
    _assert_error([{"instruction": "x", "goal": goal}], 1, expected)


def test_consistent_arrangements_pass():
    task = _parse_one(
        goal=["on(blue block, red block)"],
        initial=[
            "in(red block, blue bowl)",
            "on(green block, red block)",
            "on(yellow block, green block)",
            "at(blue bowl, top left corner)",
            "at(blue block, middle)",
        ],
    )
    assert len(task.initial) == 5
    mobile = _parse_one(
        goal=["at(red block, table)"],
        scene="mobile",
        initial=["in(red block, blue bowl)", "at(red block, counter)", "robot_at(table)"],
    )
    assert mobile.scene == "mobile"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("- instruction: [unclosed\n", "tasks.yaml: malformed YAML"),
        ("instruction: x\ngoal: [holding(red block)]\n", "expected a YAML list of tasks, got dict"),
        ("", "expected a YAML list of tasks, got nothing"),
        ("[]", "task list is empty"),
        ("- just text\n", "tasks.yaml item 1: a task must be a mapping"),
    ],
)
def test_file_level_errors(text, expected):
    with pytest.raises(ValueError) as info:
        parse_tasks_yaml(text, source="tasks.yaml")
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_error_names_item_and_instruction():
    bad = (
        "- instruction: put the red block in the blue bowl\n  goal: [in(magenta block, blue bowl)]"
    )
    text = EXAMPLE + bad
    with pytest.raises(ValueError) as info:
        parse_tasks_yaml(text, source="tasks.yaml")
    assert str(info.value) == (
        "tasks.yaml item 2 ('put the red block in the blue bowl'): unknown colour 'magenta' in "
        "'magenta block' (colours: red, green, blue, yellow, orange, purple, pink, cyan)"
    )


def test_load_builtin_path_and_unknown(tmp_path):
    assert len(BUILTIN_SUITES) == 8 and BUILTIN_SUITES[-1] == "language"
    assert load_tasks("single")[0].family == "single"
    path = tmp_path / "mine.yaml"
    path.write_text(EXAMPLE)
    assert load_tasks(path) == load_tasks(str(path)) == parse_tasks_yaml(EXAMPLE)
    with pytest.raises(ValueError, match="built-in suite.*single, nouns, verbs"):
        load_tasks("no_such_suite")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- instruction: x\n  goal: [holding(red block)]\n  colour: red\n")
    with pytest.raises(ValueError, match=r"bad\.yaml item 1 \('x'\): unknown key 'colour'"):
        load_tasks(bad)


def _assert_error(items: list, index: int, expected: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_tasks(items, source="tasks.yaml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"tasks.yaml item {index}"), message
    assert expected in message, message
