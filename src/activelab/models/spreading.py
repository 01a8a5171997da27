"""Label spreading on the pool's sparse k-nearest-neighbour graph.

The graph is built once per pool (:class:`GraphPool`, around
:class:`activelab.graph.PoolGraph`) and reused by every refit: spreading the
labels is a few dozen sparse matrix products (Zhou et al. 2004, "Learning with
local and global consistency")::

    S = D^-1/2 W D^-1/2,     F <- alpha S F + (1 - alpha) Y     (n_iter times)

with ``W`` the symmetric Gaussian affinity of the graph and ``Y`` the one-hot
rows of the labelled items. scikit-learn's ``LabelSpreading`` builds its graph
on every ``fit``; here only ``Y`` changes between rounds.

Predictions: a row of the pool gets its spread distribution (rows are found
by content, so a strategy scoring chunks of the pool sees the transductive
answer); any other row gets the affinity-weighted mean of its ``k`` nearest
pool items' distributions.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.r_[rng.normal(0, 0.3, (50, 2)), rng.normal(3, 0.3, (50, 2))]
>>> model = GraphSpreading(n_neighbors=5).fit_pool(X, [0, 50], [0, 1])
>>> float((model.predict(X) == np.repeat([0, 1], 50)).mean())
1.0
>>> model.predict(np.array([[3.1, 2.9]])).tolist()
[1]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin

from activelab.shared_graph import shared_graph

__all__ = [
    "LARGE_POOL",
    "GraphPool",
    "GraphSpreading",
    "find_by_keys",
    "normalized_affinity",
    "seed_weights",
    "spread",
]

#: Pools larger than this spread in single precision, and the automatic choice checks with at
#: most 3 folds: the sparse products grow with pool × classes (× folds), and only the ranking
#: of the classes is read (see docs/hybrid.md for the measured cost).
LARGE_POOL = 20_000


def normalized_affinity(W: sp.spmatrix) -> sp.csr_matrix:
    """``D^-1/2 W D^-1/2`` (isolated rows stay zero).

    Examples
    --------
    >>> W = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    >>> normalized_affinity(W).toarray()
    array([[0., 1.],
           [1., 0.]])
    """
    d = np.asarray(W.sum(axis=1)).ravel()
    inv = np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), 0.0)
    D = sp.diags(inv)
    return (D @ W @ D).tocsr()


def spread(S: sp.spmatrix, Y: np.ndarray, *, alpha: float = 0.9, n_iter: int = 30) -> np.ndarray:
    """Iterate ``F <- alpha S F + (1 - alpha) Y`` from ``F = Y``.

    ``Y`` may hold several independent problems side by side (its columns are
    spread independently), e.g. one block of classes per cross-validation fold.

    Parameters
    ----------
    S : sparse matrix of shape (n, n)
        The normalised affinity.
    Y : ndarray of shape (n, m)
        Initial label mass.
    alpha : float in (0, 1), default=0.9
        How far labels travel (Zhou et al.'s ``alpha``).
    n_iter : int, default=30
        Sparse products; ``alpha**n_iter`` bounds what is left of the series.

    Returns
    -------
    ndarray of shape (n, m)
        The unnormalised spread mass.

    Examples
    --------
    >>> S = normalized_affinity(sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0.0]])))
    >>> F = spread(S, np.array([[1.0], [0.0], [0.0]]))
    >>> bool(F[1, 0] > F[2, 0] > 0)
    True
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}.")
    Y = np.asarray(Y)
    if Y.dtype != np.float32:
        Y = Y.astype(float)
    F = Y.copy()
    base = Y.dtype.type(1.0 - alpha) * Y
    a = Y.dtype.type(alpha)
    for _ in range(int(n_iter)):
        F = a * (S @ F) + base
    return F


#: Rows of a float32 pool widened to float64 at a time for the content index's keys.
_KEY_ROWS = 65_536


