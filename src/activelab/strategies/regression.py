"""Query strategies for regression, and for finding the best items (experiment design).

Two questions, two families:

* **Which labels make the model accurate soonest?** :class:`Variance` (the
  predictive standard deviation), :class:`CommitteeVariance` (query by committee
  for regression, Burbidge et al. 2007), greedy sampling on inputs
  :class:`GSx`, outputs :class:`GSy` and both :class:`IGS` (Wu, Lin & Huang
  2019), and expected model change maximisation :class:`EMCM` (Cai, Zhang &
  Zhou 2013).
* **Which items are the best?** (e.g. the most potent compounds):
  :class:`Greedy` (highest predicted value), :class:`UpperConfidenceBound`,
  :class:`ExpectedImprovement` and :class:`ThompsonSampling`.

Every strategy that needs a predictive spread gets it from one helper,
:func:`predictive_mean_std`, which reads it from the model itself (the members
of a :class:`~sklearn.ensemble.RandomForestRegressor`,
:class:`~sklearn.ensemble.ExtraTreesRegressor` or
:class:`~sklearn.ensemble.BaggingRegressor`; ``predict(X, return_std=True)`` of a
:class:`~sklearn.gaussian_process.GaussianProcessRegressor`, ``BayesianRidge``
or ``ARDRegression``), or from a bootstrap committee the strategy fits itself
(``uncertainty="bootstrap"``, any regressor). A :class:`~sklearn.pipeline.Pipeline`
whose last step is such a model works: its earlier steps transform the rows.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.stats import norm
from sklearn.base import clone, is_classifier
from sklearn.ensemble import BaggingRegressor, ExtraTreesRegressor, RandomForestRegressor

from activelab.scoring import take_rows
from activelab.strategies._base import (
    EMBEDDING,
    MODEL,
    QueryContext,
    Strategy,
    StrategyRequirementError,
    top_k,
)
from activelab.strategies._greedy import sq_norms

__all__ = [
    "EMCM",
    "IGS",
    "CommitteeVariance",
    "ExpectedImprovement",
    "GSx",
    "GSy",
    "Greedy",
    "ThompsonSampling",
    "UpperConfidenceBound",
    "Variance",
    "expected_improvement",
    "fit_committee",
    "predictive_mean_std",
    "spread_source",
]

#: Requirement: a predictive spread (a standard deviation per item) from the model.
SPREAD = "spread"
_ENSEMBLES = (RandomForestRegressor, ExtraTreesRegressor, BaggingRegressor)
_SPREAD_HINT = (
    "Use an ensemble (RandomForestRegressor, ExtraTreesRegressor, BaggingRegressor), a model "
    "whose predict takes return_std (GaussianProcessRegressor, BayesianRidge, ARDRegression), "
    "or pass uncertainty='bootstrap' to let the strategy fit a bootstrap committee."
)
#: Entries of one distance block (candidate chunk rows × labelled rows).
_BLOCK_ENTRIES = 4_000_000


# --------------------------------------------------------------------------- helpers
def _split_pipeline(model: Any) -> tuple[Any, Any]:
    """``(head, final)``: the transforming steps (or None) and the last step of a pipeline."""
    if hasattr(model, "steps") and len(model.steps) >= 1:
        head = model[:-1] if len(model.steps) > 1 else None
        return head, model.steps[-1][1]
    return None, model


def spread_source(model: Any) -> str | None:
    """Where a (fitted or unfitted) model's predictive spread comes from.

    Returns ``"ensemble"`` for random forests, extra trees and bagging (the
    spread of the members' predictions), ``"return_std"`` for models whose
    ``predict`` takes ``return_std`` (Gaussian processes, Bayesian linear
    models), else ``None``. The last step of a pipeline is inspected.

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from sklearn.gaussian_process import GaussianProcessRegressor
    >>> from sklearn.linear_model import Ridge
    >>> spread_source(RandomForestRegressor()), spread_source(GaussianProcessRegressor())
    ('ensemble', 'return_std')
    >>> spread_source(Ridge()) is None
    True
    """
    _, final = _split_pipeline(model)
    if isinstance(final, _ENSEMBLES):
        return "ensemble"
    predict = getattr(final, "predict", None)
    if predict is not None:
        try:
            if "return_std" in inspect.signature(predict).parameters:
                return "return_std"
        except (TypeError, ValueError):  # pragma: no cover - builtins without signature
            return None
    return None


def _member_predictions(final: Any, Xt: Any) -> np.ndarray:
    """Predictions of every member of a fitted forest or bagging model, shape (members, rows)."""
    members = final.estimators_
    if isinstance(final, BaggingRegressor):
        feats = final.estimators_features_
        return np.stack([m.predict(Xt[:, f]) for m, f in zip(members, feats, strict=True)])
    return np.stack([m.predict(Xt) for m in members])


def predictive_mean_std(
    model: Any, X: Any, committee: Sequence[Any] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Predictive mean and standard deviation of a regressor on rows ``X``.

    Parameters
    ----------
    model : fitted regressor or Pipeline
        Used when ``committee`` is None: an ensemble's members' spread, or
        ``predict(X, return_std=True)``.
    X : array-like or sparse matrix
        The rows (one chunk of the pool).
    committee : sequence of fitted regressors, optional
        When given, the mean and standard deviation of their predictions are
        returned instead (see :func:`fit_committee`).

    Returns
    -------
    mean, std : ndarray of shape (n_rows,)

    Raises
    ------
    StrategyRequirementError
        When the model has no predictive spread and no committee is given.

    Examples
    --------
    >>> from sklearn.gaussian_process import GaussianProcessRegressor
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> gp = GaussianProcessRegressor(optimizer=None).fit(X, [0.0, 1.0, 0.0])
    >>> mean, std = predictive_mean_std(gp, np.array([[1.0], [8.0]]))
    >>> bool(std[1] > std[0])
    True
    """
    if committee is not None:
        P = np.stack([np.asarray(m.predict(X), dtype=float).reshape(-1) for m in committee])
        return P.mean(axis=0), P.std(axis=0)
    head, final = _split_pipeline(model)
    Xt = head.transform(X) if head is not None else X
    kind = spread_source(final)
    if kind == "ensemble":
        P = _member_predictions(final, Xt)
        return P.mean(axis=0), P.std(axis=0)
    if kind == "return_std":
        mean, std = final.predict(Xt, return_std=True)
        return np.asarray(mean, dtype=float).reshape(-1), np.asarray(std, dtype=float).reshape(-1)
    raise StrategyRequirementError(
        f"{type(final).__name__} has no predictive spread. " + _SPREAD_HINT
    )


def _seed_estimator(est: Any, seed: int) -> Any:
    """Fix every ``random_state`` parameter of an (unfitted) estimator, pipelines included."""
    keys = [
        k for k in est.get_params(deep=True) if k == "random_state" or k.endswith("__random_state")
    ]
    if keys:
        est.set_params(**dict.fromkeys(keys, seed))
    return est


def fit_committee(
    ctx: QueryContext,
    n_members: int = 5,
    estimators: Sequence[Any] | None = None,
    *,
    X_labelled: Any = None,
    y_labelled: np.ndarray | None = None,
) -> list[Any]:
    """Fit a committee of regressors on the labelled set, seeded by ``ctx.rng``.

    With ``estimators=None``, ``n_members`` clones of ``ctx.estimator`` (or of
    the model) are fitted on bootstrap resamples of the labelled set (bagging).
    With a list of estimators, each is cloned and fitted on the whole labelled
    set (a committee of different models).

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> X = np.arange(10.0).reshape(-1, 1)
    >>> ctx = QueryContext(X=X, candidates=np.arange(5, 10), labelled=np.arange(5),
    ...                    y_labelled=np.arange(5.0), estimator=Ridge())
    >>> len(fit_committee(ctx, 3))
    3
    """
    Xl = take_rows(ctx.X, ctx.labelled) if X_labelled is None else X_labelled
    yl = np.asarray(ctx.y_labelled if y_labelled is None else y_labelled)
    m = yl.shape[0]
    if m < 2:
        raise ValueError(f"A committee needs at least 2 labelled items, got {m}.")
    seeds = ctx.rng.integers(0, 2**31 - 1, size=max(n_members, len(estimators or ())))
    if estimators is not None:
        if len(estimators) < 2:
            raise ValueError("A committee needs at least 2 estimators.")
        return [
            _seed_estimator(clone(e), int(s)).fit(Xl, yl)
            for e, s in zip(estimators, seeds, strict=False)
        ]
    if n_members < 2:
        raise ValueError(f"n_members must be >= 2, got {n_members}.")
    template = ctx.estimator if ctx.estimator is not None else ctx.model
    if template is None:
        raise StrategyRequirementError(
            "A bootstrap committee needs an estimator template (ctx.estimator) to clone."
        )
    members = []
    for s in seeds[:n_members]:
        boot = ctx.rng.integers(0, m, size=m)
        members.append(_seed_estimator(clone(template), int(s)).fit(take_rows(Xl, boot), yl[boot]))
    return members


def expected_improvement(
    mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.0
) -> np.ndarray:
    """Expected improvement over ``best`` (maximisation) of a Gaussian ``N(mean, std²)``.

    ``EI = (μ − best − ξ) Φ(z) + σ φ(z)`` with ``z = (μ − best − ξ) / σ``; where
    ``σ = 0`` it is ``max(μ − best − ξ, 0)`` (Jones, Schonlau & Welch 1998).

    Examples
    --------
    >>> np.round(expected_improvement(np.array([0.0, 1.0, 2.0]), np.array([1.0, 0.0, 0.5]), 1.0), 4)
    array([0.0833, 0.    , 1.0042])
    """
    mean = np.asarray(mean, dtype=float)
    std = np.asarray(std, dtype=float)
    gain = mean - best - xi
    out = np.maximum(gain, 0.0)
    pos = std > 0
    z = gain[pos] / std[pos]
    out[pos] = gain[pos] * norm.cdf(z) + std[pos] * norm.pdf(z)
    return out


def _row_norms(Z: Any) -> np.ndarray:
    if sp.issparse(Z):
        return np.sqrt(np.asarray(Z.multiply(Z).sum(axis=1)).reshape(-1))
    Z = np.asarray(Z, dtype=float)
    return np.sqrt(np.einsum("ij,ij->i", Z, Z))


def _min_sq_dist(Z: Any, L: Any) -> np.ndarray:
    """Squared distance of each row of ``Z`` to its nearest row of ``L``, in blocks of ``L``.

    Either may be sparse (a TF-IDF pool is never densified); the blocks of
    distances are dense, ``Z`` rows × at most ``_BLOCK_ENTRIES / len(Z)`` columns.
    """
    out = np.full(Z.shape[0], np.inf)
    if L.shape[0] == 0 or Z.shape[0] == 0:
        return out
    zz = sq_norms(Z)
    step = max(1, _BLOCK_ENTRIES // max(Z.shape[0], 1))
    for start in range(0, L.shape[0], step):
        B = L[start : start + step]
        cross = Z @ B.T
        cross = cross.toarray() if sp.issparse(cross) else np.asarray(cross)
        d2 = zz[:, None] - 2.0 * cross + sq_norms(B)[None, :]
        np.minimum(out, d2.min(axis=1), out=out)
    return np.maximum(out, 0.0)


def _greedy_rows(ctx: QueryContext, X_chunk: Any) -> Any:
    """Rows in the space greedy sampling measures: the embedding, or a sparse pool as it is."""
    if ctx.embed is None and sp.issparse(X_chunk):
        return sp.csr_matrix(X_chunk, dtype=float)
    return ctx.embedding(X_chunk)


# --------------------------------------------------------------------------- base classes
class _RegressionStrategy(Strategy):
    """Shared checks and the predictive mean/std of the candidates."""

    task = "regression"
    requires: ClassVar[tuple[Any, ...]] = (MODEL,)
    #: Whether the strategy needs a predictive spread (std) of the model.
    uses_spread: ClassVar[bool] = True

    def __init__(self, uncertainty: str = "model", n_members: int = 5) -> None:
        if uncertainty not in ("model", "bootstrap"):
            raise ValueError(f"uncertainty must be 'model' or 'bootstrap', got {uncertainty!r}.")
        if isinstance(n_members, bool) or not isinstance(n_members, int | np.integer):
            raise TypeError(f"n_members must be an integer, got {n_members!r}.")
        if n_members < 2:
            raise ValueError(f"n_members must be >= 2 (a committee), got {n_members}.")
        self.uncertainty = uncertainty
        self.n_members = n_members

    @property
    def fits_models(self) -> bool:  # type: ignore[override]
        """True when the strategy fits a bootstrap committee at query time."""
        return self.uncertainty == "bootstrap" and self.uses_spread

    def check_model(self, model: Any) -> None:
        """Refuse classifiers, and models without a spread when the strategy needs one."""
        if model is None:
            return
        if is_classifier(model):
            raise StrategyRequirementError(
                f"Strategy {self.name!r} is for regression, but {type(model).__name__} is a "
                "classifier; use a regressor or a classification strategy such as 'margin'."
            )
        if self.uses_spread and self.uncertainty == "model" and spread_source(model) is None:
            _, final = _split_pipeline(model)
            raise StrategyRequirementError(
                f"Strategy {self.name!r} needs a predictive spread, but "
                f"{type(final).__name__} has none. " + _SPREAD_HINT,
                needs=SPREAD,
                strategy=self.name,
            )

    def _committee(self, ctx: QueryContext) -> list[Any] | None:
        if self.uncertainty == "bootstrap":
            return fit_committee(ctx, self.n_members)
        return None

    def mean_std(self, ctx: QueryContext) -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and std of every candidate, aligned with ``ctx.candidates``."""
        model = ctx.model
        committee = self._committee(ctx)
        out = ctx.map_chunks(lambda Xc: np.column_stack(predictive_mean_std(model, Xc, committee)))
        return out[:, 0], out[:, 1]

    def _predict(self, ctx: QueryContext) -> np.ndarray:
        model = ctx.model
        return ctx.map_chunks(lambda Xc: np.asarray(model.predict(Xc), dtype=float).reshape(-1))


class _TopScores(_RegressionStrategy):
    """Score every candidate once and take the top ``n``."""

    def scores(self, ctx: QueryContext) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        return ctx.candidates[top_k(self.scores(ctx), n, ctx.candidates)]


# --------------------------------------------------------------------------- model accuracy
class Variance(_TopScores):
    """Query the candidates with the largest predictive standard deviation.

    The regression analogue of uncertainty sampling. A batch is the top ``n``
    (the spread does not change until the labels arrive).

    Parameters
    ----------
    uncertainty : {"model", "bootstrap"}, default="model"
        ``"model"``: the model's own spread (ensembles, Gaussian processes,
        Bayesian linear models); ``"bootstrap"``: a committee of
        ``n_members`` bootstrap clones of the estimator, for any regressor.
    n_members : int, default=5
        Committee size with ``uncertainty="bootstrap"``.

    Examples
    --------
    >>> from sklearn.gaussian_process import GaussianProcessRegressor
    >>> X = np.array([[0.0], [1.0], [2.0], [1.5], [9.0]])
    >>> gp = GaussianProcessRegressor(optimizer=None).fit(X[:3], [0.0, 1.0, 0.0])
    >>> ctx = QueryContext(X=X, candidates=np.array([3, 4]), labelled=np.arange(3),
    ...                    y_labelled=np.array([0.0, 1.0, 0.0]), model=gp)
    >>> Variance().select(ctx, 1)
    array([4])
    """

    name = "variance"

    def scores(self, ctx: QueryContext) -> np.ndarray:
        """Predictive standard deviation of each candidate."""
        return self.mean_std(ctx)[1]


class CommitteeVariance(_TopScores):
    """Query by committee for regression: the largest variance of the members' predictions.

    The committee is fitted at query time, either by bagging the estimator
    (``committee="bagging"``, Burbidge, Rowland & King 2007) or from a given list
    of different estimators, each fitted on all labels. Works with any
    regressor. A batch is the top ``n``.

    Parameters
    ----------
    committee : "bagging" or list of estimators, default="bagging"
    n_members : int, default=5
        Members when bagging.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> X = np.linspace(0, 1, 20).reshape(-1, 1)
    >>> lin = LinearRegression().fit(X[:5], np.arange(5.0))
    >>> ctx = QueryContext(X=X, candidates=np.arange(5, 20), labelled=np.arange(5),
    ...                    y_labelled=np.arange(5.0), model=lin)
    >>> qbc = CommitteeVariance(committee=[LinearRegression(), DecisionTreeRegressor()])
    >>> qbc.select(ctx, 2)   # the farthest points, where a line and a tree disagree most
    array([19, 18])
    """

    name = "committee_variance"
    uses_spread = False

    def __init__(self, committee: str | Sequence[Any] = "bagging", n_members: int = 5) -> None:
        if isinstance(committee, str) and committee != "bagging":
            raise ValueError(
                f"committee must be 'bagging' or a list of estimators, got {committee!r}."
            )
        super().__init__("bootstrap", n_members)
        self.committee = committee

    @property
    def fits_models(self) -> bool:  # type: ignore[override]
        """Always True: the committee is fitted at query time."""
        return True

    def scores(self, ctx: QueryContext) -> np.ndarray:
        """Variance of the committee's predictions for each candidate."""
        estimators = None if isinstance(self.committee, str) else list(self.committee)
        members = fit_committee(ctx, self.n_members, estimators)
        return ctx.map_chunks(lambda Xc: predictive_mean_std(None, Xc, members)[1] ** 2)


class EMCM(_TopScores):
    """Expected model change maximisation (Cai, Zhang & Zhou 2013).

    For a model trained by squared loss, labelling ``x`` with ``y`` changes the
    parameters by about ``(f(x) − y) φ(x)`` (one stochastic-gradient step). The
    unknown ``y`` is replaced by the predictions ``f_k(x)`` of a bootstrap
    committee (``n_members`` clones of the estimator), giving::

        EMCM(x) = (1/K) Σ_k ‖(f(x) − f_k(x)) φ(x)‖ = ‖φ(x)‖ · mean_k |f(x) − f_k(x)|

    ``φ`` is the feature map: the context's embedding when one is set, else the
    earlier steps of a pipeline, else the raw features (the linear-model form;
    for non-linear models this is the feature-space approximation). A batch is
    the top ``n``.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> X = np.linspace(-1, 1, 21).reshape(-1, 1)
    >>> y = 2 * X[:, 0]
    >>> lab = np.arange(8, 13)
    >>> ctx = QueryContext(X=X, candidates=np.setdiff1d(np.arange(21), lab), labelled=lab,
    ...                    y_labelled=y[lab], model=Ridge().fit(X[lab], y[lab]),
    ...                    estimator=Ridge(), rng=np.random.default_rng(0))
    >>> int(EMCM().select(ctx, 1)[0]) in (0, 20)   # an end of the line
    True
    """

    name = "emcm"
    uses_spread = False

    def __init__(self, n_members: int = 5) -> None:
        super().__init__("bootstrap", n_members)

    @property
    def fits_models(self) -> bool:  # type: ignore[override]
        """Always True: the bootstrap committee is fitted at query time."""
        return True

    def scores(self, ctx: QueryContext) -> np.ndarray:
        """Approximate expected gradient norm of each candidate."""
        model = ctx.model
        members = fit_committee(ctx, self.n_members)
        head, _ = _split_pipeline(model)

        def chunk(Xc: Any) -> np.ndarray:
            f = np.asarray(model.predict(Xc), dtype=float).reshape(-1)
            P = np.stack([np.asarray(m.predict(Xc), dtype=float).reshape(-1) for m in members])
            if ctx.embed is not None:
                phi = ctx.embedding(Xc)
            elif head is not None:
                phi = head.transform(Xc)
            else:
                phi = Xc
            return _row_norms(phi) * np.abs(P - f[None, :]).mean(axis=0)

        return ctx.map_chunks(chunk)


class _GreedySampling(_RegressionStrategy):
    """Greedy sampling (Wu, Lin & Huang 2019): farthest from the labelled set, incrementally.

    The distance of every candidate to its nearest labelled item is computed
    once (in blocks, never an n×n matrix), then each pick updates it in
    O(candidates × dimensions), as in k-center greedy. Items picked earlier in
    the batch count as labelled for the later picks (with their predicted output
    for GSy/iGS), so a batch is spread out.
    """

    uses_spread = False
    use_x: ClassVar[bool] = True
    use_y: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__("model", 2)

    def _labelled_embedding(self, ctx: QueryContext) -> np.ndarray:
        if ctx.labelled.shape[0] == 0:
            return np.empty((0, 0))
        parts = [_greedy_rows(ctx, c) for _, c in ctx.iter_rows(ctx.labelled)]
        return sp.vstack(parts, format="csr") if sp.issparse(parts[0]) else np.vstack(parts)

    def _x_distances(self, ctx: QueryContext) -> np.ndarray:
        L = self._labelled_embedding(ctx)
        if L.shape[0] == 0:
            # No label yet: start from the candidate nearest the centroid (Wu et al. 2019).
            total, count = None, 0
            for _, c in ctx.iter_rows():
                Z = _greedy_rows(ctx, c)
                part = np.asarray(Z.sum(axis=0), dtype=float).ravel()
                total = part if total is None else total + part
                count += Z.shape[0]
            centre = (total / count)[None, :]
            return -np.sqrt(ctx.map_chunks(lambda Xc: _min_sq_dist(_greedy_rows(ctx, Xc), centre)))
        return np.sqrt(ctx.map_chunks(lambda Xc: _min_sq_dist(_greedy_rows(ctx, Xc), L)))

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        cand = ctx.candidates
        dx = self._x_distances(ctx) if self.use_x else None
        dy = f = None
        if self.use_y:
            f = self._predict(ctx)
            yl = np.sort(np.asarray(ctx.y_labelled, dtype=float).reshape(-1))
            dy = _min_abs_dist_sorted(f, yl) if yl.size else np.full(f.shape, np.inf)
        taken = np.zeros(cand.shape[0], dtype=bool)
        chosen = np.empty(n, dtype=np.int64)
        for i in range(n):
            score = np.ones(cand.shape[0])
            if dx is not None:
                score = score * _finite(dx)
            if dy is not None:
                score = score * _finite(dy)
            score[taken] = -np.inf
            pos = int(top_k(score, 1, cand)[0])
            chosen[i] = cand[pos]
            taken[pos] = True
            if i + 1 == n:
                break
            if dx is not None:
                if dx[pos] < 0:  # the first pick came from the centroid start
                    dx = np.full(dx.shape, np.inf)
                z = _greedy_rows(ctx, take_rows(ctx.X, cand[pos : pos + 1]))
                d_new = np.sqrt(
                    ctx.map_chunks(lambda Xc, z=z: _min_sq_dist(_greedy_rows(ctx, Xc), z))
                )
                dx = np.minimum(dx, d_new)
            if dy is not None and f is not None:
                dy = np.minimum(dy, np.abs(f - f[pos]))
        return chosen


def _finite(d: np.ndarray) -> np.ndarray:
    """Replace infinite distances (nothing to compare with yet) by a neutral 1."""
    return np.where(np.isinf(d), 1.0, d)


def _min_abs_dist_sorted(f: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``min_j |f_i − ys_j|`` for sorted ``ys`` in O((n + m) log m), by binary search."""
    pos = np.searchsorted(ys, f)
    left = ys[np.clip(pos - 1, 0, ys.shape[0] - 1)]
    right = ys[np.clip(pos, 0, ys.shape[0] - 1)]
    return np.minimum(np.abs(f - left), np.abs(f - right))


class GSx(_GreedySampling):
    """Greedy sampling on the inputs: the candidate farthest from every labelled item.

    Needs no model (a valid cold start for regression): distances are
    Euclidean in the context's embedding (the features by default). With no
    labels, the first pick is the candidate nearest the centroid of the pool.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [5.0], [9.0], [10.0]])
    >>> ctx = QueryContext(X=X, candidates=np.array([1, 2, 3, 4]), labelled=np.array([0]),
    ...                    y_labelled=np.array([0.0]))
    >>> GSx().select(ctx, 2)
    array([4, 2])
    """

    name = "gsx"
    requires: ClassVar[tuple[Any, ...]] = (EMBEDDING,)
    use_y = False

    def check_model(self, model: Any) -> None:
        """GSx needs no model."""


class GSy(_GreedySampling):
    """Greedy sampling on the outputs: the prediction farthest from every label seen.

    ``min_j |f(x) − y_j|`` over the labels (and the predictions of items picked
    earlier in the batch). Needs a fitted model (any regressor).

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.arange(6.0).reshape(-1, 1)
    >>> m = LinearRegression().fit(X[:2], [0.0, 1.0])
    >>> ctx = QueryContext(X=X, candidates=np.arange(2, 6), labelled=np.arange(2),
    ...                    y_labelled=np.array([0.0, 1.0]), model=m)
    >>> GSy().select(ctx, 2)
    array([5, 3])
    """

    name = "gsy"
    use_x = False


class IGS(_GreedySampling):
    """Improved greedy sampling: the product of the input and output distances (iGS).

    Wu, Lin & Huang (2019) found iGS the best of the three on most data sets.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.arange(6.0).reshape(-1, 1)
    >>> m = LinearRegression().fit(X[:2], [0.0, 1.0])
    >>> ctx = QueryContext(X=X, candidates=np.arange(2, 6), labelled=np.arange(2),
    ...                    y_labelled=np.array([0.0, 1.0]), model=m)
    >>> IGS().select(ctx, 1)
    array([5])
    """

    name = "igs"


# --------------------------------------------------------------------------- optimisation
def _check_real(name: str, value: Any, minimum: float | None = None) -> float:
    """``value`` as a finite float (at or above ``minimum``), or a ValueError naming ``name``.

    A NaN parameter would make every acquisition value NaN and the batch the
    first candidates in pool order, silently.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}.") from None
    if isinstance(value, bool) or not np.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    if minimum is not None and v < minimum:
        raise ValueError(f"{name} must be >= {minimum:g}, got {value!r}.")
    return v


