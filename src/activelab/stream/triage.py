"""Fraud triage in a stream: which arriving items an analyst reviews, under a budget.

Items (transactions, claims, scans) arrive in batches; an analyst can review a share
``budget`` of them and says, for each one reviewed, whether it is a positive (fraud, a
finding). Every review both *catches* a positive now (exploitation) and *teaches* the
model (exploration). :func:`triage_replay` replays a labelled stream under one of
three review policies:

``"random"``
    review items at random: the model learns from an unbiased sample, but catches
    positives only at their base rate;
``"top_risk"``
    review the items of highest predicted risk (the positive class's probability):
    catches the most now, but learns only from items it already believes risky;
``"triage"``
    a share ``explore`` of the reviews goes to the items the model is least sure
    about (risk closest to ``0.5``, the boundary of a balanced model), the rest to
    the highest risk. Before a model exists, a share ``cold_explore`` of the reviews
    is random: when the positives are not anomalies, the anomaly ranking alone may
    never meet one (ImageSegments' ``brickface``: pure top-risk review caught none).

Until the reviews hold a positive and an item of another class there is no model (on a
stream of several classes, reviews of two other classes alone give a model that cannot
score the positive class); the risk is then the anomaly score of an isolation forest
fitted on the items seen so far (the cold start of
:class:`activelab.strategies.rare.AnomalyColdStart`). The model is refitted on every
reviewed item (the last ``label_memory``) after each batch.

Measured prequentially (each item is scored before any label of its batch is learned):
the positives caught, and the model's average precision on the items that arrived
since the previous checkpoint (a constant score, i.e. the base rate, while there is no
model), plus the balanced accuracy of its predictions there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import IsolationForest

from activelab._validation import check_count, check_seed
from activelab.simulation.rare_metrics import average_precision, check_positive_label
from activelab.strategies._base import top_k
from activelab.stream.budget import _check_budget, _least_budget

__all__ = ["POLICIES", "TriageRun", "triage_replay"]

#: The review policies of :func:`triage_replay`.
POLICIES = ("random", "top_risk", "triage")


@dataclass
class TriageRun:
    """One replayed stream under one review policy.

    One entry per checkpoint in each list unless said otherwise.

    Attributes
    ----------
    items_seen, reviewed, caught, positives_seen : list of int
        Cumulative items, reviews, positives reviewed, positives arrived.
    ap : list of float or None
        The model's average precision on the items since the previous checkpoint
        (``None`` when they hold no positive).
    balanced_accuracy : list of float or None
        Of its predictions on those items (``None`` while there is no model).
    ap_mean : float
        Mean of ``ap`` over the checkpoints (the model's AP over time).
    """

    policy: str
    seed: int
    budget: float
    explore: float
    batch_size: int
    n_items: int
    positive_label: Any
    items_seen: list[int] = field(default_factory=list)
    reviewed: list[int] = field(default_factory=list)
    caught: list[int] = field(default_factory=list)
    positives_seen: list[int] = field(default_factory=list)
    ap: list[float | None] = field(default_factory=list)
    balanced_accuracy: list[float | None] = field(default_factory=list)
    ap_mean: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)

    @property
    def caught_share(self) -> float:
        """Positives caught over positives arrived, at the end."""
        return self.caught[-1] / self.positives_seen[-1] if self.positives_seen[-1] else 0.0


def triage_replay(
    model: Any,
    X: Any,
    y: Any,
    *,
    positive_label: Any,
    budget: float = 0.05,
    policy: str = "triage",
    explore: float = 0.2,
    cold_explore: float = 0.5,
    batch_size: int = 50,
    every: int | None = None,
    label_memory: int = 5000,
    seed: int | None = 0,
) -> TriageRun:
    """Replay a labelled stream with an analyst reviewing a share ``budget`` of the items.

    Parameters
    ----------
    model : classifier with ``predict_proba``
        Cloned and refitted on the reviewed items after each batch (e.g. a logistic
        regression with ``class_weight="balanced"``).
    X, y : the items in arrival order and the answers the analyst would give.
    positive_label : the class to catch; not among ``y``'s labels raises, naming them.
    budget : float, default=0.05
        Share of the items that may be reviewed (spent batch by batch; the
        fractions carry over).
    policy : {"random", "top_risk", "triage"}, default="triage"
    explore : float, default=0.2
        ``"triage"``: the share of reviews spent on the least sure items.
    cold_explore : float, default=0.5
        ``"triage"``: the share of reviews made at random while there is no model
        (the rest go to the most anomalous items).
    batch_size : int, default=50
    every : int, optional
        Items between checkpoints (default: about 50 checkpoints).
    label_memory : int, default=5000
        The model is fitted on at most the last this many reviewed items.
    seed : int or None, default=0
        ``None`` draws a fresh seed (recorded in the result).

    Returns
    -------
    TriageRun

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 2)); y = (X[:, 0] > 1.9).astype(int)   # about 3 %
    >>> model = LogisticRegression(class_weight="balanced")
    >>> runs = {p: triage_replay(model, X, y, positive_label=1, policy=p, batch_size=100)
    ...         for p in POLICIES}
    >>> runs["triage"].reviewed[-1]
    100
    >>> runs["triage"].caught[-1] > 2 * runs["random"].caught[-1]
    True
    """
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}.")
    budget = _check_budget(budget)  # a string, None or True: one line, not a TypeError
    if not (0.0 <= explore <= 1.0 and 0.0 <= cold_explore <= 1.0):
        raise ValueError(
            f"explore and cold_explore must be in [0, 1], got {explore!r} and {cold_explore!r}."
        )
    batch_size = check_count(batch_size, "batch_size")
    # label_memory=0 would slice [-0:], every reviewed item: no bound at all
    label_memory = check_count(label_memory, "label_memory")
    every = None if every is None else check_count(every, "every")
    seed = check_seed(seed)
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    n = y.shape[0]
    if X.shape[0] != n:
        raise ValueError(f"X has {X.shape[0]} items but y has {n} labels.")
    finite = np.isfinite(X.reshape(n, -1)).all(axis=1)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"Item {i} has a NaN or infinite feature; impute or drop it first.")
    positive_label = check_positive_label(y, positive_label)
    least = _least_budget(budget, n)
    if least is not None:  # the allowance never reaches one review
        raise ValueError(
            f"A review budget of {budget:.3g} of {n} items is {budget * n:.2g} reviews: not one "
            f"item would be reviewed. Use a budget of at least {least:g} (one review), or a "
            "longer stream."
        )
    every = every or max(batch_size, (max(n // 50, 1) // batch_size) * batch_size)
    rng = np.random.default_rng([seed, 5])
    run = TriageRun(policy, int(seed), float(budget), float(explore), batch_size, n, positive_label)
    is_pos = y == positive_label
    reviewed: list[np.ndarray] = []
    fitted: Any = None
    allowance = 0.0
    n_reviewed = n_caught = 0
    w_scores: list[np.ndarray] = []
    w_truth: list[np.ndarray] = []
    w_pred: list[np.ndarray] = []
    next_mark = every
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        Xb, m = X[start:stop], stop - start
        if fitted is not None:
            classes = np.asarray(fitted.classes_)
            col = np.flatnonzero(classes == positive_label)[0]
            risk = np.asarray(fitted.predict_proba(Xb))[:, col]
            w_pred.append((fitted.predict(Xb) == positive_label).astype(int))
            w_scores.append(risk)
        else:
            risk = _anomaly(X[:stop], Xb, seed) if policy != "random" else np.zeros(m)
            w_pred.append(np.full(m, -1))  # no model: no prediction
            w_scores.append(np.zeros(m))
        w_truth.append(is_pos[start:stop])
        allowance += budget * m
        # 0.29 * 100 is 28.999999999999996 in floating point: one review short without the slack
        k = min(int(allowance + 1e-9), m)
        allowance -= k
        share = explore if fitted is not None else cold_explore
        pick = _choose(policy, risk, k, share, rng, fitted is not None)
        chosen = start + pick
        reviewed.append(chosen)
        n_reviewed += chosen.shape[0]
        n_caught += int(is_pos[chosen].sum())
        refitted = _refit(model, X, y, reviewed, label_memory, positive_label)
        fitted = refitted if refitted is not None else fitted
        if stop >= next_mark or stop == n:
            truth = np.concatenate(w_truth)
            scores = np.concatenate(w_scores)
            pred = np.concatenate(w_pred)
            run.items_seen.append(stop)
            run.reviewed.append(n_reviewed)
            run.caught.append(n_caught)
            run.positives_seen.append(int(is_pos[:stop].sum()))
            run.ap.append(average_precision(truth, scores, True))
            run.balanced_accuracy.append(_window_ba(truth, pred))
            w_scores, w_truth, w_pred = [], [], []
            next_mark = stop + every
    aps = [a for a in run.ap if a is not None]
    run.ap_mean = float(np.mean(aps)) if aps else float("nan")
    return run


def _choose(
    policy: str, risk: np.ndarray, k: int, explore: float, rng: np.random.Generator, model: bool
) -> np.ndarray:
    """Batch positions to review: at random, by risk, or by risk and uncertainty."""
    m = risk.shape[0]
    if k == 0:
        return np.empty(0, dtype=np.int64)
    if policy == "random":
        return np.sort(rng.choice(m, k, replace=False))
    if policy == "top_risk":
        return top_k(risk, k)
    n_explore = int(rng.binomial(k, explore))
    exploit = top_k(risk, k - n_explore)
    rest = np.setdiff1d(np.arange(m), exploit)
    if not model:  # no model to be unsure with: explore at random (anomalies may not be fraud)
        return np.concatenate([exploit, rng.choice(rest, n_explore, replace=False)])
    unsure = rest[top_k(-np.abs(risk[rest] - 0.5), n_explore)]
    return np.concatenate([exploit, unsure])


def _anomaly(seen: np.ndarray, Xb: np.ndarray, seed: int) -> np.ndarray:
    """Anomaly score of the batch's items against the items seen so far (higher: rarer)."""
    forest = IsolationForest(n_estimators=50, random_state=seed).fit(seen)
    return -forest.score_samples(Xb)


def _refit(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    reviewed: list[np.ndarray],
    memory: int,
    positive_label: Any,
) -> Any:
    """The model refitted on the last ``memory`` reviewed items.

    ``None`` until they hold the positive class and another one: a model fitted
    without the positive class has no probability of it to rank the items by.
    """
    idx = np.concatenate(reviewed)[-memory:]
    hits = y[idx] == positive_label
    if hits.all() or not hits.any():
        return None
    return clone(model).fit(X[idx], y[idx])


def _window_ba(truth: np.ndarray, pred: np.ndarray) -> float | None:
    """Balanced accuracy of the model's 0/1 predictions (-1: none) in a window."""
    have = pred >= 0
    if not have.any() or truth[have].all() or not truth[have].any():
        return None
    p, t = pred[have].astype(bool), truth[have]
    return float((np.mean(p[t]) + np.mean(~p[~t])) / 2.0)
