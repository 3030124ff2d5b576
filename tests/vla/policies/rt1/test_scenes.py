"""Localisation scenes: goal labels agree with the expert, recording resumes, co-training pairs."""

import numpy as np
import pytest
import torch

from sim.expert import ScriptedExpert
from sim.skill_text import parse_skill
from sim.skills.pick import GRASP_TOLERANCE
from vla.policies.rt1.goals import goal_offsets
from vla.policies.rt1.scene_cotrain import WithScenes
from vla.policies.rt1.scenes import (
    HOVER_Z,
    SEED_START,
    RecordScenesConfig,
    SceneMaker,
    SceneSet,
    record_scenes,
    scene_task,
    shard_path,
)


def record(folder, n_scenes=6, shard_size=3, image_size=32, start="home"):
    cfg = {"output_dir": str(folder), "n_scenes": n_scenes, "shard_size": shard_size}
    cfg |= {"image_size": image_size, "num_workers": 0, "start": start}
    return record_scenes(RecordScenesConfig(**cfg))


@pytest.mark.parametrize("start", ["home", "hover"])
@pytest.mark.parametrize("seed", range(SEED_START, SEED_START + 4))  # pick, in, on, at
def test_goal_label_is_where_the_expert_grasps_or_releases(seed, start):
    maker = SceneMaker(image_size=32, start=start)
    scene = maker.scene(seed)
    env, expert = maker.env, ScriptedExpert(maker.env)
    obs = {"instruction": scene["instruction"]}
    states, actions = [scene["state"]], []
    for _ in range(120):
        actions.append(expert.select_action(obs))
        obs, *_ = env.step(actions[-1])
        states.append(obs["state"])
        if actions[-1][10] == 2:
            break
    recorded, valid = goal_offsets(np.array(states[:-1]), np.array(actions))
    assert valid[0], scene["instruction"]
    # the expert closes anywhere within GRASP_TOLERANCE (xy, z) of the exact grasp point
    gap = np.abs(scene["goal"] - recorded[0])
    assert gap[:2].max() < GRASP_TOLERANCE[0] and gap[2] < GRASP_TOLERANCE[1], gap
    assert np.linalg.norm(scene["goal"][:2]) > 0.02  # a real offset, not the hand's own place
    maker.close()


def test_scene_tasks_cover_every_single_skill():
    names = {parse_skill(scene_task(SEED_START + i).instruction).name for i in range(8)}
    assert names == {"pick", "place_in", "place_on", "place_at"}


def test_recording_resumes_shard_by_shard_and_loads(tmp_path):
    record(tmp_path)
    scenes = SceneSet.load(tmp_path)
    assert len(scenes) == 6 and scenes.front.shape == (6, 32, 32, 3)
    assert scenes.wrist.dtype == np.uint8 and scenes.goal.shape == (6, 3)
    first = shard_path(tmp_path, 1).read_bytes()
    shard_path(tmp_path, 1).unlink()
    record(tmp_path)  # redoes only the missing shard, identically
    assert shard_path(tmp_path, 1).read_bytes() == first
    np.testing.assert_array_equal(SceneSet.load(tmp_path).goal, scenes.goal)
    with pytest.raises(ValueError, match="shard_size"):
        record(tmp_path, shard_size=2)  # other seeds per file: refused
    with pytest.raises(ValueError, match="n_scenes"):
        record(tmp_path / "new", n_scenes=0)
    with pytest.raises(ValueError, match="'start': 'hover'"):
        record(tmp_path, start="hover")  # a home set is not topped up with hover scenes
    with pytest.raises(ValueError, match="start must be one of"):
        record(tmp_path / "new", start="above")
    with pytest.raises(FileNotFoundError, match="vla-record-scenes"):
        SceneSet.load(tmp_path / "empty")


class Frames(torch.utils.data.Dataset):
    """Stand-in demonstration items: only what WithScenes adds to is checked."""

    def __len__(self):
        return 4

    def __getitem__(self, key):
        return {"images": torch.zeros(2, 2, 3, 32, 32, dtype=torch.uint8), "key": key}


def test_with_scenes_pairs_each_item_with_a_scene_by_its_seed(tmp_path):
    record(tmp_path)
    scenes = SceneSet.load(tmp_path)
    data = WithScenes(Frames(), scenes, ("front", "wrist"), history=2)
    item = data[(1, 8)]
    assert item["scene_images"].shape == (2, 2, 3, 32, 32)  # history, cameras
    assert torch.equal(item["scene_images"][0], item["scene_images"][1])  # one frame repeated
    np.testing.assert_array_equal(item["scene_goal"].numpy(), scenes.goal[8 % 6])
    assert item["scene_instruction"] == scenes.instruction[8 % 6]
    assert torch.equal(data[(1, 8)]["scene_images"], item["scene_images"])  # reproducible


def test_hover_scenes_put_the_hand_over_an_object_of_the_goal_colour():
    """The confusion hover scenes teach against: a bowl of the named block's colour below."""
    maker, checked = SceneMaker(image_size=32, start="hover"), 0
    for seed in range(SEED_START, SEED_START + 40):
        task = scene_task(seed)
        call = parse_skill(task.instruction)
        goes_to = call.obj if call.name == "pick" else call.target
        scene = maker.scene(seed)
        world = maker.env.unwrapped.world
        hand = world.robot.ee_pose()[0]
        objects = world.snapshot().objects
        twins = [
            o
            for n, o in objects.items()
            if n not in (call.obj, call.target) and n.split()[0] == goes_to.split()[0]
        ]
        if not twins:
            continue
        assert abs(hand[2] - HOVER_Z) < 0.035, task.instruction
        gaps = [np.hypot(*(np.subtract(o.position[:2], hand[:2]))) for o in twins]
        assert min(gaps) < 0.045, (task.instruction, gaps)
        assert np.linalg.norm(scene["goal"]) > 0.05  # the hand is not at its goal
        checked += 1
    maker.close()
    assert checked >= 3
