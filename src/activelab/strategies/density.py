"""Information density: uncertainty weighted by how representative a candidate is.

Settles & Craven (2008) weight an uncertainty score by the candidate's average
similarity to the pool, so that outliers, however uncertain, do not win:

``score(x) = uncertainty(x) × density(x) ** beta``

Both similarities are computed in bounded memory, never as an n × n matrix:

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

The densities of the whole pool are computed once per pool (and embedding) and
cached on the strategy; the mean runs over the whole pool, labelled rows
included, so the cache stays valid as labels arrive.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from activelab.strategies._base import PREDICT_PROBA, QueryContext, ScoringStrategy, top_k
from activelab.strategies.uncertainty import entropy, least_confident, margin

__all__ = ["UNCERTAINTY_FUNCTIONS", "InformationDensity"]

#: Uncertainty row functions information density can weight, by name.
UNCERTAINTY_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "entropy": entropy,
    "margin": margin,
    "least_confident": least_confident,
}
SIMILARITIES = ("cosine", "rbf")


class InformationDensity(ScoringStrategy):
    """Uncertainty × (mean similarity to the pool) ** ``beta`` (Settles & Craven 2008).

    Parameters
    ----------
    uncertainty : {"entropy", "margin", "least_confident"}, default="entropy"
        The uncertainty row function (from :mod:`activelab.strategies.uncertainty`).
    beta : float, default=1.0
        Weight of the density term; 0 gives plain uncertainty sampling.
    similarity : {"cosine", "rbf"}, default="cosine"
        ``"cosine"`` is exact in O(pool × features); ``"rbf"`` estimates the mean
        similarity against a random reference sample (see the module notes).
    n_reference : int, default=1000
        Reference sample size for ``"rbf"``.
    gamma : float, optional
        RBF kernel width; by default ``1 / median squared distance`` in the sample.

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
    array([2])
    >>> InformationDensity(similarity="rbf").select(ctx, 1)   # nearest the pool's centre
    array([4])
    """

    name = "density"
    requires: ClassVar[tuple[Any, ...]] = (PREDICT_PROBA,)

    def __init__(
        self,
        uncertainty: str = "entropy",
        beta: float = 1.0,
        similarity: str = "cosine",
        n_reference: int = 1000,
        gamma: float | None = None,
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
        self.uncertainty = uncertainty
        self.beta = beta
        self.similarity = similarity
        self.n_reference = int(n_reference)
        self.gamma = gamma
        self._cache: tuple[Any, ...] | None = None

    # ------------------------------------------------------------------ density
    @staticmethod
    def _features(ctx: QueryContext, X_chunk: Any) -> Any:
        if ctx.embed is None and sp.issparse(X_chunk):
            return sp.csr_matrix(X_chunk, dtype=float)
        return ctx.embedding(X_chunk)

    def _cosine(self, ctx: QueryContext) -> np.ndarray:
        rows = np.arange(ctx.n_pool)
        total: np.ndarray | None = None
        for _, chunk in ctx.iter_rows(rows):
            Z = normalize(self._features(ctx, chunk))
            part = np.asarray(Z.sum(axis=0)).ravel()
            total = part if total is None else total + part
        assert total is not None
        m = total / ctx.n_pool
        cos = ctx.map_chunks(
            lambda c: np.asarray(normalize(self._features(ctx, c)) @ m).ravel(), rows=rows
        )
        return (1.0 + np.clip(cos, -1.0, 1.0)) / 2.0

    def _rbf(self, ctx: QueryContext) -> np.ndarray:
        n_ref = min(self.n_reference, ctx.n_pool)
        ref_rows = np.sort(ctx.rng.choice(ctx.n_pool, size=n_ref, replace=False))
        R = ctx.map_chunks(lambda c: _dense(self._features(ctx, c)), rows=ref_rows)
        r2 = np.einsum("ij,ij->i", R, R)
        gamma = self.gamma
        if gamma is None:
            D = np.maximum(r2[:, None] - 2.0 * R @ R.T + r2[None, :], 0.0)
            off = D[~np.eye(n_ref, dtype=bool)]
            med = float(np.median(off)) if off.size else 0.0
            gamma = 1.0 / med if med > 0 else 1.0

        def dens(chunk: Any) -> np.ndarray:
            Z = _dense(self._features(ctx, chunk))
            d2 = np.einsum("ij,ij->i", Z, Z)[:, None] - 2.0 * Z @ R.T + r2[None, :]
            return np.exp(-gamma * np.maximum(d2, 0.0)).mean(axis=1)

        return ctx.map_chunks(dens, rows=np.arange(ctx.n_pool))

    def density(self, ctx: QueryContext) -> np.ndarray:
        """Density of every pool row (cached per pool, embedding and settings)."""
        settings = (self.similarity, self.n_reference, self.gamma, ctx.embed, ctx.X.shape)
        if self._cache is not None:
            ref, cached_settings, values = self._cache
            if ref() is ctx.X and cached_settings == settings:
                return values
        values = self._cosine(ctx) if self.similarity == "cosine" else self._rbf(ctx)
        try:
            ref = weakref.ref(ctx.X)
        except TypeError:  # pragma: no cover - objects without weak references
            ref = _Strong(ctx.X)
        self._cache = (ref, settings, values)
        return values

    # ------------------------------------------------------------------ scoring
    def score_chunk(self, model: Any, X_chunk: Any) -> np.ndarray:
        """Uncertainty of each row (the density factor is applied in :meth:`scores`)."""
        return UNCERTAINTY_FUNCTIONS[self.uncertainty](model.predict_proba(X_chunk))

    def scores(self, ctx: QueryContext) -> np.ndarray:
        """Uncertainty × density ** beta of every candidate."""
        u = super().scores(ctx)
        if self.beta == 0:
            return u
        return u * self.density(ctx)[ctx.candidates] ** self.beta

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        s = self.scores(ctx)
        return ctx.candidates[top_k(s, n, ctx.candidates)]

    def __repr__(self) -> str:
        return (
            f"InformationDensity(uncertainty={self.uncertainty!r}, beta={self.beta!r}, "
            f"similarity={self.similarity!r})"
        )


def _dense(Z: Any) -> np.ndarray:
    return Z.toarray() if sp.issparse(Z) else np.asarray(Z, dtype=float)


class _Strong:
    """A strong reference with the call interface of a weak one."""

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def __call__(self) -> Any:
        return self._obj
