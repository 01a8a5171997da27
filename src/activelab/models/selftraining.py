"""Self-training of any probabilistic classifier on the pool, with a class-balanced cap.

Each round fits the estimator on the human labels plus the pseudo-labels kept
so far, predicts the rest of the pool, and adopts — for every class alike — at
most ``cap`` of the most confident predictions above ``threshold``. The cap
keeps one easy class from flooding the training set (scikit-learn's
``SelfTrainingClassifier`` adopts every prediction above the threshold, which
on an imbalanced pool drifts to the majority class; it also takes the pool
only through ``y == -1``, which the learner's string labels cannot express).

Pseudo-labels live in ``pseudo_indices_`` / ``pseudo_labels_``, apart from
the human labels.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> rng = np.random.default_rng(0)
>>> X = np.r_[rng.normal(0, 1, (100, 2)), rng.normal(4, 1, (100, 2))]
>>> m = SelfTraining(LogisticRegression()).fit_pool(X, [0, 1, 100, 101], [0, 0, 1, 1])
>>> m.pseudo_indices_.size > 0, m.score(X, np.repeat([0, 1], 100)) > 0.95
(True, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from activelab.scoring import take_rows

__all__ = ["SelfTraining"]


class SelfTraining(ClassifierMixin, BaseEstimator):
    """Self-training with a confidence threshold and a per-class cap on pseudo-labels.

    Parameters
    ----------
    estimator : classifier
        Any classifier with ``predict_proba`` (cloned).
    threshold : float, default=0.9
        Least predicted probability for a pseudo-label.
    max_iter : int, default=5
        Rounds of adoption.
    cap : int, optional
        Pseudo-labels adopted per class and round; default: the number of human
        labels divided by the number of classes (at least 1), so the pseudo
        labels at most double the training set each round.
    max_pseudo : int, optional
        Cap on all pseudo-labels; default ``10 ×`` the human labels.

    Attributes
    ----------
    estimator_ : classifier
        The final fit.
    classes_ : ndarray
    pseudo_indices_, pseudo_labels_ : ndarray
        Pool rows given a pseudo-label, and those labels.
    """

    def __init__(
        self,
        estimator: Any,
        threshold: float = 0.9,
        max_iter: int = 5,
        cap: int | None = None,
        max_pseudo: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.threshold = threshold
        self.max_iter = max_iter
        self.cap = cap
        self.max_pseudo = max_pseudo

    def fit(self, X: Any, y: Any) -> SelfTraining:
        """scikit-learn's semi-supervised convention: ``y == -1`` marks unlabelled rows."""
        y = np.asarray(y)
        labelled = np.flatnonzero(y != -1)
        return self.fit_pool(X, labelled, y[labelled])

    def fit_pool(self, X: Any, labelled: Any, y: Any, **_: Any) -> SelfTraining:
        """Self-train on the pool ``X`` from the labelled rows ``labelled``."""
        labelled = np.asarray(labelled, dtype=np.intp)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        n_cls = self.classes_.shape[0]
        cap = self.cap or max(1, labelled.size // max(n_cls, 1))
        limit = self.max_pseudo if self.max_pseudo is not None else 10 * labelled.size
        free = np.ones(X.shape[0], dtype=bool)
        free[labelled] = False
        rows, targets = labelled, y
        model = clone(self.estimator).fit(take_rows(X, rows), targets)
        for _ in range(self.max_iter):
            budget = limit - (rows.size - labelled.size)
            cand = np.flatnonzero(free)
            if budget <= 0 or cand.size == 0:
                break
            proba = model.predict_proba(take_rows(X, cand))
            conf = proba.max(axis=1)
            pred = np.asarray(model.classes_)[proba.argmax(axis=1)]
            keep = _balanced_top(pred, conf, self.threshold, cap)[:budget]
            if keep.size == 0:
                break
            new = cand[keep]
            free[new] = False
            rows = np.concatenate([rows, new])
            targets = np.concatenate([targets, pred[keep]])
            model = clone(self.estimator).fit(take_rows(X, rows), targets)
        self.estimator_ = model
        self.pseudo_indices_ = rows[labelled.size :]
        self.pseudo_labels_ = targets[labelled.size :]
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the final fit."""
        return self.estimator_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        """Predictions of the final fit."""
        return self.estimator_.predict(X)


def _balanced_top(pred: np.ndarray, conf: np.ndarray, threshold: float, cap: int) -> np.ndarray:
    """Positions of the ``cap`` most confident predictions per class above ``threshold``.

    Most confident first overall (ties: lower position).

    Examples
    --------
    >>> _balanced_top(np.array([0, 0, 0, 1]), np.array([.99, .95, .97, .91]), 0.9, 2).tolist()
    [0, 2, 3]
    """
    ok = conf >= threshold
    order = np.lexsort((np.arange(conf.size), -conf))
    order = order[ok[order]]
    _, cls = np.unique(pred[order], return_inverse=True)
    # rank of each candidate within its class, in confidence order
    rank = np.empty(order.size, dtype=np.intp)
    for c in np.unique(cls):  # one pass per class, not per item
        pos = np.flatnonzero(cls == c)
        rank[pos] = np.arange(pos.size)
    return order[rank < cap]
