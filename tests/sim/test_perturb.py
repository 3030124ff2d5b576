"""Perturbed demonstrations: start jitter and DART noise move the robot off the expert's
path, the expert still finishes, and the labels stay the expert's clean actions; with a
learner mixed in, only the expert's skills are recorded."""

import numpy as np
import pytest

from sim.contract import MAX_STEP
from sim.env import VLAEnv
from sim.expert import ScriptedExpert
from sim.perturb import DaggerMix, NoisyExpert, SkillMix, jitter_start
from sim.rollout import run_skill
from sim.tasks import parse_tasks
from vla.data.recording import RecordConfig, record
from vla.options import build
from vla.policies import load_policy

PICK = {"instruction": "pick up the red block", "goal": ["holding(red block)"]}
PLACE = {
    "instruction": "place the red block in the blue bowl",
    "goal": ["in(red block, blue bowl)"],
    "initial": ["holding(red block)"],
    "objects": ["red block", "blue bowl"],
}


def tracking_error(episode: dict) -> float:
    """Mean |hand displacement / MAX_STEP - labelled translation| over arm steps."""
    moves = np.diff(episode["state"][:, :3], axis=0) / MAX_STEP
    labels = episode["action"][:-1]
    arm = labels[:, 10] == 0
    return float(np.abs(moves[arm] - labels[arm, :3]).mean())


def env_for(spec: dict) -> VLAEnv:
    return VLAEnv("tabletop", tasks=parse_tasks([spec]), image_size=32)


def test_jitter_start_moves_the_arm_and_keeps_a_held_block():
    env = env_for(PLACE)
    obs, _ = env.reset(seed=0)
    home = obs["state"][:3].copy()
    moved = [
        np.linalg.norm(jitter_start(env, env.reset(seed=s)[0], rng, 10)["state"][:2] - home[:2])
        for s, rng in ((s, np.random.default_rng(s)) for s in range(4))
    ]
    assert max(moved) > 0.1, moved  # up to 10 steps of 3 cm
    assert env.unwrapped.world.snapshot().held == "red block"


def test_noisy_expert_leaves_the_clean_path_and_still_picks():
    env = env_for(PICK)
    paths = {}
    for sigma in (0.0, 0.3):
        obs, _ = env.reset(seed=3)
        policy = NoisyExpert(ScriptedExpert(env), sigma, np.random.default_rng(0))
        rows = []
        result = run_skill(
            env,
            policy,
            PICK["instruction"],
            obs,
            on_step=lambda o, a, p=policy, r=rows: r.append((o["state"][:3], p.label, a)),
        )
        assert result.success, f"sigma={sigma}: pick failed after {result.steps} steps"
        hand, labels, executed = (np.array(column) for column in zip(*rows, strict=True))
        assert np.array_equal(labels[:, 3:], executed[:, 3:])  # only the translation is noised
        paths[sigma] = (hand, labels, executed)
    clean_hand, clean_labels, clean_exec = paths[0.0]
    noisy_hand, noisy_labels, noisy_exec = paths[0.3]
    assert np.array_equal(clean_labels, clean_exec)
    assert np.abs(noisy_exec[:, :3] - noisy_labels[:, :3]).mean() > 0.05
    n = min(len(clean_hand), len(noisy_hand))
    assert np.abs(clean_hand[:n] - noisy_hand[:n]).max() > 0.01  # a different path
    with pytest.raises(ValueError, match="noise"):
        NoisyExpert(ScriptedExpert(env), -0.1, np.random.default_rng(0))


def test_perturbed_recording_is_reproducible_and_labelled_by_the_expert(tmp_path):
    cfg = {"suites": ["single"], "episodes_per_suite": 2, "split": "train", "image_size": 32}
    noisy = {**cfg, "action_noise": 0.3, "start_jitter": 10}
    runs = [record(build(RecordConfig, {**noisy, "output_dir": str(tmp_path / k)})) for k in "ab"]
    clean = record(build(RecordConfig, {**cfg, "output_dir": str(tmp_path / "clean")}))
    a, b = (run.load_episode(0) for run in runs)
    assert all(np.array_equal(a[k], b[k]) for k in a)  # seeded: the same episode twice
    assert runs[0].record(0)["meta"] == {"suite": "single", "action_noise": 0.3, "start_jitter": 10}
    first_clean = clean.load_episode(0)
    assert not np.allclose(a["state"][0, :3], first_clean["state"][0, :3])  # jittered start
    # the labels are the expert's, not what ran: the hand's motion follows them worse
    assert tracking_error(a) > 1.5 * tracking_error(first_clean), (a, first_clean)
    with pytest.raises(ValueError, match="action_noise"):
        record(build(RecordConfig, {**cfg, "action_noise": -1, "output_dir": str(tmp_path / "x")}))


