"""Multi-label metrics and scorers: micro/macro F1, Hamming loss, subset accuracy.

Thin wrappers over :mod:`sklearn.metrics` with the multi-label conventions
fixed once (``zero_division=0``: a label never predicted and never present
scores 0 instead of warning), and scorers usable by name in
:func:`activelab.simulation.campaign.run_campaign` (``scoring="f1_micro"``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn import metrics as _m

__all__ = [
    "SCORERS",
    "f1_macro",
    "f1_micro",
    "get_scorer",
    "hamming_loss",
    "multilabel_metrics",
    "subset_accuracy",
]


def f1_micro(Y_true: Any, Y_pred: Any) -> float:
    """F1 over all (item, label) decisions pooled together.

    Examples
    --------
    >>> round(f1_micro([[1, 0], [1, 1]], [[1, 0], [0, 1]]), 4)
    0.8
    """
    return float(_m.f1_score(Y_true, Y_pred, average="micro", zero_division=0))


def f1_macro(Y_true: Any, Y_pred: Any) -> float:
    """Unweighted mean of the per-label F1 scores (rare labels count as much as common ones).

    Examples
    --------
    >>> round(f1_macro([[1, 0], [1, 1]], [[1, 0], [0, 1]]), 4)
    0.8333
    """
    return float(_m.f1_score(Y_true, Y_pred, average="macro", zero_division=0))


def hamming_loss(Y_true: Any, Y_pred: Any) -> float:
    """Fraction of (item, label) decisions that are wrong; lower is better.

    Examples
    --------
    >>> hamming_loss([[1, 0], [1, 1]], [[1, 0], [0, 1]])
    0.25
    """
    return float(_m.hamming_loss(Y_true, Y_pred))


def subset_accuracy(Y_true: Any, Y_pred: Any) -> float:
    """Fraction of items whose whole label set is predicted exactly.

    Examples
    --------
    >>> subset_accuracy([[1, 0], [1, 1]], [[1, 0], [0, 1]])
    0.5
    """
    return float(_m.accuracy_score(Y_true, Y_pred))


def multilabel_metrics(Y_true: Any, Y_pred: Any) -> dict[str, float]:
    """All four metrics at once, by name.

    Examples
    --------
    >>> multilabel_metrics([[1, 0], [1, 1]], [[1, 0], [1, 1]])
    {'f1_micro': 1.0, 'f1_macro': 1.0, 'hamming_loss': 0.0, 'subset_accuracy': 1.0}
    """
    Y_true, Y_pred = np.asarray(Y_true), np.asarray(Y_pred)
    return {
        "f1_micro": f1_micro(Y_true, Y_pred),
        "f1_macro": f1_macro(Y_true, Y_pred),
        "hamming_loss": hamming_loss(Y_true, Y_pred),
        "subset_accuracy": subset_accuracy(Y_true, Y_pred),
    }


def _predicted_indicator(model: Any, X: Any) -> np.ndarray:
    pred = np.asarray(model.predict(X))
    return pred.reshape(pred.shape[0], -1)


def _scorer(metric: Callable[[Any, Any], float], sign: float) -> Callable[[Any, Any, Any], float]:
    def score(model: Any, X: Any, Y: Any) -> float:
        return sign * metric(Y, _predicted_indicator(model, X))

    score.__name__ = metric.__name__
    return score


#: Scorers ``scorer(model, X, Y) -> float``, higher is better (the Hamming
#: loss is negated, as in scikit-learn's ``neg_*`` scorers).
SCORERS: dict[str, Callable[[Any, Any, Any], float]] = {
    "f1_micro": _scorer(f1_micro, 1.0),
    "f1_macro": _scorer(f1_macro, 1.0),
    "neg_hamming_loss": _scorer(hamming_loss, -1.0),
    "subset_accuracy": _scorer(subset_accuracy, 1.0),
}


def get_scorer(name: str) -> Callable[[Any, Any, Any], float]:
    """A multi-label scorer by name (see :data:`SCORERS`).

    Examples
    --------
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> X, Y = np.array([[0.0], [1.0]]), np.array([[1, 0], [0, 1]])
    >>> get_scorer("f1_micro")(KNeighborsClassifier(1).fit(X, Y), X, Y)
    1.0
    """
    key = name.strip().lower()
    if key == "hamming_loss":
        raise ValueError(
            "Scorers are higher-is-better: use scoring='neg_hamming_loss' for the Hamming loss."
        )
    if key not in SCORERS:
        raise ValueError(f"Unknown multi-label scorer {name!r}; known: {', '.join(SCORERS)}.")
    return SCORERS[key]