def _check_maximize(maximize: Any) -> bool:
    """``maximize`` must be a bool: a string such as ``"no"`` would be taken as True."""
    if not isinstance(maximize, bool | np.bool_):
        raise ValueError(
            f"maximize must be True (look for the largest values) or False (the smallest), "
            f"got {maximize!r}."
        )
    return bool(maximize)


class _Acquisition(_RegressionStrategy):
    """Find the best items: an acquisition function over the predictive mean and std.

    Parameters common to every acquisition:

    maximize : bool, default=True
        Look for the largest values (e.g. pIC50); False for the smallest.
    batch : {"top", "believer"}, default="top"
        ``"top"``: the ``n`` best acquisition values of one scoring pass.
        ``"believer"``: a kriging-believer batch (Ginsbourger et al. 2010), lite:
        the batch is filled in at most ``max_refits + 1`` rounds; after each
        round the picks are added to the labelled set with their predicted mean
        as label, the model is refitted and the candidates rescored, so later
        picks account for earlier ones.
    max_refits : int, default=4
        Refits per batch with ``batch="believer"``.
    """

    def __init__(
        self,
        *,
        maximize: bool = True,
        batch: str = "top",
        max_refits: int = 4,
        uncertainty: str = "model",
        n_members: int = 5,
    ) -> None:
        if batch not in ("top", "believer"):
            raise ValueError(f"batch must be 'top' or 'believer', got {batch!r}.")
        if max_refits < 0:
            raise ValueError(f"max_refits must be >= 0, got {max_refits}.")
        super().__init__(uncertainty, n_members)
        self.maximize = _check_maximize(maximize)
        self.batch = batch
        self.max_refits = max_refits

    @property
    def fits_models(self) -> bool:  # type: ignore[override]
        """True with a bootstrap committee or a believer batch."""
        return self.batch == "believer" or (self.uncertainty == "bootstrap" and self.uses_spread)

    @property
    def _sign(self) -> float:
        return 1.0 if self.maximize else -1.0

    def acquisition(self, ctx: QueryContext) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        if self.batch == "top" or n == 1:
            return ctx.candidates[top_k(self.acquisition(ctx), n, ctx.candidates)]
        rounds = min(n, self.max_refits + 1)
        sizes = [len(part) for part in np.array_split(np.arange(n), rounds)]
        chosen: list[np.ndarray] = []
        estimator = ctx.estimator if ctx.estimator is not None else ctx.model
        for r, size in enumerate(sizes):
            picks = ctx.candidates[top_k(self.acquisition(ctx), size, ctx.candidates)]
            chosen.append(picks)
            if r + 1 == len(sizes):
                break
            believed = np.asarray(ctx.model.predict(take_rows(ctx.X, picks)), dtype=float)
            labelled = np.concatenate([ctx.labelled, picks])
            y = np.concatenate([np.asarray(ctx.y_labelled, dtype=float), believed])
            seed = int(ctx.rng.integers(0, 2**31 - 1))
            model = _seed_estimator(clone(estimator), seed).fit(take_rows(ctx.X, labelled), y)
            ctx = replace(
                ctx,
                candidates=np.setdiff1d(ctx.candidates, picks),
                labelled=labelled,
                y_labelled=y,
                model=model,
            )
        return np.concatenate(chosen).astype(np.int64)


