"""Perturbed demonstrations: states off the expert's own path, labelled by the expert.

Behaviour cloning from a scripted expert that always starts at the same home pose and
moves in straight lines has a shortcut: after the first step, "keep going the way the hand
has moved from home" predicts the expert's next action almost perfectly, so a policy can
score high teacher-forced accuracy without ever finding the target in the image, then
copies its own first wrong step in closed loop (the copycat problem; see
``benchmarks/copycat_probe.py``). Two remedies, both used while recording:

- :func:`jitter_start`: before the first skill, the arm makes a few random moves in the
  horizontal plane, so the start pose (and with it the hand's displacement) says nothing
  about where the target is;
- :class:`NoisyExpert` (DART, Laskey et al. 2017): the executed arm translation is the
  expert's plus Gaussian noise, while the recorded label stays the expert's clean action,
  so the data holds recovery actions from states the clean expert never visits;
- :class:`SkillMix` (DAgger-style, Ross et al. 2011, at the level of whole skills): some
  skills of a task are executed by a learned policy and not recorded, so the expert's
  recorded skills start from the states the learner's own skills leave behind (a block
  set down 1 cm off, a gripper yawed after the learner's pick) instead of only its own;
- :class:`DaggerMix` (DAgger proper, per step): the learner acts and the expert labels
  every state it visits, so the data holds the expert's answer to the learner's own
  mistakes (a hand that stopped above the bowl, a block set down a centimetre off).

All draw from a generator seeded per episode, so a recording stays reproducible.
"""

from __future__ import annotations

import numpy as np

from sim.contract import ARM, MODE_INDEX, TERMINATE
from sim.skills import make_skill


def jitter_start(env, observation: dict, rng: np.random.Generator, max_steps: int) -> dict:
    """Move the arm 0..``max_steps`` steps in one random horizontal direction (gripper kept
    as it is, so a held block stays held); returns the observation after the moves."""
    steps = int(rng.integers(0, max_steps + 1)) if max_steps > 0 else 0
    angle = float(rng.uniform(0.0, 2.0 * np.pi))
    grip = 1.0 if env.unwrapped.world.robot.grasp.closed else -1.0
    action = np.zeros(11, np.float32)
    action[[0, 1, 6]] = (np.cos(angle), np.sin(angle), grip)
    action[MODE_INDEX] = ARM
    for _ in range(steps):
        observation, *_ = env.step(action)
    return observation


class NoisyExpert:
    """Wraps a policy: executes its arm translation plus N(0, ``sigma``^2) per dimension
    (clipped to [-1, 1]; gripper, rotation, base and mode untouched), and keeps the clean
    action in :attr:`label` for the dataset. ``sigma=0`` executes the clean action and
    draws nothing from ``rng``."""

    def __init__(self, expert, sigma: float, rng: np.random.Generator) -> None:
        if sigma < 0:
            raise ValueError(f"action noise must be >= 0, got {sigma}")
        self.expert, self.sigma, self.rng = expert, float(sigma), rng
        self.label: np.ndarray | None = None

    def reset(self) -> None:
        self.expert.reset()
        self.label = None

    def select_action(self, observation: dict) -> np.ndarray:
        """The action to execute; :attr:`label` is the expert's own for the same state."""
        self.label = np.asarray(self.expert.select_action(observation), np.float32)
        executed = self.label.copy()
        if int(np.rint(executed[MODE_INDEX])) == ARM and self.sigma > 0:
            noise = self.rng.normal(0.0, self.sigma, 3)
            executed[:3] = np.clip(executed[:3] + noise, -1.0, 1.0)
        return executed


class SkillMix:
    """Per skill (at each :meth:`reset`), the ``learner`` executes it with probability
    ``learner_prob``; otherwise ``expert`` (a :class:`NoisyExpert`) does. :attr:`by_learner`
    says which; a recorder keeps only the expert's skills, labelled by :attr:`label`.
    ``learner_prob=0`` never draws from ``rng``, so recordings without a learner are
    unchanged."""

    def __init__(self, expert: NoisyExpert, learner, learner_prob: float, rng) -> None:
        check_learner(learner_prob, learner is not None)
        self.expert, self.learner, self.learner_prob, self.rng = expert, learner, learner_prob, rng
        self.by_learner = False

    @property
    def label(self) -> np.ndarray | None:
        return self.expert.label

    def reset(self) -> None:
        self.expert.reset()
        self.by_learner = self.learner_prob > 0 and bool(self.rng.random() < self.learner_prob)
        if self.by_learner:
            self.learner.reset()

    def select_action(self, observation: dict) -> np.ndarray:
        if self.by_learner:
            return self.learner.select_action(observation)
        return self.expert.select_action(observation)


def check_learner(learner_prob: float, has_learner: bool) -> None:
    """One-line errors for a ``learner_prob`` outside [0, 1] or one without a learner."""
    if not 0.0 <= learner_prob <= 1.0:
        raise ValueError(f"learner_prob must be in [0, 1], got {learner_prob}")
    if learner_prob > 0 and not has_learner:
        raise ValueError("learner_prob > 0 needs learner=<policy name or checkpoint dir>")


class DaggerMix:
    """DAgger (Ross et al. 2011) at the level of single steps: at every step the learner's
    action is executed (the expert's with probability ``beta``, DAgger's mixing), and the
    expert's action for the state the learner reached is the label (:attr:`label`).

    The label is the state-derived expert's (:mod:`sim.skills.base`), read afresh at every
    step and never cut off by the expert's own step cap, so a learner that dawdles is still
    told what to do. The skill ends when the expert's label is to terminate (its skill is
    done, or cannot be done from here) or the executed action terminates.
    """

    records_every_skill = True  # a recorder keeps every skill, failed or not

    def __init__(self, env, learner, beta: float, rng: np.random.Generator) -> None:
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"dagger_beta must be in [0, 1], got {beta}")
        if learner is None:
            raise ValueError("dagger_beta needs learner=<policy name or checkpoint dir>")
        self.world = env.unwrapped.world
        self.learner, self.beta, self.rng = learner, float(beta), rng
        self.by_learner = False  # every step is labelled: nothing is left out
        self.label: np.ndarray | None = None
        self._skill = None

    def reset(self) -> None:
        self.learner.reset()
        self.label, self._skill = None, None

    def select_action(self, observation: dict) -> np.ndarray:
        text = " ".join(observation["instruction"].lower().split())
        if self._skill is None or self._skill.text != text:
            self._skill = make_skill(text)
        self.label = np.asarray(self._skill.policy(self.world), np.float32)
        executed = np.asarray(self.learner.select_action(observation), np.float32)
        if int(np.rint(self.label[MODE_INDEX])) == TERMINATE:
            return self.label
        return self.label if self.rng.random() < self.beta else executed
