"""Training a project's model and ranking its queue, through :class:`~activelab.ActiveLearner`.

The app does not select items on its own: one :class:`~activelab.ActiveLearner`
per training round fits the model on the labels derived from the store and
ranks the head of the queue with the project's strategy (the cold-start
strategy while no model can be fitted). The rest of the unlabelled pool
follows in a seeded random order, so the queue never runs dry between rounds.

It also measures how good the model is and whether more labels still pay:

- **estimated accuracy**: cross-validated accuracy on the labels with a 95 %
  Wilson interval. The labels were chosen where the model was unsure, so the
  estimate is usually pessimistic for the pool as a whole;
- **still paying?**: the agreement between this model's and the previous
  model's predictions on a fixed random sample of the pool ("stabilising
  predictions", Bloodgood & Vijay-Shanker 2009). When successive models agree
  on more than 99 % of it, new labels have stopped changing the model.
"""

from __future__ import annotations

import io
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from activelab.learner import ActiveLearner
from activelab.scoring import take_rows
from activelab.strategies import ScoringStrategy, get_strategy

__all__ = ["TrainResult", "make_estimator", "train", "wilson_interval"]

#: items ranked by the strategy in each round (the rest follow at random)
QUEUE_HEAD = 2000
#: items ranked by the cold-start strategy while no model exists
COLD_HEAD = 50
#: pool sample on which successive models are compared
STOP_SET = 2000
STABLE_AGREEMENT = 0.99


def make_estimator() -> Any:
    """The project's model: a multinomial logistic regression."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ``k / n``.

    Examples
    --------
    >>> lo, hi = wilson_interval(45, 50)
    >>> round(lo, 3), round(hi, 3)
    (0.786, 0.957)
    >>> wilson_interval(0, 0)
    (0.0, 1.0)
    """
    if n == 0:
        return 0.0, 1.0
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class TrainResult:
    """One training round: the model, the ranked queue and the metrics."""

    model: Any
    order: np.ndarray  # every unlabelled item, most wanted first
    scores: np.ndarray | None  # scores of the head of ``order``
    strategy: str
    cold_start: bool
    n_labels: int
    metrics: dict[str, Any] = field(default_factory=dict)
    stop_predictions: np.ndarray | None = None

    def model_bytes(self) -> bytes | None:
        """The fitted model serialised with joblib."""
        if self.model is None:
            return None
        import joblib

        buf = io.BytesIO()
        joblib.dump(self.model, buf)
        return buf.getvalue()


def train(
    X: Any,
    labelled: np.ndarray,
    labels: np.ndarray,
    *,
    classes: list[str],
    strategy: str,
    seed: int,
    previous_stop_predictions: np.ndarray | None = None,
    previous_agreements: list[float] | None = None,
) -> TrainResult:
    """Fit the model on the labels and rank the unlabelled pool.

    Parameters
    ----------
    X : array or sparse matrix
        The project's features.
    labelled, labels : ndarray
        Pool indices with a label now, and those labels.
    classes : list of str
        The project's labels.
    strategy : str
        The project's strategy name.
    seed : int
        Seeds the learner and the random tail of the queue.
    previous_stop_predictions : ndarray, optional
        The previous model's predictions on the stop set.
    previous_agreements : list of float, optional
        Earlier agreements between successive models, newest last.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> names = np.array(["setosa", "versicolor", "virginica"])
    >>> idx = np.array([0, 1, 50, 51, 100, 101])
    >>> r = train(X, idx, names[y[idx]], classes=list(names), strategy="margin", seed=0)
    >>> r.strategy, r.cold_start, len(r.order)
    ('margin', False, 144)
    >>> r.metrics["accuracy"]["n"]
    6
    """
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    learner = ActiveLearner(make_estimator(), strategy, classes=classes, random_state=seed)
    learner.fit(X, labelled, labels)
    unlabelled = learner.unlabelled_
    cold = learner.model_ is None
    k = min(COLD_HEAD if cold else QUEUE_HEAD, unlabelled.shape[0])
    with warnings.catch_warnings():
        # tiny pools have fewer distinct points than cold-start clusters: harmless
        warnings.simplefilter("ignore", ConvergenceWarning)
        head = learner.query(k) if k else np.empty(0, dtype=np.int64)
    record = learner.history_[-1] if learner.history_ else None
    used = record.strategy if record else ("cold start" if cold else strategy)
    scores = None
    strat = get_strategy(strategy)
    if not cold and isinstance(strat, ScoringStrategy) and head.size:
        ctx = learner.context()
        scores = ctx.map_chunks(lambda Xc: strat.score_chunk(learner.model_, Xc), rows=head)
    rest = np.ones(n, dtype=bool)
    rest[labelled] = False
    rest[head] = False
    tail = np.flatnonzero(rest)
    order = np.concatenate([head, tail[rng.permutation(tail.shape[0])]]).astype(np.int64)
    fit_seconds = learner.fit_seconds_
    metrics: dict[str, Any] = {
        "n_labels": int(labelled.shape[0]),
        "class_counts": {str(c): int(np.sum(labels == c)) for c in classes},
        "fit_seconds": round(fit_seconds, 4),
    }
    stop_pred = None
    if not cold:
        metrics["accuracy"] = _cv_accuracy(X, labelled, labels, seed)
        stop = np.sort(np.random.default_rng(12345).choice(n, size=min(STOP_SET, n), replace=False))
        stop_pred = np.asarray(learner.model_.predict(take_rows(X, stop))).astype(str)
        metrics["still_pays"] = _still_pays(
            stop_pred, previous_stop_predictions, previous_agreements or []
        )
    metrics["seconds"] = round(time.perf_counter() - t0, 4)
    return TrainResult(
        learner.model_, order, scores, used, cold, int(labelled.shape[0]), metrics, stop_pred
    )


def _cv_accuracy(X: Any, idx: np.ndarray, y: np.ndarray, seed: int) -> dict[str, Any]:
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    _, counts = np.unique(y, return_counts=True)
    folds = int(min(5, counts.min()))
    if folds < 2 or counts.shape[0] < 2:
        return {
            "estimate": None,
            "low": None,
            "high": None,
            "n": int(idx.shape[0]),
            "note": "needs at least two labels of every class seen",
        }
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    pred = cross_val_predict(
        make_estimator(), take_rows(X, np.sort(idx)), y[np.argsort(idx)], cv=cv
    )
    k = int(np.sum(pred == y[np.argsort(idx)]))
    n = int(idx.shape[0])
    lo, hi = wilson_interval(k, n)
    return {
        "estimate": k / n,
        "low": lo,
        "high": hi,
        "n": n,
        "folds": folds,
        "note": f"{folds}-fold cross-validated accuracy on the labels, 95% Wilson interval",
    }


def _still_pays(
    pred: np.ndarray, previous: np.ndarray | None, history: list[float]
) -> dict[str, Any]:
    if previous is None or previous.shape != pred.shape:
        return {"value": None, "agreement": None, "reason": "needs two trained models"}
    agreement = float(np.mean(pred == previous))
    recent = [*history[-1:], agreement]
    stable = len(recent) >= 2 and min(recent) >= STABLE_AGREEMENT
    reason = (
        f"the last models agree on {min(recent):.1%} of a {pred.shape[0]}-item sample: "
        "new labels barely change the model"
        if stable
        else f"the model still changes: {1 - agreement:.1%} of a {pred.shape[0]}-item sample "
        "changed prediction with the latest labels"
    )
    return {"value": not stable, "agreement": agreement, "reason": reason}