class GraphPool:
    """A pool's graph, the map into the graph's space, and a row finder; built once.

    Parameters
    ----------
    X : array-like, sparse matrix or DataFrame of shape (n, d)
        The pool.
    embed : callable, optional
        Maps rows of the pool to the space the graph is built in (e.g. sentence
        embeddings). Default: the scaled features (:class:`~activelab.shared_graph.GraphSpace`;
        a sparse pool is used as it is, with the cosine metric; a DataFrame by its numeric
        columns).
    n_neighbors : int, default=10
        Neighbours per item.
    metric : {"euclidean", "cosine"}, optional
        Default: cosine for a sparse pool, else euclidean.

    Attributes
    ----------
    graph : PoolGraph
        The k-nearest-neighbour graph of the pool: the pool's shared graph
        (:func:`activelab.shared_graph.shared_graph`), so strategies working on
        the same pool (``probcover``, ``typicality``, graph density) search it once.
    space : GraphSpace
        The pool in the graph's space, and the map of new rows into it.
    Z : ndarray or sparse matrix
        The pool in the graph's space.
    S : scipy.sparse.csr_matrix
        The normalised Gaussian affinity (computed once).

    Examples
    --------
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> pool = GraphPool(X, n_neighbors=2)
    >>> pool.locate(X[[4, 1]]).tolist(), pool.locate(np.array([[0.5, 0.5]])).tolist()
    ([4, 1], [-1])
    """

    def __init__(
        self, X: Any, *, embed: Any = None, n_neighbors: int = 10, metric: str | None = None
    ) -> None:
        self.embed = embed
        # the pool's one graph, shared with the strategies (activelab.shared_graph)
        self.space, self.graph = shared_graph(
            X, embed=embed, n_neighbors=n_neighbors, metric=metric
        )
        self.Z = self.space.Z
        self.metric = self.space.metric
        self.S = normalized_affinity(self.graph.affinity("gaussian"))
        self.n = self.graph.n
        self._s32: sp.csr_matrix | None = None
        rng = np.random.default_rng(0)
        self._probe = rng.standard_normal((self.Z.shape[1], 2))
        keys = self._keys(self.Z)
        self._order = np.argsort(keys[:, 0], kind="stable")
        self._sorted_keys = keys[self._order]  # the content index of locate()

    @property
    def S(self) -> sp.csr_matrix:  # noqa: N802 (the affinity matrix S of the papers)
        """The normalised Gaussian affinity (recomputed from the graph after unpickling)."""
        if self._S is None:
            self._S = normalized_affinity(self.graph.affinity("gaussian"))
        return self._S

    @S.setter
    def S(self, value: sp.csr_matrix | None) -> None:  # noqa: N802
        self._S = value

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the affinities: they are recomputed from the graph when needed,
        so a saved model is a third of the size."""
        state = self.__dict__.copy()
        state["_S"] = state["_s32"] = None
        return state

    @property
    def s32(self) -> sp.csr_matrix:
        """``S`` in single precision (made once)."""
        if self._s32 is None:
            self._s32 = self.S.astype(np.float32)
        return self._s32

    def transform(self, X: Any) -> Any:
        """Rows in the graph's space."""
        return self.space.transform(X)

    def _keys(self, Z: Any) -> np.ndarray:
        """Two projections of each row, in float64; a float32 pool is widened in steps."""
        if sp.issparse(Z) or Z.dtype == np.float64:
            return np.asarray(Z @ self._probe, dtype=float).reshape(Z.shape[0], 2)
        keys = np.empty((Z.shape[0], 2))
        for s in range(0, Z.shape[0], _KEY_ROWS):
            keys[s : s + _KEY_ROWS] = Z[s : s + _KEY_ROWS].astype(np.float64) @ self._probe
        return keys

    def locate(self, X: Any, *, Z: Any = None) -> np.ndarray:
        """Pool index of each row of ``X`` found in the pool (by content), else -1."""
        Z = self.transform(X) if Z is None else Z
        if Z.shape[0] == 0:
            return np.empty(0, dtype=np.intp)

        def same(cand: np.ndarray, rows: np.ndarray) -> np.ndarray:
            d = self.Z[cand] - Z[rows]
            sq = np.asarray(d.multiply(d).sum(axis=1) if sp.issparse(d) else (d * d).sum(1))
            return sq.ravel() <= 1e-18 * (1.0 + _sqnorm(Z[rows]))

        return find_by_keys(self._sorted_keys, self._order, self._keys(Z), same)


