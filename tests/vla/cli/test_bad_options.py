"""Every app ends bad command-line input in one line naming the option, with exit code 2.

The cases recreate the bad options of an outside audit (wrong types, values out of range,
unknown keys, missing files, an unreachable server, a folder that cannot be written) and
run each app's ``main()`` in this process. A config error must also end before any model
loads: loading a checkpoint's weights raises here.
"""

import importlib
import sys

import pytest

from vla import checkpoint

MODULES = {
    "vla-eval": "vla.cli.eval",
    "vla-run": "vla.cli.run",
    "vla-train": "vla.cli.train",
    "vla-record": "vla.cli.record",
    "vla-record-scenes": "vla.cli.record_scenes",
    "vla-collect-affordance": "vla.cli.collect_affordance",
    "vla-train-lm": "vla.cli.train_lm",
    "vla-train-affordance": "vla.cli.train_affordance",
    "vla-serve": "vla.cli.serve",
    "vla-export": "vla.cli.export",
    "vla-deploy": "vla.cli.deploy",
}
MISSING = "/nonexistent/vla-test"

# (app, command-line options, text the error line must hold)
CASES = [
    # vla-eval
    ("vla-eval", ["n_episodes=two"], "n_episodes"),
    ("vla-eval", ["seed=abc"], "seed"),
    ("vla-eval", ["image_size=0"], "image_size=0"),
    ("vla-eval", ["num_workers=-2"], "num_workers=-2"),
    ("vla-eval", ["n_episodes=0"], "n_episodes=0"),
    ("vla-eval", ["mode=sideways"], "mode='sideways'"),
    ("vla-eval", ["n_epsiodes=3"], "unknown option 'n_epsiodes'"),
    ("vla-eval", ["policy_filter_options={steps: 3}"], "+policy_filter_options.steps=VALUE"),
    ("vla-eval", ["+extra=1"], "unknown option 'extra'"),
    ("vla-eval", ["planner=magic"], "planner/magic"),
    ("vla-eval", ["planner.affordance=oracle"], "planner.affordance"),
    ("vla-eval", ["planner=saycan", "planner.done_affordance=high"], "planner.done_affordance"),
    ("vla-eval", ["planner=saycan", "planner.reduction=max"], "planner.reduction"),
    ("vla-eval", ["planner=saycan", "planner.top_k=0"], "planner.top_k=0"),
    ("vla-eval", [f"tasks={MISSING}.yaml"], MISSING),
    ("vla-eval", ["n_episodes=[1,2"], "n_episodes=[1,2"),
    # vla-run
    ("vla-run", ["task_index=-1"], "task_index=-1"),
    ("vla-run", ["planner=oracle", "task_index=999"], "task_index=999"),
    ("vla-run", ["render_size=big"], "render_size"),
    ("vla-run", ["max_skills=0"], "max_skills=0"),
    # vla-train
    ("vla-train", ["model.d_model=abc"], "model.d_model"),
    ("vla-train", ["model.lora=true"], "model.lora"),
    ("vla-train", ["policy.lora=true"], "policy.lora=true"),
    ("vla-train", ["policy=rt9"], "rt9"),
    ("vla-train", [f"data={MISSING}"], MISSING),
    ("vla-train", ["steps=0"], "steps=0"),
    ("vla-train", ["num_workers=-2"], "num_workers=-2"),
    ("vla-train", ["val_fraction=1.5"], "val_fraction=1.5"),
    ("vla-train", ["lr=nan"], "lr=nan"),
    ("vla-train", ["scenes=[1,2]"], "scenes"),
    ("vla-train", ["cache_episodes=many"], "cache_episodes"),
    ("vla-train", ["precision=fp8"], "precision='fp8'"),
    ("vla-train", ["grad_accum_steps=0"], "grad_accum_steps=0"),
    # vla-record
    ("vla-record", ["output_dir=/proc/x"], "output_dir"),
    ("vla-record", ["episodes_per_suite=-1"], "episodes_per_suite=-1"),
    ("vla-record", ["split=val"], "split='val'"),
    ("vla-record", ["suites=[no_such_suite]"], "no_such_suite"),
    ("vla-record", ["image_size=abc"], "image_size"),
    ("vla-record", ["learner_prob=2"], "learner_prob"),
    ("vla-record", [f"learner={MISSING}", "learner_prob=0.5"], MISSING),
    ("vla-record", ["action_noise=-1"], "action_noise=-1"),
    # vla-record-scenes
    ("vla-record-scenes", ["n_scenes=0"], "n_scenes=0"),
    ("vla-record-scenes", ["start=above"], "start"),
    ("vla-record-scenes", ["shard_size=abc"], "shard_size"),
    # vla-collect-affordance
    ("vla-collect-affordance", ["suites=[bogus]"], "bogus"),
    ("vla-collect-affordance", ["oracle_skills=2"], "oracle_skills=2"),
    ("vla-collect-affordance", ["seed_start=999999", "episodes=2"], "training range"),
    ("vla-collect-affordance", ["num_workers=-2"], "num_workers=-2"),
    # vla-train-lm, vla-train-affordance
    ("vla-train-lm", ["steps=0"], "steps=0"),
    ("vla-train-lm", ["family_weights.bogus=2"], "family_weights.bogus"),
    ("vla-train-lm", ["+construction_weights.but_first=2"], "construction_weights: unknown"),
    ("vla-train-lm", ["n_layer=abc"], "n_layer"),
    ("vla-train-affordance", [f"data_dir={MISSING}"], MISSING),
    ("vla-train-affordance", ["val_fraction=1.0"], "val_fraction=1.0"),
    # vla-serve
    ("vla-serve", ["policy=ws://127.0.0.1:1"], "policy=ws://127.0.0.1:1"),
    ("vla-serve", ["port=70000"], "port=70000"),
    ("vla-serve", ["port=abc"], "port"),
    ("vla-serve", [f"policy={MISSING}"], MISSING),
    ("vla-serve", ["max_connections=0"], "max_connections=0"),
    ("vla-serve", ["read_timeout_s=-1"], "read_timeout_s=-1.0"),
    ("vla-serve", ["idle_timeout_s=inf"], "idle_timeout_s=inf"),
    ("vla-serve", [f"api_key_file={MISSING}"], MISSING),
    ("vla-serve", ["protocol=grpc"], "unknown serve protocol 'grpc'"),
    ("vla-record", ["teleop=gamepad"], "teleop='gamepad'"),
    ("vla-record", ["teleop=keyboard", "teleop_episodes=0"], "teleop_episodes=0"),
    # vla-export
    ("vla-export", [f"data={MISSING}", f"output_dir={MISSING}-out"], MISSING),
    ("vla-export", ["pix_fmt=rgb24"], "pix_fmt='rgb24'"),
    ("vla-export", ["crf=60"], "crf=60"),
    ("vla-export", ["format=zarr"], "unknown export format 'zarr'"),
    ("vla-export", ["episodes_per_file=0"], "episodes_per_file=0"),
    ("vla-serve", ["chunk=4"], "chunk= is for protocol=openpi"),
    # vla-deploy
    ("vla-deploy", ["policy=ws://127.0.0.1:1"], "policy=ws://127.0.0.1:1"),
    ("vla-deploy", ["robot.task_index=100000"], "task_index=100000"),
    ("vla-deploy", ["robot=ur5"], "robot/ur5"),
    ("vla-deploy", ["robot.watchdog_s=-1"], "robot.watchdog_s=-1.0"),
    ("vla-deploy", ["control_hz=0"], "control_hz=0"),
    ("vla-deploy", ["remote.chunk=0"], "remote.chunk=0"),
    ("vla-deploy", ["robot=xarm", "robot.safety=false"], "safety"),
]


@pytest.fixture
def no_model_loads(monkeypatch):
    """Loading a checkpoint's weights fails the test: config errors end before that."""

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the bad option was reported")

    monkeypatch.setattr(checkpoint, "load_file", refuse)


@pytest.mark.parametrize(
    "app,options,named", CASES, ids=[f"{a} {' '.join(o)}" for a, o, _ in CASES]
)
def test_bad_option_ends_in_one_line_with_exit_code_2(
    app, options, named, tmp_path, monkeypatch, capsys, no_model_loads
):
    monkeypatch.chdir(tmp_path)
    output = [] if any(o.startswith("output_dir=") for o in options) else ["output_dir=out"]
    monkeypatch.setattr(sys, "argv", [app, *options, *output])
    main = importlib.import_module(MODULES[app]).main
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert exit_info.value.code == 2, err
    assert len(lines) == 1 and lines[0].startswith(f"{app}: error: "), err
    assert named in lines[0], err
