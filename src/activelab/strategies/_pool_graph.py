"""One :class:`~activelab.graph.PoolGraph` per pool, built at the first query and reused.

Strategies that work on the pool's nearest-neighbour graph (coverage, typicality) see a new
:class:`~activelab.strategies.QueryContext` at every query, but the same pool array. The graph
is cached by the identity of that array (and of the embedding function), its shape and the
graph's settings; a weak reference drops the entry when the pool is garbage-collected, and at
most :data:`_MAX_ENTRIES` graphs are kept.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import StandardScaler

from activelab.graph import PoolGraph
from activelab.strategies._base import QueryContext

__all__ = ["pool_graph", "pool_space"]

_MAX_ENTRIES = 4
_CACHE: OrderedDict[tuple, tuple[Any, PoolGraph]] = OrderedDict()


def pool_space(ctx: QueryContext, scale: bool = True) -> Any:
    """The rows the graph is built on: the embedding if there is one, else the features.

    Features (not an embedding) are standardised per column when ``scale`` is true, so that
    no column dominates the distances by its unit; sparse features are only scaled.

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [1.0, 100.0], [2.0, 200.0]])
    >>> ctx = QueryContext(X=X, candidates=np.arange(3), labelled=np.array([], int),
    ...                    y_labelled=np.array([]))
    >>> np.round(pool_space(ctx)[:, 1], 3).tolist()
    [-1.225, 0.0, 1.225]
    """
    if ctx.embed is not None:
        return ctx.map_chunks(ctx.embedding, rows=np.arange(ctx.n_pool))
    if sp.issparse(ctx.X):
        Z = sp.csr_matrix(ctx.X, dtype=np.float64)
        return StandardScaler(with_mean=False).fit_transform(Z) if scale else Z
    Z = np.asarray(ctx.X, dtype=np.float64)
    return StandardScaler().fit_transform(Z) if scale else Z


def pool_graph(ctx: QueryContext, n_neighbors: int = 20, scale: bool = True) -> PoolGraph:
    """The k-nearest-neighbour graph of the context's pool, built once per pool.

    Parameters
    ----------
    ctx : QueryContext
        The pool (``ctx.X``) and its embedding (``ctx.embed``) define the graph.
    n_neighbors : int, default=20
        Neighbours per item.
    scale : bool, default=True
        Standardise raw features first (see :func:`pool_space`).

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(30, 2))
    >>> ctx = QueryContext(X=X, candidates=np.arange(30), labelled=np.array([], int),
    ...                    y_labelled=np.array([]))
    >>> pool_graph(ctx, 5) is pool_graph(ctx, 5)
    True
    """
    key = (id(ctx.X), tuple(ctx.X.shape), id(ctx.embed), int(n_neighbors), bool(scale))
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is ctx.X:
        _CACHE.move_to_end(key)
        return hit[1]
    graph = PoolGraph(pool_space(ctx, scale), n_neighbors=n_neighbors)
    try:
        ref = weakref.ref(ctx.X, lambda _r, key=key: _CACHE.pop(key, None))
    except TypeError:  # an object without weak references: do not cache it
        return graph
    _CACHE[key] = (ref, graph)
    while len(_CACHE) > _MAX_ENTRIES:
        _CACHE.popitem(last=False)
    return graph
