"""Stochastic acquisition and exploration mixing around any strategy.

:class:`Stochastic` samples candidates without replacement with probability
proportional to a transform of a scoring strategy's scores (softmax with a
temperature, or a power), as in the stochastic acquisition of Farquhar et al.
(2021) and Kirsch et al. (2023). :class:`Explore` mixes a share of uniform random
picks into any strategy (a fixed share or a schedule over the number of labels).

Both record, for each pick, the probability with which it was drawn from the
candidates still remaining at that moment, so that
:mod:`activelab.weighting` can correct the selection bias.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from activelab.strategies._base import QueryContext, ScoringStrategy, Strategy

__all__ = ["Explore", "Stochastic", "sequential_probabilities"]


def sequential_probabilities(weights: np.ndarray, picked: np.ndarray) -> np.ndarray:
    """Per-pick probabilities of drawing ``picked`` in order, without replacement.

    ``weights`` are the (unnormalised) weights of all candidates, ``picked``
    positions into them. The ``j``-th probability is the picked weight over the
    weight still remaining after the first ``j - 1`` picks.

    Examples
    --------
    >>> sequential_probabilities(np.array([1.0, 2.0, 1.0]), np.array([1, 0]))
    array([0.5, 0.5])
    """
    w = np.asarray(weights, dtype=float)
    taken = w[picked]
    before = np.concatenate([[0.0], np.cumsum(taken)[:-1]])
    return taken / (w.sum() - before)


class Stochastic(Strategy):
    """Sample candidates proportionally to a transform of a base strategy's scores.

    Parameters
    ----------
    base : str or ScoringStrategy, default="margin"
        A strategy that scores every candidate (uncertainty strategies do).
    temperature : float, optional
        Softmax temperature on the standardised scores: weight
        ``exp(z / temperature)`` with ``z = (s - max s) / std(s)``. Small values
        approach the base strategy's top-n; large values approach random.
        Default ``0.5`` when ``power`` is not given.
    power : float, optional
        Instead of a softmax, weight ``(s - min s + eps)^power`` (power
        acquisition). Give ``temperature`` or ``power``, not both.
    uniform : float, default=0.1
        Share of the probability spread uniformly over the candidates
        (defensive importance sampling): it bounds every importance weight by
        about ``1 / uniform``, which keeps unbiased estimates usable. ``0``
        samples from the transformed scores alone.

    Notes
    -----
    Sampling without replacement uses the Gumbel-top-k trick (one pass over the
    candidates), which draws exactly as sequential sampling does. Every
    candidate keeps a positive probability, which the unbiased estimates of
    :mod:`activelab.weighting` need.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from activelab import ActiveLearner
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> learner = ActiveLearner(LogisticRegression(max_iter=500), Stochastic("entropy"),
    ...                         random_state=0).fit(X, [0, 50, 100], y[[0, 50, 100]])
    >>> idx = learner.query(3)
    >>> p = learner.history_[-1].probabilities
    >>> bool(((p > 0) & (p <= 1)).all())
    True
    """

    name = "stochastic"
    task = "classification"

    def __init__(
        self,
        base: str | Strategy = "margin",
        *,
        temperature: float | None = None,
        power: float | None = None,
        uniform: float = 0.1,
    ) -> None:
        from activelab.strategies._registry import get_strategy

        if temperature is not None and power is not None:
            raise ValueError("Give either temperature or power, not both.")
        if power is None and temperature is None:
            temperature = 0.5
        for label, value in (("temperature", temperature), ("power", power)):
            if value is not None and not value > 0:
                raise ValueError(f"{label} must be > 0, got {value!r}.")
        self.base = get_strategy(base)
        if not isinstance(self.base, ScoringStrategy):
            raise TypeError(
                f"Stochastic needs a strategy that scores each candidate (a ScoringStrategy "
                f"such as 'margin' or 'entropy'); {self.base.name!r} does not. Wrap it in "
                "Explore(...) instead to get recorded probabilities."
            )
        if not 0.0 <= uniform <= 1.0:
            raise ValueError(f"uniform must be in [0, 1], got {uniform!r}.")
        self.temperature = temperature
        self.power = power
        self.uniform = float(uniform)
        self.requires = self.base.requires
        self.task = self.base.task

    def weights(self, scores: np.ndarray) -> np.ndarray:
        """Sampling weights of candidates with these scores (all > 0, summing to 1)."""
        s = np.asarray(scores, dtype=float)
        if self.power is not None:
            w = (s - s.min() + 1e-12) ** self.power
        else:
            scale = float(s.std()) or 1.0
            w = np.exp((s - s.max()) / (scale * self.temperature))
        w = w / w.sum()
        return (1.0 - self.uniform) * w + self.uniform / w.shape[0] + 1e-300

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        return self._select_proba(ctx, n)[0]

    def _select_proba(self, ctx: QueryContext, n: int) -> tuple[np.ndarray, np.ndarray]:
        assert isinstance(self.base, ScoringStrategy)
        w = self.weights(self.base.scores(ctx))
        keys = np.log(w) + ctx.rng.gumbel(size=w.shape[0])
        order = np.argsort(-keys, kind="stable")[:n]
        return ctx.candidates[order], sequential_probabilities(w, order)


class Explore(Strategy):
    """Mix a share of uniform random picks into any strategy.

    Each pick is, with probability ``share``, drawn uniformly from the
    remaining candidates, and otherwise the base strategy's next item (its
    ranked batch, skipping items already taken). The probability of each pick,
    ``share / remaining + (1 - share) * [pick is the base's next item]``, is
    recorded, so even a deterministic base gives unbiased estimates.

    Parameters
    ----------
    base : str or Strategy, default="margin"
        The strategy to explore around; treated as a ranking (wrap a
        deterministic strategy).
    share : float, default=0.1
        Probability that a pick is random, in ``[0, 1]``.
    schedule : callable, optional
        ``schedule(n_labelled) -> share``, overriding ``share``; e.g.
        :meth:`decay`.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from activelab import ActiveLearner
    >>> X, y = load_iris(return_X_y=True)
    >>> learner = ActiveLearner(LogisticRegression(max_iter=500), Explore("margin", share=0.2),
    ...                         random_state=0).fit(X, [0, 50, 100], y[[0, 50, 100]])
    >>> learner.query(4).shape
    (4,)
    >>> Explore.decay(0.5, half_life=100)(100)
    0.25
    """

    name = "explore"
    task = "any"

    def __init__(
        self,
        base: str | Strategy = "margin",
        share: float = 0.1,
        *,
        schedule: Callable[[int], float] | None = None,
    ) -> None:
        from activelab.strategies._registry import get_strategy

        if not 0.0 <= share <= 1.0:
            raise ValueError(f"share must be in [0, 1], got {share!r}.")
        self.base = get_strategy(base)
        self.share = float(share)
        self.schedule = schedule
        self.requires = self.base.requires
        self.task = self.base.task
        self.last_arms_: tuple[str, ...] | None = None

    @staticmethod
    def decay(start: float = 0.5, *, half_life: float = 100.0) -> Callable[[int], float]:
        """A share that halves every ``half_life`` labels: ``start * 2**(-n / half_life)``."""
        if not 0 <= start <= 1 or half_life <= 0:
            raise ValueError("decay needs 0 <= start <= 1 and half_life > 0.")
        return lambda n_labelled: float(start * 2.0 ** (-n_labelled / half_life))

    def current_share(self, n_labelled: int) -> float:
        """The share of random picks at this number of labels."""
        if self.schedule is None:
            return self.share
        s = float(self.schedule(int(n_labelled)))
        if not 0.0 <= s <= 1.0:
            raise ValueError(f"schedule({n_labelled}) returned {s!r}; a share must be in [0, 1].")
        return s

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        return self._select_proba(ctx, n)[0]

    def _select_proba(self, ctx: QueryContext, n: int) -> tuple[np.ndarray, np.ndarray]:
        share = self.current_share(ctx.labelled.shape[0])
        explore = ctx.rng.random(n) < share
        ranked = self.base.select(ctx, n)
        m = ctx.candidates.shape[0]
        ranked_pos = np.searchsorted(ctx.candidates, np.asarray(ranked, dtype=np.int64))
        taken = np.zeros(m, dtype=bool)
        taken_sorted = np.empty(0, dtype=np.int64)  # the positions taken so far, in order
        picks = np.empty(n, dtype=np.int64)
        proba = np.empty(n)
        arms: list[str] = []
        head = 0  # the base's next item: the first of its ranking not yet taken
        for j in range(n):  # a loop over the batch; each step is O(batch), not O(pool)
            while taken[ranked_pos[head]]:
                head += 1
            nxt = int(ranked_pos[head])
            if explore[j]:
                pos = _nth_free(taken_sorted, int(ctx.rng.integers(m - j)))
                arms.append("random")
            else:
                pos = nxt
                arms.append(self.base.name)
            taken[pos] = True
            taken_sorted = np.insert(taken_sorted, np.searchsorted(taken_sorted, pos), pos)
            picks[j] = ctx.candidates[pos]
            proba[j] = share / (m - j) + (1.0 - share) * float(pos == nxt)
        self.last_arms_ = tuple(arms)
        return picks, proba


def _nth_free(taken_sorted: np.ndarray, k: int) -> int:
    """The position of the ``k``-th (from 0) position not in ``taken_sorted`` (sorted).

    Before the ``i``-th taken position lie ``taken_sorted[i] - i`` free ones, so the
    ``k``-th free one is ``k`` plus the number of taken positions with at most ``k``
    free ones before them. The same as ``np.flatnonzero(~taken)[k]``, without the
    pass over the pool.

    Examples
    --------
    >>> _nth_free(np.array([0, 1, 4]), 0), _nth_free(np.array([0, 1, 4]), 2)
    (2, 5)
    """
    return k + int(np.searchsorted(taken_sorted - np.arange(taken_sorted.shape[0]), k, "right"))
