"""Hindsight credit of each pick, and the arm probabilities it implies (``auto``'s reward).

No held-out labels and no extra fits. At every query the current model's predicted class of
every candidate is kept (one prediction pass over the candidates). Batch ``b`` was picked
under model ``M_b`` and taught before ``M_{b+1}``; the items whose predicted class changed
between the two are the batch's effect on the pool. Each such item is credited to the pick of
the batch nearest to it (the label that most plausibly moved it), with a sign: ``+1`` if the
change moved it to the class the newest model (or its label, when known) gives it, ``−1`` if
it moved it away. So a pick earns what it changed *and* what later labels confirmed, and the
arm that made it earns that for each of its picks: credit is per pick, so the arms can share
a batch.

Credits shrink as the learning curve flattens, so a pick's credit ``c`` (share of the pool) is
modelled as ``c = a + s · log(n_labelled) + θ_arm + ε`` with a Gaussian prior on the arm
offsets ``θ`` and the noise variance ``(m + 1) / N²`` of ``m`` credited items among ``N``; the
arm probabilities are the posterior probability that each arm has the largest offset
(Thompson sampling), times the prior, with a floor. The newest batch is never scored: the
newest model was fitted on it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from activelab.scoring import take_rows
from activelab.strategies._base import QueryContext, numeric_rows

__all__ = ["HindsightCredit"]

#: Monte-Carlo draws for the posterior probability that an arm is best.
_DRAWS = 2000


class HindsightCredit:
    """Per-pick hindsight credit and arm probabilities for a bandit over ``n_arms`` arms.

    Examples
    --------
    >>> book = HindsightCredit(3)
    >>> book.arm_probabilities(np.array([0.2, 0.4, 0.4]), np.random.default_rng(0)).tolist()
    [0.2, 0.4, 0.4]
    """

    def __init__(self, n_arms: int, floor: float = 0.1) -> None:
        self.n_arms = n_arms
        self.floor = floor
        self.preds: list[np.ndarray] = []  # class codes on the candidates of each query
        self.batches: list[tuple[np.ndarray, np.ndarray, int]] = []  # picks, arms, n_labelled
        # changed items, the pick that owns each, and which picks were taught
        self.moved: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._scale: np.ndarray | None = None
        self._credit = np.zeros(0)
        self._rows: tuple[np.ndarray, ...] | None = None

    # ---------------------------------------------------------------- data
    @staticmethod
    def _classes(ctx: QueryContext) -> np.ndarray:
        if ctx.classes is not None:
            return np.asarray(ctx.classes)
        return np.asarray(getattr(ctx.model, "classes_", np.unique(ctx.y_labelled)))

    @staticmethod
    def _codes(values: np.ndarray, classes: np.ndarray) -> np.ndarray:
        pos = np.clip(np.searchsorted(classes, values), 0, classes.shape[0] - 1)
        return np.where(classes[pos] == values, pos, -2)

    def _rows_of(self, ctx: QueryContext, rows: np.ndarray) -> np.ndarray:
        """Rows of the pool in the space distances are taken in (scaled features)."""
        chunk = take_rows(ctx.X, rows)  # a DataFrame pool by position, as any other
        Z = ctx.embedding(chunk) if ctx.embed is not None else numeric_rows(chunk)
        if sp.issparse(Z):
            return Z.toarray().astype(float)
        Z = np.asarray(Z, dtype=float)
        if ctx.embed is None:
            if self._scale is None:
                sd = np.asarray(numeric_rows(ctx.X), dtype=float).std(axis=0)
                self._scale = np.where(sd > 0, sd, 1.0)
            Z = Z / self._scale
        return Z

    def step(self, ctx: QueryContext) -> float | None:
        """Record the current model's predictions and rescore every batch; the mean credit."""
        classes = self._classes(ctx)
        model = ctx.model
        pred = np.asarray(ctx.map_chunks(lambda Xc: model.predict(Xc)))
        codes = np.full(ctx.n_pool, -1, dtype=np.int32)
        codes[ctx.candidates] = self._codes(pred, classes)
        self.preds.append(codes)
        b = len(self.preds) - 2  # the batch between the last two models
        if b >= 0 and b < len(self.batches):
            self.moved.append(self._changed(ctx, b))
        return self._rescore(ctx, classes)

    def _changed(self, ctx: QueryContext, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The items batch ``b`` moved, each owned by its nearest pick that was taught.

        A pick left unlabelled (skipped, not yet answered) did not move the model: it owns
        no item and is not scored.
        """
        before, after = self.preds[b], self.preds[b + 1]
        items = np.flatnonzero((after >= 0) & (before != after))
        all_picks = self.batches[b][0]
        taught = np.isin(all_picks, ctx.labelled)
        if items.shape[0] == 0 or not taught.any():
            return items[:0], items[:0], taught
        picks = all_picks[taught]
        P = self._rows_of(ctx, picks)
        owner = np.empty(items.shape[0], dtype=np.int64)
        for start in range(0, items.shape[0], 4096):
            chunk = items[start : start + 4096]
            Z = self._rows_of(ctx, chunk)
            d2 = (Z**2).sum(1)[:, None] - 2.0 * Z @ P.T + (P**2).sum(1)[None, :]
            owner[start : start + chunk.shape[0]] = d2.argmin(axis=1)
        return items, np.flatnonzero(taught)[owner], taught

    def _rescore(self, ctx: QueryContext, classes: np.ndarray) -> float | None:
        truth = self.preds[-1].copy()
        truth[ctx.labelled] = self._codes(np.asarray(ctx.y_labelled), classes)
        n_scored = len(self.moved) - 1  # the newest batch is in the newest model
        if n_scored < 1:
            return None
        credit, count, arms, batch = [], [], [], []
        for b in range(n_scored):
            items, owner, taught = self.moved[b]
            picks, pick_arms, _ = self.batches[b]
            sign = (self.preds[b + 1][items] == truth[items]).astype(float) - (
                self.preds[b][items] == truth[items]
            )
            k = picks.shape[0]
            credit.append((np.bincount(owner, weights=sign, minlength=k) / ctx.n_pool)[taught])
            count.append(np.bincount(owner, minlength=k)[taught])
            arms.append(pick_arms[taught])
            batch.append(np.full(int(taught.sum()), b))
        c = np.concatenate(credit)
        if c.shape[0] == 0:  # no batch scored yet had a pick taught
            return None
        var = (np.concatenate(count) + 1.0) / float(ctx.n_pool) ** 2
        # batches numbered 0.. among those with a scored pick (the posterior groups by them)
        groups = np.unique(np.concatenate(batch), return_inverse=True)[1]
        self._rows = (c, var, np.concatenate(arms), groups)
        return float(c.mean())

    def add_batch(self, picks: np.ndarray, arms: np.ndarray, n_labelled: int) -> None:
        """Remember a batch: its picks, the arm behind each pick, the labels before it."""
        self.batches.append((np.asarray(picks).copy(), np.asarray(arms).copy(), n_labelled))

    # --------------------------------------------------------------- model
    def posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and covariance of the arm offsets ``θ``.

        Arms are compared within batches: every batch has an offset of its own (the learning
        curve's slope at that point), removed by centring each batch's credits and arm
        indicators on their weighted means; the noise scale is estimated from the residuals,
        so that picks that vary more than counting noise says are not over-trusted.
        """
        K = self.n_arms
        if self._rows is None:
            return np.zeros(K), np.eye(K)
        c, var, arms, batch = self._rows
        w = 1.0 / var
        D = np.zeros((c.shape[0], K))
        D[np.arange(c.shape[0]), arms] = 1.0
        sw = np.bincount(batch, weights=w)
        c_mean = np.bincount(batch, weights=w * c) / sw
        D_mean = np.stack([np.bincount(batch, weights=w * D[:, k]) / sw for k in range(K)], 1)
        cc = c - c_mean[batch]
        Dc = D - D_mean[batch]
        scale = float(np.sqrt(np.average(cc**2, weights=w))) + 1e-9
        A = Dc.T @ (Dc * w[:, None]) + np.eye(K) / scale**2
        cov = np.linalg.inv(A)
        mean = cov @ (Dc.T @ (w * cc))
        dof = max(c.shape[0] - sw.shape[0] - K, 1)
        s2 = max(float(np.sum(w * (cc - Dc @ mean) ** 2)) / dof, 1.0)
        return mean, cov * s2

    def arm_probabilities(self, prior: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Posterior probability that each arm is best, times ``prior``, with a floor."""
        prior = prior / prior.sum()
        if self._rows is None:
            return prior
        mean, cov = self.posterior()
        seed = int(rng.integers(2**31 - 1))
        draws = np.random.default_rng(seed).multivariate_normal(mean, cov, size=_DRAWS)
        best = np.bincount(draws.argmax(axis=1), minlength=self.n_arms) + 1.0
        pi = prior * best
        return (1.0 - self.floor) * pi / pi.sum() + self.floor * prior
