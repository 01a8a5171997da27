"""Experiment design: replay a campaign that looks for the best items, and score it.

In drug discovery every label is an experiment, and often the goal is not an
accurate model but the most potent compounds. :func:`run_design_campaign`
replays such a campaign on a series whose values are known: the whole series is
the pool, the oracle reveals a value only when it is tested, and the record is
the order in which items were tested. :func:`top_k_found` turns that order into
the curve that matters: the share of the true top ``k`` found against the
number tested.

Model-accuracy curves for regression come from
:func:`activelab.simulation.campaign.run_campaign` with a scikit-learn scorer name, e.g.
``scoring="neg_root_mean_squared_error"``, or all three of RMSE, MAE and R² at
once from :func:`run_regression_campaign`; :func:`experiments_to_reach_rmse`
reads the number of labels needed for a target RMSE off such a curve.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone, is_regressor

from activelab._validation import check_count, check_indices, check_seed
from activelab.learner import ActiveLearner
from activelab.scoring import take_rows
from activelab.simulation.campaign import (
    CampaignResult,
    _check_label_magnitude,
    initial_indices,
    run_campaign,
)
from activelab.simulation.metrics import true_top_k
from activelab.strategies import Strategy, get_strategy
from activelab.strategies._registry import takes_maximize

__all__ = [
    "DesignResult",
    "RegressionCurves",
    "experiments_to_reach_rmse",
    "run_design_campaign",
    "run_regression_campaign",
    "top_k_found",
    "true_top_k",
]


def top_k_found(y: Any, tested: Any, k: int, *, maximize: bool = True) -> np.ndarray:
    """Share of the true top ``k`` found after each test, in testing order.

    Parameters
    ----------
    y : array-like of shape (n,)
        The true values of the whole series.
    tested : array-like of int
        Indices into ``y`` in the order they were tested (no repeats).
    k : int
        How many of the best count as a hit.
    maximize : bool, default=True
        Best means largest (e.g. pIC50); False for smallest.

    Returns
    -------
    ndarray of float, shape (len(tested),)
        Entry ``i`` is the share of the top ``k`` among the first ``i + 1``
        items tested.

    Examples
    --------
    >>> y = np.array([1.0, 9.0, 3.0, 8.0, 2.0])
    >>> top_k_found(y, [0, 1, 2, 3], k=2)
    array([0. , 0.5, 0.5, 1. ])
    """
    n = np.asarray(y).shape[0]
    # whole numbers in 0..n-1: a negative index counted the last items, a fraction was cut
    tested = np.asarray(tested).reshape(-1)
    if np.unique(tested).shape[0] != tested.shape[0]:
        raise ValueError("`tested` repeats an index; each item is tested once.")
    tested = check_indices(tested, n, what="tested index")
    hits = np.zeros(n, dtype=bool)
    hits[true_top_k(y, k, maximize=maximize)] = True
    return np.cumsum(hits[tested]) / float(k)


def experiments_to_reach_rmse(n_labels: Any, neg_rmse: Any, target_rmse: float) -> int | None:
    """Labels needed before the RMSE falls to ``target_rmse`` (None if never).

    ``neg_rmse`` is a curve recorded with ``scoring="neg_root_mean_squared_error"``.

    Examples
    --------
    >>> experiments_to_reach_rmse([10, 20, 30], [-1.0, -0.7, -0.6], 0.72)
    20
    """
    steps = np.asarray(n_labels).reshape(-1)
    s = -np.asarray(neg_rmse, dtype=float).reshape(-1)
    if steps.shape != s.shape:
        raise ValueError(
            f"n_labels has {steps.shape[0]} points but neg_rmse has {s.shape[0]}; pass the "
            "two of one curve."
        )
    if (s < 0).any():
        raise ValueError(
            f"neg_rmse holds positive values (e.g. {float(-s[s < 0][0])!r}): it is the negated "
            "RMSE (scoring='neg_root_mean_squared_error'); pass -rmse for an RMSE curve."
        )
    if not np.isfinite(target_rmse) or target_rmse < 0:
        raise ValueError(
            f"target_rmse must be an RMSE (0 or more), got {target_rmse!r}; the curve is "
            "negated, the target is not."
        )
    hit = np.flatnonzero(s <= target_rmse)
    return int(steps[hit[0]]) if hit.size else None


@dataclass
class RegressionCurves:
    """RMSE, MAE and R² on the test set after each step of one campaign.

    Attributes
    ----------
    campaign : CampaignResult
        The replay record; its ``scores`` are the negated RMSE.
    rmse, mae, r2 : list of float
        One entry per step, aligned with ``campaign.n_labels``.
    """

    campaign: CampaignResult
    rmse: list[float] = field(default_factory=list)
    mae: list[float] = field(default_factory=list)
    r2: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {**self.campaign.to_dict(), "rmse": self.rmse, "mae": self.mae, "r2": self.r2}


class _RecordingScorer:
    """A scorer that records RMSE, MAE and R² from one prediction and returns −RMSE."""

    def __init__(self, curves: RegressionCurves) -> None:
        self.curves = curves

    def __call__(self, model: Any, X: Any, y: Any) -> float:
        y = np.asarray(y, dtype=float).reshape(-1)
        err = np.asarray(model.predict(X), dtype=float).reshape(-1) - y
        rmse = float(np.sqrt(np.mean(err**2)))
        self.curves.rmse.append(rmse)
        self.curves.mae.append(float(np.mean(np.abs(err))))
        ss_tot = float(np.sum((y - y.mean()) ** 2))
        self.curves.r2.append(1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else np.nan)
        return -rmse


def run_regression_campaign(
    estimator: Any,
    strategy: str | Strategy,
    X_pool: Any,
    y_pool: Any,
    X_test: Any,
    y_test: Any,
    *,
    initial: np.ndarray | int = 10,
    batch_size: int = 1,
    budget: int = 100,
    seed: int | None = 0,
    cold_start: str | Strategy = "random",
    stop_rmse: float | None = None,
) -> RegressionCurves:
    """Replay a regression campaign, recording RMSE, MAE and R² on the test set.

    Without ``stop_rmse`` this is :func:`~activelab.simulation.campaign.run_campaign`
    (same initial set, same seeding) with all three metrics recorded. With
    ``stop_rmse``, the campaign stops as soon as the test RMSE is at most that
    value (to count the experiments needed for a target accuracy without paying
    for the rest of the curve). Steps without a fitted model record NaN.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> from activelab.simulation.campaign import split_pool_test
    >>> X, y = load_diabetes(return_X_y=True)
    >>> Xp, Xt, yp, yt = split_pool_test(X, y, seed=0)
    >>> c = run_regression_campaign(Ridge(0.1), "gsx", Xp, yp, Xt, yt,
    ...                             initial=10, batch_size=20, budget=50)
    >>> c.campaign.n_labels, len(c.rmse), bool(c.rmse[-1] < c.rmse[0])
    ([10, 30, 50], 3, True)
    """
    if not is_regressor(estimator):
        raise ValueError(
            f"run_regression_campaign needs a regressor, got {type(estimator).__name__}."
        )
    seed = check_seed(seed)
    curves = RegressionCurves(campaign=CampaignResult(strategy="", seed=int(seed)))
    scorer = _RecordingScorer(curves)
    if stop_rmse is None:
        result = run_campaign(
            estimator,
            strategy,
            X_pool,
            y_pool,
            X_test,
            y_test,
            initial=initial,
            batch_size=batch_size,
            budget=budget,
            seed=seed,
            scoring=scorer,  # type: ignore[arg-type]
            cold_start=cold_start,
        )
        for i in [i for i, v in enumerate(result.scores) if np.isnan(v)]:
            for curve in (curves.rmse, curves.mae, curves.r2):
                curve.insert(i, float("nan"))
        curves.campaign = result
        return curves
    # Same loop as run_campaign, stopping at the target.
    y_pool = np.asarray(y_pool, dtype=float)
    _check_label_magnitude(y_pool, "y_pool")
    _check_label_magnitude(y_test, "y_test")
    strat = get_strategy(strategy)
    init = (
        initial_indices(y_pool, int(initial), seed)
        if isinstance(initial, int | np.integer)
        else np.asarray(initial, dtype=np.int64)
    )
    if budget < len(init):
        raise ValueError(f"budget={budget} is smaller than the initial set ({len(init)}).")
    learner = ActiveLearner(
        clone(estimator),
        strat,
        cold_start=cold_start,
        random_state=np.random.default_rng([seed, 11]),
    ).fit(X_pool)
    result = CampaignResult(strategy=strat.name, seed=int(seed))
    curves.campaign = result

    def record(select_s: float, used: str) -> bool:
        if learner.model_ is None:
            score = float("nan")
            for curve in (curves.rmse, curves.mae, curves.r2):
                curve.append(score)
        else:
            score = scorer(learner.model_, X_test, y_test)
        result.n_labels.append(learner.n_labelled_)
        result.scores.append(score)
        result.select_seconds.append(select_s)
        result.fit_seconds.append(learner.fit_seconds_)
        result.strategies_used.append(used)
        return bool(-score <= stop_rmse)

    if len(init):
        learner.teach(init, y_pool[init])
    done = record(0.0, "initial")
    n_pool = int(X_pool.shape[0])
    while not done and learner.n_labelled_ < min(budget, n_pool):
        n = min(batch_size, budget - learner.n_labelled_, n_pool - learner.n_labelled_)
        t0 = time.perf_counter()
        idx = learner.query(n)
        select_s = time.perf_counter() - t0
        learner.teach(idx, take_rows(y_pool, idx))
        done = record(select_s, learner.history_[-1].strategy)
    return curves


@dataclass
class DesignResult:
    """One replayed design campaign: one strategy, one seed.

    Attributes
    ----------
    strategy : str
        The strategy's name.
    seed : int
        Seed of the initial set and of the strategy.
    k : int
        Size of the true top set.
    tested : list of int
        Pool indices in the order they were tested (initial set first).
    is_top : list of bool
        Whether each tested item (same order) is in the true top ``k``.
    n_tested : list of int
        Items tested after each step.
    found : list of float
        Share of the true top ``k`` found after each step.
    best : list of float
        Best value found after each step.
    select_seconds : list of float
        Selection time of each step.
    """

    strategy: str
    seed: int
    k: int
    tested: list[int] = field(default_factory=list)
    is_top: list[bool] = field(default_factory=list)
    n_tested: list[int] = field(default_factory=list)
    found: list[float] = field(default_factory=list)
    best: list[float] = field(default_factory=list)
    select_seconds: list[float] = field(default_factory=list)

    def found_after(self, n: int) -> float:
        """Share of the top ``k`` found once ``n`` items were tested."""
        return float(np.sum(self.is_top[: max(n, 0)])) / self.k

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


def run_design_campaign(
    estimator: Any,
    strategy: str | Strategy,
    X: Any,
    y: Any,
    *,
    k: int = 50,
    initial: np.ndarray | int = 10,
    batch_size: int = 10,
    budget: int = 100,
    seed: int | None = 0,
    maximize: bool = True,
    cold_start: str | Strategy = "random",
) -> DesignResult:
    """Replay a search for the best items with a simulated oracle.

    The whole series is the pool. An initial random set is tested, then each
    step the strategy picks ``batch_size`` items, their true values are
    revealed, and the model is refitted; the share of the true top ``k`` found
    is recorded after each step.

    Parameters
    ----------
    estimator : regressor
        Cloned; the original is untouched.
    strategy : str or Strategy
        E.g. ``"greedy"``, ``"ucb"``, ``"expected_improvement"``,
        ``"thompson"`` or ``"random"``.
    X, y : the series' features and true values.
    k : int, default=50
        Size of the true top set.
    initial : int or array of int, default=10
        A random initial set of this size (under ``seed``), or explicit indices.
    batch_size : int, default=10
        Items tested per step.
    budget : int, default=100
        Total items tested, initial set included.
    seed : int or None, default=0
        ``None`` draws a fresh seed (recorded in the result).
    maximize : bool, default=True
        The best are the largest values.
    cold_start : str or Strategy, default="random"

    Returns
    -------
    DesignResult

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = X[:, 0] + 0.1 * rng.normal(size=200)
    >>> r = run_design_campaign(RandomForestRegressor(20, random_state=0), "greedy", X, y,
    ...                         k=10, initial=10, batch_size=10, budget=40, seed=0)
    >>> r.n_tested
    [10, 20, 30, 40]
    >>> r.found[-1] > 40 / 200   # better than the share random testing expects
    True
    """
    if not is_regressor(estimator):
        raise ValueError(f"run_design_campaign needs a regressor, got {type(estimator).__name__}.")
    y = np.asarray(y, dtype=float).reshape(-1)
    n = y.shape[0]
    if int(X.shape[0]) != n:
        raise ValueError(f"X has {X.shape[0]} rows but y has {n} values.")
    batch_size = check_count(batch_size, "batch_size")
    budget = check_count(budget, "budget", minimum=0)
    seed = check_seed(seed)
    strat = _design_strategy(strategy, maximize)
    init = (  # a count of random items, or the indices themselves (checked like the learner's)
        initial_indices(y, check_count(initial, "initial", minimum=0), seed)
        if np.ndim(initial) == 0
        else check_indices(initial, n, what="initial index")
    )
    budget = min(budget, n)
    if budget < len(init):
        raise ValueError(f"budget={budget} is smaller than the initial set ({len(init)}).")
    hits = np.zeros(n, dtype=bool)
    hits[true_top_k(y, k, maximize=maximize)] = True
    learner = ActiveLearner(
        clone(estimator),
        strat,
        cold_start=cold_start,
        random_state=np.random.default_rng([seed, 11]),
    ).fit(X)
    result = DesignResult(strategy=strat.name, seed=int(seed), k=int(k))
    sign = 1.0 if maximize else -1.0

    def record(idx: np.ndarray, seconds: float) -> None:
        result.tested.extend(int(i) for i in idx)
        result.is_top.extend(bool(hits[i]) for i in idx)
        tested = np.asarray(result.tested, dtype=np.int64)
        result.n_tested.append(len(result.tested))
        result.found.append(float(hits[tested].sum()) / k)
        result.best.append(float(sign * np.max(sign * y[tested])) if tested.size else np.nan)
        result.select_seconds.append(seconds)

    if len(init):
        learner.teach(init, y[init])
    record(init, 0.0)
    while learner.n_labelled_ < budget:
        step = min(batch_size, budget - learner.n_labelled_)
        t0 = time.perf_counter()
        idx = learner.query(step)
        seconds = time.perf_counter() - t0
        learner.teach(idx, take_rows(y, idx))
        record(idx, seconds)
    return result


def _design_strategy(strategy: str | Strategy, maximize: bool) -> Strategy:
    """The campaign's strategy, looking for the same best as the campaign scores.

    A strategy named by a string that takes ``maximize`` (``greedy``, ``ucb``,
    ``expected_improvement``, ``thompson``) gets the campaign's; an instance
    whose ``maximize`` disagrees is refused (it would search for the other end
    of the values while the top ``k`` is counted at this one).

    Parameters
    ----------
    strategy : str or Strategy
    maximize : bool

    Returns
    -------
    Strategy
    """
    if isinstance(strategy, str):
        default = get_strategy(strategy)
        return get_strategy(strategy, maximize=maximize) if takes_maximize(default) else default
    strat = get_strategy(strategy)
    own = getattr(strat, "maximize", None)
    if own is not None and bool(own) != bool(maximize):
        raise ValueError(
            f"The strategy has maximize={own!r} but the campaign maximize={maximize!r}; "
            "give both the same (or pass the strategy by name)."
        )
    return strat
