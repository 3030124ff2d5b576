"""Metrics of a value function: BCE loss, accuracy and ranking AUCs, overall and per skill type.

Two AUCs answer two questions. ```auc`` (label): does the score rank skills that really
succeeded above those that failed? ``feasible_auc``: does it rank skills the symbolic world
allows now (the oracle's next skill among them) above ones it does not, whatever the weak
policy then managed? ``oracle_auc``: the oracle's next skill against infeasible skills only.
A SayCan planner needs the last two even when the policy's successes are rare.
"""

from __future__ import annotations

import math

import numpy as np


def auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties count half); None without both classes."""
    labels = np.asarray(labels, bool)
    pos, neg = np.asarray(scores)[labels], np.asarray(scores)[~labels]
    if len(pos) == 0 or len(neg) == 0:
        return None
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def bce(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean binary cross-entropy of probabilities."""
    p = np.clip(np.asarray(probs, np.float64), 1e-7, 1 - 1e-7)
    y = np.asarray(labels, np.float64)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def _round(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 4)


def _block(probs, labels, feasible, oracle) -> dict:
    versus = oracle | ~feasible  # the oracle's next skill against infeasible skills
    return {
        "n": int(len(labels)),
        "positive": _round(float(labels.mean())) if len(labels) else None,
        "loss": _round(bce(probs, labels)) if len(labels) else None,
        "accuracy": _round(float(((probs > 0.5) == labels).mean())) if len(labels) else None,
        "auc": _round(auc(probs, labels)),
        "feasible_auc": _round(auc(probs, feasible)),
        "oracle_auc": _round(auc(probs[versus], oracle[versus])),
    }


def evaluate(probs, labels, feasible, oracle, types) -> dict:
    """``{"all": {...}, "<skill type>": {...}}`` of n, positive rate, loss, accuracy, AUCs.

    All arguments are (N,) arrays: probabilities, success labels, feasibility, whether the
    skill is the oracle's next one, skill types.
    """
    labels, feasible, oracle = (np.asarray(a, bool) for a in (labels, feasible, oracle))
    out = {"all": _block(probs, labels, feasible, oracle)}
    for name in sorted(set(types.tolist())):
        mask = types == name
        out[name] = _block(probs[mask], labels[mask], feasible[mask], oracle[mask])
    return out


def oracle_top1(probs: np.ndarray, oracle: np.ndarray, episodes: np.ndarray) -> float | None:
    """Share of states whose oracle next skill scores highest among the state's labelled
    skills (chance: 1 / skills per state); None if no state has an oracle skill."""
    hits = []
    for episode in np.unique(episodes):
        mask = episodes == episode
        if oracle[mask].any() and mask.sum() > 1:
            hits.append(bool(oracle[mask][np.argmax(probs[mask])]))
    return _round(float(np.mean(hits))) if hits else None


def format_metrics(metrics: dict) -> str:
    """A small fixed-width table of :func:`evaluate`'s output."""
    keys = ("positive", "loss", "accuracy", "auc", "feasible_auc", "oracle_auc")
    heads = ("pos", "loss", "acc", "auc", "feasAUC", "oraclAUC")
    lines = [f"{'skill type':<10} {'n':>5} " + " ".join(f"{h:>8}" for h in heads)]
    for name, m in metrics.items():
        cells = " ".join("       -" if m[k] is None else f"{m[k]:8.3f}" for k in keys)
        lines.append(f"{name:<10} {m['n']:>5} {cells}")
    return "\n".join(lines)
