"""Metrics of a value function: BCE loss, accuracy and ranking AUCs, overall and per skill type.

Two AUCs answer two questions. ``auc`` (label): does the score rank skills that really
succeeded above those that failed? ``feasible_auc``: does it rank skills the symbolic world
allows now (the oracle's next skill among them) above ones it does not, whatever the weak
policy then managed? A SayCan planner needs the second even when positives are rare.
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


def _block(probs: np.ndarray, labels: np.ndarray, feasible: np.ndarray) -> dict:
    return {
        "n": int(len(labels)),
        "positive": _round(float(labels.mean())) if len(labels) else None,
        "loss": _round(bce(probs, labels)) if len(labels) else None,
        "accuracy": _round(float(((probs > 0.5) == labels).mean())) if len(labels) else None,
        "auc": _round(auc(probs, labels)),
        "feasible_auc": _round(auc(probs, feasible)),
    }


def evaluate(probs: np.ndarray, labels: np.ndarray, feasible: np.ndarray, types: np.ndarray):
    """``{"all": {...}, "<skill type>": {...}}`` of n, positive rate, loss, accuracy, AUCs."""
    labels, feasible = np.asarray(labels, bool), np.asarray(feasible, bool)
    out = {"all": _block(probs, labels, feasible)}
    for name in sorted(set(types.tolist())):
        mask = types == name
        out[name] = _block(probs[mask], labels[mask], feasible[mask])
    return out


def format_metrics(metrics: dict) -> str:
    """A small fixed-width table of :func:`evaluate`'s output."""
    lines = [
        f"{'skill type':<10} {'n':>5} {'pos':>6} {'loss':>6} {'acc':>6} {'auc':>6} {'feasAUC':>7}"
    ]
    for name, m in metrics.items():
        cells = [m["positive"], m["loss"], m["accuracy"], m["auc"]]
        text = " ".join("     -" if c is None else f"{c:6.3f}" for c in cells)
        feas = "      -" if m["feasible_auc"] is None else f"{m['feasible_auc']:7.3f}"
        lines.append(f"{name:<10} {m['n']:>5} {text} {feas}")
    return "\n".join(lines)
