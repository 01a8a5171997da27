"""Uncertainty sampling: least confident, margin and entropy.

Each scores every candidate from the model's class probabilities in chunks and
takes the ``n`` most uncertain (Lewis & Gale 1994; Scheffer et al. 2001;
Settles 2009, section 3.1).

The per-row functions :func:`least_confident`, :func:`margin` and
:func:`entropy` are public so that other strategies (density weighting,
batch-aware selection, stream strategies) reuse exactly the same scores.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from activelab.strategies._base import DECISION_FUNCTION, PREDICT_PROBA, ScoringStrategy

__all__ = [
    "Entropy",
    "LeastConfident",
    "Margin",
    "entropy",
    "least_confident",
    "margin",
    "top_two",
]


def top_two(P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Largest and second-largest value of each row, in O(rows × columns).

    Walks the columns (the classes, never the rows), which is faster than a
    partial sort for the few-class case.

    Examples
    --------
    >>> top_two(np.array([[0.2, 0.5, 0.3], [0.9, 0.05, 0.05]]))
    (array([0.5, 0.9]), array([0.3 , 0.05]))
    """
    P = np.asarray(P, dtype=float)
    if P.ndim != 2 or P.shape[1] == 0:
        raise ValueError(f"Expected a 2-D array of class scores, got shape {P.shape}.")
    if P.shape[1] == 1:
        return P[:, 0].copy(), np.zeros(P.shape[0])
    cols = np.ascontiguousarray(P.T)
    first = np.maximum(cols[0], cols[1])
    second = np.minimum(cols[0], cols[1])
    for c in cols[2:]:
        np.maximum(second, np.minimum(first, c), out=second)
        np.maximum(first, c, out=first)
    return first, second


def least_confident(P: np.ndarray) -> np.ndarray:
    """``1 - max_k p_k``: high when the most likely class is not likely.

    Examples
    --------
    >>> least_confident(np.array([[0.6, 0.4], [0.9, 0.1]]))
    array([0.4, 0.1])
    """
    return 1.0 - np.max(P, axis=1)


def margin(P: np.ndarray) -> np.ndarray:
    """``1 - (p_(1) - p_(2))``: high when the two most likely classes are close.

    Examples
    --------
    >>> margin(np.array([[0.5, 0.4, 0.1], [0.9, 0.05, 0.05]]))
    array([0.9 , 0.15])
    """
    first, second = top_two(P)
    return 1.0 - (first - second)


def entropy(P: np.ndarray) -> np.ndarray:
    """Shannon entropy ``-sum_k p_k log p_k`` of each row (natural log).

    Examples
    --------
    >>> np.round(entropy(np.array([[0.5, 0.5], [1.0, 0.0]])), 4)
    array([0.6931, 0.    ])
    """
    P = np.asarray(P, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(P > 0, np.log(np.where(P > 0, P, 1.0)), 0.0)
    return 0.0 - np.einsum("ij,ij->i", P, logs)


class _ProbaStrategy(ScoringStrategy):
    requires: ClassVar[tuple[Any, ...]] = (PREDICT_PROBA,)

    @staticmethod
    def _rows(P: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def score_chunk(self, model: Any, X_chunk: Any) -> np.ndarray:
        return self._rows(model.predict_proba(X_chunk))


class LeastConfident(_ProbaStrategy):
    """Query the items whose most likely class has the lowest probability.

    Needs ``predict_proba``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from activelab.strategies import QueryContext
    >>> X = np.array([[-2.0], [-0.1], [0.05], [2.0]])
    >>> model = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> ctx = QueryContext(X=X, candidates=np.arange(4), labelled=np.array([], int),
    ...                    y_labelled=np.array([]), model=model)
    >>> LeastConfident().select(ctx, 1)
    array([2])
    """

    name = "least_confident"
    _rows = staticmethod(least_confident)


class Margin(ScoringStrategy):
    """Query the items whose two most likely classes are closest.

    Uses ``predict_proba`` when the model has it, otherwise the decision
    function (for binary models, the distance to the boundary ``|f(x)|``), so
    margin also works with ``LinearSVC``.

    Examples
    --------
    >>> from sklearn.svm import LinearSVC
    >>> from activelab.strategies import QueryContext
    >>> X = np.array([[-2.0], [-0.3], [0.1], [2.0]])
    >>> model = LinearSVC().fit(X, [0, 0, 1, 1])
    >>> ctx = QueryContext(X=X, candidates=np.array([0, 1, 3]), labelled=np.array([2]),
    ...                    y_labelled=np.array([1]), model=model)
    >>> Margin().select(ctx, 1)
    array([1])
    """

    name = "margin"
    requires: ClassVar[tuple[Any, ...]] = ((PREDICT_PROBA, DECISION_FUNCTION),)

    def score_chunk(self, model: Any, X_chunk: Any) -> np.ndarray:
        if hasattr(model, "predict_proba"):
            return margin(model.predict_proba(X_chunk))
        D = np.asarray(model.decision_function(X_chunk), dtype=float)
        if D.ndim == 1:
            return -np.abs(D)
        first, second = top_two(D)
        return -(first - second)


class Entropy(_ProbaStrategy):
    """Query the items whose predicted class distribution has the highest entropy.

    Needs ``predict_proba``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from activelab.strategies import QueryContext
    >>> X = np.array([[-2.0], [0.0], [2.0]])
    >>> model = LogisticRegression().fit(X, [0, 1, 1])
    >>> ctx = QueryContext(X=X, candidates=np.arange(3), labelled=np.array([], int),
    ...                    y_labelled=np.array([]), model=model)
    >>> int(Entropy().select(ctx, 1)[0]) in (0, 1)
    True
    """

    name = "entropy"
    _rows = staticmethod(entropy)
