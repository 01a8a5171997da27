"""Replay a labelling campaign with several noisy annotators and a budget of answers.

:func:`run_annotated_campaign` spends a fixed number of *answers* (not items)
from simulated annotators (:mod:`activelab.annotators.simulated`) under one of
three policies:

``"new"``
    every answer labels a new item (the usual active learning);
``"double"``
    every new item is answered by two different annotators;
``"active"``
    each request goes to a new item or to one more answer on an item already
    labelled, whichever is worth more
    (:func:`activelab.annotators.second_opinion.choose_requests`).

The model trains on the aggregated labels (Dawid–Skene by default; soft
labels as weighted rows). An annotator never answers the same item twice.
Each answer costs the item's seconds (``cost``: one value per pool item);
with ``cost_aware=True`` requests are ranked by value per *predicted* second
(:class:`activelab.annotators.cost.CostModel`, learnt from the times seen so
far). Curves are recorded against answers and against cumulative cost.

Examples
--------
>>> from sklearn.datasets import load_iris
>>> from activelab.annotators.simulated import uniform_noise
>>> X, y = load_iris(return_X_y=True)
>>> sim = uniform_noise(3, 0.2, n_classes=3)
>>> r = run_annotated_campaign(X, y, X, y, sim, policy="active", budget=40, batch=10,
...                            initial=10, seed=0)
>>> r.answers, len(r.accuracy) == len(r.cost)
([10, 20, 30, 40], True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from activelab._validation import check_count, check_seconds, check_seed
from activelab.annotators.aggregate import (
    SOFT_MIN_WEIGHT,
    Aggregate,
    dawid_skene,
    majority_vote,
    soft_rows,
)
from activelab.annotators.cost import CostModel
from activelab.annotators.second_opinion import (
    choose_requests,
    fit_model_weight,
    new_item_value,
    relabel_value,
)
from activelab.annotators.simulated import SimulatedAnnotators
from activelab.scoring import take_rows

__all__ = ["POLICIES", "AnnotatedResult", "run_annotated_campaign"]

#: the request policies
POLICIES = ("new", "double", "active")


@dataclass
class AnnotatedResult:
    """One replayed multi-annotator campaign.

    Attributes
    ----------
    policy : str
        ``"new"``, ``"double"`` or ``"active"``.
    seed : int
    cost_aware : bool
    answers : list of int
        Answers spent after each step.
    items : list of int
        Distinct items labelled after each step.
    relabels : list of int
        Answers that were second (or later) opinions, after each step.
    cost : list of float
        Cumulative seconds spent after each step.
    accuracy : list of float
        Test accuracy of the model after each step.
    label_accuracy : list of float
        Share of labelled items whose aggregated label is the true one.
    annotator_accuracy_true, annotator_accuracy_est : list of float
        Each annotator's share of correct answers in this campaign, and the
        aggregation's estimate of it (at the end).
    """

    policy: str
    seed: int
    cost_aware: bool = False
    answers: list[int] = field(default_factory=list)
    items: list[int] = field(default_factory=list)
    relabels: list[int] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    label_accuracy: list[float] = field(default_factory=list)
    annotator_accuracy_true: list[float] = field(default_factory=list)
    annotator_accuracy_est: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return asdict(self)


class _Answers:
    """The growing answer log of one campaign (long form) and who answered what."""

    def __init__(self, n_items: int, n_annotators: int) -> None:
        self.items = np.empty(0, dtype=np.int64)
        self.annotators = np.empty(0, dtype=np.int64)
        self.labels = np.empty(0, dtype=np.int64)
        self.seconds = np.empty(0, dtype=float)
        self.asked = np.zeros((n_annotators, n_items), dtype=bool)

    def add(self, items: np.ndarray, who: np.ndarray, labels: np.ndarray, secs: np.ndarray) -> None:
        if self.asked[who, items].any():
            raise AssertionError("an annotator was asked the same item twice")
        self.asked[who, items] = True
        self.items = np.concatenate([self.items, items])
        self.annotators = np.concatenate([self.annotators, who])
        self.labels = np.concatenate([self.labels, labels])
        self.seconds = np.concatenate([self.seconds, secs])

    @property
    def n_per_item(self) -> np.ndarray:
        return self.asked.sum(axis=0)


def _pick_annotators(asked: np.ndarray, items: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each item, a random annotator who has not answered it (vectorised)."""
    free = ~asked[:, items]  # (A, n)
    keys = rng.random(free.shape) + free  # free annotators get keys in [1, 2)
    return keys.argmax(axis=0).astype(np.int64)


