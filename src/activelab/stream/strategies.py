"""Stream query strategies: decide at once, item by item, whether to ask for a label.

The strategies of Žliobaitė, Bifet, Pfahringer and Holmes, "Active learning
with drifting streaming data", IEEE TNNLS 25(1), 2014:

======================  =============================================================
``random``              query each item with probability ``B`` (the budget).
``fixed-uncertainty``   query when the confidence is under a fixed threshold ``θ``.
``vu``                  variable uncertainty: query when the confidence is under a
                        threshold ``θ`` that follows the budget, so the queries go to
                        the least confident items while their share meets ``B``.
``rvu``                 randomised variable uncertainty: as ``vu``, but the item is
                        compared with ``θ·η``, ``η ~ N(1, δ)``, so that now and then
                        a confident item is queried too: labels away from the
                        decision boundary, where a drift may hide.
``split``               a share ``v`` of the items is decided by ``random``, the rest
                        by ``vu``: exploration labels spread over the whole space.
======================  =============================================================

How ``θ`` follows the budget (``rule=``):

``"quantile"`` (the default)
    ``θ`` is the ``B``-quantile of the (randomised) confidences of the last
    ``memory`` items, this batch included, so that about a share ``B`` of the
    items falls under it, whatever the scale of the model's confidences (an
    overconfident model, a model that grows surer as it learns). Labels owed
    to the budget raise the quantile's level by ``owed / memory``, so a
    shortfall is made up over the next ``memory`` items. They are counted
    against what the budget manager can deliver (its ``attainable`` spend:
    ``B``, or a little under it when whole queries cannot meet ``B``) and
    capped at ``B·memory``, so the level stays within ``2B``: a shortfall the
    manager never makes up (bursts it blocks, an estimate approaching ``B``
    from below) does not add up over the stream until every item the manager
    allows is queried. The budget manager then only caps bursts. The randomised
    comparison ``c < θ·η`` is the same as ``c/η < θ`` (``η > 0``; never when
    ``η ≤ 0``), so ``rvu`` takes the quantile of ``c/η``.
``"steps"`` (the paper's rule)
    ``θ`` starts at 1; while the budget allows a query it is lowered after a
    query (``θ ← θ(1 − s)``) and raised otherwise (``θ ← θ(1 + s)``). The
    symmetric steps settle where half of the items the budget lets through
    are queried, so the budget manager, not the threshold, sets the pace;
    and from 1, with ``s = 0.01``, ``θ`` needs some 300 queries to reach the
    confidences of a good model. On short streams and low budgets the
    queries are then close to periodic (see ``benchmarks/README.md``).

The confidence of an item is ``1 − utility``, with the utility computed by the
row functions of :mod:`activelab.strategies.uncertainty` (``margin`` by default:
confidence ``p(1) − p(2)``; ``least_confident``: confidence ``max p``, the
paper's). A strategy is asked only while the budget manager allows a query.

Decisions depend on the previous ones (the budget, and with ``rule="steps"``
the threshold, move after each item), so a batch is decided in one tight loop
over its items, on numbers drawn for the whole batch at once.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from activelab._validation import check_count
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


class _Owed:
    """Labels owed to the budget, bounded by what the budget manager can deliver.

    Each item adds the manager's attainable spend (``B``, or a little under it
    when whole queries cannot meet ``B``), each query takes one label off, and
    the count stays within ``[0, cap]``: a shortfall the manager can never make
    up (a burst it blocks, a window where ``B·w`` is not whole, an estimate that
    approaches ``B`` from below) no longer adds up over the stream.
    """

    def __init__(self) -> None:
        self.value = 0.0
        self._seen = 0
        self._queried = 0

    def update(self, budget: BudgetManager, cap: float) -> float:
        """Bring the count up to the items the manager has seen, and return it."""
        seen, queried = budget.n_seen, budget.n_queried
        if seen < self._seen:  # another manager: count from its start
            self._seen = self._queried = 0
        owed = self.value + budget.attainable * (seen - self._seen) - (queried - self._queried)
        self.value = min(max(owed, 0.0), cap)
        self._seen, self._queried = seen, queried
        return self.value


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
    items are still a random share of the stream. The draws are made at the
    rate the manager can deliver (its ``attainable`` spend: ``B``, or a little
    under it when whole queries cannot meet ``B``), and at most ``B·m`` draws
    are carried (``m = max(100, ⌈20 / B⌉)``, the default memory of ``vu``): a
    backlog that grew without limit would have every item the manager allows
    queried, one after another.

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
        draws = (rng.random(n) < budget.attainable).tolist()
        cap = max(1, int(budget.budget * _default_memory(budget.budget) + 1e-9))
        out = bytearray(n)
        pending = min(self.pending_, cap)
        allows, record = budget.allows, budget.record
        for i in range(n):
            pending = min(pending + draws[i], cap)
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


_RULES = ("quantile", "steps")


def _default_memory(budget: float) -> int:
    # about 20 items under the budget quantile, and at least 100 items
    return max(100, math.ceil(20.0 / budget))


class VariableUncertainty(StreamStrategy):
    """A threshold on the confidence that follows the budget.

    Parameters
    ----------
    step : float, optional
        ``s`` of ``rule="steps"`` (default 0.01): the threshold is multiplied
        by ``1 - s`` after a query and by ``1 + s`` after an item let pass.
    threshold : float, optional
        The starting threshold of ``rule="steps"`` (default 1). Giving either
        with ``rule="quantile"`` is an error.
    rule : {"quantile", "steps"}, default="quantile"
        ``"quantile"``: the threshold is the budget quantile of the recent
        confidences (raised by the labels owed to the budget); ``"steps"``: the
        paper's multiplicative steps (see :mod:`activelab.stream.strategies`).
    memory : int, optional
        Items whose confidences the quantile is taken over (default
        ``max(100, ⌈20 / B⌉)``: about 20 items under the threshold).

    Examples
    --------
    >>> from activelab.stream.budget import WindowBudget
    >>> rng = np.random.default_rng(0)
    >>> conf = rng.random(5000)
    >>> q = VariableUncertainty().decide(conf, WindowBudget(0.1, 500), rng)
    >>> bool(0.09 <= q.mean() <= 0.1), bool(np.median(conf[q]) < 0.1)  # the least confident
    (True, True)
    >>> s = VariableUncertainty(step=0.5, rule="steps")
    >>> s.decide(np.array([0.9, 0.9, 0.6, 0.1]), WindowBudget(1.0), np.random.default_rng(0))
    array([ True, False,  True,  True])
    >>> s.threshold
    0.1875
    """

    name = "vu"

    def __init__(
        self,
        step: float | None = None,
        threshold: float | None = None,
        *,
        rule: str = "quantile",
        memory: int | None = None,
    ) -> None:
        if rule not in _RULES:
            raise ValueError(f"rule must be one of {list(_RULES)}, got {rule!r}.")
        self.rule = rule
        if rule == "quantile" and (step is not None or threshold is not None):
            raise ValueError(
                "step and threshold belong to the paper's rule: pass rule='steps' with them "
                f"(got step={step!r}, threshold={threshold!r}); the default rule='quantile' "
                "sets the threshold from the budget."
            )
        self.step = _check_share("step", 0.01 if step is None else step)
        if self.step >= 1.0:
            raise ValueError(f"step must be below 1, got {step!r}.")
        self.threshold = 1.0 if threshold is None else float(threshold)
        if self.threshold <= 0:
            raise ValueError(f"threshold must be positive, got {threshold!r}.")
        self.memory = None if memory is None else check_count(memory, "memory")
        self._recent = np.empty(0)
        self._owed = _Owed()

    def decide(
        self,
        confidence: np.ndarray | None,
        budget: BudgetManager,
        rng: np.random.Generator,
        *,
        n: int | None = None,
    ) -> np.ndarray:
        if confidence is None or self.rule == "steps":
            return super().decide(confidence, budget, rng, n=n)
        conf = np.asarray(confidence, dtype=float)
        score, ranked, forced = self._scores(conf, budget.budget, rng)
        m = self.memory or _default_memory(budget.budget)
        # a long batch is taken in chunks of the memory, so that labels owed to the
        # budget inside it are made up inside it too
        parts = [
            self._decide_chunk(
                score[lo : lo + m], ranked[lo : lo + m], forced[lo : lo + m], budget, m
            )
            for lo in range(0, len(conf), m)
        ]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)

    def _decide_chunk(
        self,
        score: np.ndarray,
        ranked: np.ndarray,
        forced: np.ndarray,
        budget: BudgetManager,
        m: int,
    ) -> np.ndarray:
        recent = np.concatenate([self._recent, score[ranked]])[-m:]
        self._recent = recent
        owed = self._owed.update(budget, budget.budget * m)
        if recent.size:
            level = min(1.0, budget.budget + owed / m)
            self.threshold = float(np.quantile(recent, level, method="inverted_cdf"))
        want = np.where(ranked, score <= self.threshold, forced).tolist()
        out = bytearray(len(want))
        allows, record = budget.allows, budget.record
        for i, w in enumerate(want):
            q = w and allows()
            record(q)
            out[i] = q
        return np.frombuffer(bytes(out), dtype=np.bool_).copy()

    def _scores(
        self, conf: np.ndarray, budget: float, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What is compared with the threshold, which items the quantile ranks, and
        the decision on the others."""
        n = len(conf)
        return conf, np.ones(n, dtype=bool), np.zeros(n, dtype=bool)

    def _want(self, confidence: float, *draws: float) -> bool:
        if confidence < self.threshold:
            self.threshold *= 1.0 - self.step
            return True
        self.threshold *= 1.0 + self.step
        return False

    def state(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "rule": self.rule, "owed": self._owed.value}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._rule_repr()})"

    def _rule_repr(self) -> str:
        return f"rule='steps', step={self.step}" if self.rule == "steps" else "rule='quantile'"


