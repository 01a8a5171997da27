"""Stream query strategies: decide at once, item by item, whether to ask for a label.

The strategies of Žliobaitė, Bifet, Pfahringer and Holmes, "Active learning
with drifting streaming data", IEEE TNNLS 25(1), 2014:

======================  =============================================================
``random``              query each item with probability ``B`` (the budget).
``fixed-uncertainty``   query when the confidence is under a fixed threshold ``θ``.
``vu``                  variable uncertainty: ``θ`` starts at 1; after a query it is
                        lowered (``θ ← θ(1 − s)``), otherwise raised
                        (``θ ← θ(1 + s)``), so the queries follow the budget while
                        still going to the least confident items.
``rvu``                 randomised variable uncertainty: as ``vu``, but the item is
                        compared with ``θ·η``, ``η ~ N(1, δ)``, so that now and then
                        a confident item is queried too: labels away from the
                        decision boundary, where a drift may hide.
``split``               a share ``v`` of the items is decided by ``random``, the rest
                        by ``vu``: exploration labels spread over the whole space.
======================  =============================================================

The confidence of an item is ``1 − utility``, with the utility computed by the
row functions of :mod:`activelab.strategies.uncertainty` (``margin`` by default:
confidence ``p(1) − p(2)``; ``least_confident``: confidence ``max p``, the
paper's). A strategy is asked only while the budget manager allows a query; as
in the paper, its threshold changes only on those items.

Decisions depend on the previous ones (the threshold moves after each item), so
a batch is decided in one tight loop over its items, on numbers drawn for the
whole batch at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from activelab.stream.budget import BudgetManager

__all__ = [
    "FixedUncertainty",
    "RandomBudget",
    "RandomizedVariableUncertainty",
    "Split",
    "StreamStrategy",
    "VariableUncertainty",
    "available_stream_strategies",
    "get_stream_strategy",
]


class StreamStrategy(ABC):
    """Decides, item by item, whether an arriving item is worth a label.

    Subclasses implement :meth:`_draws` (the random numbers one batch needs,
    drawn at once) and :meth:`_want` (the decision on one item, given that the
    budget allows a query; it may update the strategy's state).
    """

    name: ClassVar[str] = ""
    #: True when the decision does not look at the model's confidence.
    model_free: ClassVar[bool] = False

    def decide(
        self,
        confidence: np.ndarray | None,
        budget: BudgetManager,
        rng: np.random.Generator,
        *,
        n: int | None = None,
    ) -> np.ndarray:
        """Decide on a batch of items, in order, under ``budget``.

        Parameters
        ----------
        confidence : ndarray of shape (n,) or None
            The model's confidence in each item (``1 - utility``). ``None``
            when there is no model yet: every item is then queried while the
            budget allows (cold start).
        budget : BudgetManager
            Asked before and told after each item.
        rng : numpy.random.Generator
            The only source of randomness.
        n : int, optional
            The number of items when ``confidence`` is None.

        Returns
        -------
        ndarray of bool, shape (n,)
        """
        if confidence is None:
            if n is None:
                raise ValueError("Give the number of items n when there is no confidence.")
            return _greedy(budget, n)
        conf = np.asarray(confidence, dtype=float).tolist()
        n = len(conf)
        draws = self._draws(n, budget.budget, rng)
        out = bytearray(n)
        allows, record, want = budget.allows, budget.record, self._want
        for i in range(n):
            q = allows() and want(conf[i], *[d[i] for d in draws])
            record(q)
            out[i] = q
        return np.frombuffer(bytes(out), dtype=np.bool_).copy()

    def _draws(self, n: int, budget: float, rng: np.random.Generator) -> tuple[list[float], ...]:
        return ()

    @abstractmethod
    def _want(self, confidence: float, *draws: float) -> bool:
        """Whether to query one item whose query the budget allows."""

    def state(self) -> dict[str, Any]:
        """The strategy's adaptive state (for reports)."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _greedy(budget: BudgetManager, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    for i in range(n):
        q = budget.allows()
        budget.record(q)
        out[i] = q
    return out


def _check_share(name: str, value: float, *, open_low: bool = True) -> float:
    v = float(value)
    if not (0.0 < v <= 1.0 if open_low else 0.0 <= v <= 1.0):
        raise ValueError(f"{name} must be in (0, 1], got {value!r}.")
    return v


class RandomBudget(StreamStrategy):
    """Query each item with probability equal to the budget (the baseline).

    A draw that the budget manager blocks (the window already spent) is carried
    over to the next item the manager allows, so the realised spend meets the
    budget instead of falling short of it by the blocked draws; the queried
    items are still a uniform random share of the stream.

    Examples
    --------
    >>> from activelab.stream.budget import WindowBudget
    >>> b = WindowBudget(0.2, window=100)
    >>> q = RandomBudget().decide(np.full(5000, 0.9), b, np.random.default_rng(0))
    >>> bool(0.19 <= q.mean() <= 0.2)
    True
    """

    name = "random"
    model_free = True

    def __init__(self) -> None:
        self.pending_ = 0

    def decide(
        self,
        confidence: np.ndarray | None,
        budget: BudgetManager,
        rng: np.random.Generator,
        *,
        n: int | None = None,
    ) -> np.ndarray:
        if confidence is None:
            return super().decide(None, budget, rng, n=n)
        n = len(confidence)
        draws = (rng.random(n) < budget.budget).tolist()
        out = bytearray(n)
        pending = self.pending_
        allows, record = budget.allows, budget.record
        for i in range(n):
            pending += draws[i]
            q = pending > 0 and allows()
            if q:
                pending -= 1
            record(q)
            out[i] = q
        self.pending_ = pending
        return np.frombuffer(bytes(out), dtype=np.bool_).copy()

    def _want(self, confidence: float, *draws: float) -> bool:  # pragma: no cover - unused
        return True

    def state(self) -> dict[str, Any]:
        return {"pending": self.pending_}


class FixedUncertainty(StreamStrategy):
    """Query when the confidence is under a fixed threshold.

    Parameters
    ----------
    threshold : float, default=0.5
        Query items whose confidence is below it (with the default ``margin``
        utility: whose two most likely classes are less than 0.5 apart).

    Examples
    --------
    >>> from activelab.stream.budget import WindowBudget
    >>> s = FixedUncertainty(threshold=0.3)
    >>> s.decide(np.array([0.9, 0.1, 0.5, 0.2]), WindowBudget(1.0), np.random.default_rng(0))
    array([False,  True, False,  True])
    """

    name = "fixed-uncertainty"

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = _check_share("threshold", threshold)

    def _want(self, confidence: float, *draws: float) -> bool:
        return confidence < self.threshold

    def state(self) -> dict[str, Any]:
        return {"threshold": self.threshold}

    def __repr__(self) -> str:
        return f"FixedUncertainty(threshold={self.threshold})"


class VariableUncertainty(StreamStrategy):
    """A threshold on the confidence that follows the budget.

    Parameters
    ----------
    step : float, default=0.01
        ``s``: the threshold is multiplied by ``1 - s`` after a query and by
        ``1 + s`` after an item let pass.
    threshold : float, default=1.0
        The starting threshold.

    Examples
    --------
    >>> from activelab.stream.budget import WindowBudget
    >>> s = VariableUncertainty(step=0.5)
    >>> s.decide(np.array([0.9, 0.9, 0.6, 0.1]), WindowBudget(1.0), np.random.default_rng(0))
    array([ True, False,  True,  True])
    >>> s.threshold
    0.1875
    """

    name = "vu"

    def __init__(self, step: float = 0.01, threshold: float = 1.0) -> None:
        self.step = _check_share("step", step)
        if self.step >= 1.0:
            raise ValueError(f"step must be below 1, got {step!r}.")
        self.threshold = float(threshold)
        if self.threshold <= 0:
            raise ValueError(f"threshold must be positive, got {threshold!r}.")

    def _want(self, confidence: float, *draws: float) -> bool:
        if confidence < self.threshold:
            self.threshold *= 1.0 - self.step
            return True
        self.threshold *= 1.0 + self.step
        return False

    def state(self) -> dict[str, Any]:
        return {"threshold": self.threshold}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(step={self.step})"


class RandomizedVariableUncertainty(VariableUncertainty):
    """Variable uncertainty against a randomised threshold ``θ·η``, ``η ~ N(1, δ)``.

    Parameters
    ----------
    step : float, default=0.01
        ``s``, as in :class:`VariableUncertainty`.
    delta : float, default=1.0
        ``δ``, the standard deviation of the random factor (the paper's 1).
    threshold : float, default=1.0
        The starting threshold.

    Examples
    --------
    >>> from activelab.stream.budget import WindowBudget
    >>> s = RandomizedVariableUncertainty()
    >>> rng = np.random.default_rng(0)
    >>> q = s.decide(np.random.default_rng(1).random(2000), WindowBudget(0.1, 500), rng)
    >>> bool(0.09 <= q.mean() <= 0.1)
    True
    """

    name = "rvu"

    def __init__(self, step: float = 0.01, delta: float = 1.0, threshold: float = 1.0) -> None:
        super().__init__(step, threshold)
        if not delta >= 0:
            raise ValueError(f"delta must be non-negative, got {delta!r}.")
        self.delta = float(delta)

    def _draws(self, n: int, budget: float, rng: np.random.Generator) -> tuple[list[float], ...]:
        return (rng.normal(1.0, self.delta, n).tolist(),)

    def _want(self, confidence: float, *draws: float) -> bool:
        if confidence < self.threshold * draws[0]:
            self.threshold *= 1.0 - self.step
            return True
        self.threshold *= 1.0 + self.step
        return False

    def __repr__(self) -> str:
        return f"RandomizedVariableUncertainty(step={self.step}, delta={self.delta})"


class Split(VariableUncertainty):
    """A share of the items decided at random (exploration), the rest by variable uncertainty.

    Parameters
    ----------
    share : float, default=0.2
        ``v``: the share of items handed to random-under-budget.
    step : float, default=0.01
        ``s`` of the variable-uncertainty part.

    Examples
    --------
    >>> from activelab.stream.budget import WindowBudget
    >>> s = Split(share=0.5)
    >>> q = s.decide(np.full(4000, 0.99), WindowBudget(0.1, 1000), np.random.default_rng(0))
    >>> bool(0 < s.n_explore_ <= q.sum())
    True
    """

    name = "split"

    def __init__(self, share: float = 0.2, step: float = 0.01, threshold: float = 1.0) -> None:
        super().__init__(step, threshold)
        self.share = _check_share("share", share, open_low=False)
        self.n_explore_ = 0

    def _draws(self, n: int, budget: float, rng: np.random.Generator) -> tuple[list[float], ...]:
        u = rng.random((2, n))
        explore = u[0] < self.share
        # 1 = explore and query, 0 = explore and pass, -1 = variable uncertainty decides
        code = np.where(explore, (u[1] < budget).astype(np.int8), np.int8(-1))
        return (code.tolist(),)

    def _want(self, confidence: float, *draws: float) -> bool:
        code = draws[0]
        if code < 0:
            return super()._want(confidence)
        if code:
            self.n_explore_ += 1
            return True
        return False

    def state(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "n_explore": self.n_explore_}

    def __repr__(self) -> str:
        return f"Split(share={self.share}, step={self.step})"


_STRATEGIES: dict[str, type[StreamStrategy]] = {
    cls.name: cls
    for cls in (
        RandomBudget,
        FixedUncertainty,
        VariableUncertainty,
        RandomizedVariableUncertainty,
        Split,
    )
}
_ALIASES = {
    "random-budget": "random",
    "fixed": "fixed-uncertainty",
    "variable-uncertainty": "vu",
    "randomized-variable-uncertainty": "rvu",
    "randomised-variable-uncertainty": "rvu",
}


def available_stream_strategies() -> list[str]:
    """The names of the stream strategies.

    Examples
    --------
    >>> available_stream_strategies()
    ['fixed-uncertainty', 'random', 'rvu', 'split', 'vu']
    """
    return sorted(_STRATEGIES)


def get_stream_strategy(strategy: str | StreamStrategy, **params: Any) -> StreamStrategy:
    """A stream strategy by name (with its parameters), or an instance as is.

    Examples
    --------
    >>> get_stream_strategy("split", share=0.3)
    Split(share=0.3, step=0.01)
    """
    if isinstance(strategy, StreamStrategy):
        if params:
            raise ValueError("Parameters can only be given with a strategy name.")
        return strategy
    key = _ALIASES.get(str(strategy).lower(), str(strategy).lower())
    if key not in _STRATEGIES:
        raise ValueError(
            f"Unknown stream strategy {strategy!r}; choose one of {available_stream_strategies()}."
        )
    try:
        return _STRATEGIES[key](**params)
    except TypeError as exc:
        raise ValueError(f"Bad parameters for stream strategy {key!r}: {exc}") from None