def _proba(model: Any, X: Any, n_classes: int) -> np.ndarray:
    """Predicted probabilities over all classes (columns of classes the model never saw: 0)."""
    out = np.zeros((X.shape[0], n_classes))
    out[:, np.asarray(model.classes_, dtype=np.int64)] = model.predict_proba(X)
    return out


def _fit(
    estimator: Any,
    X: Any,
    idx: np.ndarray,
    posterior: np.ndarray,
    min_weight: float = SOFT_MIN_WEIGHT,
) -> Any:
    rows, cls, w = soft_rows(idx, posterior, min_weight=min_weight)
    if np.unique(cls).shape[0] < 2:
        return None
    return clone(estimator).fit(take_rows(X, rows), cls, sample_weight=w)


def _out_of_fold(
    estimator: Any,
    X: Any,
    idx: np.ndarray,
    posterior: np.ndarray,
    n_classes: int,
    rng: np.random.Generator,
    min_weight: float,
    folds: int = 3,
) -> np.ndarray:
    """Each labelled item's prediction by a model that did not see its label."""
    fold = rng.permutation(idx.shape[0]) % folds
    out = np.full((idx.shape[0], n_classes), 1.0 / n_classes)
    for f in range(folds):  # a loop over folds, not items
        train, test = fold != f, fold == f
        model = _fit(estimator, X, idx[train], posterior[train], min_weight)
        if model is not None and test.any():
            out[test] = _proba(model, take_rows(X, idx[test]), n_classes)
    return np.clip(out, 1e-3, 1.0)


def _aggregate(
    ans: _Answers, n: int, k: int, n_ann: int, how: str, confusion: str = "full"
) -> Aggregate:
    if how == "majority":
        return majority_vote(
            ans.items,
            ans.labels,
            n_items=n,
            n_classes=k,
            annotators=ans.annotators,
            n_annotators=n_ann,
        )
    return dawid_skene(
        ans.items,
        ans.annotators,
        ans.labels,
        n_items=n,
        n_classes=k,
        n_annotators=n_ann,
        confusion=confusion,
    )