class RandomizedVariableUncertainty(VariableUncertainty):
    """Variable uncertainty against a randomised threshold ``θ·η``, ``η ~ N(1, δ)``.

    Parameters
    ----------
    step : float, optional
        ``s`` of ``rule="steps"``, as in :class:`VariableUncertainty`.
    delta : float, default=1.0
        ``δ``, the standard deviation of the random factor (the paper's 1).
    threshold : float, optional
        The starting threshold of ``rule="steps"``.
    rule : {"quantile", "steps"}, default="quantile"
        As in :class:`VariableUncertainty`; with ``"quantile"`` the threshold
        is the budget quantile of the recent ``c/η`` (``c < θ·η`` is ``c/η < θ``
        for ``η > 0``; an item with ``η ≤ 0`` is never wanted).
    memory : int, optional
        As in :class:`VariableUncertainty`.

    Examples
    --------
    >>> from activelab.stream.budget import WindowBudget
    >>> s = RandomizedVariableUncertainty()
    >>> rng = np.random.default_rng(0)
    >>> conf = np.random.default_rng(1).random(2000)
    >>> q = s.decide(conf, WindowBudget(0.1, 500), rng)
    >>> bool(0.09 <= q.mean() <= 0.1), bool(conf[q].mean() < 0.2), bool(conf[q].max() > 0.3)
    (True, True, True)
    """

    name = "rvu"

    def __init__(
        self,
        step: float | None = None,
        delta: float = 1.0,
        threshold: float | None = None,
        *,
        rule: str = "quantile",
        memory: int | None = None,
    ) -> None:
        super().__init__(step, threshold, rule=rule, memory=memory)
        if not delta >= 0:
            raise ValueError(f"delta must be non-negative, got {delta!r}.")
        self.delta = float(delta)

    def _scores(
        self, conf: np.ndarray, budget: float, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        eta = rng.normal(1.0, self.delta, len(conf))
        pos = eta > 0
        score = np.full(len(conf), np.inf)
        score[pos] = conf[pos] / eta[pos]
        return score, np.ones(len(conf), dtype=bool), np.zeros(len(conf), dtype=bool)

    def _draws(self, n: int, budget: float, rng: np.random.Generator) -> tuple[list[float], ...]:
        return (rng.normal(1.0, self.delta, n).tolist(),)

    def _want(self, confidence: float, *draws: float) -> bool:
        if confidence < self.threshold * draws[0]:
            self.threshold *= 1.0 - self.step
            return True
        self.threshold *= 1.0 + self.step
        return False

    def __repr__(self) -> str:
        return f"RandomizedVariableUncertainty(delta={self.delta}, {self._rule_repr()})"


class Split(VariableUncertainty):
    """A share of the items decided at random (exploration), the rest by variable uncertainty.

    Parameters
    ----------
    share : float, default=0.2
        ``v``: the share of items handed to random-under-budget.
    step : float, optional
        ``s`` of the variable-uncertainty part with ``rule="steps"``.
    threshold : float, optional
        The starting threshold of ``rule="steps"``.
    rule : {"quantile", "steps"}, default="quantile"
        How the variable-uncertainty part's threshold follows the budget (its
        quantile ranks only the items it decides).
    memory : int, optional
        As in :class:`VariableUncertainty`.

    Examples
    --------
    >>> from activelab.stream.budget import WindowBudget
    >>> s = Split(share=0.5)
    >>> q = s.decide(np.full(4000, 0.99), WindowBudget(0.1, 1000), np.random.default_rng(0))
    >>> bool(0 < s.n_explore_ <= q.sum())
    True
    """

    name = "split"

    def __init__(
        self,
        share: float = 0.2,
        step: float | None = None,
        threshold: float | None = None,
        *,
        rule: str = "quantile",
        memory: int | None = None,
    ) -> None:
        super().__init__(step, threshold, rule=rule, memory=memory)
        self.share = _check_share("share", share, open_low=False)
        self.n_explore_ = 0
        self._explore: np.ndarray | None = None

    def decide(
        self,
        confidence: np.ndarray | None,
        budget: BudgetManager,
        rng: np.random.Generator,
        *,
        n: int | None = None,
    ) -> np.ndarray:
        self._explore = None
        out = super().decide(confidence, budget, rng, n=n)
        if self._explore is not None:
            self.n_explore_ += int(np.count_nonzero(out & self._explore))
        return out

    def _scores(
        self, conf: np.ndarray, budget: float, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        u = rng.random((2, len(conf)))
        explore = u[0] < self.share
        self._explore = explore & (u[1] < budget)
        return conf, ~explore, self._explore

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
        return {**super().state(), "n_explore": self.n_explore_}

    def __repr__(self) -> str:
        return f"Split(share={self.share}, {self._rule_repr()})"


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
    Split(share=0.3, rule='quantile')
    """
    if isinstance(strategy, StreamStrategy):
        if params:
            raise ValueError("Parameters can only be given with a strategy name.")
        return strategy
    import difflib

    from activelab.strategies._registry import _known_params

    key = _ALIASES.get(str(strategy).lower(), str(strategy).lower())
    if key not in _STRATEGIES:
        close = difflib.get_close_matches(key, [*_STRATEGIES, *_ALIASES], n=1, cutoff=0.6)
        hint = f" Did you mean {_ALIASES.get(close[0], close[0])!r}?" if close else ""
        raise ValueError(
            f"Unknown stream strategy {strategy!r}.{hint} Choose one of "
            f"{available_stream_strategies()}."
        )
    cls = _STRATEGIES[key]
    accepted = _known_params(cls) or []
    unknown = [n for n in params if n not in accepted]
    if unknown:
        close = difflib.get_close_matches(unknown[0], accepted, n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"Stream strategy {key!r} takes no parameter {unknown[0]!r}.{hint} Its parameters: "
            f"{', '.join(accepted) or 'none'}."
        )
    try:
        return cls(**params)
    except TypeError as exc:
        raise ValueError(f"Bad parameters for stream strategy {key!r}: {exc}") from None
