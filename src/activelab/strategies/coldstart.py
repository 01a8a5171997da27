"""Cold start without a model: typical points of uncovered clusters (in the spirit of TypiClust).

With very few labels, uncertainty is meaningless: the model is not yet good
enough to know what it does not know. Hacohen, Dekel & Weinshall (2022, "Active
learning on a budget") show that, at that stage, the most *typical* examples of
distinct regions of the data pay best. :class:`Typicality` clusters the pool into
``n_labelled + n`` clusters and, from the largest clusters that hold no label
yet, takes the point of highest typicality (inverse mean distance to its
nearest neighbours inside the cluster).

Differences from the paper, chosen for bounded memory and speed on large pools:
typicality is computed on a random sample of at most ``max_cluster_sample``
candidates of each chosen cluster, and pools above ``minibatch_above`` rows are
clustered with :class:`~sklearn.cluster.MiniBatchKMeans`.

With ``graph=True`` the pool is clustered in the space of the pool's shared
nearest-neighbour graph (:mod:`activelab.shared_graph`: the embedding, else the
scaled features) and an item's typicality is read off that graph
(:meth:`~activelab.graph.PoolGraph.typicality`: its neighbours in the whole
pool, as in the paper), so the cold start, the hybrid fit and ``probcover``
share one neighbour search. Whether that is the better cold start is measured
in docs/hybrid.md ("Cold start on the graph").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans, MiniBatchKMeans

from activelab.strategies._base import QueryContext, Strategy, numeric_rows
from activelab.strategies._kmeans import cap_clusters
from activelab.strategies._pool_graph import pool_space_graph

__all__ = ["Typicality", "typicality"]


def typicality(Z: np.ndarray, k_neighbors: int = 20) -> np.ndarray:
    """Inverse mean Euclidean distance of each row to its ``k`` nearest other rows.

    Examples
    --------
    >>> Z = np.array([[0.0], [0.1], [0.2], [5.0]])
    >>> int(np.argmax(typicality(Z, k_neighbors=2)))
    1
    """
    m = Z.shape[0]
    if m == 1:
        return np.ones(1)
    k = min(k_neighbors, m - 1)
    sq = np.einsum("ij,ij->i", Z, Z)
    D2 = np.maximum(sq[:, None] - 2.0 * Z @ Z.T + sq[None, :], 0.0)
    np.fill_diagonal(D2, np.inf)
    nearest = np.partition(D2, k - 1, axis=1)[:, :k]
    return 1.0 / (np.sqrt(nearest).mean(axis=1) + 1e-12)


class Typicality(Strategy):
    """Cold start: the most typical candidate of each large cluster not yet labelled.

    Needs no model; uses the context's embedding (the features by default).

    Parameters
    ----------
    k_neighbors : int, default=20
        Neighbours used for typicality.
    max_cluster_sample : int, default=1000
        At most this many candidates of a cluster are scored.
    max_clusters : int, default=1000
        Upper bound on the number of clusters.
    minibatch_above : int, default=20000
        Pools larger than this are clustered with MiniBatchKMeans.
    graph : bool, default=False
        Cluster in the shared graph's space and take typicality from the pool's
        shared ``k_neighbors``-nearest-neighbour graph (see the module notes)
        instead of a neighbour search inside each cluster's sample.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X = load_iris().data
    >>> ctx = QueryContext(X=X, candidates=np.arange(len(X)), labelled=np.array([], int),
    ...                    y_labelled=np.array([]), rng=np.random.default_rng(0))
    >>> picks = Typicality().select(ctx, 3)
    >>> len(set(load_iris().target[picks]))   # one item from each species
    3
    >>> picks = Typicality(graph=True).select(ctx, 3)   # on the pool's shared graph
    >>> len(set(picks.tolist()))
    3
    """

    name = "typicality"
    task = "any"

    def __init__(
        self,
        k_neighbors: int = 20,
        max_cluster_sample: int = 1000,
        max_clusters: int = 1000,
        minibatch_above: int = 20_000,
        graph: bool = False,
    ) -> None:
        self.k_neighbors = k_neighbors
        self.max_cluster_sample = max_cluster_sample
        self.max_clusters = max_clusters
        self.minibatch_above = minibatch_above
        self.graph = graph

    def _pool_embedding(self, ctx: QueryContext) -> Any:
        """The space the pool is clustered in: the features, or the context's embedding.

        Sparse and dense floating features are kept in their dtype (a float32 pool is
        not doubled in memory); other dense features become float64.
        """
        if ctx.embed is None:
            if sp.issparse(ctx.X):
                return ctx.X
            X = np.asarray(numeric_rows(ctx.X))
            return X if X.dtype in (np.float32, np.float64) else X.astype(np.float64)
        return ctx.map_chunks(ctx.embedding, rows=np.arange(ctx.n_pool))

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        typ = None
        if self.graph and ctx.n_pool < 2:  # no graph on one item: it is the only pick
            return ctx.candidates[:n]
        if self.graph:
            Z, graph = pool_space_graph(ctx, self.k_neighbors)
            typ = graph.typicality()
        else:
            Z = self._pool_embedding(ctx)
        n_pool = Z.shape[0]
        k = int(min(ctx.labelled.shape[0] + n, self.max_clusters, n_pool))
        seed = int(ctx.rng.integers(2**31 - 1))
        if n_pool > self.minibatch_above:
            km: Any = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096)
        else:
            k = cap_clusters(k, Z)  # a pool with repeated rows has fewer distinct points
            km = KMeans(n_clusters=k, random_state=seed, n_init=1)
        # The cluster of every row comes from the fit itself, in the space and dtype it
        # was fitted in (KMeans and MiniBatchKMeans both end on an assignment step
        # against the final centres), never from a second pass over the raw features:
        # those may be another dtype (float32 rows against float64 centres) or, with an
        # embedding, another space altogether.
        assign = np.asarray(km.fit(Z).labels_, dtype=np.int64)
        sizes = np.bincount(assign, minlength=k).astype(float)
        covered = np.bincount(assign[ctx.labelled], minlength=k).astype(float)
        is_cand = np.zeros(n_pool, dtype=bool)
        is_cand[ctx.candidates] = True
        n_open = np.bincount(assign[ctx.candidates], minlength=k)
        by_cluster = np.argsort(assign, kind="stable")  # pool indices grouped by cluster
        bounds = np.concatenate([[0], np.cumsum(np.bincount(assign, minlength=k))])
        chosen: list[int] = []
        for _ in range(n):
            open_cl = np.flatnonzero(n_open > 0)
            # fewest labels first, then the largest cluster, then the lowest id
            order = np.lexsort((open_cl, -sizes[open_cl], covered[open_cl]))
            cl = int(open_cl[order[0]])
            members = by_cluster[bounds[cl] : bounds[cl + 1]]
            members = members[is_cand[members]]
            if typ is not None:  # typicality read off the pool's graph: no search here
                best = int(members[np.argmax(typ[members])])
            else:
                best = self._most_typical(ctx, Z, members)
            chosen.append(best)
            is_cand[best] = False
            n_open[cl] -= 1
            covered[cl] += 1
        return np.asarray(chosen, dtype=np.int64)

    def _most_typical(self, ctx: QueryContext, Z: Any, members: np.ndarray) -> int:
        """The most typical of a cluster's candidates (scored on a sample of them)."""
        if members.shape[0] > self.max_cluster_sample:
            members = np.sort(ctx.rng.choice(members, self.max_cluster_sample, replace=False))
        Zm = Z[members]
        Zm = Zm.toarray() if sp.issparse(Zm) else np.asarray(Zm, dtype=float)
        t = typicality(Zm, self.k_neighbors)
        return int(members[np.flatnonzero(t == t.max())[0]])