class Greedy(_Acquisition):
    """Exploit: query the candidates with the best predicted value.

    Needs any fitted regressor (no spread). The top ``n`` is the exact greedy
    batch; ``batch="believer"`` changes nothing unless the model's refit on its
    own predictions moves other predictions.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.arange(6.0).reshape(-1, 1)
    >>> m = LinearRegression().fit(X[:2], [0.0, 1.0])
    >>> ctx = QueryContext(X=X, candidates=np.arange(2, 6), labelled=np.arange(2),
    ...                    y_labelled=np.array([0.0, 1.0]), model=m)
    >>> Greedy().select(ctx, 2), Greedy(maximize=False).select(ctx, 1)
    (array([5, 4]), array([2]))
    """

    name = "greedy"
    uses_spread = False

    def __init__(self, *, maximize: bool = True, batch: str = "top", max_refits: int = 4) -> None:
        super().__init__(maximize=maximize, batch=batch, max_refits=max_refits)

    def acquisition(self, ctx: QueryContext) -> np.ndarray:
        """The predicted value (negated when minimising)."""
        return self._sign * self._predict(ctx)


class UpperConfidenceBound(_Acquisition):
    """Optimism under uncertainty: ``mean + κ · std`` (Srinivas et al. 2010).

    Parameters
    ----------
    kappa : float, default=1.0
        Weight of the spread; 0 is :class:`Greedy`.

    Examples
    --------
    >>> from sklearn.gaussian_process import GaussianProcessRegressor
    >>> X = np.array([[0.0], [1.0], [2.0], [1.2], [6.0]])
    >>> gp = GaussianProcessRegressor(optimizer=None).fit(X[:3], [0.0, 1.0, 0.0])
    >>> ctx = QueryContext(X=X, candidates=np.array([3, 4]), labelled=np.arange(3),
    ...                    y_labelled=np.array([0.0, 1.0, 0.0]), model=gp)
    >>> UpperConfidenceBound(kappa=0.0).select(ctx, 1), UpperConfidenceBound(kappa=5).select(ctx, 1)
    (array([3]), array([4]))
    """

    name = "ucb"

    def __init__(self, kappa: float = 1.0, **kwargs: Any) -> None:
        kappa = _check_real("kappa", kappa, minimum=0.0)
        super().__init__(**kwargs)
        self.kappa = kappa

    def acquisition(self, ctx: QueryContext) -> np.ndarray:
        """``sign · mean + κ · std``."""
        mean, std = self.mean_std(ctx)
        return self._sign * mean + self.kappa * std


