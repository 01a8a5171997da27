"""Helpers for strategies that fit models of their own (committees, expected error).

Private: seeding clones from the context's generator, mapping a model's class
probabilities onto the full class set, and the class set of a context.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from activelab.strategies._base import (
    QueryContext,
    StrategyRequirementError,
    _model_name,
    _wrapped,
)


def context_classes(ctx: QueryContext) -> np.ndarray:
    """The classes of a classification context (those seen when none are fixed)."""
    if ctx.classes is not None:
        return np.asarray(ctx.classes)
    return np.unique(ctx.y_labelled)


def seeded_clone(estimator: Any, rng: np.random.Generator) -> Any:
    """An unfitted clone whose unset ``random_state`` parameters are drawn from ``rng``.

    Keeps a randomised estimator (a forest, a shuffled SGD) repeatable under the
    learner's seed; fixed seeds are left as they are.
    """
    est = clone(estimator)
    params = est.get_params(deep=True)
    seeds = {
        key: int(rng.integers(2**31 - 1))
        for key, value in sorted(params.items())
        if (key == "random_state" or key.endswith("__random_state")) and value is None
    }
    if seeds:
        est.set_params(**seeds)
    return est


def proba_on_classes(model: Any, X: Any, classes: np.ndarray) -> np.ndarray:
    """``model.predict_proba(X)`` with one column per entry of ``classes``.

    A class the model never saw gets probability 0.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> m = LogisticRegression().fit([[0.0], [1.0]], ["a", "c"])
    >>> proba_on_classes(m, [[0.0]], np.array(["a", "b", "c"])).shape
    (1, 3)
    """
    P = np.asarray(model.predict_proba(X), dtype=float)
    model_classes = np.asarray(model.classes_)
    if model_classes.shape == classes.shape and np.array_equal(model_classes, classes):
        return P
    pos = np.searchsorted(classes, model_classes)
    pos = np.minimum(pos, classes.shape[0] - 1)
    if not np.array_equal(classes[pos], model_classes):
        unknown = model_classes[classes[pos] != model_classes][0]
        raise ValueError(f"The model predicts class {unknown!r}, which is not among {classes}.")
    out = np.zeros((P.shape[0], classes.shape[0]))
    out[:, pos] = P
    return out


def check_has(estimator: Any, method: str, strategy: str) -> None:
    """Refuse an estimator without ``method`` before any work is done."""
    if not hasattr(estimator, method):
        raise StrategyRequirementError(
            f"Strategy {strategy!r} needs `{method}` on every model it fits, but "
            f"{_model_name(estimator)} has none. Use a probabilistic classifier (e.g. "
            "LogisticRegression) or wrap it: activelab.models.CalibratedClassifier("
            f"{_wrapped(estimator)})."
        )
