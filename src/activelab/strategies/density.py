"""Information density: uncertainty weighted by how representative a candidate is.

Settles & Craven (2008) weight an uncertainty score by the candidate's average
similarity to the pool, so that outliers, however uncertain, do not win:

``score(x) = uncertainty(x) × density(x) ** beta``

All three similarities are computed in bounded memory, never as an n × n matrix:

``"kmeans"`` (the default; local density)
    k-means (``n_clusters`` centres, by default ``ceil(sqrt(m))``) is fitted on a
    random *reference sample* of ``m = n_reference`` pool rows; each row's
    density is ``w exp(-gamma d²)`` with ``d`` its distance to the nearest centre,
    ``gamma = 1 / median d²`` over the sample and ``w = min(1, k × share)`` where
    ``share`` is that centre's share of the sample (a centre k-means gave to a few
    outliers does not make them dense). Every cluster has its own
    centre, so the weight favours items typical of *their* region (the
    pre-clustering idea of Nguyen & Smeulders 2004) rather than items near one
    global centre: O(m·k·d) to fit, O(N·k·d) time and O(chunk × k) memory to score.
    The clusters also measure *coverage*: the score is divided by
    ``(1 + labels the candidate's cluster holds) ** beta``, and a batch is
    picked one item at a time, each pick counting as a label of its cluster,
    so the batch spreads over the dense, uncertain regions the labels do not
    cover yet instead of crowding into the densest one.

``"cosine"`` (exact)
    The mean cosine similarity of ``x`` to the ``N`` pool rows is
    ``mean_j <x/|x|, x_j/|x_j|> = <x/|x|, m>`` with ``m = mean_j x_j/|x_j|``:
    one pass over the pool builds ``m`` (a single vector), a second scores every
    row by one dot product. That is O(N·d) time and O(d) extra memory, and equal
    to the pairwise mean up to rounding. The cosine lies in ``[-1, 1]``; it is
    mapped to ``(1 + cos) / 2`` so that ``density ** beta`` is well defined for
    features of any sign (for non-negative features such as tf-idf the order is
    the same as the raw cosine's).
``"rbf"`` (approximation)
    ``mean_r exp(-gamma |x - r|²)`` over a random *reference sample* of
    ``n_reference`` pool rows (drawn from the context's generator), computed in
    chunks of candidates against the sample: O(N·m·d) time and O(chunk × m)
    memory. With ``gamma=None`` the kernel width is set from the sample's
    median squared distance. The sample mean is an unbiased estimate of the
    mean similarity to the pool; its error shrinks as ``1/sqrt(n_reference)``.

``"graph"`` (on the pool's shared nearest-neighbour graph)
    The density of ``x`` is ``exp(-gamma d̄²)`` with ``d̄`` its mean distance to its
    ``n_neighbors`` nearest pool items (the inverse of TypiClust's typicality, as a
    kernel) and ``gamma = 1 / median d̄²``; the graph is the pool's shared one
    (:mod:`activelab.shared_graph`: the embedding, else the scaled features),
    the one the hybrid fit and ``probcover`` use, so no other search is made. Coverage
    is local too: the score is divided by ``(1 + labels among the candidate's graph
    neighbours) ** beta``, and a batch is picked one item at a time, each pick counting
    as a label of its neighbours. Measured against ``"kmeans"`` in docs/strategies.md.

The densities of the whole pool are computed once per pool (and embedding) and
cached on the strategy; they cover the whole pool, labelled rows included, so
the cache stays valid as labels arrive.

Why the default is ``"kmeans"`` with margin, ``beta=0.5`` and the coverage
discount (10 seeds each, AULC against random; ``benchmarks/README.md``, "Label
efficiency"): the mean cosine to the pool rewards closeness to a single global
centre, which on multi-modal data (ten digit classes) means ambiguous "average"
items, and made the strategy lose on digits (−0.056 with entropy, −0.010 with
margin). The nearest-centre density without the discount won on the four small
scikit-learn sets but lost on ImageSegments, MNIST and Bananas (−0.03 to −0.06):
every pick of a batch went to the same dense region. With the discount it is
ahead of random there too (MNIST +0.016, Bananas with extra trees +0.013,
digits +0.064; level on ImageSegments with logistic regression, −0.007).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.preprocessing import normalize

from activelab.scoring import take_rows
from activelab.strategies._base import PREDICT_PROBA, QueryContext, ScoringStrategy, top_k
from activelab.strategies._kmeans import cap_clusters
from activelab.strategies._pool_graph import pool_graph
from activelab.strategies.uncertainty import entropy, least_confident, margin

__all__ = ["UNCERTAINTY_FUNCTIONS", "InformationDensity"]

#: Uncertainty row functions information density can weight, by name.
UNCERTAINTY_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "entropy": entropy,
    "margin": margin,
    "least_confident": least_confident,
}
SIMILARITIES = ("kmeans", "cosine", "rbf", "graph")


class InformationDensity(ScoringStrategy):
    """Uncertainty × (mean similarity to the pool) ** ``beta`` (Settles & Craven 2008).

    Parameters
    ----------
    uncertainty : {"margin", "entropy", "least_confident"}, default="margin"
        The uncertainty row function (from :mod:`activelab.strategies.uncertainty`).
    beta : float, default=0.5
        Weight of the density term; 0 gives plain uncertainty sampling.
    similarity : {"kmeans", "cosine", "rbf", "graph"}, default="kmeans"
        ``"kmeans"``: closeness to the nearest k-means centre (a local density);
        ``"cosine"``: the exact mean cosine to the pool in O(pool × features);
        ``"rbf"``: the mean RBF similarity to a random reference sample;
        ``"graph"``: the local density on the pool's shared k-nearest-neighbour
        graph, with coverage counted among graph neighbours (see the module notes).
    n_reference : int, default=1000
        Reference sample size for ``"kmeans"`` and ``"rbf"``.
    gamma : float, optional
        Kernel width of ``"kmeans"`` and ``"rbf"``; by default ``1 / median squared
        distance`` in the sample (to the nearest centre for ``"kmeans"``).
    n_clusters : int, optional
        Centres for ``"kmeans"``; by default ``ceil(sqrt(m))`` for a reference
        sample of ``m`` rows; at most the sample's distinct rows.
    n_neighbors : int, default=20
        Neighbours per item of the graph for ``"graph"``.

    Notes
    -----
    Uses the context's embedding (the features by default); sparse features stay
    sparse for the cosine.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from activelab.strategies import QueryContext
    >>> # two equally uncertain points: one in a dense region, one isolated
    >>> X = np.array([[-2.0, 0], [2.0, 0], [0.0, 1], [0.0, 1.1], [0.0, 0.9], [0.0, -1]])
    >>> model = LogisticRegression().fit(X[:2], [0, 1])
    >>> ctx = QueryContext(X=X, candidates=np.arange(2, 6), labelled=np.arange(2),
    ...                    y_labelled=np.array([0, 1]), model=model)
    >>> InformationDensity().select(ctx, 1)   # not the isolated row 5
    array([4])
    >>> InformationDensity("entropy", similarity="rbf").select(ctx, 1)   # nearest the centre
    array([4])
    """

    name = "density"
    requires: ClassVar[tuple[Any, ...]] = (PREDICT_PROBA,)

    def __init__(
        self,
        uncertainty: str = "margin",
        beta: float = 0.5,
        similarity: str = "kmeans",
        n_reference: int = 1000,
        gamma: float | None = None,
        n_clusters: int | None = None,
        n_neighbors: int = 20,
    ) -> None:
        if uncertainty not in UNCERTAINTY_FUNCTIONS:
            raise ValueError(
                f"uncertainty must be one of {', '.join(UNCERTAINTY_FUNCTIONS)}; "
                f"got {uncertainty!r}."
            )
        if similarity not in SIMILARITIES:
            raise ValueError(
                f"similarity must be one of {', '.join(SIMILARITIES)}; got {similarity!r}."
            )
        if not beta >= 0:
            raise ValueError(f"beta must be >= 0, got {beta!r}.")
        if int(n_reference) < 1:
            raise ValueError(f"n_reference must be >= 1, got {n_reference!r}.")
        if gamma is not None and not gamma > 0:
            raise ValueError(f"gamma must be > 0, got {gamma!r}.")
        if n_clusters is not None and (
            isinstance(n_clusters, bool) or not isinstance(n_clusters, int) or n_clusters < 1
        ):
            raise ValueError(f"n_clusters must be an integer >= 1, got {n_clusters!r}.")
        self.uncertainty = uncertainty
        self.beta = beta
        self.similarity = similarity
        self.n_reference = int(n_reference)
        self.gamma = gamma
        self.n_clusters = n_clusters
        if int(n_neighbors) < 1:
            raise ValueError(f"n_neighbors must be >= 1, got {n_neighbors!r}.")
        self.n_neighbors = int(n_neighbors)
        self._cache: tuple[Any, ...] | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with the density values but not the weak reference to the pool.

        An unpickled strategy adopts the first pool of the same shape, settings and sampled rows
        (:func:`_pool_probe`), so a campaign saved between rounds goes on as it would have.
        """
        state = self.__dict__.copy()
        if self._cache is not None:
            ref, settings, values, clusters = self._cache
            state["_cache"] = (_pool_probe(ref()), settings, values, clusters)
        return state

    # ------------------------------------------------------------------ density
    def _cosine(self, ctx: QueryContext) -> np.ndarray:
        rows = np.arange(ctx.n_pool)
        total: np.ndarray | None = None
        for _, chunk in ctx.iter_rows(rows):
            Z = normalize(_features(ctx.embed, chunk))
            part = np.asarray(Z.sum(axis=0)).ravel()
            total = part if total is None else total + part
        assert total is not None
        return ctx.map_chunks(_cosine_density(ctx.embed, total / ctx.n_pool), rows=rows)

    def _reference_sample(self, ctx: QueryContext, *, keep_sparse: bool = False) -> Any:
        """The features of ``n_reference`` pool rows drawn from the context's generator.

        Dense, unless ``keep_sparse`` and the pool is sparse (tf-idf rows stay sparse).
        """
        n_ref = min(self.n_reference, ctx.n_pool)
        ref_rows = np.sort(ctx.rng.choice(ctx.n_pool, size=n_ref, replace=False))
        embed = ctx.embed  # the function goes to the workers: it must not hold the context
        if keep_sparse and sp.issparse(ctx.X):
            return _features(embed, take_rows(ctx.X, ref_rows))
        return ctx.map_chunks(lambda c: _dense(_features(embed, c)), rows=ref_rows)

    def _kmeans_function(self, ctx: QueryContext) -> Callable[[Any], np.ndarray]:
        """The nearest-centre density of a chunk of rows, centres fitted on a sample."""
        embed = ctx.embed
        # k-means and the distances below accept sparse rows
        R = self._reference_sample(ctx, keep_sparse=True)
        n_ref = R.shape[0]
        k = self.n_clusters if self.n_clusters is not None else int(np.ceil(np.sqrt(n_ref)))
        k = cap_clusters(k, R)  # a sample with repeated rows has fewer distinct points
        seed = int(ctx.rng.integers(2**31 - 1))
        km = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(R)
        centres = km.cluster_centers_
        c2 = np.einsum("ij,ij->i", centres, centres)
        # a centre standing for few sample rows (an outlier k-means gave its own
        # cluster) represents little of the pool: weight by its share, capped at 1
        size = np.bincount(km.labels_, minlength=centres.shape[0])
        weight = np.minimum(1.0, size * centres.shape[0] / n_ref)

        def nearest(Z: Any) -> tuple[np.ndarray, np.ndarray]:
            z2 = (
                np.asarray(Z.multiply(Z).sum(axis=1)).ravel()
                if sp.issparse(Z)
                else (np.einsum("ij,ij->i", Z, Z))
            )
            d2 = z2[:, None] - 2.0 * np.asarray(Z @ centres.T) + c2[None, :]
            j = d2.argmin(axis=1)
            return np.maximum(d2[np.arange(d2.shape[0]), j], 0.0), j

        gamma = self.gamma
        if gamma is None:
            med = float(np.median(nearest(R)[0]))
            gamma = 1.0 / med if med > 0 else 1.0

        def dens(chunk: Any) -> np.ndarray:
            # two columns: the density and the nearest centre (its cluster)
            d2, j = nearest(_features(embed, chunk))
            return np.column_stack([np.exp(-gamma * d2) * weight[j], j])

        return dens

    def _rbf_function(self, ctx: QueryContext) -> Callable[[Any], np.ndarray]:
        """The RBF density of a chunk of rows against a reference sample of the pool."""
        embed = ctx.embed
        R = self._reference_sample(ctx)
        n_ref = R.shape[0]
        r2 = np.einsum("ij,ij->i", R, R)
        gamma = self.gamma
        if gamma is None:
            D = np.maximum(r2[:, None] - 2.0 * R @ R.T + r2[None, :], 0.0)
            off = D[~np.eye(n_ref, dtype=bool)]
            med = float(np.median(off)) if off.size else 0.0
            gamma = 1.0 / med if med > 0 else 1.0

        def dens(chunk: Any) -> np.ndarray:
            Z = _dense(_features(embed, chunk))
            d2 = np.einsum("ij,ij->i", Z, Z)[:, None] - 2.0 * Z @ R.T + r2[None, :]
            return np.exp(-gamma * np.maximum(d2, 0.0)).mean(axis=1)

        return dens

    def density(self, ctx: QueryContext) -> np.ndarray:
        """Density of every pool row (cached per pool, embedding and settings)."""
        settings = (
            self.similarity,
            self.n_reference,
            self.gamma,
            self.n_clusters,
            self.n_neighbors if self.similarity == "graph" else None,
            ctx.embed,
            ctx.X.shape,
        )
        if self._cache is not None:
            ref, cached_settings, values, clusters = self._cache
            if isinstance(ref, str) and cached_settings == settings and ref == _pool_probe(ctx.X):
                ref = _weak(ctx.X)  # unpickled: the same pool, under its new identity
                self._cache = (ref, settings, values, clusters)
            if not isinstance(ref, str) and ref() is ctx.X and cached_settings == settings:
                return values
        clusters = None
        if self.similarity == "cosine":
            values = self._cosine(ctx)
        elif self.similarity == "graph":
            values = _graph_density(pool_graph(ctx, self.n_neighbors))
        elif self.similarity == "kmeans":
            both = ctx.map_chunks(self._kmeans_function(ctx), rows=np.arange(ctx.n_pool))
            values, clusters = both[:, 0].copy(), both[:, 1].astype(np.int64)
        else:
            values = ctx.map_chunks(self._rbf_function(ctx), rows=np.arange(ctx.n_pool))
        self._cache = (_weak(ctx.X), settings, values, clusters)
        return values

    def clusters(self, ctx: QueryContext) -> np.ndarray:
        """The k-means cluster of every pool row (``similarity="kmeans"`` only)."""
        if self.similarity != "kmeans":
            raise ValueError(f"clusters exist for similarity='kmeans', not {self.similarity!r}.")
        self.density(ctx)
        assert self._cache is not None
        return self._cache[3]

    def _coverage(self, ctx: QueryContext) -> tuple[np.ndarray, np.ndarray]:
        """Each candidate's cluster, and the labels every cluster already holds."""
        clusters = self.clusters(ctx)
        held = np.bincount(clusters[ctx.labelled], minlength=int(clusters.max()) + 1)
        return clusters[ctx.candidates], held.astype(float)

    # ------------------------------------------------------------------ scoring
    def score_chunk(self, model: Any, X_chunk: Any) -> np.ndarray:
        """Uncertainty of each row (the density factor is applied in :meth:`scores`)."""
        return UNCERTAINTY_FUNCTIONS[self.uncertainty](model.predict_proba(X_chunk))

    def scores(self, ctx: QueryContext) -> np.ndarray:
        """Uncertainty × density ** beta of every candidate.

        For ``"kmeans"`` the density is divided by ``1 + labels`` already held by
        the candidate's cluster (to the power ``beta``): a well-covered region is
        no longer representative of what the model has not seen.
        """
        u = super().scores(ctx)
        if self.beta == 0:
            return u
        s = u * self.density(ctx)[ctx.candidates] ** self.beta
        if self.similarity == "kmeans":
            cluster, held = self._coverage(ctx)
            s = s / (1.0 + held[cluster]) ** self.beta
        elif self.similarity == "graph":
            _, held = self._graph_coverage(ctx)
            s = s / (1.0 + held[ctx.candidates]) ** self.beta
        return s

    def _graph_coverage(self, ctx: QueryContext) -> tuple[sp.csr_matrix, np.ndarray]:
        """The graph's symmetric 0/1 adjacency, and the labels among each item's neighbours."""
        near = pool_graph(ctx, self.n_neighbors).affinity("connectivity")
        is_labelled = np.zeros(near.shape[0])
        is_labelled[ctx.labelled] = 1.0
        return near, near @ is_labelled

    def _select_graph_covering(self, ctx: QueryContext, n: int) -> np.ndarray:
        """One pick at a time; each pick counts as a label of its graph neighbours."""
        cand = ctx.candidates
        near, held = self._graph_coverage(ctx)
        base = np.full(near.shape[0], -np.inf)
        base[cand] = ScoringStrategy.scores(self, ctx) * self.density(ctx)[cand] ** self.beta
        picks = np.empty(n, dtype=np.int64)
        score = base / (1.0 + held) ** self.beta
        for t in range(n):
            best = int(np.argmax(score))  # the first maximum: the lowest pool index among ties
            picks[t] = best
            base[best] = score[best] = -np.inf
            nb = near.indices[near.indptr[best] : near.indptr[best + 1]]
            held[nb] += 1.0
            score[nb] = base[nb] / (1.0 + held[nb]) ** self.beta
        return picks

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        if self.beta == 0:  # plain uncertainty sampling: no density to compute
            u, model = UNCERTAINTY_FUNCTIONS[self.uncertainty], ctx.model
            return ctx.select_top(lambda c: u(model.predict_proba(c)), n)
        if self.similarity == "kmeans":
            return self._select_covering(ctx, n)
        if self.similarity == "graph":
            if hasattr(ctx.backend, "sum_rows"):
                raise ValueError(
                    "similarity='graph' needs the pool in memory to build its graph; on a "
                    "Dask pool use similarity='kmeans' or 'cosine'."
                )
            return self._select_graph_covering(ctx, n)
        if hasattr(ctx.backend, "sum_rows"):
            return self._select_distributed(ctx, n)
        s = self.scores(ctx)
        return ctx.candidates[top_k(s, n, ctx.candidates)]

    def _select_covering(self, ctx: QueryContext, n: int) -> np.ndarray:
        """One pick at a time; each pick counts as a label of its cluster.

        Every pick divides the scores of its cluster's candidates by
        ``((1 + c + 1) / (1 + c)) ** beta`` (``c``: that cluster's labels and
        picks so far), so a batch spreads over the dense, uncertain regions
        instead of crowding into one. Only a cluster's ``n`` best candidates can
        be picked, so the greedy runs on at most ``k × n`` of them. (On a Dask
        pool the scores and clusters of the candidates come back to the client:
        16 bytes per candidate, about 80 at the peak with the grouping sort.)
        """
        u = ScoringStrategy.scores(self, ctx)
        cand = ctx.candidates
        cluster, held = self._coverage(ctx)
        base = u * self.density(ctx)[cand] ** self.beta
        # each cluster's n best candidates (ties: lower pool index), in pool order
        order = np.lexsort((cand, -base, cluster))
        grouped = cluster[order]
        rank = np.arange(order.shape[0]) - np.searchsorted(grouped, grouped, side="left")
        short = np.sort(order[rank < n])
        b, c = base[short], cluster[short]
        picks = np.empty(n, dtype=np.int64)
        for t in range(n):
            s = b / (1.0 + held[c]) ** self.beta
            best = int(np.argmax(s))  # the first maximum: the lowest pool index among ties
            picks[t] = cand[short[best]]
            held[c[best]] += 1.0
            b[best] = -np.inf
        return picks

    def _select_distributed(self, ctx: QueryContext, n: int) -> np.ndarray:
        """The blocked form for a pool on a cluster: each block scores its own rows.

        ``cosine``: the mean of the normalised rows is summed block by block on
        the workers (one vector comes back), then every block scores
        uncertainty × density ** beta for its rows and returns its top ``n``.
        ``rbf``: only the reference sample travels to the client and back to the
        workers. (``kmeans`` selects with :meth:`_select_covering`.)
        """
        embed = ctx.embed
        if self.similarity == "cosine":
            m = ctx.backend.sum_rows(lambda c: normalize(_features(embed, c)), ctx.X) / ctx.n_pool
            dens = _cosine_density(embed, m)
        else:
            dens = self._rbf_function(ctx)
        u, model, beta = UNCERTAINTY_FUNCTIONS[self.uncertainty], ctx.model, self.beta
        return ctx.select_top(lambda c: u(model.predict_proba(c)) * dens(c) ** beta, n)

    def __repr__(self) -> str:
        return (
            f"InformationDensity(uncertainty={self.uncertainty!r}, beta={self.beta!r}, "
            f"similarity={self.similarity!r}, n_clusters={self.n_clusters!r}, "
            f"n_neighbors={self.n_neighbors!r})"
        )