class ExpectedImprovement(_Acquisition):
    """Expected improvement over the best label so far (Jones et al. 1998).

    Parameters
    ----------
    xi : float, default=0.0
        Improvement margin; larger values explore more.

    Examples
    --------
    >>> from sklearn.gaussian_process import GaussianProcessRegressor
    >>> X = np.array([[0.0], [1.0], [2.0], [1.1], [6.0]])
    >>> gp = GaussianProcessRegressor(optimizer=None).fit(X[:3], [0.0, 1.0, 0.0])
    >>> ctx = QueryContext(X=X, candidates=np.array([3, 4]), labelled=np.arange(3),
    ...                    y_labelled=np.array([0.0, 1.0, 0.0]), model=gp)
    >>> ExpectedImprovement().select(ctx, 2)   # the unexplored point has more to gain
    array([4, 3])
    """

    name = "expected_improvement"

    def __init__(self, xi: float = 0.0, **kwargs: Any) -> None:
        xi = _check_real("xi", xi)
        super().__init__(**kwargs)
        self.xi = xi

    def acquisition(self, ctx: QueryContext) -> np.ndarray:
        """EI of each candidate over ``max(sign · y_labelled)``."""
        y = np.asarray(ctx.y_labelled, dtype=float)
        if y.size == 0:  # e.g. `activelab query`, which ranks a pool without its labels
            raise ValueError(
                "expected_improvement improves on the best label measured so far, and no "
                "labels were given; rank with 'ucb' or 'greedy' instead, or pass the labelled "
                "items and their values (ActiveLearner, QueryContext.y_labelled)."
            )
        mean, std = self.mean_std(ctx)
        best = float(np.max(self._sign * y))
        return expected_improvement(self._sign * mean, std, best, self.xi)


