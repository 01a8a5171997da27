"""Probabilities for a classifier that has none, from the first few labels on.

An active-learning campaign starts with a handful of labels, often one or two per
class, and strategies such as margin or entropy need ``predict_proba``. scikit-learn
calibrates a model without probabilities (an SVC, a linear SVM, a ridge classifier)
with :class:`~sklearn.calibration.CalibratedClassifierCV`, whose cross-validation
refuses a class with fewer items than folds ("Requesting 5-fold cross-validation but
provided less than 5 examples for at least one class"), so it cannot serve the first
rounds; ``SVC(probability=True)``, which could, is deprecated since scikit-learn 1.9.

:class:`CalibratedClassifier` is ``CalibratedClassifierCV(estimator, ensemble=False)``
with as many folds as the smallest class allows (up to ``max_folds``). While a class
has a single item it calibrates on the model's scores of its own training items: the
probabilities are then over-confident, but they rank items as the model's scores do,
which is what an uncertainty strategy needs; as labels arrive it switches to
cross-validated calibration by itself.

A model with class weights (``SVC(class_weight="balanced")``, as ``activelab simulate``
sets for a rare class) has its calibration weighted by them too: an unweighted sigmoid
fitted to a balanced model's scores pulls a rare class's probabilities back under the
other classes' and undoes the weighting.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

__all__ = ["CalibratedClassifier"]


class CalibratedClassifier(ClassifierMixin, BaseEstimator):
    """A classifier with calibrated ``predict_proba`` at any number of labels.

    Parameters
    ----------
    estimator : classifier with ``decision_function`` or ``predict_proba``
        For example :class:`~sklearn.svm.SVC` or :class:`~sklearn.svm.LinearSVC`.
    method : {"sigmoid", "isotonic"}, default="sigmoid"
        Platt's sigmoid suits the few labels of a campaign; isotonic needs many.
    max_folds : int, default=5
        The most cross-validation folds; fewer while the smallest class has fewer
        items, none (calibration on the training scores) while it has one.
    random_state : int or None, default=None
        Seeds the shuffled folds.

    Attributes
    ----------
    calibrated_ : CalibratedClassifierCV or None
        None while the labels hold a single class (every probability is then 1).
    n_folds_ : int
        Folds of the last fit; 0 means calibrated on the training scores.
    classes_ : ndarray

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> X, y = load_iris(return_X_y=True)
    >>> few = [0, 50, 100]  # one flower of each species
    >>> model = CalibratedClassifier(SVC()).fit(X[few], y[few])
    >>> model.n_folds_, model.predict_proba(X).shape
    (0, (150, 3))
    >>> model = CalibratedClassifier(SVC(), random_state=0).fit(X, y)
    >>> model.n_folds_, round(float(model.score(X, y)), 2)
    (5, 0.97)
    >>> bool((model.predict(X) == SVC().fit(X, y).predict(X)).all())  # the SVC decides
    True
    """

    def __init__(
        self,
        estimator: Any,
        *,
        method: str = "sigmoid",
        max_folds: int = 5,
        random_state: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.method = method
        self.max_folds = max_folds
        self.random_state = random_state

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> CalibratedClassifier:
        """Fit the model and its calibration on the labelled items."""
        if int(self.max_folds) < 2:
            raise ValueError(f"max_folds must be at least 2, got {self.max_folds!r}.")
        y = np.asarray(y)
        self.classes_, counts = np.unique(y, return_counts=True)
        self.n_features_in_ = int(np.shape(X)[1]) if len(np.shape(X)) > 1 else 1
        if self.classes_.shape[0] < 2:
            self.calibrated_, self.n_folds_ = None, 0
            return self
        folds = int(min(self.max_folds, counts.min()))
        weights_move, calibration_weight = self._class_weighted(y, sample_weight)
        if folds >= 2:
            estimator = clone(self.estimator)
            if weights_move:  # the class weights reach it through calibration_weight
                estimator.set_params(class_weight=None)
            cv = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
            calibrator = CalibratedClassifierCV(
                estimator, method=self.method, cv=cv, ensemble=False
            )
        else:
            weights = {} if sample_weight is None else {"sample_weight": sample_weight}
            fitted = clone(self.estimator).fit(X, y, **weights)
            every = np.arange(y.shape[0])  # one "fold": the frozen model scores its own items
            calibrator = CalibratedClassifierCV(
                FrozenEstimator(fitted), method=self.method, cv=[(every, every)]
            )
            folds = 0
        with warnings.catch_warnings():
            # the frozen model took the weights already; they still weigh the calibration
            warnings.filterwarnings("ignore", message=".*does not appear to accept sample_weight")
            self.calibrated_ = calibrator.fit(X, y, sample_weight=calibration_weight)
        self.n_folds_ = folds
        return self

    def _class_weighted(self, y: np.ndarray, sample_weight: Any) -> tuple[bool, Any]:
        """Whether the cross-validated model's class weights move into its sample weights.

        With a ``class_weight`` on the model (or on a pipeline's last step), the
        calibration is weighted by it as well. A model that takes ``sample_weight``
        gets its class weights through them instead (the same fit, counted once, as
        :class:`~sklearn.calibration.CalibratedClassifierCV` hands both the same
        weights); another keeps its ``class_weight``.

        Returns
        -------
        move : bool
            Whether the model's own ``class_weight`` is to be set to ``None``.
        calibration_weight : ndarray or None
            The weights of the calibration (and of a model that takes them).
        """
        from activelab.models.imbalance import class_weight_of

        class_weight = class_weight_of(self.estimator)
        if class_weight is None:
            return False, sample_weight
        weight = compute_sample_weight(class_weight, y)
        if sample_weight is not None:
            weight = weight * np.asarray(sample_weight, dtype=float)
        own = self.estimator.get_params(deep=False)
        return "class_weight" in own and has_fit_parameter(self.estimator, "sample_weight"), weight

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities, one column per class of ``classes_``."""
        check_is_fitted(self, "classes_")
        if self.calibrated_ is None:
            return np.ones((int(np.shape(X)[0]), 1))
        return self.calibrated_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        """The model's own prediction (as ``SVC(probability=True)`` does).

        With few labels the calibrated probabilities' argmax can disagree with the
        model and is the less accurate of the two (on digits at 40 labels, one of
        two draws: 0.52 against the SVC's 0.67), so the model decides.
        """
        check_is_fitted(self, "classes_")
        if self.calibrated_ is None:
            return np.repeat(self.classes_, int(np.shape(X)[0]))
        return self.calibrated_.calibrated_classifiers_[0].estimator.predict(X)
