"""A sparse k-nearest-neighbour graph of the pool, built once and shared.

Graph-based semi-supervised learning (label spreading), representative cold
starts (typicality, coverage) and density all need the same object: for every
item of the pool, its ``k`` nearest neighbours and their distances. Building it
is the expensive part (a neighbour search over the pool); using it is cheap
sparse algebra. :func:`knn_graph` builds it in bounded memory with
scikit-learn's :class:`~sklearn.neighbors.NearestNeighbors` (tree or brute force
in chunks, never an ``n × n`` matrix), and :class:`PoolGraph` holds it with the
derived quantities (a symmetric affinity matrix, typicality) so that one pool is
searched once and reused across rounds.

The exact search grows with the square of the pool (about 4× per doubling); pools
of more than :data:`APPROXIMATE_FROM` items are searched with an approximate
index, nearest-neighbour descent (Dong et al. 2011) from ``pynndescent``
(``pip install "activelab[scale]"``), when it is installed: minutes instead of
most of an hour for a million items (docs/hybrid.md, "Cost and scale").

Examples
--------
>>> import numpy as np
>>> Z = np.array([[0.0], [0.1], [0.2], [5.0], [5.1]])
>>> g = PoolGraph(Z, n_neighbors=2)
>>> g.indices.shape, g.distances.shape
((5, 2), (5, 2))
>>> g.affinity().shape
(5, 5)
"""

from __future__ import annotations

import importlib.util
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors

__all__ = ["APPROXIMATE_FROM", "PoolGraph", "knn_graph"]

#: Pools with more items than this are searched approximately (``method="auto"``) when
#: ``pynndescent`` is installed; smaller pools always exactly.
APPROXIMATE_FROM = 200_000
#: The exact search of a pool this large warns once that the approximate one exists.
_SLOW_EXACT = 500_000


