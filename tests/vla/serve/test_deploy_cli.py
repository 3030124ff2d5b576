"""vla-deploy: the loop runs at its rate through a remote policy, reports, and stops safely."""

import json

import numpy as np
import pytest

from vla.cli.app import compose_config
from vla.robot import deploy
from vla.robot.config import DeployConfig


def config(overrides):
    return compose_config("deploy", DeployConfig, overrides)


def test_deploy_through_a_remote_policy_writes_the_report(serve, echo, tmp_path):
    _, port = serve(echo())
    cfg = config(
        [
            f"policy=ws://127.0.0.1:{port}",
            "max_steps=8",
            "robot.safety=true",
            "remote.timeout_s=1.0",
            f"output_dir={tmp_path}",
        ]
    )
    report = deploy.deploy(cfg)
    saved = json.loads((tmp_path / "deploy_report.json").read_text())
    assert saved["steps"] == report["steps"] == 8
    assert saved["achieved_hz"] == pytest.approx(20, rel=0.25)
    assert set(saved["latency_ms"]) == {"p50", "p90", "p99"}
    assert "holds" in saved["safety"] and saved["missed_deadlines"] == 0


class InterruptedPolicy:
    def __init__(self):
        self.steps = 0

    def reset(self):
        pass

    def select_action(self, observation):
        self.steps += 1
        if self.steps == 3:
            raise KeyboardInterrupt
        return np.r_[0.5, np.zeros(5), -1.0, np.zeros(4)].astype(np.float32)


def test_ctrl_c_holds_disconnects_and_still_reports(monkeypatch, tmp_path):
    robots = []
    make = deploy.build_robot
    monkeypatch.setattr(deploy, "build_robot", lambda cfg: robots.append(make(cfg)) or robots[-1])
    monkeypatch.setattr(deploy, "load_policy", lambda name: InterruptedPolicy())
    cfg = config(["robot.watchdog_s=null", f"output_dir={tmp_path}"])
    with pytest.raises(KeyboardInterrupt):
        deploy.deploy(cfg)
    saved = json.loads((tmp_path / "deploy_report.json").read_text())
    assert saved["interrupted"] is True and saved["steps"] == 2
    assert robots[0].holds >= 1 and not robots[0].is_connected


def test_unknown_planner_is_a_one_line_error(tmp_path):
    cfg = config(["planner=oracle", "robot.watchdog_s=null", f"output_dir={tmp_path}"])
    cfg.planner.name = "nonsense"
    with pytest.raises(ValueError, match="unknown planner 'nonsense'"):
        deploy.deploy(cfg)


class FiveStepsThenDone:
    """+x for five steps, then the terminate action."""

    def __init__(self):
        self.steps = 0

    def reset(self):
        self.steps = 0

    def select_action(self, observation):
        self.steps += 1
        action = np.zeros(11, np.float32)
        action[6] = -1.0
        if self.steps > 5:
            action[10] = 2
        else:
            action[0] = 0.8
        return action


def test_record_true_writes_what_the_policy_did(monkeypatch, tmp_path):
    from vla.data import EpisodeStore

    monkeypatch.setattr(deploy, "load_policy", lambda name: FiveStepsThenDone())
    args = ["record=true", "robot.safety=true", "robot.image_size=32"]
    for run in range(2):
        report = deploy.deploy(config([*args, f"output_dir={tmp_path / str(run)}",
                                       f"record_dir={tmp_path / 'rec'}"]))  # fmt: skip
        assert report["recorded"]["episode_ids"] == [run]
    store = EpisodeStore.open(tmp_path / "rec")
    first, second = store.episodes()
    assert (first["key"], second["key"]) == ("deploy/0", "deploy/1")
    assert first["instruction"] == report["instruction"] and first["family"] == "deploy"
    assert first["success"] == report["success"] and first["meta"]["policy"] == "rt1"
    assert first["split"] == "test" and first["seed"] == 1_000_000  # the default robot seed
    actions = store.load_episode(0)["action"]
    assert len(actions) == 6 and actions[-1, 10] == 2
    assert (actions[:5, 0] > 0).all() and (actions[:5, 0] <= 0.8).all()  # as sent (safety on)

    monkeypatch.setattr(deploy, "load_policy", lambda name: InterruptedPolicy())
    with pytest.raises(KeyboardInterrupt):
        deploy.deploy(config(["record=true", "robot.image_size=32", f"output_dir={tmp_path}/c"]))
    (cut,) = EpisodeStore.open(tmp_path / "c/episodes").episodes()
    assert cut["meta"]["interrupted"] is True and cut["n_steps"] == 2 and not cut["success"]
