"""Models for a rare class: balanced class weights and a decision threshold chosen for a metric.

A model fitted on 3 % positives learns that "no" is nearly always right: its 0.5
threshold on ``predict_proba`` rarely names the rare class. Two remedies, each a
small wrapper around any scikit-learn classifier:

- :func:`balanced` sets ``class_weight="balanced"`` on the model (or on the last
  step of a pipeline) when it takes one, so every class weighs the same in the fit;
- :class:`ThresholdClassifier` fits the model, then picks the threshold on the
  positive class's probability that maximises a metric (balanced accuracy by
  default) on cross-fitted probabilities of the labelled items.

Which of them the command line turns on for data with a rare class was measured in
``benchmarks/rare_classes.py`` (see ``docs/rare.md``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict

__all__ = ["ThresholdClassifier", "balanced", "class_weight_of"]


def balanced(estimator: Any) -> Any:
    """A clone of ``estimator`` with ``class_weight="balanced"`` where it takes one.

    The last step of a pipeline is set (or the model that a wrapper such as
    :class:`~activelab.models.CalibratedClassifier` holds as ``estimator``); a model
    without ``class_weight`` (k-NN, naive Bayes) is returned unchanged (cloned).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> balanced(make_pipeline(StandardScaler(), LogisticRegression()))[-1].class_weight
    'balanced'
    """
    model = clone(estimator)
    last = _last_step(model)
    if "class_weight" in last.get_params(deep=False):
        last.set_params(class_weight="balanced")
    return model


def class_weight_of(estimator: Any) -> Any:
    """The ``class_weight`` of a classifier or of a pipeline's last step (None without one).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> class_weight_of(balanced(make_pipeline(StandardScaler(), LogisticRegression())))
    'balanced'
    >>> class_weight_of(LogisticRegression()) is None
    True
    """
    return _last_step(estimator).get_params(deep=False).get("class_weight")


def _last_step(estimator: Any) -> Any:
    """The model that takes ``class_weight``: a pipeline's last step, or a wrapper's model."""
    last = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    inner = last.get_params(deep=False).get("estimator")
    if "class_weight" not in last.get_params(deep=False) and hasattr(inner, "get_params"):
        return _last_step(inner)
    return last


def _ba_rows(truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Balanced accuracy of each row of predictions ``pred`` (cuts x items)."""
    tpr = (pred & truth).sum(axis=1) / max(truth.sum(), 1)
    tnr = (~pred & ~truth).sum(axis=1) / max((~truth).sum(), 1)
    return (tpr + tnr) / 2.0


def _f1_rows(truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """F1 of the positive class for each row of predictions ``pred`` (cuts x items)."""
    tp = (pred & truth).sum(axis=1)
    return 2.0 * tp / np.maximum(pred.sum(axis=1) + truth.sum(), 1)


_METRICS = {"balanced_accuracy": _ba_rows, "f1": _f1_rows}


class ThresholdClassifier(ClassifierMixin, BaseEstimator):
    """A binary classifier whose threshold on ``predict_proba`` is chosen for a metric.

    ``fit`` computes cross-fitted probabilities of the positive class (the second
    of ``classes_``) with at most ``cv`` stratified folds, takes the threshold that
    maximises ``scoring`` on them (the midpoint between neighbouring distinct
    probabilities, ties to the one nearest 0.5), then fits the model on every item.
    With fewer than two items of a class, or more than two classes, the threshold
    stays at 0.5 (plain ``argmax``).

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
    scoring : {"balanced_accuracy", "f1"}, default="balanced_accuracy"
    cv : int, default=3

    Attributes
    ----------
    estimator_ : the fitted model
    threshold_ : float
    classes_ : ndarray

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2)); y = (X[:, 0] + 0.5 * rng.normal(size=300) > 1.8).astype(int)
    >>> model = ThresholdClassifier(LogisticRegression()).fit(X, y)
    >>> bool(model.threshold_ < 0.5), model.predict(X).shape
    (True, (300,))
    """

    def __init__(self, estimator: Any, scoring: str = "balanced_accuracy", cv: int = 3) -> None:
        self.estimator = estimator
        self.scoring = scoring
        self.cv = cv

    def fit(self, X: Any, y: Any, **fit_params: Any) -> ThresholdClassifier:
        """Choose the threshold on cross-fitted probabilities, then fit on everything."""
        if self.scoring not in _METRICS:
            raise ValueError(f"scoring must be one of {sorted(_METRICS)}, got {self.scoring!r}.")
        y = np.asarray(y)
        self.classes_, counts = np.unique(y, return_counts=True)
        self.threshold_ = 0.5
        folds = int(min(self.cv, counts.min()))
        if self.classes_.shape[0] == 2 and folds >= 2:
            p = cross_val_predict(
                clone(self.estimator),
                X,
                y,
                cv=StratifiedKFold(folds, shuffle=True, random_state=0),
                method="predict_proba",
                params=fit_params or None,
            )[:, 1]
            self.threshold_ = _best_threshold(y == self.classes_[1], p, _METRICS[self.scoring])
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """The model's probabilities (the threshold does not change them)."""
        return self.estimator_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        """The positive class where its probability reaches the threshold."""
        P = self.predict_proba(X)
        if self.classes_.shape[0] != 2:
            return self.classes_[np.argmax(P, axis=1)]
        return self.classes_[(P[:, 1] >= self.threshold_).astype(int)]


def _best_threshold(truth: np.ndarray, p: np.ndarray, metric: Any) -> float:
    """The cut between distinct probabilities that maximises ``metric`` (ties: nearest 0.5)."""
    u = np.unique(p)
    if u.shape[0] < 2:
        return 0.5
    cuts = (u[:-1] + u[1:]) / 2.0
    values = metric(truth, p[None, :] >= cuts[:, None])
    best = np.flatnonzero(values >= values.max() - 1e-12)
    return float(cuts[best[np.argmin(np.abs(cuts[best] - 0.5))]])
