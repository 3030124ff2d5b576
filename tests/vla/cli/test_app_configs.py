"""Every app's YAML composes with its typed config, adds no defaults of its own, and a
mapping is checked like the command line."""

import dataclasses

import pytest

from vla.cli.app import compose_config
from vla.data.recording import RecordConfig
from vla.evaluation.config import EvalConfig, RunConfig
from vla.options import build
from vla.planning.affordance.collect import CollectConfig
from vla.planning.affordance.train import AffordanceTrainConfig
from vla.planning.config import PlannerConfig, SayCanOptions
from vla.planning.lm.train_lm import LMTrainConfig
from vla.policies.rt1.scenes import RecordScenesConfig
from vla.robot.config import DeployConfig, PyBulletRobotConfig, XArmRobotConfig
from vla.serve.launch import ServeConfig
from vla.training.config import ModelOptions, TrainConfig

APPS = {
    "eval": EvalConfig,
    "run": RunConfig,
    "record": RecordConfig,
    "record_scenes": RecordScenesConfig,
    "collect_affordance": CollectConfig,
    "train": TrainConfig,
    "train_lm": LMTrainConfig,
    "train_affordance": AffordanceTrainConfig,
    "serve": ServeConfig,
    "deploy": DeployConfig,
}
GROUP_DEFAULTS = {
    "run": {"planner": SayCanOptions()},
    "deploy": {"robot": PyBulletRobotConfig()},
    "record": {"robot": PyBulletRobotConfig()},
}


@pytest.mark.parametrize("name", APPS)
def test_the_yaml_composes_to_the_dataclass_defaults(name):
    config = compose_config(name, APPS[name])
    expected = dataclasses.replace(APPS[name](), **GROUP_DEFAULTS.get(name, {}))
    assert config == expected


@pytest.mark.parametrize(
    "overrides,expected",
    [
        (["planner=saycan", "planner.affordance=oracle"], SayCanOptions(affordance="oracle")),
        (["planner=oracle"], PlannerConfig("oracle")),
    ],
)
def test_option_groups_become_their_dataclasses(overrides, expected):
    assert compose_config("eval", EvalConfig, overrides).planner == expected
    deploy = compose_config("deploy", DeployConfig, ["robot=xarm", "robot.ip=10.0.0.2"])
    assert deploy.robot == XArmRobotConfig(ip="10.0.0.2")


@pytest.mark.parametrize(
    "values,message",
    [
        ({"n_episodes": "two"}, "n_episodes"),
        ({"n_epsiodes": 3}, "n_epsiodes"),
        ({"image_size": 0}, "image_size=0"),
        ({"seed": float("nan")}, "seed"),
    ],
)
def test_build_checks_a_mapping_like_the_command_line(values, message):
    with pytest.raises(ValueError, match=message) as error:
        build(EvalConfig, values)
    assert "\n" not in str(error.value)


def test_model_options_belong_to_one_policy():
    assert build(TrainConfig, {"model": {"d_model": 32}}).model == ModelOptions(d_model=32)
    assert build(TrainConfig, {"policy": "rt2", "model": {"lora": True}}).model.lora
    with pytest.raises(ValueError, match="model.lora is not an option of policy=rt1"):
        build(TrainConfig, {"model": {"lora": True}})
    with pytest.raises(ValueError, match="model.goal_head is not an option of policy=rt2"):
        build(TrainConfig, {"policy": "rt2", "model": {"goal_head": True}})
