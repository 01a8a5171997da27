"""Random sampling: the baseline every other strategy must beat."""

from __future__ import annotations

import numpy as np

from activelab.strategies._base import QueryContext, Strategy

__all__ = ["RandomSampling"]


class RandomSampling(Strategy):
    """Query ``n`` candidates uniformly at random, without replacement.

    Needs no model, so it also serves as a cold start.

    Examples
    --------
    >>> ctx = QueryContext(X=np.zeros((10, 2)), candidates=np.arange(10),
    ...                    labelled=np.array([], int), y_labelled=np.array([]),
    ...                    rng=np.random.default_rng(0))
    >>> RandomSampling().select(ctx, 3).shape
    (3,)
    >>> RandomSampling().select_proba(ctx, 2)[1]   # 1/10, then 1/9 of the rest
    array([0.1       , 0.11111111])
    """

    name = "random"
    task = "any"
    supports_dask = True

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        return ctx.rng.choice(ctx.candidates, size=n, replace=False)

    def _select_proba(self, ctx: QueryContext, n: int) -> tuple[np.ndarray, np.ndarray]:
        m = ctx.candidates.shape[0]
        return self._select(ctx, n), 1.0 / (m - np.arange(n, dtype=float))
