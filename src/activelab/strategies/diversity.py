"""Diversity: k-center greedy (core-set) and batch-aware uncertainty + diversity.

Uncertainty sampling scores each candidate on its own, so a batch of 100 can be
100 near-copies of one confusing item. The strategies here choose the batch as
a set:

:class:`KCenterGreedy` (``"kcenter"``)
    The core-set approach of Sener & Savarese (2018): repeatedly take the
    candidate farthest from every labelled item and every item already picked
    (farthest-first traversal, a 2-approximation of the k-center problem).
:class:`DiverseBatch` (``"diverse_batch"``)
    Zhdanov (2019): take the ``beta × n`` most uncertain candidates, cluster them
    into ``n`` clusters with k-means weighted by uncertainty, and take from each
    cluster the member closest to its centre.
:class:`RankedBatch` (``"ranked_batch"``)
    Cardoso et al. (2017): pick one at a time by
    ``alpha × (1 − similarity to labelled ∪ picked) + (1 − alpha) × uncertainty``,
    with ``similarity = 1 / (1 + distance)`` and ``alpha = |U| / (|U| + |L|)``.

All work on the context's embedding (the features by default, or ``embed=`` on
the learner), or on the model's class probabilities with ``embedding="proba"``.
Distances are Euclidean and computed in bounded memory: the distance of each
candidate to its nearest labelled item in chunks of candidates × blocks of 256
labelled items, then, per pick, only for the candidates whose stored distance
could still win (an exact lazy greedy, see :mod:`activelab.strategies._greedy`).
Memory is linear in the pool.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning

from activelab.scoring import take_rows
from activelab.strategies._base import (
    DECISION_FUNCTION,
    EMBEDDING,
    PREDICT_PROBA,
    QueryContext,
    Strategy,
    top_k,
)
from activelab.strategies._greedy import FarthestPoints
from activelab.strategies.density import UNCERTAINTY_FUNCTIONS
from activelab.strategies.uncertainty import Margin

__all__ = ["DiverseBatch", "KCenterGreedy", "RankedBatch"]

EMBEDDINGS = (None, "proba")


def _check_embedding(embedding: Any) -> None:
    if embedding not in EMBEDDINGS:
        raise ValueError(
            f"embedding must be None (the context's embedding or the features) or 'proba' "
            f"(the model's class probabilities); got {embedding!r}."
        )


def _check_uncertainty(uncertainty: str) -> None:
    if uncertainty not in UNCERTAINTY_FUNCTIONS:
        raise ValueError(
            f"uncertainty must be one of {', '.join(UNCERTAINTY_FUNCTIONS)}; got {uncertainty!r}."
        )


def _space(ctx: QueryContext, embedding: str | None) -> Any:
    """The pool in the space distances are measured in, indexed by pool row.

    The features themselves are used without a copy when they are a numpy array
    or a sparse matrix; an embedding is computed in chunks (pool × dims floats).
    """
    if embedding == "proba":
        model = ctx.model
        return ctx.map_chunks(
            lambda c: np.asarray(model.predict_proba(c), dtype=float),
            rows=np.arange(ctx.n_pool),
        )
    if ctx.embed is None and (sp.issparse(ctx.X) or isinstance(ctx.X, np.ndarray)):
        return sp.csr_matrix(ctx.X, dtype=float) if sp.issparse(ctx.X) else ctx.X
    return ctx.map_chunks(ctx.embedding, rows=np.arange(ctx.n_pool))


def _uncertainty(ctx: QueryContext, uncertainty: str) -> np.ndarray:
    model = ctx.model
    if uncertainty == "margin":
        scorer = Margin()
        return ctx.map_chunks(lambda c: scorer.score_chunk(model, c))
    func = UNCERTAINTY_FUNCTIONS[uncertainty]
    return ctx.map_chunks(lambda c: func(model.predict_proba(c)))


def _requires(uncertainty: str | None, embedding: str | None) -> tuple[Any, ...]:
    if embedding == "proba" or uncertainty in ("entropy", "least_confident"):
        return (PREDICT_PROBA,)
    if uncertainty == "margin":
        return ((PREDICT_PROBA, DECISION_FUNCTION),)
    return (EMBEDDING,)


class KCenterGreedy(Strategy):
    """Core-set selection: the candidates farthest from everything labelled or picked.

    Parameters
    ----------
    embedding : {None, "proba"}, default=None
        ``None`` measures distances on the context's embedding (the learner's
        ``embed``) or the features; ``"proba"`` on the model's class
        probabilities (then a fitted model with ``predict_proba`` is needed).

    Notes
    -----
    Needs no model by default, so it also works from zero labels: the first
    centre is then a candidate drawn from the context's generator. Cost: one
    pass of O(candidates × labelled × dims) for the distances to the labelled
    set, then, per pick, a partial sort of the candidates plus the distances of
    the few candidates that could still be the farthest. Ties go to the lowest
    pool index.

    Examples
    --------
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [10.0]])
    >>> ctx = QueryContext(X=X, candidates=np.array([1, 2, 3, 4]), labelled=np.array([0]),
    ...                    y_labelled=np.array([0]))
    >>> KCenterGreedy().select(ctx, 2)   # the farthest, then the farthest from both
    array([4, 3])
    """

    name = "kcenter"

    def __init__(self, embedding: str | None = None) -> None:
        _check_embedding(embedding)
        self.embedding = embedding

    @property  # type: ignore[override]
    def requires(self) -> tuple[Any, ...]:  # type: ignore[override]
        """An embedding (the features by default), or ``predict_proba`` for ``"proba"``."""
        return _requires(None, self.embedding)

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        Z = _space(ctx, self.embedding)
        fp = FarthestPoints(Z, ctx.candidates, ctx.chunk_size)
        fp.add_fixed_centres(ctx.labelled)
        chosen: list[int] = []
        for t in range(n):
            if t == 0 and ctx.labelled.shape[0] == 0:
                j = int(ctx.rng.integers(ctx.candidates.shape[0]))
            else:
                j = fp.argmax()
            fp.pick(j)
            chosen.append(j)
        return ctx.candidates[np.asarray(chosen, dtype=np.int64)]


class RankedBatch(Strategy):
    """Ranked batch-mode selection (Cardoso et al. 2017).

    Picks one candidate at a time by
    ``alpha × (1 − 1 / (1 + d)) + (1 − alpha) × uncertainty``, where ``d`` is the
    distance to the nearest labelled or already picked item and
    ``alpha = |unlabelled| / (|unlabelled| + |labelled|)`` (both counted with the
    picks so far): with few labels diversity dominates, later uncertainty.

    Parameters
    ----------
    uncertainty : {"least_confident", "margin", "entropy"}, default="least_confident"
        The uncertainty row function.
    embedding : {None, "proba"}, default=None
        Where distances are measured (see :class:`KCenterGreedy`).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[-3.0], [3.0], [0.0], [0.01], [0.02], [1.5]])
    >>> model = LogisticRegression().fit(X[:2], [0, 1])
    >>> ctx = QueryContext(X=X, candidates=np.arange(2, 6), labelled=np.arange(2),
    ...                    y_labelled=np.array([0, 1]), model=model)
    >>> RankedBatch().select(ctx, 2)   # not two near-copies of the boundary point
    array([2, 5])
    """

    name = "ranked_batch"

    def __init__(self, uncertainty: str = "least_confident", embedding: str | None = None) -> None:
        _check_uncertainty(uncertainty)
        _check_embedding(embedding)
        self.uncertainty = uncertainty
        self.embedding = embedding

    @property  # type: ignore[override]
    def requires(self) -> tuple[Any, ...]:  # type: ignore[override]
        """What the uncertainty function (and the embedding) need from the model."""
        return _requires(self.uncertainty, self.embedding)

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        u = _uncertainty(ctx, self.uncertainty)
        Z = _space(ctx, self.embedding)
        fp = FarthestPoints(Z, ctx.candidates, ctx.chunk_size)
        fp.add_fixed_centres(ctx.labelled)
        n_unlabelled, n_labelled = ctx.candidates.shape[0], ctx.labelled.shape[0]
        chosen: list[int] = []
        for t in range(n):
            alpha = (n_unlabelled - t) / (n_unlabelled + n_labelled)

            def key(d2: np.ndarray, where: Any, alpha: float = alpha) -> np.ndarray:
                return alpha * (1.0 - 1.0 / (1.0 + np.sqrt(d2))) + (1.0 - alpha) * u[where]

            j = fp.argmax(key)
            fp.pick(j)
            chosen.append(j)
        return ctx.candidates[np.asarray(chosen, dtype=np.int64)]


class DiverseBatch(Strategy):
    """Cluster the most uncertain candidates and take one from each cluster (Zhdanov 2019).

    Parameters
    ----------
    uncertainty : {"margin", "entropy", "least_confident"}, default="margin"
        How candidates are pre-filtered and weighted. Margin also works with
        a decision function only.
    beta : int, default=10
        The ``beta × n`` most uncertain candidates are clustered.
    embedding : {None, "proba"}, default=None
        Where the clustering happens (see :class:`KCenterGreedy`).

    Notes
    -----
    The clustering is :class:`~sklearn.cluster.KMeans` with ``n`` clusters on
    ``beta × n`` rows, weighted by uncertainty (shifted to be positive), seeded
    from the context's generator; it costs O(beta × n² × dims) per Lloyd
    iteration, independent of the pool size. From each cluster the member
    nearest its centre is taken. If k-means finds fewer distinct clusters than
    ``n`` (many exact duplicates), the batch is filled with the most uncertain
    remaining candidates. The batch is returned most uncertain first.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[-3.0], [3.0], [0.0], [0.0], [0.0], [0.8], [-0.9], [2.0]])
    >>> model = LogisticRegression().fit(X[:2], [0, 1])
    >>> ctx = QueryContext(X=X, candidates=np.arange(2, 8), labelled=np.arange(2),
    ...                    y_labelled=np.array([0, 1]), model=model)
    >>> DiverseBatch(beta=2).select(ctx, 2).tolist()   # one copy of 0.0, then another region
    [2, 5]
    """

    name = "diverse_batch"

    def __init__(
        self, uncertainty: str = "margin", beta: int = 10, embedding: str | None = None
    ) -> None:
        _check_uncertainty(uncertainty)
        _check_embedding(embedding)
        if isinstance(beta, bool) or not isinstance(beta, int | np.integer) or beta < 1:
            raise ValueError(f"beta must be an integer >= 1, got {beta!r}.")
        self.uncertainty = uncertainty
        self.beta = int(beta)
        self.embedding = embedding

    @property  # type: ignore[override]
    def requires(self) -> tuple[Any, ...]:  # type: ignore[override]
        """What the uncertainty function (and the embedding) need from the model."""
        return _requires(self.uncertainty, self.embedding)

    def _rows_embedding(self, ctx: QueryContext, rows: np.ndarray) -> Any:
        if self.embedding == "proba":
            return np.asarray(ctx.model.predict_proba(take_rows(ctx.X, rows)), dtype=float)
        X_rows = take_rows(ctx.X, rows)
        if ctx.embed is None and sp.issparse(X_rows):
            return sp.csr_matrix(X_rows, dtype=float)
        return ctx.embedding(X_rows)

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        u = _uncertainty(ctx, self.uncertainty)
        m = min(self.beta * n, ctx.candidates.shape[0])
        top = top_k(u, m, ctx.candidates)  # most uncertain first
        if m <= n:
            return ctx.candidates[top[:n]]
        Z = self._rows_embedding(ctx, ctx.candidates[top])
        w = u[top]
        w = w - w.min()
        w = w + 1e-3 * (w.max() if w.max() > 0 else 1.0)
        seed = int(ctx.rng.integers(2**31 - 1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            km = KMeans(n_clusters=n, n_init=1, random_state=seed).fit(Z, sample_weight=w)
        labels = km.labels_
        dist = km.transform(Z)[np.arange(m), labels]
        rank = np.arange(m)
        order = np.lexsort((rank, dist, labels))
        sorted_labels = labels[order]
        first = np.concatenate([[True], sorted_labels[1:] != sorted_labels[:-1]])
        picked = np.sort(order[first])[:n]
        if picked.shape[0] < n:
            rest = np.setdiff1d(rank, picked)[: n - picked.shape[0]]
            picked = np.sort(np.concatenate([picked, rest]))
        return ctx.candidates[top[picked]]
