"""Goal offsets for the RT-1 goal head: the hand's offset to its grasp or release point."""

import numpy as np
import torch

from vla.policies.rt1.goals import goal_offsets, key_step
from vla.policies.rt1.trainer import goal_loss


def episode(gripper: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """States whose hand moves +1 cm in x per step, actions with the given gripper column."""
    steps = len(gripper)
    state = np.zeros((steps, 10), np.float32)
    state[:, 0] = 0.01 * np.arange(steps)
    action = np.zeros((steps, 11), np.float32)
    action[:, 6] = gripper
    return state, action


def test_pick_goal_is_where_the_gripper_closes():
    state, action = episode([-1, -1, -1, 1, 1])  # closes at step 3
    assert key_step(action) == 3
    offsets, valid = goal_offsets(state, action)
    assert valid.tolist() == [True, True, True, True, False]
    np.testing.assert_allclose(offsets[:, 0], [0.03, 0.02, 0.01, 0.0, 0.0], atol=1e-6)
    assert not offsets[:, 1:].any()


def test_place_goal_is_where_it_opens_and_go_to_has_none():
    assert key_step(episode([1, 1, -1])[1]) == 2
    for gripper in ([1, 1, 1], [0, 1, -1]):  # never flips; no command at step 0
        offsets, valid = goal_offsets(*episode(gripper))
        assert not valid.any() and not offsets.any()


def test_goal_loss_uses_valid_rows_only():
    offsets = torch.tensor([[0.1, 0.0, 0.0], [5.0, 5.0, 5.0]])
    valid = torch.tensor([True, False])
    predicted = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])  # 0.1 m = 1 dm: exact
    assert goal_loss(predicted, offsets, valid, torch.device("cpu")).item() == 0.0
    assert goal_loss(predicted, offsets, ~valid, torch.device("cpu")).item() > 1.0
