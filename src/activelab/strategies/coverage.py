"""Coverage on the pool's nearest-neighbour graph (ProbCover; Yehuda et al. 2022).

With few labels, a model cannot yet tell what it does not know, and the items that pay best
are those that *represent* many others (Hacohen et al. 2022). ProbCover ("Active learning
through a covering lens", Yehuda, Dekel, Hacohen & Weinshall, NeurIPS 2022) makes this a
coverage problem: every item covers the items within a radius ``δ`` of it (its ``δ``-ball);
each pick is the candidate whose ball holds the most items not yet covered by a labelled item
or an earlier pick of the batch (greedy maximum coverage).

Here the balls live on the pool's ``k``-nearest-neighbour graph
(:class:`~activelab.graph.PoolGraph`, built once per pool and cached): the ball of ``i`` is
``i`` itself and those of its ``k`` nearest neighbours that lie within ``δ``. ``δ`` follows
the paper's purity heuristic: the pool is split into as many k-means clusters as there are
classes, and ``δ`` is the largest radius at which at least ``purity`` of the balls hold one
cluster only. Once every candidate is covered, the radius is halved until some candidate
covers an uncovered item again (at the smallest radius every ball is the item itself), so the
strategy keeps spreading its picks over the pool at a finer scale instead of falling back to
random picks. Ties go to the more typical item (:meth:`PoolGraph.typicality`), then the lower
pool index.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans, MiniBatchKMeans

from activelab.graph import PoolGraph
from activelab.strategies._base import QueryContext, Strategy
from activelab.strategies._kmeans import cap_clusters
from activelab.strategies._pool_graph import pool_space, pool_space_graph

__all__ = ["ProbCover", "purity_radius"]


def purity_radius(graph: PoolGraph, clusters: np.ndarray, purity: float = 0.95) -> float:
    """The largest ball radius at which at least ``purity`` of the balls are pure.

    A ball (an item and its graph neighbours within the radius) is pure when every item in it
    has the item's cluster. Item ``i``'s ball stays pure up to the distance of its nearest
    neighbour in another cluster; the radius is the ``1 - purity`` quantile of those distances
    (a ball with no such neighbour among its ``k`` is pure at every radius the graph holds).

    Examples
    --------
    >>> Z = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    >>> g = PoolGraph(Z, n_neighbors=3)
    >>> round(purity_radius(g, np.array([0, 0, 0, 1, 1, 1]), purity=1.0), 6)
    4.8
    """
    other = clusters[graph.indices] != clusters[:, None]
    first = np.where(other, graph.distances, np.inf).min(axis=1)
    reach = float(graph.distances.max())
    radius = float(np.quantile(first, 1.0 - purity, method="lower"))
    # a ball is pure for radii *below* its first foreign neighbour
    return float(np.nextafter(radius, 0.0)) if np.isfinite(radius) else reach


class ProbCover(Strategy):
    """Cover the pool: the candidate whose ``δ``-ball holds most uncovered items (ProbCover).

    Needs no model; uses the context's embedding, or the scaled features.

    Parameters
    ----------
    n_neighbors : int, default=20
        Neighbours per item in the graph (a ball holds at most ``n_neighbors + 1`` items).
    radius : float, optional
        ``δ``; by default chosen by the purity heuristic at every query.
    purity : float, default=0.5
        Share of pure balls the heuristic asks for.
    n_clusters : int, optional
        Clusters of the purity heuristic; by default the number of classes the context knows
        (at least 2), or 10 without classes.
    scale : bool, default=True
        Scale raw features before building the graph (see
        :class:`~activelab.shared_graph.GraphSpace`).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> ctx = QueryContext(X=X, candidates=np.arange(len(X)), labelled=np.array([], int),
    ...                    y_labelled=np.array([]), classes=np.arange(3))
    >>> picks = ProbCover().select(ctx, 3)
    >>> sorted(set(y[picks].tolist()))
    [0, 1, 2]
    """

    name = "probcover"
    task = "any"

    def __init__(
        self,
        n_neighbors: int = 20,
        radius: float | None = None,
        purity: float = 0.5,
        n_clusters: int | None = None,
        scale: bool = True,
    ) -> None:
        if n_neighbors < 1:
            raise ValueError(f"n_neighbors must be at least 1, got {n_neighbors}.")
        if radius is not None and radius < 0:
            raise ValueError(f"radius must be >= 0 or None, got {radius!r}.")
        if not 0.0 < purity <= 1.0:
            raise ValueError(f"purity must be in (0, 1], got {purity!r}.")
        self.n_neighbors = n_neighbors
        self.radius = radius
        self.purity = purity
        self.n_clusters = n_clusters
        self.scale = scale
        self._radii: dict[tuple[int, int], float] = {}

    def _clusters_wanted(self, ctx: QueryContext) -> int:
        if self.n_clusters is not None:
            return int(self.n_clusters)
        if ctx.classes is not None and len(ctx.classes) >= 2:
            return len(ctx.classes)
        return 10

    def radius_for(self, ctx: QueryContext, graph: PoolGraph, Z: Any = None) -> float:
        """``δ`` for this pool: the given radius, or the purity heuristic's (cached).

        ``Z`` is the rows ``graph`` is built on (:func:`pool_space`), when the caller has
        them; otherwise they are looked up.
        """
        if self.radius is not None:
            return float(self.radius)
        k = int(min(self._clusters_wanted(ctx), graph.n))
        key = (id(graph), k)
        if key not in self._radii:
            if Z is None:
                Z = pool_space(ctx, self.scale)
            if graph.n > 20_000:
                km: KMeans | MiniBatchKMeans = MiniBatchKMeans(
                    n_clusters=k, random_state=0, n_init=3, batch_size=4096
                )
            else:
                # a pool with repeated rows has fewer distinct points than clusters
                km = KMeans(n_clusters=cap_clusters(k, Z), random_state=0, n_init=1)
            clusters = np.asarray(km.fit(Z).labels_)
            self._radii = {key: purity_radius(graph, clusters, self.purity)}
        return self._radii[key]

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        if ctx.n_pool < 2:  # no graph on one item: it is the only pick
            return ctx.candidates[:n]
        Z, graph = pool_space_graph(ctx, self.n_neighbors, self.scale)
        radius = self.radius_for(ctx, graph, Z)
        typ = graph.typicality()
        tie = typ / (typ.max() + 1.0)  # in [0, 1): breaks ties in gain only
        is_cand = np.zeros(graph.n, dtype=bool)
        is_cand[ctx.candidates] = True
        chosen: list[int] = []
        for _ in range(64):
            if len(chosen) == n:
                break
            balls, owners = _balls(graph, radius)
            covered = np.zeros(graph.n, dtype=bool)
            taken = np.concatenate([ctx.labelled, np.asarray(chosen, dtype=np.int64)])
            covered[balls[taken].indices] = True
            gain = balls @ (~covered).astype(float)
            added = _greedy(balls, owners, gain, covered, is_cand, tie, n - len(chosen))
            for i in added:
                is_cand[i] = False
            chosen.extend(added)
            radius /= 2.0  # every candidate covered: go on at a finer scale
        if len(chosen) < n:  # only exact duplicates of covered items are left
            rest = np.flatnonzero(is_cand)
            order = np.lexsort((rest, -tie[rest]))
            chosen.extend(rest[order[: n - len(chosen)]].tolist())
        return np.asarray(chosen, dtype=np.int64)


def _balls(graph: PoolGraph, radius: float) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """``B[i, j] = 1`` when ``j`` is in ``i``'s ball (``i`` included), and ``B.T`` as CSR."""
    n, k = graph.indices.shape
    inside = graph.distances <= radius
    rows = np.concatenate([np.arange(n), np.repeat(np.arange(n), k)[inside.ravel()]])
    cols = np.concatenate([np.arange(n), graph.indices[inside]])
    B = sp.csr_matrix((np.ones(rows.shape[0]), (rows, cols)), shape=(n, n))
    B.data[:] = 1.0
    return B, B.T.tocsr()


def _greedy(
    balls: sp.csr_matrix,
    owners: sp.csr_matrix,
    gain: np.ndarray,
    covered: np.ndarray,
    is_cand: np.ndarray,
    tie: np.ndarray,
    n: int,
) -> list[int]:
    """Up to ``n`` greedy max-coverage picks; stops early when no candidate gains an item."""
    picks: list[int] = []
    score = np.where(is_cand, gain + tie, -np.inf)
    while len(picks) < n:
        best = int(np.argmax(score))
        if not np.isfinite(score[best]) or gain[best] < 1:
            break
        picks.append(best)
        score[best] = -np.inf
        new = balls.indices[balls.indptr[best] : balls.indptr[best + 1]]
        new = new[~covered[new]]
        covered[new] = True
        # every item whose ball holds a newly covered item gains one item less
        lost = np.bincount(owners[new].indices, minlength=gain.shape[0]).astype(float)
        gain -= lost
        score -= lost
    return picks
