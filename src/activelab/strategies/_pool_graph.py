"""The pool's shared :class:`~activelab.graph.PoolGraph`, as the strategies see it.

Strategies that work on the pool's nearest-neighbour graph (coverage, typicality, graph
density) see a new :class:`~activelab.strategies.QueryContext` at every query, but the same
pool array. They take the graph from :func:`activelab.shared_graph.shared_graph`, keyed by
that array (and the embedding function), so the graph is built once per pool and is the same
one the hybrid fit (:class:`~activelab.models.spreading.GraphPool`) spreads labels on.
"""

from __future__ import annotations

from typing import Any

from activelab.graph import PoolGraph
from activelab.shared_graph import shared_graph
from activelab.strategies._base import QueryContext

__all__ = ["pool_graph", "pool_space", "pool_space_graph"]


def pool_space(ctx: QueryContext, scale: bool = True) -> Any:
    """The rows the graph is built on: the embedding if there is one, else the features.

    Dense features (not an embedding) are scaled per column when ``scale`` is true (each
    divided by the larger of its spread and the median column's, see
    :class:`~activelab.shared_graph.GraphSpace`), so that no column dominates the distances by
    its unit and no near-constant column is blown up; a DataFrame counts by its numeric
    columns; sparse features are used as they are (with the cosine metric).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [1.0, 100.0], [2.0, 200.0]])
    >>> ctx = QueryContext(X=X, candidates=np.arange(3), labelled=np.array([], int),
    ...                    y_labelled=np.array([]))
    >>> np.round(pool_space(ctx)[:, 1], 3).tolist()
    [-1.225, 0.0, 1.225]
    """
    return pool_space_graph(ctx, 1, scale)[0]


def pool_graph(ctx: QueryContext, n_neighbors: int = 20, scale: bool = True) -> PoolGraph:
    """The k-nearest-neighbour graph of the context's pool, built once per pool.

    Parameters
    ----------
    ctx : QueryContext
        The pool (``ctx.X``) and its embedding (``ctx.embed``) define the graph.
    n_neighbors : int, default=20
        Neighbours per item.
    scale : bool, default=True
        Scale raw features first (see :func:`pool_space`).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(30, 2))
    >>> ctx = QueryContext(X=X, candidates=np.arange(30), labelled=np.array([], int),
    ...                    y_labelled=np.array([]))
    >>> pool_graph(ctx, 5) is pool_graph(ctx, 5)
    True
    """
    return pool_space_graph(ctx, n_neighbors, scale)[1]


def pool_space_graph(
    ctx: QueryContext, n_neighbors: int = 20, scale: bool = True
) -> tuple[Any, PoolGraph]:
    """:func:`pool_space` and :func:`pool_graph` from one look-up of the shared graph.

    Each look-up reads the pool once (to notice a pool changed in place), so a strategy
    that needs both takes them here.

    Parameters
    ----------
    ctx, n_neighbors, scale
        As for :func:`pool_graph`.

    Returns
    -------
    Z : ndarray or sparse matrix
        The rows the graph is built on, as :func:`pool_space` gives them.
    graph : PoolGraph
        As :func:`pool_graph` gives it.

    Examples
    --------
    >>> import numpy as np
    >>> none = np.array([], int)
    >>> ctx = QueryContext(X=np.eye(6), candidates=np.arange(6), labelled=none, y_labelled=none)
    >>> Z, graph = pool_space_graph(ctx, 2)
    >>> Z is pool_space(ctx), graph is pool_graph(ctx, 2), Z.shape, graph.indices.shape
    (True, True, (6, 6), (6, 2))
    """
    space, graph = shared_graph(ctx.X, embed=ctx.embed, n_neighbors=n_neighbors, scale=scale)
    return space.Z, graph
