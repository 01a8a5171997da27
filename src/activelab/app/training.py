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
  model's predictions on a fixed random sample of the pool, the stop set
  (:func:`stop_set`; "stabilising predictions", Bloodgood & Vijay-Shanker
  2009). When successive models agree on more than 99 % of it, new labels have
  stopped changing the model. The service stores each model's predictions on
  it with the model version, so the comparison survives a restart.
- **stopping**: which stopping criteria have fired and since how many labels:
  stabilising predictions (the agreement above) and the confidence criterion
  of :class:`activelab.stopping.ConfidenceCriterion` (the current model's mean
  least confidence on the same sample at most 0.05; single-label projects).
  For a project with a rare class (the class a rare-class strategy seeks, else
  one rare among the labels), how many of it were found and the model's
  cross-validated recall of it: the criteria above watch the model as a whole,
  which a rare class barely moves.

With several answers per item the model learns from **soft labels**
(``soft_labels``: the aggregate's probability of each class per item): an
item in dispute becomes one training row per plausible class, weighted by its
probability (:func:`activelab.annotators.aggregate.soft_rows`, rows under
:data:`~activelab.annotators.aggregate.SOFT_MIN_WEIGHT` dropped), when the
estimator's ``fit`` takes ``sample_weight``.
"""

from __future__ import annotations

import io
import math
import time
import warnings
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from activelab._text import count
from activelab.annotators.aggregate import SOFT_MIN_WEIGHT, soft_rows
from activelab.learner import ActiveLearner
from activelab.models.imbalance import balanced
from activelab.scoring import take_rows
from activelab.simulation.rare_metrics import balanced_accuracy, per_class_recall, rare_class
from activelab.stopping import ConfidenceCriterion
from activelab.strategies import ScoringStrategy

__all__ = [
    "TrainResult",
    "bootstrap_f1_interval",
    "make_estimator",
    "stop_set",
    "train",
    "wilson_interval",
]

#: items ranked by the strategy in each round (the rest follow at random)
QUEUE_HEAD = 2000
#: items chosen per round by a strategy that chooses a set (auto, diverse batch, k-center ...):
#: such a batch costs more than a ranking and the model is retrained every few labels anyway
SET_HEAD = 200
#: items ranked by the cold-start strategy while no model exists
COLD_HEAD = 50
#: pool sample on which successive models are compared
STOP_SET = 2000
#: seeds the stop set's item keys: every process and round draws the same sample
STOP_SEED = 12345
#: a previous model's predictions count when they cover at least this share of the stop set
MIN_STOP_OVERLAP = 0.5
_STOP_CHUNK = 1 << 20
STABLE_AGREEMENT = 0.99
#: bootstrap resamples of the multi-label quality interval
N_BOOTSTRAP = 1000
#: multi-label labels needed before the quality is estimated
MIN_CV_ITEMS = 6


def make_estimator(multilabel: bool = False) -> Any:
    """The project's model: a multinomial logistic regression, or one per label (one-vs-rest).

    The multi-label model weights each label's two sides equally
    (``class_weight="balanced"``): most labels are rare, and an unweighted
    model on few labels puts every ``P(label)`` under 0.5, so it would never
    guess a label at all.
    """
    from sklearn.linear_model import LogisticRegression

    if multilabel:
        from sklearn.multiclass import OneVsRestClassifier

        return OneVsRestClassifier(LogisticRegression(max_iter=1000, class_weight="balanced"))
    return LogisticRegression(max_iter=1000)


def bootstrap_f1_interval(
    Y: np.ndarray, P: np.ndarray, *, n_boot: int = N_BOOTSTRAP, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float]:
    """Micro-F1 of predictions ``P`` against ``Y`` and its percentile-bootstrap interval.

    Items (rows) are resampled with replacement; micro-F1 pools the true
    positives, false positives and false negatives of every label, so each
    resample needs only the per-item counts (no loop over the items).

    Examples
    --------
    >>> Y = np.array([[1, 0], [1, 1], [0, 1], [0, 0]] * 5)
    >>> P = np.array([[1, 0], [1, 0], [0, 1], [0, 1]] * 5)
    >>> f1, lo, hi = bootstrap_f1_interval(Y, P, seed=0)
    >>> round(f1, 3), lo <= f1 <= hi
    (0.75, True)
    """
    Y = np.asarray(Y, dtype=bool)
    P = np.asarray(P, dtype=bool)
    per_item = np.stack(
        [(Y & P).sum(axis=1), (~Y & P).sum(axis=1), (Y & ~P).sum(axis=1)], axis=1
    ).astype(float)  # (n, 3): tp, fp, fn

    def f1(counts: np.ndarray) -> np.ndarray:
        tp, fp, fn = counts[..., 0], counts[..., 1], counts[..., 2]
        den = 2 * tp + fp + fn
        return np.where(den > 0, 2 * tp / np.where(den > 0, den, 1), 1.0)

    n = per_item.shape[0]
    rng = np.random.default_rng(seed)
    step = max(1, min(n_boot, 2_000_000 // max(n, 1)))  # bounded memory: resamples in batches
    boot = np.concatenate(
        [
            # how often each item is drawn in each resample: (batch, n) @ (n, 3)
            f1(rng.multinomial(n, np.full(n, 1.0 / n), size=min(step, n_boot - b)) @ per_item)
            for b in range(0, n_boot, step)
        ]
    )
    alpha = (1 - level) / 2
    lo, hi = np.quantile(boot, [alpha, 1 - alpha])
    return float(f1(per_item.sum(axis=0))), float(lo), float(hi)


def stop_set(n: int, size: int = STOP_SET, seed: int = STOP_SEED) -> np.ndarray:
    """The pool sample on which successive models are compared: sorted item ids.

    A bottom-k sample: item ``i`` gets the ``i``-th draw of a generator seeded
    with ``seed`` as its key, and the sample is the ``size`` items with the
    smallest keys (every item when the pool is smaller). An item's key never
    changes, so the sample is the same in every process, and when items are
    added only new items with smaller keys displace earlier ones: a pool grown
    from ``n`` to ``m`` items keeps about ``size * n / m`` of its sample, and
    models before and after the addition are compared on the items they share.
    The keys are drawn in chunks of a million, so memory stays bounded.

    Examples
    --------
    >>> stop_set(5).tolist()
    [0, 1, 2, 3, 4]
    >>> a, b = stop_set(10_000, 100), stop_set(10_100, 100)
    >>> a.shape, bool(np.all(np.diff(a) > 0)), np.intersect1d(a, b).shape[0] >= 95
    ((100,), True, True)
    """
    k = min(size, n)
    rng = np.random.default_rng(seed)
    keys = np.empty(0)
    ids = np.empty(0, dtype=np.int64)
    for lo in range(0, n, _STOP_CHUNK):  # chunks of the pool, not items
        hi = min(lo + _STOP_CHUNK, n)
        keys = np.concatenate([keys, rng.random(hi - lo)])
        ids = np.concatenate([ids, np.arange(lo, hi, dtype=np.int64)])
        if keys.shape[0] > k:
            keep = np.argpartition(keys, k - 1)[:k]
            keys, ids = keys[keep], ids[keep]
    return np.sort(ids)


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
    stop_predictions: np.ndarray | None = None  # the model's predictions on ``stop_items``
    stop_items: np.ndarray | None = None  # the stop set (:func:`stop_set`)

    def model_bytes(self) -> bytes | None:
        """The fitted model serialised with joblib (a pool-aware model in its compact
        form: the pool's predictions without its graph, see
        :meth:`~activelab.models.semi.HybridClassifier.compact`)."""
        if self.model is None:
            return None
        import joblib

        from activelab.models.semi import HybridClassifier

        model = self.model.compact() if isinstance(self.model, HybridClassifier) else self.model
        buf = io.BytesIO()
        joblib.dump(model, buf)
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
    previous_stop_items: np.ndarray | None = None,
    previous_agreements: list[float] | None = None,
    multilabel: bool = False,
    previous_stopping: dict[str, Any] | None = None,
    previous_hybrid_method: str | None = None,
    previous_rare_target: str | None = None,
    semi_supervised: str | None = "auto",
    soft_labels: np.ndarray | None = None,
    min_weight: float = SOFT_MIN_WEIGHT,
) -> TrainResult:
    """Fit the model on the labels and rank the unlabelled pool.

    Parameters
    ----------
    X : array or sparse matrix
        The project's features.
    labelled, labels : ndarray
        Pool indices with a label now, and those labels (for a multi-label
        project a 0/1 indicator matrix, one column per class).
    classes : list of str
        The project's labels.
    strategy : str
        The project's strategy name.
    seed : int
        Seeds the learner and the random tail of the queue.
    previous_stop_predictions : ndarray, optional
        The previous model's predictions on the stop set, as strings
        (``TrainResult.stop_predictions``).
    previous_stop_items : ndarray, optional
        The items of ``previous_stop_predictions`` (``TrainResult.stop_items``).
        This model is compared with the previous one on the items both
        predicted, when they are at least half of the stop set (items added to
        the pool in between change it a little); a multi-label project's
        labels added in between count as not predicted by the previous model.
        Without them, ``previous_stop_predictions`` must be of the current
        stop set.
    previous_agreements : list of float, optional
        Earlier agreements between successive models, newest last.
    multilabel : bool, default=False
        Items carry any number of the classes: ``labels`` is an indicator matrix.
    previous_stopping : dict, optional
        The previous round's ``metrics["stopping"]``, so that a criterion that
        keeps firing reports the labels at which it started to.
    previous_hybrid_method : str, optional
        The previous round's ``metrics["hybrid_method"]``: the pool-aware fit
        keeps that method unless another clearly beats it
        (:attr:`~activelab.learner.ActiveLearner.hybrid_method_`).
    previous_rare_target : str, optional
        The previous round's ``metrics["rare_target"]``: a rare-class strategy
        (``positive_seeking``, ``rare_discovery``, ``aad``, ``auto_rare``) keeps
        seeking the class it chose then, under the rule it keeps to within one
        campaign (another class's estimated share below half of it), instead of
        choosing anew from each round's estimates.
    semi_supervised : str or None, default="auto"
        The learner's pool-aware fit (:mod:`activelab.models.semi`): the model
        learns from the unlabelled items too (single-label projects). The
        pool's graph is built once per feature matrix and kept for the next
        rounds. The accuracy estimate in ``metrics`` is the cross-validated
        accuracy of the supervised model on the human labels alone.
    soft_labels : ndarray of shape (n_labelled, n_classes), optional
        Single-label projects: the probability of each class (in ``classes``
        order) of every labelled item, e.g. the Dawid–Skene posterior of its
        answers; ``labels`` are then their most probable classes. When some
        item keeps more than one class at ``min_weight`` or more and the
        estimator takes ``sample_weight``, the model (the supervised part of a
        pool-aware model) is fitted on one row per (item, class) weighted by
        that probability. Otherwise — one answer per item, or agreeing answers
        — nothing changes. The queue is ranked with the soft model; the
        accuracy estimate stays on the hard labels. ``metrics["soft_labels"]``
        says how many items and rows it used.
    min_weight : float, default=SOFT_MIN_WEIGHT
        Classes under this probability get no row.

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
    >>> sorted(r.metrics["stopping"])
    ['confidence', 'stabilizing_predictions']

    Multi-label: indicator rows, one column per label.

    >>> Y = np.array([[1, 0], [1, 1], [0, 1], [0, 0], [1, 0], [0, 1]])
    >>> r = train(X, idx, Y, classes=["a", "b"], strategy="mmc", seed=0, multilabel=True)
    >>> r.cold_start, r.metrics["accuracy"]["metric"], r.metrics["class_counts"]
    (False, 'micro-F1', {'a': 3, 'b': 3})
    >>> bool(np.all(np.diff(r.scores) <= 0))  # mmc's expected loss reduction, best first
    True
    """
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    estimator = make_estimator(multilabel)
    # the rarest class among the labels when it is rare there (rare_class), else None
    rarest = None if multilabel else rare_class(np.asarray(labels).astype(str))
    weighted = rarest is not None
    if weighted:  # a rare class among the labels: weigh the classes equally
        estimator = balanced(estimator)
    learner = ActiveLearner(
        estimator,
        strategy,
        classes=classes,
        random_state=seed,
        semi_supervised=None if multilabel else semi_supervised,
        **({"multilabel": True} if multilabel else {}),
    )
    if multilabel and labelled.shape[0] == 0:
        labels = np.zeros((0, len(classes)), dtype=np.int64)
    if multilabel or semi_supervised in (None, "off"):
        learner.fit(X, labelled, labels)
    else:
        learner.fit(X)
        learner.graph_pool_ = _cached_graph(X)
        learner.hybrid_method_ = previous_hybrid_method
        learner.teach(labelled, labels)
        _GRAPH_CACHE["graph"] = learner.graph_pool_
    soft_info = None
    if soft_labels is not None and not multilabel and learner.model_ is not None:
        soft_info = _fit_soft(learner, X, labelled, soft_labels, classes, min_weight)
    strat = learner.strategy_  # the learner queries with its own copy, made at fit
    seeks_a_class = hasattr(strat, "target_") and not multilabel
    if seeks_a_class:  # fit started a campaign: take up the class the last round sought
        strat.reset(previous_rare_target)
    unlabelled = learner.unlabelled_
    cold = learner.model_ is None
    head_size = QUEUE_HEAD if isinstance(strat, ScoringStrategy) else SET_HEAD
    k = min(COLD_HEAD if cold else head_size, unlabelled.shape[0])
    with warnings.catch_warnings():
        # tiny pools have fewer distinct points than cold-start clusters: harmless
        warnings.simplefilter("ignore", ConvergenceWarning)
        head = learner.query(k) if k else np.empty(0, dtype=np.int64)
    record = learner.history_[-1] if learner.history_ else None
    used = record.strategy if record else ("cold start" if cold else strategy)
    scores = None
    if not cold and isinstance(strat, ScoringStrategy) and head.size:
        ctx = learner.context()
        scores = ctx.map_chunks(lambda Xc: strat.score_chunk(learner.model_, Xc), rows=head)
    elif multilabel and not cold and callable(getattr(strat, "scores", None)) and head.size:
        # a strategy that scores the candidates as a whole (mmc: expected loss reduction)
        ctx = learner.context().with_candidates(head)
        scored = np.asarray(strat.scores(ctx), dtype=float)  # aligned with sorted candidates
        scores = scored[np.searchsorted(ctx.candidates, head)]
    rest = np.ones(n, dtype=bool)
    rest[labelled] = False
    rest[head] = False
    tail = np.flatnonzero(rest)
    order = np.concatenate([head, tail[rng.permutation(tail.shape[0])]]).astype(np.int64)
    fit_seconds = learner.fit_seconds_
    if multilabel:
        counts = {str(c): int(np.sum(labels[:, j])) for j, c in enumerate(classes)}
    else:
        counts = {str(c): int(np.sum(labels == c)) for c in classes}
    metrics: dict[str, Any] = {
        "n_labels": int(labelled.shape[0]),
        "class_weight": "balanced" if weighted else None,
        "class_counts": counts,
        "fit_seconds": round(fit_seconds, 4),
    }
    if soft_info is not None:
        metrics["soft_labels"] = soft_info
    if learner.hybrid_method_ is not None:
        metrics["hybrid_method"] = learner.hybrid_method_
    if seeks_a_class and strat.target_ is not None:
        metrics["rare_target"] = str(strat.target_)
    stop_pred = None
    if not cold:
        stop = stop_set(n)
        if multilabel:
            metrics["accuracy"] = _cv_micro_f1(X, labelled, labels, seed)
            # one string per item: its whole predicted label set, compared as a unit
            on = learner.predict_proba(take_rows(X, stop)) > 0.5
            stop_pred = np.array(["".join("1" if v else "0" for v in row) for row in on])
        else:
            metrics["accuracy"] = _cv_accuracy(X, labelled, labels, seed, estimator)
            stop_pred = np.asarray(learner.model_.predict(take_rows(X, stop))).astype(str)
        now, before, why = _aligned_previous(
            stop,
            previous_stop_predictions,
            previous_stop_items,
            len(classes) if multilabel else None,
        )
        metrics["still_pays"] = _still_pays(stop_pred[now], before, previous_agreements or [], why)
        X_stop = None if multilabel else take_rows(X, stop)
        metrics["stopping"] = _stopping(
            learner.model_,
            X_stop,
            metrics["still_pays"],
            previous_stopping or {},
            int(labelled.shape[0]),
        )
        rare = None
        if not multilabel:
            target = metrics.get("rare_target")
            rare = _rare_readout(
                labels, target if target is not None else rarest, metrics["accuracy"]
            )
        if rare is not None:
            metrics["stopping"]["rare_class"] = rare
    metrics["seconds"] = round(time.perf_counter() - t0, 4)
    return TrainResult(
        learner.model_,
        order,
        scores,
        used,
        cold,
        int(labelled.shape[0]),
        metrics,
        stop_pred,
        None if stop_pred is None else stop,
    )


def _fit_soft(
    learner: ActiveLearner,
    X: Any,
    labelled: np.ndarray,
    soft: np.ndarray,
    classes: list[str],
    min_weight: float,
) -> dict[str, int] | None:
    """Refit the learner's model on weighted soft rows; ``None`` when nothing is soft.

    A pool-aware model keeps its spreading (on the hard labels) and gets the soft
    supervised part. Rows of a class the hard labels never show are dropped: the
    model's classes are those of the labels.
    """
    from sklearn.base import clone

    from activelab.models.semi import HybridClassifier
    from activelab.weighting import sample_weight_param

    rows, cls, w = soft_rows(labelled, np.asarray(soft, dtype=float), min_weight=min_weight)
    if rows.shape[0] == labelled.shape[0]:
        return None  # every item has one class: the hard fit is the soft fit
    model = learner.model_
    hybrid = isinstance(model, HybridClassifier)
    estimator = clone(learner.estimator)
    key = sample_weight_param(estimator)
    if key is None or (hybrid and model.chosen_ == "self-training"):
        return None
    names = np.asarray(classes, dtype=object)[cls].astype(str)
    keep = np.isin(names, np.asarray(model.classes_).astype(str))
    estimator.fit(take_rows(X, rows[keep]), names[keep], **{key: w[keep]})
    if hybrid:
        model.supervised_ = estimator
    else:
        learner.model_ = estimator
    _, per_item = np.unique(rows[keep], return_counts=True)
    return {
        "items": int(per_item.shape[0]),
        "rows": int(keep.sum()),
        "split_items": int(np.count_nonzero(per_item > 1)),
    }


#: The last feature matrix trained on (a weak reference) and its graph: the trainer passes the
#: same matrix every round, so the graph is built once per project and process.
_GRAPH_CACHE: dict[str, Any] = {"X": None, "graph": None}


def _cached_graph(X: Any) -> Any:
    """The graph kept for ``X`` (the same object as last round), else ``None``."""
    ref = _GRAPH_CACHE["X"]
    if ref is not None and ref() is X:
        return _GRAPH_CACHE["graph"]
    try:
        _GRAPH_CACHE["X"] = weakref.ref(X)
    except TypeError:
        _GRAPH_CACHE["X"] = None
    _GRAPH_CACHE["graph"] = None
    return None


def _cv_accuracy(
    X: Any, idx: np.ndarray, y: np.ndarray, seed: int, estimator: Any
) -> dict[str, Any]:
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    _, counts = np.unique(y, return_counts=True)
    folds = int(min(5, counts.min()))
    if folds < 2 or counts.shape[0] < 2:
        return {
            "estimate": None,
            "low": None,
            "high": None,
            "n": int(idx.shape[0]),
            "metric": "accuracy",
            "note": "needs at least two labels of every class seen",
        }
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    pred = cross_val_predict(
        estimator,
        take_rows(X, np.sort(idx)),
        y[np.argsort(idx)],
        cv=cv,
    )
    k = int(np.sum(pred == y[np.argsort(idx)]))
    n = int(idx.shape[0])
    lo, hi = wilson_interval(k, n)
    recall = per_class_recall(y[np.argsort(idx)], pred)
    return {
        "balanced_accuracy": balanced_accuracy(y[np.argsort(idx)], pred),
        "recall": {str(c): v for c, v in recall.items()},
        "estimate": k / n,
        "low": lo,
        "high": hi,
        "n": n,
        "folds": folds,
        "metric": "accuracy",
        "note": f"{folds}-fold cross-validated accuracy on the labels, 95% Wilson interval",
    }


def _cv_micro_f1(X: Any, idx: np.ndarray, Y: np.ndarray, seed: int) -> dict[str, Any]:
    """Cross-validated micro-F1 of the multi-label model, with a bootstrap interval."""
    from sklearn.model_selection import KFold

    from activelab.multilabel import fit_multilabel, multilabel_proba

    n = int(idx.shape[0])
    if n < MIN_CV_ITEMS:
        return {
            "estimate": None,
            "low": None,
            "high": None,
            "n": n,
            "metric": "micro-F1",
            "note": f"needs at least {MIN_CV_ITEMS} labelled items",
        }
    order = np.argsort(idx)
    Xl, Yl = take_rows(X, idx[order]), np.asarray(Y)[order]
    folds = min(5, n // 2)
    pred = np.zeros_like(Yl)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a label constant within a fold
        for train_idx, test_idx in KFold(folds, shuffle=True, random_state=seed).split(Yl):
            model = fit_multilabel(make_estimator(True), take_rows(Xl, train_idx), Yl[train_idx])
            pred[test_idx] = multilabel_proba(model, take_rows(Xl, test_idx)) > 0.5
    f1, lo, hi = bootstrap_f1_interval(Yl, pred, seed=seed)
    return {
        "estimate": f1,
        "low": lo,
        "high": hi,
        "n": n,
        "folds": folds,
        "metric": "micro-F1",
        "note": f"{folds}-fold cross-validated micro-F1 on the labels, 95% bootstrap interval "
        f"({N_BOOTSTRAP} resamples of the items)",
    }


def _aligned_previous(
    stop: np.ndarray,
    previous: np.ndarray | None,
    previous_items: np.ndarray | None,
    n_labels: int | None,
) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """The positions in ``stop`` to compare, the previous predictions there, and why
    there are none (``None``: no previous model).

    ``n_labels`` (multi-label projects): the label count now; the previous model's
    label sets, one ``0``/``1`` per label, are widened with ``0`` for labels added since.

    Examples
    --------
    >>> stop = np.array([1, 4, 7, 9])
    >>> now, before, why = _aligned_previous(stop, np.array(["a", "b", "c", "d"]),
    ...                                      np.array([0, 1, 4, 9]), None)
    >>> now.tolist(), before.tolist(), why
    ([0, 1, 3], ['b', 'c', 'd'], None)
    >>> _aligned_previous(stop, np.array(["01", "11"]), np.array([1, 2]), 3)[1:]
    (None, 'the pool has grown since the last model: needs two trained models on it')
    >>> _aligned_previous(stop, np.array(["01"] * 4), None, 3)[1].tolist()
    ['010', '010', '010', '010']
    """
    everything = np.arange(stop.shape[0])
    if previous is None:
        return everything, None, None
    previous = np.asarray(previous).astype(str)
    if n_labels is not None and previous.size:
        width = int(np.char.str_len(previous).max())
        if width > n_labels:
            return everything, None, "the project's labels changed since the last model"
        previous = np.char.ljust(previous, n_labels, "0")
    if previous_items is None:  # a shape that is not the sample's: _still_pays says so
        return everything, previous, None
    _, now, before = np.intersect1d(
        stop, np.asarray(previous_items), assume_unique=True, return_indices=True
    )
    if now.shape[0] < MIN_STOP_OVERLAP * stop.shape[0] or now.shape[0] == 0:
        return (
            everything,
            None,
            "the pool has grown since the last model: needs two trained models on it",
        )
    return now, previous[before], None


def _still_pays(
    pred: np.ndarray,
    previous: np.ndarray | None,
    history: list[float],
    why: str | None = None,
) -> dict[str, Any]:
    if previous is None or previous.shape != pred.shape:
        return {"value": None, "agreement": None, "reason": why or "needs two trained models"}
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


def _stopping(
    model: Any,
    X_stop: Any,
    still_pays: dict[str, Any],
    previous: dict[str, Any],
    n_labels: int,
) -> dict[str, Any]:
    """Which stopping criteria fire now, and since how many labels they have fired.

    ``fired`` is None while a criterion cannot tell yet (one model so far; no
    class probabilities; a multi-label project for the confidence criterion).
    ``since`` is the label count of the first round of the current unbroken
    run of rounds in which it fired.
    """

    def entry(name: str, fired: bool | None, **extra: Any) -> dict[str, Any]:
        before = previous.get(name) or {}
        since = None
        if fired:
            since = before.get("since") if before.get("fired") else None
            since = n_labels if since is None else int(since)
        return {"fired": fired, "since": since, **extra}

    pays = still_pays.get("value")
    out = {
        "stabilizing_predictions": entry(
            "stabilizing_predictions",
            None if pays is None else not pays,
            agreement=still_pays.get("agreement"),
            threshold=STABLE_AGREEMENT,
        )
    }
    crit = ConfidenceCriterion()
    if X_stop is None or not hasattr(model, "predict_proba"):
        out["confidence"] = entry(
            "confidence", None, mean_uncertainty=None, threshold=crit.threshold
        )
    else:
        fired = crit.update(model, X_stop, n_labels)
        out["confidence"] = entry(
            "confidence", fired, mean_uncertainty=crit.values_[-1], threshold=crit.threshold
        )
    return out


def _rare_readout(
    labels: np.ndarray, label: str | None, accuracy: dict[str, Any]
) -> dict[str, Any] | None:
    """The rare class's read-out: its items found so far and the model's recall of it.

    The rare class ``label`` is the class a rare-class strategy seeks, else the
    rarest class among the labels when it is rare there
    (:func:`~activelab.simulation.rare_metrics.rare_class`), else ``None`` (no
    read-out). The stopping criteria
    watch the model as a whole, which a rare class barely moves: both can fire while
    the model still misses most of it.

    Returns
    -------
    dict or None
        ``label``, ``found`` (labelled items of it), ``labels`` (all labelled items)
        and ``recall`` (the model's cross-validated recall of it, ``None`` while it
        cannot be estimated); ``None`` without a rare class.

    Examples
    --------
    >>> y = np.array(["ok"] * 45 + ["fraud"] * 3)
    >>> _rare_readout(y, rare_class(y), {"recall": {"fraud": 0.5, "ok": 1.0}})
    {'label': 'fraud', 'found': 3, 'labels': 48, 'recall': 0.5}
    >>> _rare_readout(np.array(["ok", "fraud"] * 5), None, {}) is None
    True
    """
    labels = np.asarray(labels).astype(str)
    if label is None:
        return None
    label = str(label)
    recall = (accuracy.get("recall") or {}).get(label)
    return {
        "label": label,
        "found": int(np.count_nonzero(labels == label)),
        "labels": int(labels.shape[0]),
        "recall": None if recall is None else float(recall),
    }


def _apart(value: float, limit: float) -> tuple[str, str]:
    """``value`` and ``limit`` with two decimals, or as many more (up to 6) as tell them apart.

    Examples
    --------
    >>> _apart(0.12, 0.05), _apart(0.0503, 0.05)
    (('0.12', '0.05'), ('0.0503', '0.0500'))
    """
    for digits in range(2, 7):
        a, b = f"{value:.{digits}f}", f"{limit:.{digits}f}"
        if a != b:
            break
    return a, b


def stopping_text(stopping: dict[str, Any] | None) -> str | None:
    """One line saying which stopping criteria have fired (None before any model).

    Examples
    --------
    >>> text = stopping_text({"stabilizing_predictions": {"fired": True, "since": 120},
    ...                       "confidence": {"fired": False, "mean_uncertainty": 0.12,
    ...                                      "threshold": 0.05}})
    >>> for part in text.split("; "): print(part)
    stopping: predictions stable since 120 labels
    not yet confident (mean uncertainty 0.12 > 0.05)
    """
    if not stopping:
        return None
    parts = []
    stab = stopping.get("stabilizing_predictions") or {}
    if stab.get("fired"):
        parts.append(f"predictions stable since {count(stab['since'], 'label')}")
    elif stab.get("fired") is None:
        parts.append("stability needs two trained models")
    else:
        parts.append("predictions still change")
    conf = stopping.get("confidence") or {}
    if conf.get("fired"):
        parts.append(f"model confident since {count(conf['since'], 'label')}")
    elif conf.get("fired") is False:
        value, limit = _apart(conf["mean_uncertainty"], conf["threshold"])
        parts.append(f"not yet confident (mean uncertainty {value} > {limit})")
    rare = stopping.get("rare_class")
    if rare:
        text = f"rare class {rare['label']!r}: {rare['found']} found"
        text += f" in {count(rare['labels'], 'label')}"
        if rare.get("recall") is not None:
            text += f", model's recall of it {rare['recall']:.0%} (cross-validated)"
        parts.append(text)
    return "stopping: " + "; ".join(parts)
