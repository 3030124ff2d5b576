"""Keyboard teleoperation: the key-to-action mapping, and a scripted teleop session in the
simulator that writes a dataset episode which replays to the same states and success."""

import numpy as np
import pytest

from sim.contract import ARM, BASE, TERMINATE
from vla.data import EpisodeStore
from vla.data.recording import RecordConfig, record
from vla.options import build
from vla.robot import make_robot
from vla.robot.config import PyBulletRobotConfig
from vla.robot.teleop import STEP, TeleopQuit, keys_to_action, scripted_keys
from vla.robot.teleop_record import record_teleop


@pytest.mark.parametrize(
    ("keys", "index", "value"),
    [("w", 0, STEP), ("s", 0, -STEP), ("a", 1, STEP), ("d", 1, -STEP), ("r", 2, STEP)],
)
def test_each_arm_key_moves_one_axis(keys, index, value):
    action, gripper = keys_to_action(keys, -1.0)
    expected = np.zeros(11, np.float32)
    expected[index], expected[6] = value, -1.0
    np.testing.assert_array_equal(action, expected)
    assert gripper == -1.0 and action[10] == ARM


def test_key_presses_add_up_clip_and_combine():
    assert keys_to_action("ww", -1.0)[0][0] == 2 * STEP
    assert keys_to_action("wwwww", -1.0)[0][0] == 1.0  # clipped to the contract's [-1, 1]
    assert not keys_to_action("ad", -1.0)[0][:6].any()
    assert keys_to_action("fq", -1.0)[0][[2, 5]].tolist() == [-STEP, STEP]
    assert keys_to_action("", 1.0)[0].tolist() == [0] * 6 + [1.0] + [0] * 4  # still, closed


def test_gripper_base_done_and_quit_keys():
    action, gripper = keys_to_action(" ", -1.0)
    assert gripper == 1.0 and action[6] == 1.0
    assert keys_to_action("  ", -1.0)[1] == -1.0  # two toggles
    base, _ = keys_to_action("wj", -1.0)
    assert base[10] == BASE and base[9] == STEP and not base[:6].any()  # the base moves alone
    done, _ = keys_to_action("w\r", 1.0)
    assert done[10] == TERMINATE and done[6] == 1.0 and not done[:6].any()
    with pytest.raises(TeleopQuit):
        keys_to_action("wx", -1.0)


KEYS = ["w"] * 4 + ["r"] * 3 + [" "] + ["", "d"] + ["\r"]


def test_scripted_session_records_an_episode_that_replays(tmp_path):
    robot = PyBulletRobotConfig(tasks="single", task_index=1, image_size=32)
    cfg = build(
        RecordConfig,
        {"teleop": "keyboard", "teleop_episodes": 2, "output_dir": str(tmp_path), "robot": robot},
    )
    # episode 1: the keys above; episode 2: quit at once, so it is dropped
    store = record_teleop(cfg, scripted_keys(KEYS))
    (rec,) = store.episodes()
    ep = store.load_episode(rec["episode_id"])
    assert rec["key"] == "teleop/0" and rec["n_steps"] == len(KEYS) == len(ep["action"])
    assert (
        rec["split"] == "train" and rec["seed"] == 900_000 and ep["front"].shape[1:] == (32, 32, 3)
    )
    assert rec["meta"] == {"teleop": "keyboard", "robot": "pybullet"}
    actions = ep["action"]
    assert (actions[:4, 0] > 0).all() and (actions[4:7, 2] > 0).all() and actions[9, 1] < 0
    assert (actions[:7, 6] == -1).all() and (actions[7:, 6] == 1).all()  # space closed it
    assert actions[-1, 10] == TERMINATE and (actions[:-1, 10] == ARM).all()

    with make_robot("pybullet", tasks="single", task_index=1, image_size=32, safety=True) as sim:
        obs = sim.reset_episode(rec["seed"])
        assert obs["instruction"] == rec["instruction"]
        for t, action in enumerate(actions[:-1]):
            np.testing.assert_allclose(obs["state"], ep["state"][t], atol=1e-5)
            sim.send_action(action)
            obs = sim.get_observation()
        assert sim.is_success() == rec["success"]


def test_vla_record_teleop_replays_a_key_file(tmp_path):
    keys = tmp_path / "keys.txt"
    keys.write_text("w\nw\n\n\\r\n")  # the last line holds backslash-r: enter
    robot = PyBulletRobotConfig(tasks="single", image_size=32)
    options = {"teleop": "keyboard", "teleop_keys": str(keys), "robot": robot}
    store = record(build(RecordConfig, {**options, "output_dir": str(tmp_path / "d")}))
    again = record(build(RecordConfig, {**options, "output_dir": str(tmp_path / "d")}))
    assert [r["key"] for r in again.episodes()] == ["teleop/0", "teleop/1"]  # resumed after
    assert len(store) == 1 and store.episodes()[0]["n_steps"] == 4
    assert again.episodes()[1]["seed"] == 900_001
    with pytest.raises(ValueError, match="teleop='gamepad'"):
        build(RecordConfig, {"teleop": "gamepad"})
    assert isinstance(EpisodeStore.open(tmp_path / "d"), EpisodeStore)
