"""Replay active learning on data that is already labelled: the simulated oracle.

:func:`run_campaign` is the single replay loop every door shares (the demo, the
simulator, the benchmarks): it drives an :class:`~activelab.ActiveLearner` over
a pool whose labels are known, revealing a label only when it is queried, and
records the test score after every step.

Metrics on the curves (:func:`aulc`, :func:`labels_to_reach`, defined in
:mod:`activelab.simulation.metrics`) are computed the same way everywhere.
:func:`activelab.simulation.simulate` runs many
campaigns (strategies × seeds) in parallel on the same splits and stores them in
one resumable JSON file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone, is_regressor
from sklearn.metrics import get_scorer
from sklearn.model_selection import train_test_split

from activelab._validation import check_count, check_indices, check_seed
from activelab.learner import ActiveLearner
from activelab.scoring import take_rows
from activelab.simulation.metrics import aulc, labels_to_reach, true_top_k
from activelab.strategies import Strategy, get_strategy

__all__ = [
    "CampaignResult",
    "aulc",
    "initial_indices",
    "labels_to_reach",
    "run_campaign",
    "split_pool_test",
]


@dataclass
class CampaignResult:
    """One replayed campaign: one strategy, one seed.

    Attributes
    ----------
    strategy : str
        The strategy's name.
    seed : int
        The seed of the split, the initial set and the strategy.
    n_labels : list of int
        Labels used at each step (the first entry is the initial set).
    scores : list of float
        Test score of the model after each step.
    select_seconds : list of float
        Time spent choosing the items of each step (0 for the initial set).
    fit_seconds : list of float
        Time spent fitting the model at each step.
    strategies_used : list of str
        The strategy that chose each step's items (the cold start's name when it
        stood in).
    arms : list of list of str
        For strategies that delegate each pick (``"auto"``, ``Explore``), the arm
        behind each pick of each step; empty lists otherwise.
    stopping : dict of str to int or None
        With a ``stopping`` monitor: the number of labels at which each
        criterion first fired (``None``: never within the budget).
    scoring : str
        The scorer's name (``"score"``: the estimator's own ``score`` method,
        accuracy for classifiers, R² for regressors).
    top_k : int or None
        With ``track_top_k``: the ``k`` of :attr:`top_k_found`.
    top_k_found : list of float
        With ``track_top_k`` (regression): after each step, the share of the
        pool's true top ``k`` (largest ``y``, ties by the lower pool index)
        that is labelled; empty otherwise.
    seconds : float
        Wall time of the whole campaign.
    """

    strategy: str
    seed: int
    n_labels: list[int] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    select_seconds: list[float] = field(default_factory=list)
    fit_seconds: list[float] = field(default_factory=list)
    strategies_used: list[str] = field(default_factory=list)
    arms: list[list[str]] = field(default_factory=list)
    stopping: dict[str, int | None] = field(default_factory=dict)
    scoring: str = "score"
    top_k: int | None = None
    top_k_found: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


def split_pool_test(
    X: Any, y: np.ndarray, *, test_size: float = 0.25, seed: int = 0, stratify: bool = True
) -> tuple[Any, Any, np.ndarray, np.ndarray]:
    """A stratified pool/test split (stratified only when every class has two members).

    A continuous (non-integer) target is never stratified.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> Xp, Xt, yp, yt = split_pool_test(X, y, seed=0)
    >>> len(yp), len(yt)
    (112, 38)
    """
    y = np.asarray(y)
    strat = None
    if stratify and y.ndim == 1 and _is_discrete(y):
        _, counts = np.unique(y, return_counts=True)
        if counts.min() >= 2:
            strat = y
    return tuple(
        train_test_split(
            X,
            y,
            test_size=test_size,
            random_state=seed,  # type: ignore
            stratify=strat,
        )
    )


def initial_indices(
    y_pool: np.ndarray, n_initial: int, seed: int, *, stratified: bool = False
) -> np.ndarray:
    """The random initial labelled set of a campaign (uniform, or one per class first).

    Examples
    --------
    >>> initial_indices(np.array([0, 0, 1, 1, 2, 2]), 3, seed=0, stratified=True).shape
    (3,)
    """
    rng = np.random.default_rng([seed, 7])
    n = len(y_pool)
    if n_initial <= 0:
        return np.empty(0, dtype=np.int64)
    if not stratified or np.asarray(y_pool).ndim != 1:
        return rng.choice(n, size=min(n_initial, n), replace=False).astype(np.int64)
    first = [rng.choice(np.flatnonzero(y_pool == c)) for c in np.unique(y_pool)][:n_initial]
    rest = np.setdiff1d(np.arange(n), first)
    more = rng.choice(rest, size=max(0, min(n_initial, n) - len(first)), replace=False)
    return np.concatenate([np.asarray(first, dtype=np.int64), more.astype(np.int64)])


def run_campaign(
    estimator: Any,
    strategy: str | Strategy,
    X_pool: Any,
    y_pool: np.ndarray,
    X_test: Any,
    y_test: np.ndarray,
    *,
    initial: np.ndarray | int = 10,
    batch_size: int = 1,
    budget: int = 100,
    seed: int | None = 0,
    scoring: str | None = None,
    cold_start: str | Strategy = "random",
    classes: Any = None,
    stopping: Any = None,
    callback: Callable[[ActiveLearner, CampaignResult], None] | None = None,
    weighting: str | None = None,
    track_top_k: int | None = None,
    top_k_maximize: bool = True,
    semi_supervised: str | None = None,
) -> CampaignResult:
    """Replay one campaign with a simulated oracle and record the learning curve.

    Parameters
    ----------
    estimator : estimator
        The model (cloned; the original is untouched).
    strategy : str or Strategy
        The query strategy.
    X_pool, y_pool : pool features and the labels the oracle reveals.
    X_test, y_test : held-out data the curve is measured on.
    initial : int or array of int, default=10
        The initial labelled set: a size (drawn at random under ``seed``) or
        explicit pool indices.
    batch_size : int, default=1
        Items queried per step.
    budget : int, default=100
        Total labels, initial set included.
    seed : int or None, default=0
        Seeds the initial set and the strategy; ``None`` draws a fresh seed
        (recorded in the result).
    scoring : str, optional
        A scikit-learn scorer name; the estimator's ``score`` by default
        (accuracy for classifiers, R² for regressors, subset accuracy for
        multi-label targets). For regression curves, e.g.
        ``"neg_root_mean_squared_error"`` or ``"neg_mean_absolute_error"``.
        For a multi-label target (a 0/1 indicator matrix ``y``) also the
        names in :data:`activelab.multilabel.SCORERS` (``"f1_micro"``,
        ``"f1_macro"``, ``"neg_hamming_loss"``, ``"subset_accuracy"``).
    cold_start : str or Strategy, default="random"
        Used while the model cannot be fitted.
    classes : array-like, optional
        The fixed classes (defaults to those of ``y_pool``; none for a
        regressor; for a multi-label target, its number of columns).
    stopping : StoppingMonitor, optional
        Updated after every step (reset first); the labels at which each
        criterion fired are stored in ``result.stopping``. The campaign still
        runs to the budget, so what stopping would cost can be read off.
    callback : callable, optional
        ``callback(learner, result)`` after every step (e.g. to record
        :func:`activelab.weighting.estimate_accuracy`).
    weighting : {None, "lure"}, optional
        Passed to :class:`~activelab.ActiveLearner`.
    track_top_k : int, optional
        Regression only: the ``k`` of the optimisation curve. After every step
        the share of the pool's true top ``k`` (largest ``y_pool``, ties by the
        lower index; :func:`activelab.simulation.metrics.true_top_k`) among the labelled
        items is stored in ``result.top_k_found``.
    top_k_maximize : bool, default=True
        False: the top ``k`` are the smallest values (e.g. an IC50 to minimise).
    semi_supervised : {None, "off", "auto", "spreading", "blend", "self-training"}, optional
        Passed to :class:`~activelab.ActiveLearner`: the model learns from the
        unlabelled pool too (see :mod:`activelab.models.semi`).

    A random initial set (``initial`` an int) is recorded with selection
    probabilities ``1 / remaining``, so unbiased estimates can use it.

    Returns
    -------
    CampaignResult

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> Xp, Xt, yp, yt = split_pool_test(X, y, seed=0)
    >>> r = run_campaign(LogisticRegression(max_iter=500), "margin", Xp, yp, Xt, yt,
    ...                  initial=5, batch_size=5, budget=30, seed=0)
    >>> r.n_labels
    [5, 10, 15, 20, 25, 30]

    For optimisation, the share of the true top ``k`` found as items are tested:

    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> X, y = load_diabetes(return_X_y=True)
    >>> r = run_campaign(Ridge(), "greedy", X[:300], y[:300], X[300:], y[300:],
    ...                  initial=10, batch_size=10, budget=40, track_top_k=20)
    >>> len(r.top_k_found) == len(r.n_labels), r.top_k_found == sorted(r.top_k_found)
    (True, True)
    """
    started = time.perf_counter()
    seed = check_seed(seed)
    batch_size = check_count(batch_size, "batch_size")
    budget = check_count(budget, "budget", minimum=0)
    y_pool = np.asarray(y_pool)
    for name, X, y in (("pool", X_pool, y_pool), ("test", X_test, y_test)):
        if _n_rows(X) != len(y):
            raise ValueError(
                f"X_{name} has {_n_rows(X)} rows but y_{name} has {len(y)} labels; pass one "
                "label per row."
            )
    if is_regressor(estimator):
        _check_label_magnitude(y_pool, "y_pool")
        _check_label_magnitude(y_test, "y_test")
    strat = get_strategy(strategy)
    random_init = np.ndim(initial) == 0  # a count (5.0 was read as the one index 5)
    init = (
        initial_indices(y_pool, check_count(initial, "initial", minimum=0), seed)
        if random_init
        else check_indices(initial, len(y_pool), what="initial index")
    )
    if budget < len(init):
        raise ValueError(f"budget={budget} is smaller than the initial set ({len(init)}).")
    if (
        classes is None
        and not is_regressor(estimator)
        and y_pool.ndim == 1
        and _is_discrete(y_pool)
    ):
        classes = np.unique(y_pool)
    multilabel = _is_multilabel_target(estimator, y_pool)
    if classes is None and multilabel:
        classes = y_pool.shape[1]
    learner = ActiveLearner(
        clone(estimator),
        strat,
        cold_start=cold_start,
        classes=classes,
        random_state=np.random.default_rng([seed, 11]),
        multilabel=multilabel or None,
        weighting=weighting,
        semi_supervised=semi_supervised,
    )
    scorer = _campaign_scorer(scoring, multilabel, estimator)
    learner.fit(X_pool)
    top_hits = _top_k_mask(estimator, y_pool, track_top_k, maximize=top_k_maximize)
    result = CampaignResult(
        strategy=strat.name,
        seed=seed,
        scoring=scoring or "score",
        top_k=None if track_top_k is None else int(track_top_k),
    )

    def record(select_s: float, used: str) -> None:
        model = learner.model_
        if model is None:
            score = float("nan")
        elif scorer is not None:
            score = float(scorer(model, X_test, y_test))
        else:
            score = float(model.score(X_test, y_test))
        result.n_labels.append(learner.n_labelled_)
        result.scores.append(score)
        result.select_seconds.append(select_s)
        result.fit_seconds.append(learner.fit_seconds_)
        result.strategies_used.append(used)
        last = learner.history_[-1] if learner.history_ and used != "initial" else None
        result.arms.append(list(last.arms) if last is not None and last.arms else [])
        if top_hits is not None:
            found = np.count_nonzero(top_hits[learner.labelled_])
            result.top_k_found.append(float(found / track_top_k))  # type: ignore[operator]
        if stopping is not None:
            stopping.update_from(learner)
            result.stopping = dict(stopping.fired_)
        if callback is not None:
            callback(learner, result)

    if stopping is not None:
        stopping.reset()
    if len(init):
        n_all = _n_rows(X_pool)
        q0 = 1.0 / (n_all - np.arange(len(init), dtype=float)) if random_init else None
        learner.teach(init, y_pool[init], probabilities=q0)
    record(0.0, "initial")
    n_pool = _n_rows(X_pool)
    while learner.n_labelled_ < min(budget, n_pool):
        n = min(batch_size, budget - learner.n_labelled_, n_pool - learner.n_labelled_)
        t0 = time.perf_counter()
        idx = learner.query(n)
        select_s = time.perf_counter() - t0
        learner.teach(idx, take_rows(y_pool, idx))
        record(select_s, learner.history_[-1].strategy)
    result.seconds = time.perf_counter() - started
    return result


def _check_label_magnitude(y: Any, name: str = "y") -> None:
    """Refuse regression labels too large for R², RMSE and MAE in float64.

    The scores sum squared errors: with labels of magnitude ``m`` over ``n``
    items an error can reach ``2m``, so ``n (2m)²`` must stay below the
    largest float64 (about 1.8e308), else R² and RMSE come out as NaN or
    infinite. Labels near 1e150 and beyond are refused here, before any fit.

    Parameters
    ----------
    y : array-like of shape (n,) or (n, n_targets)
        The labels; non-numeric labels are not checked.
    name : str, default="y"
        What the labels are called in the message.

    Raises
    ------
    ValueError
        Naming the largest label and how far to rescale.

    Examples
    --------
    >>> _check_label_magnitude(np.array([1e100, -2.0]))
    >>> _check_label_magnitude(np.array([1e300, -2.0]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: y holds labels as large as 1e+300 (row 0): too large to square in float64, ...
    """
    size = _row_sizes(y)
    if size.size == 0 or np.isnan(size).all():
        return
    largest = float(np.nanmax(size))
    limit = np.sqrt(np.finfo(np.float64).max / size.shape[0]) / 2.0
    if largest > limit:
        row = int(np.nanargmax(size))
        scale = 10.0 ** np.ceil(np.log10(largest / limit)) if np.isfinite(largest) else None
        how = f"e.g. divide them by {scale:.0e}" if scale is not None else "drop the infinite ones"
        raise ValueError(
            f"{name} holds labels as large as {largest:.3g} (row {row}): too large to square in "
            f"float64, so R² and RMSE would overflow to NaN; rescale them ({how})."
        )


def _row_sizes(y: Any) -> np.ndarray:
    """The largest absolute value in each row of numeric labels (others: empty)."""
    arr = np.asarray(y)
    if arr.dtype.kind not in "fiu" or arr.shape[0] == 0:
        return np.empty(0)
    return np.abs(arr.astype(np.float64)).reshape(arr.shape[0], -1).max(axis=1)


def _top_k_mask(
    estimator: Any, y_pool: np.ndarray, k: int | None, *, maximize: bool = True
) -> np.ndarray | None:
    """A boolean mask of the pool's true top ``k``, largest or smallest (None when not tracked)."""
    if k is None:
        return None
    if not is_regressor(estimator) or y_pool.ndim != 1:
        raise ValueError(
            "track_top_k is for regression (a regressor and a 1-D numeric target): the top k "
            "are the items with the largest values. Leave it unset for classification."
        )
    mask = np.zeros(y_pool.shape[0], dtype=bool)
    mask[true_top_k(y_pool, int(k), maximize=maximize)] = True
    return mask


def _is_multilabel_target(estimator: Any, y: np.ndarray) -> bool:
    return y.ndim == 2 and not is_regressor(estimator) and bool(np.isin(y, (0, 1)).all())


#: scikit-learn scorers that average over one positive class, and their multi-label form
_BINARY_AVERAGED = {
    "f1": "f1_micro",
    "precision": "precision_micro",
    "recall": "recall_micro",
    "jaccard": "jaccard_samples",
}


def _campaign_scorer(scoring: str | None, multilabel: bool, estimator: Any) -> Any:
    if not scoring:
        return None
    if multilabel and isinstance(scoring, str):
        from activelab.multilabel import SCORERS

        if scoring in SCORERS:
            return SCORERS[scoring]
        if scoring == "hamming_loss" or scoring in _BINARY_AVERAGED:
            from activelab.multilabel import get_scorer as multilabel_scorer

            better = _BINARY_AVERAGED.get(scoring, "neg_hamming_loss")
            if scoring == "hamming_loss":
                multilabel_scorer(scoring)  # says: higher is better, use neg_hamming_loss
            raise ValueError(
                f"scoring={scoring!r} scores one class of a single label; for a multi-label "
                f"target use {better!r} (or one of {', '.join(SCORERS)})."
            )
    scorer = get_scorer(scoring)
    func = getattr(scorer, "_score_func", None)
    module = getattr(func, "__module__", "") or ""
    if multilabel and module.endswith("_regression"):
        raise ValueError(
            f"scoring={scoring!r} scores a quantity, and the target is a 0/1 label matrix; use "
            f"one of {', '.join(SCORERS)}."
        )
    if is_regressor(estimator) and module.endswith(("_classification", "_ranking")):
        raise ValueError(
            f"scoring={scoring!r} scores classes, and {type(estimator).__name__} is a "
            "regressor; use 'r2', 'neg_root_mean_squared_error' or 'neg_mean_absolute_error'."
        )
    return scorer


def _n_rows(X: Any) -> int:
    return int(X.shape[0]) if hasattr(X, "shape") else len(X)


def _is_discrete(y: np.ndarray) -> bool:
    return not np.issubdtype(y.dtype, np.floating) or bool(np.all(np.mod(y, 1) == 0))