def knn_graph(
    Z: Any,
    n_neighbors: int = 10,
    *,
    metric: str = "euclidean",
    n_jobs: int | None = None,
    method: str = "auto",
    random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_neighbors`` nearest other rows of every row of ``Z``.

    Parameters
    ----------
    Z : array-like or sparse matrix of shape (n, d)
        The pool's features or embedding.
    n_neighbors : int, default=10
        Neighbours per row (capped at ``n - 1``).
    metric : {"euclidean", "cosine"}, default="euclidean"
        Distance between rows.
    n_jobs : int, optional
        Parallel jobs for the neighbour search (scikit-learn's meaning).
    method : {"auto", "exact", "approximate"}, default="auto"
        ``"exact"``: scikit-learn's search. ``"approximate"``: nearest-neighbour
        descent (``pynndescent``, the ``scale`` extra), which finds most true
        neighbours (over 0.9 of them on 100,000 items with 30 features) in a
        fraction of the time on large pools. ``"auto"``: approximate for pools of
        more than :data:`APPROXIMATE_FROM` items when ``pynndescent`` is installed,
        else exact.
    random_state : int, default=0
        Seeds the approximate search.

    Returns
    -------
    indices : ndarray of shape (n, k), int
        Row ``i`` lists the neighbours of item ``i``, nearest first (never ``i``).
    distances : ndarray of shape (n, k), float
        The matching distances.

    Examples
    --------
    >>> idx, dist = knn_graph(np.array([[0.0], [1.0], [3.0]]), n_neighbors=1)
    >>> idx.ravel().tolist(), dist.ravel().tolist()
    ([1, 0, 1], [1.0, 1.0, 2.0])
    """
    if n_neighbors < 1:
        raise ValueError(f"n_neighbors must be at least 1, got {n_neighbors}.")
    if metric not in ("euclidean", "cosine"):
        raise ValueError(f"metric must be 'euclidean' or 'cosine', got {metric!r}.")
    n = Z.shape[0]
    if n < 2:
        raise ValueError(f"a graph needs at least 2 items, got {n}.")
    k = min(n_neighbors, n - 1)
    if _approximate(method, n):
        dist, idx = _descent(Z, k + 1, metric, n_jobs, random_state)
    else:
        nn = NearestNeighbors(n_neighbors=k + 1, metric=metric, n_jobs=n_jobs).fit(Z)
        dist, idx = nn.kneighbors(Z)
    # Drop each row's self-match; with duplicate rows the self may not come first.
    rows = np.arange(n)[:, None]
    is_self = idx == rows
    has_self = is_self.any(axis=1)
    drop = np.where(has_self, is_self.argmax(axis=1), k)
    keep = np.ones_like(idx, dtype=bool)
    keep[np.arange(n), drop] = False
    idx = idx[keep].reshape(n, k)
    dist = np.maximum(dist[keep].reshape(n, k), 0.0).astype(float, copy=False)
    return idx.astype(np.intp, copy=False), dist


def _approximate(method: str, n: int) -> bool:
    """Whether a search of ``n`` items is approximate under ``method``."""
    if method not in ("auto", "exact", "approximate"):
        raise ValueError(f"method must be 'auto', 'exact' or 'approximate'; got {method!r}.")
    if method == "exact" or (method == "auto" and n <= APPROXIMATE_FROM):
        return False
    if importlib.util.find_spec("pynndescent") is not None:
        return True
    if method == "approximate":
        raise ImportError(
            'The approximate neighbour search needs pynndescent: pip install "activelab[scale]"'
        )
    if n > _SLOW_EXACT:
        warnings.warn(
            f"Exact neighbour search of {n:,} items (its time grows with the square of the "
            'pool); pip install "activelab[scale]" for an approximate one.',
            stacklevel=3,
        )
    return False


def _descent(
    Z: Any, k: int, metric: str, n_jobs: int | None, random_state: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` approximate nearest rows of every row (itself included), by NN-descent."""
    from pynndescent import NNDescent

    if sp.issparse(Z):
        Z = sp.csr_matrix(Z, dtype=np.float32)
    else:
        Z = np.ascontiguousarray(Z, dtype=np.float32)
    index = NNDescent(
        Z,
        metric=metric,
        n_neighbors=k,
        random_state=random_state,
        n_jobs=-1 if n_jobs is None else n_jobs,
        low_memory=True,
        compressed=True,
    )
    idx, dist = index.neighbor_graph
    return np.asarray(dist, dtype=float), np.asarray(idx)


class PoolGraph:
    """The pool's k-nearest-neighbour graph and what is derived from it.

    Parameters
    ----------
    Z : array-like or sparse matrix of shape (n, d)
        The pool's features or embedding.
    n_neighbors : int, default=10
        Neighbours per item.
    metric : {"euclidean", "cosine"}, default="euclidean"
        Distance between items.
    n_jobs : int, optional
        Parallel jobs for the neighbour search.
    keep_rows : bool, default=True
        Keep a reference to ``Z`` (no copy) so that :meth:`kneighbors` can
        search new rows against the pool.
    method : {"auto", "exact", "approximate"}, default="auto"
        The neighbour search (see :func:`knn_graph`).

    Attributes
    ----------
    indices, distances : ndarray of shape (n, k)
        See :func:`knn_graph`.
    n : int
        Number of items.

    Examples
    --------
    >>> Z = np.r_[np.zeros((3, 2)), np.ones((3, 2)) * 10] + np.arange(6)[:, None] * 0.01
    >>> g = PoolGraph(Z, n_neighbors=2)
    >>> A = g.affinity()
    >>> bool(A[0, 1] > 0), bool(A[0, 4] > 0)
    (True, False)
    """

    def __init__(
        self,
        Z: Any,
        n_neighbors: int = 10,
        *,
        metric: str = "euclidean",
        n_jobs: int | None = None,
        keep_rows: bool = True,
        method: str = "auto",
    ) -> None:
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.indices, self.distances = knn_graph(
            Z, n_neighbors, metric=metric, n_jobs=n_jobs, method=method
        )
        self.n = self.indices.shape[0]
        self._affinity: dict[str, sp.csr_matrix] = {}
        self._Z = Z if keep_rows else None  # a reference, for :meth:`kneighbors`
        self._nn: NearestNeighbors | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the caches (affinities, the neighbour index): rebuilt on use."""
        state = self.__dict__.copy()
        state["_affinity"], state["_nn"] = {}, None
        return state

    def restrict(self, n_neighbors: int) -> PoolGraph:
        """The graph of each item's ``n_neighbors`` nearest neighbours only, without a search.

        Neighbour lists are sorted nearest first, so the first ``n_neighbors`` columns are
        the smaller graph (up to the order of equidistant neighbours). The rows kept for
        :meth:`kneighbors` are shared, not copied.

        Parameters
        ----------
        n_neighbors : int
            Neighbours to keep; at least the graph's own ``k`` returns the graph itself.

        Examples
        --------
        >>> Z = np.array([[0.0], [1.0], [3.0], [7.0]])
        >>> g = PoolGraph(Z, n_neighbors=3)
        >>> g.restrict(1).indices.ravel().tolist() == PoolGraph(Z, 1).indices.ravel().tolist()
        True
        >>> g.restrict(5) is g
        True
        """
        if n_neighbors < 1:
            raise ValueError(f"n_neighbors must be at least 1, got {n_neighbors}.")
        if n_neighbors >= self.indices.shape[1]:
            return self
        view = object.__new__(PoolGraph)
        view.n_neighbors = n_neighbors
        view.metric = self.metric
        view.indices = np.ascontiguousarray(self.indices[:, :n_neighbors])
        view.distances = np.ascontiguousarray(self.distances[:, :n_neighbors])
        view.n = self.n
        view._affinity = {}
        view._Z = self._Z
        view._nn = None
        return view

    def adjacency(self) -> sp.csr_matrix:
        """The directed 0/1 adjacency: ``A[i, j] = 1`` when ``j`` is among ``i``'s neighbours.

        Examples
        --------
        >>> PoolGraph(np.array([[0.0], [1.0], [3.0]]), n_neighbors=1).adjacency().toarray()
        array([[0., 1., 0.],
               [1., 0., 0.],
               [0., 1., 0.]])
        """
        n, k = self.indices.shape
        indptr = np.arange(0, n * k + 1, k)
        return sp.csr_matrix((np.ones(n * k), self.indices.ravel(), indptr), shape=(n, n))

    def affinity(self, kind: str = "gaussian") -> sp.csr_matrix:
        """Symmetric affinity ``W`` on the graph's edges (cached per ``kind``).

        Parameters
        ----------
        kind : {"gaussian", "connectivity"}, default="gaussian"
            ``"gaussian"`` weighs an edge by ``exp(-d² / (σ_i σ_j))`` with
            ``σ_i`` the distance to ``i``'s ``k``-th neighbour (a local scale,
            robust to uneven density); ``"connectivity"`` gives every edge 1.

        Returns
        -------
        scipy.sparse.csr_matrix of shape (n, n)
            Symmetric (``max(W, W.T)``), zero diagonal.

        Examples
        --------
        >>> W = PoolGraph(np.array([[0.0], [1.0], [3.0]]), n_neighbors=1).affinity()
        >>> bool((W != W.T).nnz == 0)
        True
        """
        if kind not in ("gaussian", "connectivity"):
            raise ValueError(f"kind must be 'gaussian' or 'connectivity', got {kind!r}.")
        if kind in self._affinity:
            return self._affinity[kind]
        n, k = self.indices.shape
        if kind == "gaussian":
            sigma = np.maximum(self.distances[:, -1], 1e-12)
            w = np.exp(-(self.distances**2) / (sigma[:, None] * sigma[self.indices]))
        else:
            w = np.ones((n, k))
        indptr = np.arange(0, n * k + 1, k)
        W = sp.csr_matrix((w.ravel(), self.indices.ravel(), indptr), shape=(n, n))
        W = W.maximum(W.T).tocsr()
        W.setdiag(0.0)
        W.eliminate_zeros()
        self._affinity[kind] = W
        return W

    def kneighbors(self, Z_new: Any, *, n_neighbors: int | None = None) -> tuple[Any, Any]:
        """Nearest pool items of new rows (same metric), for predictions off the pool.

        The search index is fitted on first use and kept.

        Parameters
        ----------
        Z_new : array-like or sparse matrix of shape (m, d)
            New rows in the space the graph was built in.
        n_neighbors : int, optional
            Defaults to the graph's ``k``.

        Returns
        -------
        indices, distances : ndarray of shape (m, k)
            Pool indices nearest first, and their distances.

        Examples
        --------
        >>> g = PoolGraph(np.array([[0.0], [1.0], [3.0]]), n_neighbors=1)
        >>> idx, dist = g.kneighbors(np.array([[2.9]]))
        >>> idx.tolist(), np.round(dist, 2).tolist()
        ([[2]], [[0.1]])
        """
        if self._Z is None:
            raise ValueError("this graph was built without keeping its rows; pass keep_rows=True.")
        k = min(n_neighbors or self.indices.shape[1], self.n)
        if self._nn is None:
            self._nn = NearestNeighbors(metric=self.metric).fit(self._Z)
        dist, idx = self._nn.kneighbors(Z_new, n_neighbors=k)
        return idx.astype(np.intp, copy=False), np.maximum(dist, 0.0).astype(float, copy=False)

    def typicality(self) -> np.ndarray:
        """Inverse mean distance of each item to its neighbours (TypiClust's typicality).

        Examples
        --------
        >>> t = PoolGraph(np.array([[0.0], [0.1], [0.2], [5.0]]), n_neighbors=2).typicality()
        >>> int(np.argmax(t))
        1
        """
        return 1.0 / (self.distances.mean(axis=1) + 1e-12)