def _graph_density(graph: Any) -> np.ndarray:
    """``exp(-gamma d̄²)``: ``d̄`` each item's mean distance to its graph neighbours.

    Examples
    --------
    >>> from activelab.graph import PoolGraph
    >>> d = _graph_density(PoolGraph(np.array([[0.0], [0.1], [0.2], [5.0]]), n_neighbors=2))
    >>> int(np.argmax(d)), bool(d[3] < d[0])
    (1, True)
    """
    d2 = graph.distances.mean(axis=1) ** 2
    med = float(np.median(d2))
    return np.exp(-d2 / med) if med > 0 else np.ones(graph.n)


def _features(embed: Callable[[Any], Any] | None, X_chunk: Any) -> Any:
    """The rows in the space similarities are measured in (sparse kept sparse)."""
    if embed is None:
        return (
            sp.csr_matrix(X_chunk, dtype=float)
            if sp.issparse(X_chunk)
            else np.asarray(X_chunk, dtype=float)
        )
    Z = embed(X_chunk)
    return Z.toarray() if sp.issparse(Z) else np.asarray(Z, dtype=float)


def _cosine_density(embed: Callable[[Any], Any] | None, m: np.ndarray) -> Callable[[Any], Any]:
    """``(1 + cos(x, m)) / 2`` of a chunk's rows, ``m`` the mean of the normalised pool rows."""

    def dens(chunk: Any) -> np.ndarray:
        cos = np.asarray(normalize(_features(embed, chunk)) @ m).ravel()
        return (1.0 + np.clip(cos, -1.0, 1.0)) / 2.0

    return dens


def _dense(Z: Any) -> np.ndarray:
    return Z.toarray() if sp.issparse(Z) else np.asarray(Z, dtype=float)


class _Strong:
    """A strong reference with the call interface of a weak one."""

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def __call__(self) -> Any:
        return self._obj


def _weak(X: Any) -> Any:
    """A weak reference to the pool (a strong one for objects that take no weak reference)."""
    try:
        return weakref.ref(X)
    except TypeError:  # pragma: no cover - objects without weak references
        return _Strong(X)


def _pool_probe(X: Any) -> str:
    """A cheap fingerprint of a pool: its shape and the hash of its first, middle and last rows.

    Examples
    --------
    >>> X = np.arange(12.0).reshape(4, 3)
    >>> _pool_probe(X) == _pool_probe(X.copy()), _pool_probe(X) == _pool_probe(X[::-1])
    (True, False)
    """
    if X is None:
        return "gone"
    import joblib

    n = X.shape[0]
    rows = np.unique([0, n // 2, n - 1]) if n else np.array([], dtype=int)
    return f"{tuple(X.shape)}:{joblib.hash(take_rows(X, rows))}"