def run_annotated_campaign(
    X_pool: Any,
    y_pool: np.ndarray,
    X_test: Any,
    y_test: np.ndarray,
    annotators: SimulatedAnnotators,
    *,
    policy: str = "active",
    budget: int = 300,
    batch: int = 10,
    initial: int = 20,
    cost: np.ndarray | Callable[[Any, np.ndarray], np.ndarray] | None = None,
    cost_aware: bool = False,
    cost_exponent: float = 1.0,
    cost_known: bool = False,
    cost_noise: float = 0.2,
    aggregate: str = "dawid_skene",
    confusion: str = "full",
    estimator: Any = None,
    model_weight: float | str = 1.0,
    new_weight: float = 0.25,
    min_weight: float = SOFT_MIN_WEIGHT,
    seed: int | None = 0,
) -> AnnotatedResult:
    """Spend ``budget`` answers of simulated annotators under one request policy.

    Parameters
    ----------
    X_pool, y_pool : array-like
        The pool and its true classes (integers ``0 .. n_classes - 1``).
    X_test, y_test : array-like
        Held-out data to score the model.
    annotators : SimulatedAnnotators
        Who answers; each request goes to a random annotator who has not
        answered that item.
    policy : {"new", "double", "active"}, default="active"
    budget : int, default=300
        Answers to spend (the initial ones included).
    batch : int, default=10
        Answers requested per step.
    initial : int, default=20
        Random items answered first (twice each under ``"double"``; the
        initial answers count against the budget).
    cost : ndarray or callable, optional
        Seconds per answer of each pool item, or ``cost(X_pool, y_pool)``
        returning them (default: 1 second each). Observed times vary around
        it by a log-normal factor of spread ``cost_noise``. Each must be finite
        and above 0.
    cost_aware : bool, default=False
        Rank requests by value per predicted second.
    cost_exponent : float, default=1.0
        With ``cost_aware``: rank by ``value / seconds ** cost_exponent``.
    cost_known : bool, default=False
        With ``cost_aware``: rank by the ``cost`` column itself (a cost known
        before asking, e.g. a text's length) instead of the seconds a
        :class:`~activelab.annotators.cost.CostModel` predicts from the answers
        timed so far (on the item features).
    aggregate : {"dawid_skene", "majority"}, default="dawid_skene"
    confusion : {"full", "one_coin", "shrunk", "auto"}, default="full"
        Dawid–Skene's model of the annotators
        (:func:`~activelab.annotators.aggregate.dawid_skene`). ``"one_coin"``
        (one accuracy per annotator) reads the annotators better from a sparse
        overlap and lifts (b) and (c), but moves (a) too, by up to 3 points on
        ``benchmarks/annotators.py`` (docs/annotators.md, "The annotator model").
    estimator : classifier, optional
        Must take ``sample_weight``; default ``LogisticRegression(max_iter=1000)``.
    model_weight : float or "auto", default=1.0
        Weight of the model's out-of-fold prediction in the belief about a
        labelled item (see :func:`~activelab.annotators.second_opinion.relabel_value`).
        ``"auto"`` fits it at every step to the aggregated labels of the labelled
        items (:func:`~activelab.annotators.second_opinion.fit_model_weight`): a
        model that often contradicts the answers gets a small weight. Not the
        default: on ``benchmarks/annotators.py`` it did not beat 1.0 on the
        confirmation seeds (docs/annotators.md, "A data-driven model weight").
    new_weight : float, default=0.25
        Multiplies the value of a new item against a re-label. 0.25 was chosen
        on digits at 10, 20 and 30 % noise (3 seeds; 0.1, 0.25, 0.5 and 1 tried)
        and confirmed on ImageSegments and movie reviews
        (``benchmarks/annotators.py``).
    min_weight : float, default=0.3
        Soft labels: a class gets a weighted training row of an item when its
        aggregated probability reaches this (see
        :func:`~activelab.annotators.aggregate.soft_rows`). 0.3 keeps the
        classes in real dispute; lower values (0.05) spread single answers over
        every class and cost "new items only" up to 10 points on ImageSegments.
    seed : int or None, default=0
        ``None`` draws a fresh seed (recorded in the result).

    Returns
    -------
    AnnotatedResult
    """
    if policy not in POLICIES:
        raise ValueError(f"Unknown policy {policy!r}; use one of {list(POLICIES)}.")
    if aggregate not in ("dawid_skene", "majority"):
        raise ValueError(f"Unknown aggregate {aggregate!r}; use 'dawid_skene' or 'majority'.")
    y_pool = np.asarray(y_pool, dtype=np.int64)
    y_test = np.asarray(y_test, dtype=np.int64)
    n, k, n_ann = y_pool.shape[0], annotators.n_classes, annotators.n_annotators
    if y_pool.max() >= k:
        raise ValueError(
            f"y_pool has classes up to {y_pool.max()} but the annotators know {k} classes."
        )
    if isinstance(model_weight, str) and model_weight != "auto":
        raise ValueError(f"model_weight must be a number or 'auto', got {model_weight!r}.")
    if n_ann < 2 and policy != "new":
        raise ValueError(f"Policy {policy!r} needs at least two annotators.")
    budget = check_count(budget, "budget")
    batch = check_count(batch, "batch")
    initial = check_count(initial, "initial", minimum=0)
    seed = check_seed(seed)
    if initial > budget:
        raise ValueError(f"initial ({initial}) must not exceed budget ({budget}).")
    rng = np.random.default_rng(seed)
    estimator = estimator if estimator is not None else LogisticRegression(max_iter=1000)
    if cost is None:
        item_cost = np.ones(n)
    else:
        item_cost = check_seconds(cost(X_pool, y_pool) if callable(cost) else cost, n)
    res = AnnotatedResult(policy, seed, cost_aware)
    ans = _Answers(n, n_ann)
    cost_model = CostModel(min_answers=10)

    def ask(items: np.ndarray) -> None:
        who = _pick_annotators(ans.asked, items, rng)
        labels = annotators.answer(items, who, y_pool, rng)
        secs = item_cost[items] * np.exp(cost_noise * rng.standard_normal(items.shape[0]))
        ans.add(items, who, labels, secs)

    first = rng.choice(n, size=initial // 2 if policy == "double" else initial, replace=False)
    ask(first)
    if policy == "double":
        ask(first)
    while True:
        agg = _aggregate(ans, n, k, n_ann, aggregate, confusion)
        labelled = np.flatnonzero(agg.answered)
        model = _fit(estimator, X_pool, labelled, agg.posterior[labelled], min_weight)
        acc = float(np.mean(model.predict(X_test) == y_test)) if model is not None else 0.0
        counts = ans.n_per_item
        res.answers.append(int(ans.items.shape[0]))
        res.items.append(int(labelled.shape[0]))
        res.relabels.append(int(np.sum(np.maximum(counts - 1, 0))))
        res.cost.append(float(ans.seconds.sum()))
        res.accuracy.append(acc)
        res.label_accuracy.append(float(np.mean(agg.labels[labelled] == y_pool[labelled])))
        left = budget - res.answers[-1]
        if left <= 0:
            break
        size = min(batch, left)
        unlabelled = np.flatnonzero(~agg.answered)
        proba = (
            _proba(model, take_rows(X_pool, unlabelled), k)
            if model is not None
            else np.full((unlabelled.shape[0], k), 1.0 / k)
        )
        seen = ~np.isnan(agg.accuracy)
        mean_conf = agg.confusion[seen].mean(axis=0) if seen.any() else np.eye(k)
        # tie-break equal values by the margin of the two best classes (smaller first)
        top2 = np.sort(proba, axis=1)[:, -2:]
        new_val = new_item_value(proba, mean_conf) + 1e-6 * (1.0 - (top2[:, 1] - top2[:, 0]))
        pred_cost_new = pred_cost_old = None
        cost_X = X_pool
        if cost_aware and not cost_known:
            # on the item features only: a cost model that also sees the model's doubt
            # learns "uncertain items take longer" and cancels their value (tried: on
            # digits it never reached the by-value accuracy)
            cost_model.fit(take_rows(cost_X, ans.items), ans.seconds)
        if cost_aware:
            pred_cost_new = (
                item_cost[unlabelled]
                if cost_known
                else cost_model.predict(take_rows(cost_X, unlabelled))
            ) ** cost_exponent
        if policy == "new":
            pick, _ = choose_requests(new_val, np.empty(0), size, new_cost=pred_cost_new)
            ask(unlabelled[pick])
        elif policy == "double":
            pick, _ = choose_requests(
                new_val, np.empty(0), max(size // 2, 1), new_cost=pred_cost_new
            )
            items = unlabelled[pick]
            ask(items)
            if res.answers[-1] + 2 * items.shape[0] <= budget:
                ask(items)
        else:
            open_items = labelled[counts[labelled] < n_ann]
            pos = np.searchsorted(labelled, open_items)
            oof_full = _out_of_fold(
                estimator, X_pool, labelled, agg.posterior[labelled], k, rng, min_weight
            )
            oof = oof_full[pos]
            mw = (
                fit_model_weight(oof_full, agg.posterior[labelled])
                if model_weight == "auto"
                else model_weight
            )
            again = relabel_value(agg.posterior[open_items], oof, mean_conf, model_weight=mw)
            if cost_aware:
                pred_cost_old = (
                    item_cost[open_items]
                    if cost_known
                    else cost_model.predict(take_rows(cost_X, open_items))
                ) ** cost_exponent
            pick_new, pick_old = choose_requests(
                new_val,
                again,
                size,
                new_cost=pred_cost_new,
                relabel_cost=pred_cost_old,
                new_weight=new_weight,
            )
            ask(np.concatenate([unlabelled[pick_new], open_items[pick_old]]))
    final = _aggregate(ans, n, k, n_ann, aggregate, confusion)
    correct = ans.labels == y_pool[ans.items]
    hits = np.bincount(ans.annotators, weights=correct, minlength=n_ann)
    total = np.maximum(np.bincount(ans.annotators, minlength=n_ann), 1)
    res.annotator_accuracy_true = (hits / total).tolist()
    res.annotator_accuracy_est = np.nan_to_num(final.accuracy, nan=0.0).tolist()
    return res