def test_skill_mix_hands_whole_skills_to_the_learner():
    env = env_for(PICK)
    obs, _ = env.reset(seed=1)
    obs = {**obs, "instruction": PICK["instruction"]}
    learner = load_policy("rt1")
    learner.reset()
    learner_action = learner.select_action(obs)
    rng = np.random.default_rng(0)
    expert = NoisyExpert(ScriptedExpert(env), 0.0, rng)
    alone = SkillMix(expert, None, 0.0, rng)
    alone.reset()
    assert not alone.by_learner and rng.random() == np.random.default_rng(0).random()  # no draw
    assert np.array_equal(alone.select_action(obs), alone.label)
    mixed = SkillMix(expert, learner, 1.0, rng)
    mixed.reset()
    assert mixed.by_learner
    assert np.array_equal(mixed.select_action(obs), learner_action)
    with pytest.raises(ValueError, match="learner_prob"):
        SkillMix(expert, learner, 1.5, rng)
    with pytest.raises(ValueError, match="learner"):
        SkillMix(expert, None, 0.5, rng)


def test_recording_keeps_only_the_experts_skills(tmp_path):
    cfg = {"suites": ["single"], "episodes_per_suite": 1, "split": "train", "image_size": 32}
    by_learner = record(
        build(
            RecordConfig,
            {**cfg, "learner": "rt1", "learner_prob": 1.0, "output_dir": str(tmp_path / "l")},
        )
    )
    assert len(by_learner) == 0 and by_learner.summary()["markers"] == 1  # ran, kept nothing
    for bad, match in (
        ({"learner": "rt1", "learner_prob": 2}, "learner_prob"),
        ({"learner_prob": 0.5}, "learner"),
        ({"learner": str(tmp_path / "none"), "learner_prob": 0.5}, "none"),
    ):
        with pytest.raises(ValueError, match=match):
            record(build(RecordConfig, {**cfg, **bad, "output_dir": str(tmp_path / "x")}))


class Drifter:
    """A learner that always moves the hand sideways with the gripper open."""

    def reset(self):
        self.resets = getattr(self, "resets", 0) + 1

    def select_action(self, observation):
        action = np.zeros(11, np.float32)
        action[[1, 6]] = (1.0, -1.0)
        return action


def test_dagger_executes_the_learner_and_labels_each_state_with_the_expert():
    env = env_for(PICK)
    obs, _ = env.reset(seed=1)
    learner, rng = Drifter(), np.random.default_rng(0)
    mix = DaggerMix(env, learner, 0.0, rng)
    mix.reset()
    assert learner.resets == 1
    for _ in range(4):
        obs = {**obs, "instruction": PICK["instruction"]}
        fresh = ScriptedExpert(env).select_action(obs)  # the expert from this very state
        executed = mix.select_action(obs)
        assert np.array_equal(mix.label, fresh)
        assert np.array_equal(executed, learner.select_action(obs))  # beta 0: the learner
        obs, *_ = env.step(executed)
    always_expert = DaggerMix(env, learner, 1.0, rng)
    obs = {**obs, "instruction": PICK["instruction"]}
    assert np.array_equal(always_expert.select_action(obs), always_expert.label)
    for bad, match in ((1.5, "dagger_beta"), (-0.1, "dagger_beta")):
        with pytest.raises(ValueError, match=match):
            DaggerMix(env, learner, bad, rng)
    with pytest.raises(ValueError, match="learner"):
        DaggerMix(env, None, 0.5, rng)


def test_dagger_labels_ignore_the_experts_step_cap_and_end_when_it_is_done():
    env = env_for(PICK)
    obs, _ = env.reset(seed=1)
    mix = DaggerMix(env, Drifter(), 0.0, np.random.default_rng(0))
    mix.reset()
    obs = {**obs, "instruction": PICK["instruction"]}
    for _ in range(130):  # longer than the expert's own 120-step cap
        mix.select_action(obs)
    assert int(mix.label[10]) != 2  # still telling the drifting learner where to go
    env.unwrapped.world.robot.attach(env.unwrapped.world.bodies["red block"])
    for _ in range(12):  # holding the block: lift, then the expert says the skill is done
        action = mix.select_action(obs)
        obs, *_ = env.step(action)
        obs = {**obs, "instruction": PICK["instruction"]}
    assert int(mix.label[10]) == 2 and int(action[10]) == 2


def test_dagger_recording_keeps_every_labelled_skill_failed_or_not(tmp_path):
    cfg = {"suites": ["single"], "episodes_per_suite": 2, "split": "train", "image_size": 32}
    store = record(
        build(
            RecordConfig,
            {**cfg, "learner": "rt1", "dagger_beta": 0.0, "output_dir": str(tmp_path / "d")},
        )
    )
    assert len(store) >= 2
    for record_ in store.episodes(None):
        assert record_["meta"]["dagger_beta"] == 0.0 and record_["meta"]["learner"] == "rt1"
        assert record_["n_steps"] >= 1
    with pytest.raises(ValueError, match="dagger_beta"):
        record(build(RecordConfig, {**cfg, "dagger_beta": 0.5, "output_dir": str(tmp_path / "x")}))
