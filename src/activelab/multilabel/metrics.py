"""Multi-label metrics and scorers: micro/macro F1, Hamming loss, subset accuracy.

The values of :mod:`sklearn.metrics` with the multi-label conventions fixed
once (``zero_division=0``: a label never predicted and never present scores 0
instead of warning), computed on the indicator matrices themselves: both
arguments must be 0/1 matrices of one shape (a single label is one column,
scored as a label, not as the two classes of a binary task), and anything else
(probabilities, 1-D labels, -1/1 codes, NaN) is refused. Scorers usable by name
in :func:`activelab.simulation.campaign.run_campaign` (``scoring="f1_micro"``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from activelab.multilabel._model import _indicator_array, _indicator_cells, _plain

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
    return _f1_micro(*_counts(*_indicators(Y_true, Y_pred)))


def f1_macro(Y_true: Any, Y_pred: Any) -> float:
    """Unweighted mean of the per-label F1 scores (rare labels count as much as common ones).

    Examples
    --------
    >>> round(f1_macro([[1, 0], [1, 1]], [[1, 0], [0, 1]]), 4)
    0.8333
    """
    return _f1_macro(*_counts(*_indicators(Y_true, Y_pred)))


def hamming_loss(Y_true: Any, Y_pred: Any) -> float:
    """Fraction of (item, label) decisions that are wrong; lower is better.

    Examples
    --------
    >>> hamming_loss([[1, 0], [1, 1]], [[1, 0], [0, 1]])
    0.25
    """
    T, P = _indicators(Y_true, Y_pred)
    return float(np.mean(T != P))


def subset_accuracy(Y_true: Any, Y_pred: Any) -> float:
    """Fraction of items whose whole label set is predicted exactly.

    Examples
    --------
    >>> subset_accuracy([[1, 0], [1, 1]], [[1, 0], [0, 1]])
    0.5
    """
    T, P = _indicators(Y_true, Y_pred)
    return float(np.mean((T == P).all(axis=1)))


def multilabel_metrics(Y_true: Any, Y_pred: Any) -> dict[str, float]:
    """All four metrics at once, by name.

    Examples
    --------
    >>> multilabel_metrics([[1, 0], [1, 1]], [[1, 0], [1, 1]])
    {'f1_micro': 1.0, 'f1_macro': 1.0, 'hamming_loss': 0.0, 'subset_accuracy': 1.0}
    """
    T, P = _indicators(Y_true, Y_pred)  # checked once, counted once
    counts = _counts(T, P)
    return {
        "f1_micro": _f1_micro(*counts),
        "f1_macro": _f1_macro(*counts),
        "hamming_loss": float(np.mean(T != P)),
        "subset_accuracy": float(np.mean((T == P).all(axis=1))),
    }


def _f1_micro(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> float:
    """Micro F1 from the per-label counts of :func:`_counts`."""
    denominator = 2 * tp.sum() + fp.sum() + fn.sum()
    return float(2 * tp.sum() / denominator) if denominator else 0.0


def _f1_macro(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> float:
    """Macro F1 from the per-label counts of :func:`_counts`."""
    denominator = 2 * tp + fp + fn
    per_label = np.divide(2 * tp, denominator, out=np.zeros(len(tp)), where=denominator > 0)
    return float(per_label.mean())


def _indicators(Y_true: Any, Y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both targets as boolean ``(n_items, n_labels)`` matrices, checked.

    Parameters
    ----------
    Y_true, Y_pred : array-like or sparse matrix of shape (n_items, n_labels)
        0/1 (or boolean) indicator matrices.

    Returns
    -------
    T, P : ndarray of bool

    Raises
    ------
    ValueError
        For a matrix that is not 2-D, empty, holds a value other than 0 or 1,
        or whose shape differs from the other's.
    """
    out = []
    for name, Y in (("Y_true", Y_true), ("Y_pred", Y_pred)):
        Y = _indicator_array(Y)
        if Y.ndim != 2 or Y.shape[0] == 0:
            raise ValueError(
                f"{name} must be a 0/1 indicator matrix (n_items, n_labels), got shape "
                f"{Y.shape}; activelab.multilabel.to_indicator turns label lists into one."
            )
        ones, cell = _indicator_cells(Y)
        if cell is not None:
            i, j = cell
            raise ValueError(
                f"{name}[{i}, {j}] is {_plain(Y[i, j])!r}; an indicator matrix holds only 0 "
                "and 1 (threshold probabilities first, e.g. P >= 0.5)."
            )
        out.append(ones)
    T, P = out
    if T.shape != P.shape:
        raise ValueError(
            f"Y_true has shape {T.shape} but Y_pred {P.shape}; both need one row per item and "
            "one column per label."
        )
    return T, P


def _counts(T: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-label true positives, false positives and false negatives."""
    return (T & P).sum(axis=0), (~T & P).sum(axis=0), (T & ~P).sum(axis=0)


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
