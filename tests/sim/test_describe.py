"""Scene facts: what the planner is told of the starting arrangement, the same from the
symbolic world and from the simulator."""

from sim.env import VLAEnv
from sim.tasks import parse_tasks, symbolic_world
from sim.tasks.describe import scene_facts

TABLETOP = {
    "instruction": "clear out the blue bowl",
    "goal": ["not(in(red block, blue bowl))"],
    "objects": ["red block", "green block", "yellow block", "blue bowl"],
    "initial": ["in(red block, blue bowl)", "on(green block, yellow block)"],
}
MOBILE = {
    "instruction": "bring the red block to the counter",
    "goal": ["at(red block, counter)"],
    "scene": "mobile",
    "objects": ["red block", "blue bowl"],
    "initial": ["at(red block, table)", "at(blue bowl, counter)", "robot_at(counter)"],
}
PLACES = {
    "instruction": "swap the red and green blocks",
    "goal": ["at(red block, middle)", "at(green block, top left corner)"],
    "objects": ["red block", "green block", "blue block", "blue bowl"],
    "initial": ["at(red block, top left corner)", "at(green block, middle)"],
}
HOLDING = {
    "instruction": "put the red block in the blue bowl",
    "goal": ["in(red block, blue bowl)"],
    "objects": ["red block", "blue bowl"],
    "initial": ["holding(red block)"],
}


def test_facts_name_containment_stacking_holding_and_places():
    tabletop, mobile, holding = (
        symbolic_world(parse_tasks([t])[0]) for t in (TABLETOP, MOBILE, HOLDING)
    )
    assert scene_facts(tabletop) == ("red block in blue bowl", "green block on yellow block")
    assert scene_facts(mobile) == ("red block at table", "blue bowl at counter", "robot at counter")
    assert scene_facts(holding) == ("holding red block",)


def test_objects_at_named_places_are_facts_free_ones_are_not():
    facts = scene_facts(symbolic_world(parse_tasks([PLACES])[0]))
    assert facts == ("red block at top left corner", "green block at middle")


def test_the_simulator_start_has_the_facts_of_the_task():
    for spec in (TABLETOP, MOBILE, PLACES):
        task = parse_tasks([spec])[0]
        env = VLAEnv(task.scene, tasks=[task], image_size=32)
        for seed in (0, 1):
            env.reset(seed=seed, options={"task": task})
            assert scene_facts(env.unwrapped.world.snapshot()) == scene_facts(symbolic_world(task))
        env.close()
