"""When to stop labelling: stabilising predictions, confidence and a budget.

A :class:`StoppingMonitor` is updated after every retraining with the new model
and the number of labels; it keeps each criterion's state and records the
number of labels at which each first fires. It never stops anything itself:
the caller (a person, the app, :func:`activelab.simulation.campaign.run_campaign`)
decides, and the simulator uses the record to say what stopping there would
have cost.

Criteria
--------
- :class:`StabilizingPredictions` (Bloodgood & Vijay-Shanker 2009, "A method
  for stopping active learning based on stabilizing predictions"): Cohen's
  kappa between the predictions of successive models on a *stop set* — a fixed
  random subset of the unlabelled pool, drawn once — and stop when the mean of
  the last ``window`` kappas is at least ``threshold`` (defaults 3 and 0.99, as
  in the paper).
- :class:`ConfidenceCriterion` (after Zhu, Wang & Hovy 2008): stop when the
  model's uncertainty on the stop set (least confidence ``1 - max p``; its mean
  or its maximum) falls below a threshold.
- :class:`Budget`: stop at a number of labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import cohen_kappa_score

from activelab._validation import check_seed
from activelab.scoring import take_rows
from activelab.strategies.uncertainty import least_confident

__all__ = [
    "Budget",
    "ConfidenceCriterion",
    "StabilizingPredictions",
    "StoppingCriterion",
    "StoppingMonitor",
]


class StoppingCriterion:
    """Base class: :meth:`update` returns True once the criterion is met."""

    name = "criterion"

    def reset(self) -> None:
        """Forget everything seen (a new campaign)."""

    def update(self, model: Any, X_stop: Any, n_labels: int) -> bool:  # pragma: no cover
        """Look at the new model; return whether to stop now."""
        raise NotImplementedError


class StabilizingPredictions(StoppingCriterion):
    """Stop when successive models agree on the stop set (Cohen's kappa).

    For multi-label models (0/1 indicator predictions) the kappa is taken over
    every (item, label) decision. Regressors are refused: their predictions
    have no classes to agree on.

    Parameters
    ----------
    window : int, default=3
        Number of successive kappas averaged.
    threshold : float, default=0.99
        Stop when their mean is at least this.

    Examples
    --------
    >>> c = StabilizingPredictions(window=2)
    >>> class Const:
    ...     def predict(self, X): return (X[:, 0] > 0).astype(int)
    >>> X = np.array([[-1.0], [1.0], [2.0]])
    >>> [c.update(Const(), X, n) for n in (10, 20, 30)]
    [False, False, True]
    >>> c.kappas_
    [1.0, 1.0]
    """

    name = "stabilizing_predictions"

    def __init__(self, window: int = 3, threshold: float = 0.99) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window!r}.")
        if not -1.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be a kappa in [-1, 1], got {threshold!r}.")
        self.window = int(window)
        self.threshold = float(threshold)
        self.reset()

    def reset(self) -> None:
        self._previous: np.ndarray | None = None
        self.kappas_: list[float] = []

    def update(self, model: Any, X_stop: Any, n_labels: int) -> bool:
        pred = np.asarray(model.predict(X_stop))
        if pred.dtype.kind == "f" and not np.all(np.mod(pred, 1) == 0):
            raise TypeError(
                "StabilizingPredictions compares the classes successive models predict (Cohen's "
                f"kappa), but {type(model).__name__} predicts continuous values such as "
                f"{float(pred[np.mod(pred, 1) != 0][0])!r}. For a regressor, stop at a Budget."
            )
        if self._previous is not None:
            self.kappas_.append(_kappa(self._previous, pred))
        self._previous = pred
        recent = self.kappas_[-self.window :]
        return len(recent) == self.window and float(np.mean(recent)) >= self.threshold


def _kappa(a: np.ndarray, b: np.ndarray) -> float:
    if np.array_equal(a, b):
        return 1.0  # also covers a single predicted class, where kappa is undefined
    # multi-label 0/1 rows: the agreement over every (item, label) decision
    return float(cohen_kappa_score(a.ravel(), b.ravel()))


class ConfidenceCriterion(StoppingCriterion):
    """Stop when the model is confident on the stop set.

    Parameters
    ----------
    threshold : float, default=0.05
        Stop when the uncertainty statistic is at most this.
    statistic : {"mean", "max"}, default="mean"
        Overall (mean) or maximum least-confidence ``1 - max_k p_k`` over the
        stop set. For a multi-label model, an item's least confidence is that
        of each label's yes/no, ``1 - max(p_j, 1 - p_j)``, averaged over the
        labels.

    Examples
    --------
    >>> class Sure:
    ...     def predict_proba(self, X): return np.tile([0.99, 0.01], (len(X), 1))
    >>> ConfidenceCriterion().update(Sure(), np.zeros((4, 1)), 10)
    True
    """

    name = "confidence"

    def __init__(self, threshold: float = 0.05, statistic: str = "mean") -> None:
        if statistic not in ("mean", "max"):
            raise ValueError(f"statistic must be 'mean' or 'max', got {statistic!r}.")
        self.threshold = float(threshold)
        self.statistic = statistic
        self.reset()

    def reset(self) -> None:
        self.values_: list[float] = []

    def update(self, model: Any, X_stop: Any, n_labels: int) -> bool:
        if not hasattr(model, "predict_proba"):
            raise TypeError(
                f"ConfidenceCriterion needs predict_proba, but {type(model).__name__} has none."
            )
        from activelab.multilabel._model import _label_columns, _predicts_label_sets

        P = model.predict_proba(X_stop)
        if isinstance(P, list) or (
            hasattr(model, "predict") and _predicts_label_sets(model, X_stop)
        ):
            # multi-label: each label's yes/no least confidence, averaged over the labels
            Q = _label_columns(P, getattr(model, "classes_", None))  # P read once
            u = (1.0 - np.maximum(Q, 1.0 - Q)).mean(axis=1)
        else:
            u = least_confident(np.asarray(P, dtype=float))
        value = float(u.mean() if self.statistic == "mean" else u.max())
        self.values_.append(value)
        return value <= self.threshold


class Budget(StoppingCriterion):
    """Stop at ``max_labels`` labels.

    Examples
    --------
    >>> Budget(100).update(None, None, 100)
    True
    """

    name = "budget"

    def __init__(self, max_labels: int) -> None:
        if max_labels < 0:
            raise ValueError(f"max_labels must be >= 0, got {max_labels!r}.")
        self.max_labels = int(max_labels)

    def update(self, model: Any, X_stop: Any, n_labels: int) -> bool:
        return n_labels >= self.max_labels


@dataclass
class StoppingMonitor:
    """Track several stopping criteria over a campaign.

    Parameters
    ----------
    criteria : list of StoppingCriterion, optional
        Defaults to stabilising predictions and the confidence criterion.
    stop_set_size : int, default=2000
        Size of the stop set, drawn once at the first update from the items
        then unlabelled (Bloodgood & Vijay-Shanker used 2000).
    seed : int or None, default=0
        Seeds the stop set; ``None`` draws a fresh seed (kept in ``seed``).

    Attributes
    ----------
    fired_ : dict of str to int or None
        For each criterion, the number of labels at which it first fired.
    stop_set_ : ndarray of int64
        Pool indices of the stop set.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> mon = StoppingMonitor([StabilizingPredictions(), Budget(40)], stop_set_size=50)
    >>> for n in (10, 20, 30, 40, 50):
    ...     model = LogisticRegression(max_iter=500).fit(X[::150 // n], y[::150 // n])
    ...     fired = mon.update(model, X, n, unlabelled=np.arange(150))
    >>> mon.fired_["budget"]
    40
    """

    criteria: list[StoppingCriterion] | None = None
    stop_set_size: int = 2000
    seed: int | None = 0
    fired_: dict[str, int | None] = field(default_factory=dict, init=False)
    stop_set_: np.ndarray | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.criteria is None:
            self.criteria = [StabilizingPredictions(), ConfidenceCriterion()]
        names = [c.name for c in self.criteria]
        if len(set(names)) != len(names):
            raise ValueError(f"Criteria names must be unique, got {names}.")
        if self.stop_set_size < 1:
            raise ValueError(f"stop_set_size must be >= 1, got {self.stop_set_size}.")
        self.seed = check_seed(self.seed)  # None: a fresh seed, kept for the next campaigns
        self.reset()

    def reset(self) -> None:
        """Start a new campaign: forget the stop set and every criterion's state."""
        assert self.criteria is not None
        for c in self.criteria:
            c.reset()
        self.fired_ = {c.name: None for c in self.criteria}
        self.stop_set_ = None

    @property
    def should_stop(self) -> bool:
        """Whether any criterion has fired."""
        return any(v is not None for v in self.fired_.values())

    def update(
        self, model: Any, X_pool: Any, n_labels: int, *, unlabelled: np.ndarray | None = None
    ) -> list[str]:
        """Feed the newly fitted model; return the names of the criteria firing now.

        Parameters
        ----------
        model : fitted estimator or None
            ``None`` (no model yet) is skipped.
        X_pool : the pool.
        n_labels : int
            Labels the model was fitted on.
        unlabelled : ndarray of int, optional
            Pool indices unlabelled now; the stop set is drawn from them at the
            first update (default: the whole pool).
        """
        assert self.criteria is not None
        if model is None:
            return []
        if self.stop_set_ is None:
            rows = np.arange(X_pool.shape[0]) if unlabelled is None else np.asarray(unlabelled)
            rng = np.random.default_rng([self.seed, 17])
            size = min(self.stop_set_size, rows.shape[0])
            self.stop_set_ = np.sort(rng.choice(rows, size=size, replace=False)).astype(np.int64)
        X_stop = take_rows(X_pool, self.stop_set_)
        now = []
        for c in self.criteria:
            if c.update(model, X_stop, int(n_labels)):
                now.append(c.name)
                if self.fired_[c.name] is None:
                    self.fired_[c.name] = int(n_labels)
        return now

    def update_from(self, learner: Any) -> list[str]:
        """:meth:`update` from an :class:`~activelab.ActiveLearner`'s current state."""
        return self.update(
            learner.model_, learner.pool_, learner.n_labelled_, unlabelled=learner.unlabelled_
        )
