"""Rank a pool with a model that is already fitted: the scoring door for large pools.

:func:`rank_pool` runs any strategy that needs only a fitted model (the
uncertainty family, or random) over a pool — in this process, or on a Dask
cluster when the pool is a Dask collection — without an
:class:`~activelab.ActiveLearner` and without refitting anything.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from activelab._validation import check_indices, check_pool
from activelab.cluster import DaskBackend, _gathers, is_dask_collection
from activelab.strategies import QueryContext, Strategy, get_strategy

__all__ = ["rank_pool"]


def rank_pool(
    model: Any,
    X: Any,
    n: int,
    *,
    strategy: str | Strategy = "margin",
    exclude: Any = None,
    backend: Any = None,
    random_state: Any = None,
    chunk_size: int | None = None,
) -> np.ndarray:
    """Pool indices of the ``n`` items a fitted ``model`` most needs labelled.

    Parameters
    ----------
    model : fitted estimator
        Must offer what the strategy needs (e.g. ``predict_proba``).
    X : array-like, sparse matrix, Dask array or Dask DataFrame
        The pool. A Dask pool is scored on the workers.
    n : int
        How many indices to return.
    strategy : str or Strategy, default="margin"
        A strategy that needs at most a fitted model; on a Dask pool, one that
        runs there without gathering the pool (``supports_dask``).
    exclude : array-like of int, optional
        Pool indices not to return (e.g. those already labelled).
    backend : object, optional
        Defaults to in-process, or :class:`~activelab.cluster.DaskBackend` for a
        Dask pool.
    random_state : int, optional
        Seeds strategies that draw at random.
    chunk_size : int, optional
        Rows scored at a time.

    Returns
    -------
    ndarray of int64, shape (n,)

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.linspace(-3, 3, 61).reshape(-1, 1)
    >>> model = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    >>> rank_pool(model, X, 2, exclude=[30])
    array([31, 32])
    """
    strat = get_strategy(strategy)
    if strat.fits_models:
        raise ValueError(_needs_a_campaign(strat))
    strat.check_model(model)
    named = _columns_of_model(model, X)
    X = check_pool(named if named is not None else X)
    n_pool = int(X.shape[0])
    if strat.task in ("classification", "multilabel") and n_pool and not is_dask_collection(X):
        _check_label_kind(model, X, strat)
    keep = np.ones(n_pool, dtype=bool)
    if exclude is not None:
        keep[check_indices(exclude, n_pool, what="excluded index")] = False
    if is_dask_collection(X):
        if not strat.supports_dask:  # as ActiveLearner refuses it: it would gather the pool
            raise ValueError(_gathers(strat.name))
        if backend is None:
            backend = DaskBackend()
    ctx = QueryContext(
        X=X,
        candidates=np.flatnonzero(keep),
        labelled=np.flatnonzero(~keep),
        y_labelled=np.empty(0),
        model=model,
        rng=np.random.default_rng(random_state),
        backend=backend,
        **({"chunk_size": chunk_size} if chunk_size is not None else {}),
    )
    if named is None:
        return strat.select(ctx, n)
    with warnings.catch_warnings():  # the columns were picked by name above
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        return strat.select(ctx, n)


#: Strategies that need only a fitted model, suggested by task when one needs more.
_MODEL_ONLY = {
    "classification": "margin or entropy",
    "multilabel": "mean_entropy",
    "regression": "gsx",
}


def _needs_a_campaign(strat: Strategy) -> str:
    """Why ``strat`` cannot rank with a fitted model alone, and what to use instead.

    Examples
    --------
    >>> _needs_a_campaign(get_strategy("auto"))  # doctest: +ELLIPSIS
    "Strategy 'auto' learns which strategy pays over a campaign's queries, ...probcover...
    """
    where = "run it in a campaign (ActiveLearner, activelab simulate, a labelling project)"
    arms = getattr(strat, "arms", False)
    if arms is not False:  # auto, auto_rare: a bandit over strategies
        from activelab.strategies.selection import DEFAULT_ARMS

        names = [getattr(a, "name", a) for a in (arms if arms is not None else DEFAULT_ARMS)]
        return (
            f"Strategy {strat.name!r} learns which strategy pays over a campaign's queries, "
            "so one ranking with a fitted model gives it nothing to learn from; name one of "
            f"the strategies it chooses among ({', '.join(map(str, names))}), or {where}."
        )
    use = _MODEL_ONLY.get(strat.task, _MODEL_ONLY["classification"])
    return (
        f"Strategy {strat.name!r} fits models of its own on the labels at every query, so a "
        f"fitted model alone cannot run it; rank with a strategy that needs only the model, "
        f"such as {use}, or {where}."
    )


def _check_label_kind(model: Any, X: Any, strat: Strategy) -> None:
    """Refuse a single-label strategy for a multi-label model, and the reverse.

    Both read ``predict_proba``, so either would rank the pool without an error: margin
    would take the gap between two independent labels' probabilities for a gap between
    classes, and a multi-label strategy would read a classifier's class columns as labels.
    Whether the model is multi-label is read from its prediction for the first row (an
    indicator row is 2-D).

    Raises
    ------
    StrategyRequirementError
        Naming the strategies that fit the model.
    """
    from activelab.multilabel._model import _predicts_label_sets
    from activelab.strategies import StrategyRequirementError, available

    multi = _predicts_label_sets(model, X)
    if multi == (strat.task == "multilabel"):
        return
    if multi:
        fitting = [
            s
            for s in available()
            if get_strategy(s).task == "multilabel" and not get_strategy(s).fits_models
        ]
        kind, use = "several labels per item (a multi-label model)", f"one of: {', '.join(fitting)}"
    else:
        kind, use = "one label per item", "a classification strategy such as margin or entropy"
    raise StrategyRequirementError(
        f"Strategy {strat.name!r} is for {strat.task}, but {type(model).__name__} predicts "
        f"{kind}; use {use}."
    )


def _columns_of_model(model: Any, X: Any) -> Any:
    """A Dask DataFrame pool's columns, in the order of the model's ``feature_names_in_``.

    A Dask DataFrame is scored as the array of its values, so the column names
    do not reach the model: columns in another order than at fit would be
    scored silently as the wrong features (in-process, scikit-learn refuses
    them).

    Parameters
    ----------
    model : fitted estimator
    X : object
        The pool.

    Returns
    -------
    Dask DataFrame or None
        The pool's columns the model was fitted on, in its order; None when
        ``X`` is not a Dask DataFrame or the model has no column names.

    Raises
    ------
    ValueError
        When the pool lacks some of the model's columns.
    """
    names = getattr(model, "feature_names_in_", None)
    if names is None or not is_dask_collection(X) or not hasattr(X, "columns"):
        return None
    names = list(names)
    have = set(X.columns)
    missing = [c for c in names if c not in have]
    if missing:
        shown = ", ".join(map(repr, missing[:5])) + (" …" if len(missing) > 5 else "")
        raise ValueError(
            f"The Dask DataFrame pool lacks {len(missing)} of the columns "
            f"{type(model).__name__} was fitted on ({shown}); build the pool with every "
            "one of them."
        )
    return X[names]