class ThompsonSampling(_RegressionStrategy):
    """Thompson sampling: the best candidate under one random draw of the model.

    ``sample="gaussian"`` draws one value per candidate from ``N(mean, std²)``
    with ``ctx.rng``; ``sample="member"`` uses the predictions of one randomly
    chosen member of the ensemble (the trees of a forest, the bagged models,
    or the bootstrap committee with ``uncertainty="bootstrap"``). A batch takes
    the best of a fresh independent draw for each pick (Kandasamy et al. 2018),
    which spreads a batch without refitting.

    Examples
    --------
    >>> from sklearn.gaussian_process import GaussianProcessRegressor
    >>> X = np.array([[0.0], [1.0], [2.0], [1.5], [6.0], [7.0]])
    >>> gp = GaussianProcessRegressor(optimizer=None).fit(X[:3], [0.0, 1.0, 0.0])
    >>> ctx = QueryContext(X=X, candidates=np.arange(3, 6), labelled=np.arange(3),
    ...                    y_labelled=np.array([0.0, 1.0, 0.0]), model=gp,
    ...                    rng=np.random.default_rng(0))
    >>> sorted(ThompsonSampling().select(ctx, 3).tolist())
    [3, 4, 5]
    """

    name = "thompson"

    def __init__(
        self,
        sample: str = "gaussian",
        *,
        maximize: bool = True,
        uncertainty: str = "model",
        n_members: int = 5,
    ) -> None:
        if sample not in ("gaussian", "member"):
            raise ValueError(f"sample must be 'gaussian' or 'member', got {sample!r}.")
        super().__init__(uncertainty, n_members)
        self.sample = sample
        self.maximize = _check_maximize(maximize)

    def check_model(self, model: Any) -> None:
        """A member draw needs an ensemble model (or the bootstrap committee)."""
        super().check_model(model)
        if (
            model is not None
            and self.sample == "member"
            and self.uncertainty == "model"
            and spread_source(model) != "ensemble"
        ):
            raise StrategyRequirementError(
                f"Thompson sampling with sample='member' needs an ensemble, but "
                f"{type(_split_pipeline(model)[1]).__name__} has no members; use "
                "sample='gaussian' or uncertainty='bootstrap'."
            )

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        sign = 1.0 if self.maximize else -1.0
        cand = ctx.candidates
        taken = np.zeros(cand.shape[0], dtype=bool)
        chosen = np.empty(n, dtype=np.int64)
        if self.sample == "gaussian":
            mean, std = self.mean_std(ctx)
            draw: Callable[[], np.ndarray] = lambda: sign * ctx.rng.normal(mean, std)  # noqa: E731
        else:
            predict_member = self._member_predictor(ctx)
            draw = lambda: sign * predict_member()  # noqa: E731
        for i in range(n):
            s = draw()
            s[taken] = -np.inf
            pos = int(top_k(s, 1, cand)[0])
            chosen[i] = cand[pos]
            taken[pos] = True
        return chosen

    def _member_predictor(self, ctx: QueryContext) -> Callable[[], np.ndarray]:
        committee = self._committee(ctx)
        if committee is not None:
            members: list[tuple[Any, Any]] = [(None, m) for m in committee]
        else:
            head, final = _split_pipeline(ctx.model)
            feats = getattr(final, "estimators_features_", [None] * len(final.estimators_))
            members = [(head, (m, f)) for m, f in zip(final.estimators_, feats, strict=True)]

        def predict_one() -> np.ndarray:
            head, m = members[int(ctx.rng.integers(len(members)))]

            def chunk(Xc: Any) -> np.ndarray:
                Xt = head.transform(Xc) if head is not None else Xc
                if isinstance(m, tuple):
                    est, f = m
                    return np.asarray(est.predict(Xt if f is None else Xt[:, f]), dtype=float)
                return np.asarray(m.predict(Xt), dtype=float).reshape(-1)

            return ctx.map_chunks(chunk)

        return predict_one