def find_by_keys(
    sorted_keys: np.ndarray,
    order: np.ndarray,
    keys: np.ndarray,
    same: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Pool index of each query key in a content index, else -1.

    The index holds two random projections of every pool row, sorted by the
    first (``sorted_keys``, with ``order`` mapping back to pool rows); a query
    matches the candidates either side of its insertion point whose keys agree
    to 1e-9, confirmed by ``same(pool_rows, query_rows)`` when given (e.g. a
    comparison of the rows themselves).

    Examples
    --------
    >>> keys = np.array([[0.0, 1.0], [2.0, 3.0], [1.0, 5.0]])
    >>> order = np.argsort(keys[:, 0])
    >>> find_by_keys(keys[order], order, np.array([[1.0, 5.0], [1.0, 4.0]])).tolist()
    [2, -1]
    """
    n = sorted_keys.shape[0]
    scale = 1e-9 * (1.0 + np.abs(sorted_keys[:, 0]).max(initial=0.0))
    pos = np.clip(np.searchsorted(sorted_keys[:, 0], keys[:, 0]), 0, n - 1)
    best = np.full(keys.shape[0], -1, dtype=np.intp)
    for shift in (0, -1):  # the candidates either side of the insertion point
        at = np.clip(pos + shift, 0, n - 1)
        rows = np.flatnonzero((best < 0) & (np.abs(sorted_keys[at] - keys) <= scale).all(axis=1))
        cand = order[at[rows]]
        if same is not None and rows.size:
            keep = same(cand, rows)
            rows, cand = rows[keep], cand[keep]
        best[rows] = cand
    return best


def _sqnorm(Z: Any) -> np.ndarray:
    if sp.issparse(Z):
        return np.asarray(Z.multiply(Z).sum(axis=1)).ravel()
    return (Z * Z).sum(axis=1)


class GraphSpreading(ClassifierMixin, BaseEstimator):
    """Label spreading on the pool's sparse kNN graph, with predictions off the pool.

    Parameters
    ----------
    n_neighbors : int, default=10
        Neighbours per item of the graph.
    alpha : float, default=0.9
        Zhou et al.'s ``alpha``.
    n_iter : int, default=30
        Propagation steps.
    embedding : callable, optional
        Maps rows to the space the graph is built in (see :class:`GraphPool`).
    metric : {"euclidean", "cosine"}, optional
        Distance of the graph.
    class_weight : {None, "balanced"}, default=None
        ``"balanced"``: every class injects the same total mass
        (:func:`seed_weights`), so that a rare class is not drowned by the
        common ones; rows the spreading does not reach get a uniform prior.

    Attributes
    ----------
    classes_ : ndarray
        Classes seen among the labels.
    label_distributions_ : ndarray of shape (n_pool, n_classes)
        Spread class distributions of the pool's rows (pseudo-labels: never
        stored as labels).
    pool_ : GraphPool
        The pool's graph (reused when passed to :meth:`fit_pool` again).

    Examples
    --------
    >>> X = np.r_[np.zeros((5, 1)), np.ones((5, 1)) * 4] + np.arange(10)[:, None] * 0.01
    >>> m = GraphSpreading(n_neighbors=3).fit(X, [0, -1, -1, -1, -1, 1, -1, -1, -1, -1])
    >>> m.predict(X).tolist()
    [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    """

    def __init__(
        self,
        n_neighbors: int = 10,
        alpha: float = 0.9,
        n_iter: int = 30,
        embedding: Any = None,
        metric: str | None = None,
        class_weight: str | None = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.alpha = alpha
        self.n_iter = n_iter
        self.embedding = embedding
        self.metric = metric
        self.class_weight = class_weight

    def make_pool(self, X: Any) -> GraphPool:
        """The :class:`GraphPool` this model's settings build for pool ``X``."""
        return GraphPool(X, embed=self.embedding, n_neighbors=self.n_neighbors, metric=self.metric)

    def fit(self, X: Any, y: Any) -> GraphSpreading:
        """scikit-learn's semi-supervised convention: ``y == -1`` marks unlabelled rows."""
        y = np.asarray(y)
        labelled = np.flatnonzero(y != -1)
        return self.fit_pool(X, labelled, y[labelled])

    def fit_pool(
        self, X: Any, labelled: Any, y: Any, *, pool: GraphPool | None = None
    ) -> GraphSpreading:
        """Spread the labels of pool rows ``labelled`` over the pool ``X``.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame
            The whole pool.
        labelled : array-like of int
            Pool indices of the labelled rows.
        y : array-like
            Their labels.
        pool : GraphPool, optional
            The pool's graph, built before (reused across rounds).

        Returns
        -------
        self
        """
        labelled = np.asarray(labelled, dtype=np.intp)
        y = np.asarray(y)
        if labelled.shape[0] != y.shape[0] or labelled.size == 0:
            raise ValueError(
                f"Got {labelled.shape[0]} labelled indices and {y.shape[0]} labels; "
                "pass one label per index, at least one."
            )
        self.pool_ = pool if pool is not None else self.make_pool(X)
        self.classes_, codes = np.unique(y, return_inverse=True)
        large = self.pool_.n > LARGE_POOL
        if self.class_weight not in (None, "balanced"):
            raise ValueError(f"class_weight must be None or 'balanced'; got {self.class_weight!r}.")
        Y = np.zeros((self.pool_.n, self.classes_.shape[0]), dtype=np.float32 if large else float)
        counts = np.bincount(codes, minlength=self.classes_.shape[0])
        Y[labelled, codes] = seed_weights(codes, counts, self.class_weight)
        F = spread(
            self.pool_.s32 if large else self.pool_.S, Y, alpha=self.alpha, n_iter=self.n_iter
        )
        if self.class_weight == "balanced":
            self.prior_ = np.full(self.classes_.shape[0], 1.0 / self.classes_.shape[0])
        else:
            self.prior_ = counts / codes.shape[0]
        self.label_distributions_ = _normalize_rows(F, self.prior_)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Spread distributions of pool rows; neighbour-weighted ones for other rows."""
        pool = self.pool_
        Z = pool.transform(X)
        where = pool.locate(X, Z=Z)
        out = np.empty((Z.shape[0], self.classes_.shape[0]))
        found = where >= 0
        out[found] = self.label_distributions_[where[found]]
        if not found.all():
            out[~found] = self._induce(Z[np.flatnonzero(~found)])
        return out

    def _induce(self, Z: Any) -> np.ndarray:
        idx, dist = self.pool_.graph.kneighbors(Z)
        sigma = np.maximum(dist[:, -1:], 1e-12)
        sigma_pool = np.maximum(self.pool_.graph.distances[:, -1], 1e-12)[idx]
        w = np.exp(-(dist**2) / (sigma * sigma_pool))
        F = np.einsum("ik,ikc->ic", w, self.label_distributions_[idx])
        return _normalize_rows(F, self.prior_)

    def predict(self, X: Any) -> np.ndarray:
        """The likeliest class of each row."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def seed_weights(codes: np.ndarray, counts: np.ndarray, class_weight: str | None) -> np.ndarray:
    """The mass each labelled item injects into the spreading: 1, or with
    ``class_weight="balanced"`` ``n / (n_classes * count of its class)``, so that every
    class injects the same total mass (the graph's analogue of balanced class weights).

    Examples
    --------
    >>> codes = np.array([0, 0, 0, 1])
    >>> seed_weights(codes, np.bincount(codes), "balanced").tolist()
    [0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 2.0]
    >>> seed_weights(codes, np.bincount(codes), None).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    if class_weight != "balanced":
        return np.ones(codes.shape[0])
    present = np.count_nonzero(counts)
    return codes.shape[0] / (present * counts[codes].astype(float))


def _normalize_rows(F: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Rows scaled to sum to one; a row with no mass (unreached) gets ``prior``."""
    F = np.maximum(np.asarray(F, dtype=float), 0.0)
    s = F.sum(axis=1, keepdims=True)
    return np.where(s > 0, F / np.where(s > 0, s, 1.0), prior[None, :])
