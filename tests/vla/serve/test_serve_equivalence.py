"""The same seeded sim episode gives the same actions and state via policy=remote as locally;
a stalled server makes the deploy loop hold the robot within one control period."""

import time

import numpy as np
import pytest

from sim.env import VLAEnv
from sim.rollout import run_policy
from vla.policies import load_policy
from vla.robot import make_robot
from vla.robot.control_loop import ControlLoop, GuardedPolicy
from vla.serve import RemotePolicy


def episode(policy, env, seed=1000000, steps=30):
    obs, _ = env.reset(seed=seed, options={"task_index": 0})
    actions = []
    _, last = run_policy(
        env, policy, env.task_description, obs, steps, on_step=lambda o, a: actions.append(a.copy())
    )
    return np.array(actions), last["state"], env.is_success()


def test_remote_episode_matches_local(serve, one_thread):
    rt1 = load_policy("rt1")
    env = VLAEnv("tabletop", tasks="single")
    try:
        local = episode(rt1, env)
        _, port = serve(rt1)
        remote_policy = RemotePolicy(f"ws://127.0.0.1:{port}", timeout_s=10.0)
        remote = episode(remote_policy, env)
        remote_policy.close()
    finally:
        env.close()
    assert len(local[0]) == len(remote[0]) > 0
    np.testing.assert_array_equal(local[0], remote[0])
    np.testing.assert_array_equal(local[1], remote[1])
    assert local[2] == remote[2]


def test_stalled_server_makes_the_loop_hold_within_one_period(serve, echo, make_obs):
    policy = echo()
    _, port = serve(policy)
    period = 0.05
    client = RemotePolicy(f"ws://127.0.0.1:{port}", timeout_s=period)
    with make_robot("pybullet", tasks="single", task_index=0, seed=1, watchdog_s=0.5) as robot:
        loop = ControlLoop(robot, 1 / period)
        guarded = GuardedPolicy(client, robot, period)
        obs = loop.observe()
        obs, *_ = loop.step(guarded.select_action(obs))
        assert guarded.misses == 0
        policy.stall.set()
        start = time.perf_counter()
        action = guarded.select_action(obs)
        waited = time.perf_counter() - start
        loop.step(action)
        policy.release.set()
    assert guarded.misses == 1 and np.all(action[:6] == 0) and action[10] == 0
    assert waited == pytest.approx(period, abs=0.03)
    client.close()
