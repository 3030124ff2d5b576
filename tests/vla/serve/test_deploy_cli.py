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
