"""Budget managers: how many of the arriving items may be sent to the oracle.

A budget ``B`` is a share of the items (0.1: one label in ten). A manager
answers one question per item, *may this one be queried?*, and is told what
was decided. Two managers are offered:

:class:`WindowBudget` (the default) counts the queries among the last
``window`` items exactly and allows a query only if the spend over that window,
this item included, stays at or under ``B``. While fewer than ``window`` items
have been seen, the window is the items seen so far, so the spend never exceeds
the budget at any point of the stream, not even at its start (a hard
guarantee). The window must hold at least one query (``budget * window >= 1``).

:class:`EstimatedBudget` is the estimator of Žliobaitė et al. (2014): labelling
expenses decay with a forgetting factor ``λ = (window - 1) / window``, so the
estimate is ``û / w``; here it is divided by the matching sum of weights
(``1 + λ + λ² + …``) instead of ``w``, so it is unbiased from the first item
instead of allowing a burst of ``B·w`` queries at the start. A query is allowed
only if the estimate, this query included, stays at or under ``B``. The control
is on the estimate (a soft window), in O(1) memory. Its window must exceed
``1 / B`` (``budget * window > 1``): the sum of weights stays under ``w``, so
with ``budget * window <= 1`` the estimate never has room for one query.

Both managers guarantee the same cap on the stream so far: the queries among
the first ``n`` items never exceed ``B·n`` (up to a float tolerance of ``1e-9·(1 + n/w)``, far
under one label), for every ``n``. For :class:`WindowBudget` this follows from the
exact count; for :class:`EstimatedBudget`, write ``e_t = q_t - B`` and
``E_t = λ·E_{t-1} + e_t`` (the estimate's excess, times its weight): the rule
keeps ``E_t <= 0`` for every ``t``, and ``Σ_{t<=n} e_t = E_n + (1 - λ)·Σ_{t<n} E_t
<= 0``. Discrete queries then spend a little under ``B``: a strategy that
always wants a label gets ``B`` exactly from :class:`WindowBudget` when
``B·w`` is whole (``⌊B·w⌋ / w`` otherwise, and the manager warns once, naming that
spend and the nearest windows that give ``B`` exactly), and about ``B - 1/(2w)`` from
:class:`EstimatedBudget` when ``B·w`` is large (``ln(1 - 1/w) / ln(1 - 1/(B·w))``
in general: 9.95 % of a 10 % budget over a window of 1,000, but 1.6 % of 5 %
over a window of 21; under ``B·w = 10``, about 95 % of ``B``, the manager warns once).
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from fractions import Fraction
from typing import ClassVar

from activelab._validation import check_count

__all__ = [
    "BudgetManager",
    "BudgetShortfallWarning",
    "EstimatedBudget",
    "WindowBudget",
    "get_budget_manager",
]

_EPS = 1e-9

#: the items a manager measures the spend over when no window is given
_DEFAULT_WINDOW = 1000


class BudgetShortfallWarning(UserWarning):
    """A budget manager's warning that whole queries spend under the budget.

    :class:`WindowBudget` and :class:`EstimatedBudget` warn with it once, when built,
    with the line :meth:`BudgetManager.shortfall` returns; filter it by this class to
    say the shortfall elsewhere (``activelab stream`` says it once, in a note).

    Examples
    --------
    >>> issubclass(BudgetShortfallWarning, UserWarning)
    True
    """


def _check_budget(budget: float) -> float:
    if isinstance(budget, bool):  # True would be read as a budget of every item
        raise ValueError(f"budget must be a share in (0, 1], got {budget!r}.")
    try:
        b = float(budget)
    except (TypeError, ValueError):
        raise ValueError(f"budget must be a share in (0, 1], got {budget!r}.") from None
    if not 0.0 < b <= 1.0:
        raise ValueError(
            f"budget must be a share of the items in (0, 1] (0.1 = one label in ten), got {b}."
        )
    return b


def _pct(share: float) -> str:
    """A share as a percentage to four significant digits: 0.0125 is 1.25%."""
    return f"{100 * share:.4g}%"


#: ``budget * window`` from which :class:`EstimatedBudget` spends about 95 % of the budget
_FULL_ESTIMATE = 10.0

#: the longest window :func:`_exact_windows` looks for
_MAX_EXACT_WINDOW = 10_000_000


def _exact_windows(budget: float, window: int) -> tuple[int, ...]:
    """The windows nearest ``window`` over which whole queries spend ``budget`` exactly.

    Parameters
    ----------
    budget : float
        A share of the items, in (0, 1].
    window : int
        A window, in items.

    Returns
    -------
    tuple of int
        The multiples of the least such window just under and just over ``window`` (one
        of them when ``window`` is under the least), or ``()`` when none up to ten
        million items does.

    Examples
    --------
    >>> _exact_windows(0.05, 30), _exact_windows(0.05, 10), _exact_windows(0.123, 1500)
    ((20, 40), (20,), (1000, 2000))
    """
    frac = Fraction(budget).limit_denominator(_MAX_EXACT_WINDOW)
    if abs(float(frac) - budget) > _EPS * budget:
        return ()
    step = frac.denominator  # B·w is whole exactly when w is a multiple of it
    below, above = (window // step) * step, -(-window // step) * step
    return tuple(w for w in dict.fromkeys((below, above)) if w >= step)


def _least_budget(budget: float, n: int) -> float | None:
    """The smallest budget that buys one of ``n`` items, when ``budget`` buys none of them.

    Parameters
    ----------
    budget : float
        A share of the items.
    n : int
        The items of the stream, at least 1.

    Returns
    -------
    float or None
        ``None`` when ``budget * n`` reaches one item; else the least share, rounded up
        to four decimals, that does.

    Examples
    --------
    >>> _least_budget(0.1, 8), _least_budget(0.125, 8)
    (0.125, None)
    """
    if budget * n < 1.0 - _EPS:  # the spend never reaches one whole item
        return math.ceil(1e4 / n) / 1e4
    return None


class BudgetManager(ABC):
    """Keeps the share of queried items at or under ``budget``.

    Parameters
    ----------
    budget : float
        The share of items that may be queried, in (0, 1].
    window : int, default=1000
        The number of most recent items the spend is measured over.

    Attributes
    ----------
    n_seen : int
        Items decided on so far.
    n_queried : int
        Items queried so far.
    """

    name: ClassVar[str] = ""

    def __init__(self, budget: float, window: int = _DEFAULT_WINDOW) -> None:
        self.budget = _check_budget(budget)
        self.window = check_count(window, "window")
        self.n_seen = 0
        self.n_queried = 0

    @abstractmethod
    def allows(self) -> bool:
        """Whether querying the next item keeps the spend at or under the budget."""

    def record(self, queried: bool) -> None:
        """Record the decision on the next item (call once per item, after :meth:`allows`)."""
        self.n_seen += 1
        self.n_queried += bool(queried)

    @property
    @abstractmethod
    def spend(self) -> float:
        """The spend the manager controls: the share of queried items over its window."""

    @property
    def realised(self) -> float:
        """The share of all items seen so far that were queried (0 before any item)."""
        return self.n_queried / self.n_seen if self.n_seen else 0.0

    @property
    def attainable(self) -> float:
        """The long-run spend of a strategy that always wants a label: the most this manager
        delivers, a little under ``budget`` when whole queries cannot meet it."""
        return self.budget

    def shortfall(self) -> str | None:
        """One line saying how far :attr:`attainable` falls under ``budget``, when it matters.

        Returns
        -------
        str or None
            ``None`` when the manager spends the budget (or close to it); else the spend
            it delivers and a window that spends the budget (exactly, or nearly).
        """
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(budget={self.budget}, window={self.window})"


class WindowBudget(BudgetManager):
    """Exact count over a sliding window: at most ``budget`` of the last ``window`` items.

    Examples
    --------
    >>> m = WindowBudget(0.25, window=8)
    >>> decisions = []
    >>> for _ in range(16):
    ...     q = m.allows()          # a greedy strategy: query whenever allowed
    ...     m.record(q)
    ...     decisions.append(int(q))
    >>> decisions
    [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]
    >>> m.spend, m.realised
    (0.25, 0.25)
    """

    name = "window"

    def __init__(self, budget: float, window: int = _DEFAULT_WINDOW) -> None:
        super().__init__(budget, window)
        if self.budget * self.window + _EPS < 1.0:  # not one query fits in the window
            raise ValueError(
                f"A budget of {self.budget:g} over a window of {self.window} items allows no "
                f"query at all (under one label per window); use a window of at least "
                f"{math.ceil(1.0 / self.budget - _EPS)} items (--window), or a larger budget."
            )
        self._ring = bytearray(self.window)
        self._pos = 0
        self._count = 0
        short = self.shortfall()
        if short is not None:
            warnings.warn(short, BudgetShortfallWarning, stacklevel=2)

    def shortfall(self) -> str | None:
        """What whole queries spend when ``budget * window`` is not a whole number.

        Returns
        -------
        str or None
            ``None`` when the window spends the budget exactly; else one line naming
            the spend it delivers (:attr:`attainable`) and the nearest windows that
            spend the budget exactly.

        Examples
        --------
        >>> WindowBudget(0.1, 100).shortfall() is None
        True
        """
        per_window = self._per_window()
        if self.budget * self.window - per_window <= _EPS * self.window:
            return None
        exact = _exact_windows(self.budget, self.window)
        fix = (
            f"a window of {' or '.join(f'{w:,}' for w in exact)} items (--window) spends "
            f"{_pct(self.budget)} exactly"
            if exact
            else "no window up to 10,000,000 items spends it exactly"
        )
        return (
            f"A budget of {_pct(self.budget)} over a window of {self.window:,} items buys "
            f"{per_window:,} whole label{'s' if per_window > 1 else ''} per window: a spend of "
            f"{_pct(self.attainable)}, not {_pct(self.budget)}; {fix}."
        )

    def allows(self) -> bool:
        full = self.n_seen >= self.window
        leaving = self._ring[self._pos] if full else 0
        n_next = self.window if full else self.n_seen + 1
        return self._count - leaving + 1 <= self.budget * n_next + _EPS

    def record(self, queried: bool) -> None:
        q = 1 if queried else 0
        if self.n_seen >= self.window:
            self._count -= self._ring[self._pos]
        self._ring[self._pos] = q
        self._count += q
        self._pos = (self._pos + 1) % self.window
        super().record(q)

    @property
    def spend(self) -> float:
        n = min(self.n_seen, self.window)
        return self._count / n if n else 0.0

    @property
    def attainable(self) -> float:
        """``⌊B·w⌋ / w``: whole queries in each window.

        Examples
        --------
        >>> import warnings
        >>> with warnings.catch_warnings(record=True):  # it warns that the spend is under 0.1
        ...     WindowBudget(0.1, 95).attainable  # 9 queries in 95 items
        0.09473684210526316
        """
        return self._per_window() / self.window

    def _per_window(self) -> int:
        """The whole queries a window holds, ``⌊B·w⌋`` (up to the float tolerance).

        Returns
        -------
        int
            The most queries among any ``window`` consecutive items.
        """
        return math.floor(self.budget * self.window + _EPS)


class EstimatedBudget(BudgetManager):
    """The exponentially forgetting spend estimate of Žliobaitė et al. (2014).

    A query is allowed only if the estimate with it stays at or under the
    budget, so the queries among the first ``n`` items never exceed ``B·n``
    (see :mod:`activelab.stream.budget`); a strategy that always wants a label
    spends a little under ``B`` (``B - 1/(2w)`` for a large ``B·w``).

    Raises
    ------
    ValueError
        If ``budget * window <= 1`` with a budget under 1: the estimate would
        never have room for a query.

    Examples
    --------
    >>> m = EstimatedBudget(0.25, window=100)
    >>> for _ in range(4000):
    ...     m.record(m.allows())
    >>> m.spend <= 0.25, m.n_queried <= 0.25 * m.n_seen, round(m.realised, 3)
    (True, True, 0.245)
    """

    name = "estimated"

    def __init__(self, budget: float, window: int = _DEFAULT_WINDOW) -> None:
        super().__init__(budget, window)
        # the sum of weights 1 + λ + λ² + … stays under w: with B·w <= 1 the estimate
        # with one query, 1 / Σλ^k, stays above B for ever (a budget of 1 allows every item)
        if self.budget < 1.0 and self.budget * self.window <= 1.0 + _EPS:
            least = math.floor(1.0 / self.budget + _EPS) + 1
            raise ValueError(
                f"A budget of {self.budget:g} over an estimated window of {self.window} items "
                f"allows no query at all (the estimate needs budget x window above 1); use a "
                f"window of at least {least} items (--window), or a larger budget."
            )
        self._decay = (self.window - 1) / self.window
        self._spent = 0.0
        self._weight = 0.0
        short = self.shortfall()
        if short is not None:
            warnings.warn(short, BudgetShortfallWarning, stacklevel=2)

    def allows(self) -> bool:
        d = self._decay
        return d * self._spent + 1.0 <= self.budget * (d * self._weight + 1.0) + _EPS

    def record(self, queried: bool) -> None:
        self._spent = self._decay * self._spent + (1.0 if queried else 0.0)
        self._weight = self._decay * self._weight + 1.0
        super().record(queried)

    @property
    def spend(self) -> float:
        return self._spent / self._weight if self._weight else 0.0

    @property
    def attainable(self) -> float:
        """About ``ln(1 − 1/w) / ln(1 − 1/(B·w))`` (``B − 1/(2w)`` for a large ``B·w``).

        Examples
        --------
        >>> round(EstimatedBudget(0.1, 1000).attainable, 5), EstimatedBudget(1.0, 10).attainable
        (0.09955, 1.0)
        """
        if self.budget >= 1.0:
            return 1.0
        return self._spend_of(self.budget, self.window)

    def shortfall(self) -> str | None:
        """What a window under ``10 / budget`` spends: under 95 % of the budget.

        Returns
        -------
        str or None
            ``None`` when ``budget * window`` is 10 or more (or the budget is 1); else one
            line naming the spend it delivers (:attr:`attainable`) and the window of
            ``10 / budget`` items, which spends about 95 % of the budget.

        Examples
        --------
        >>> EstimatedBudget(0.05, 200).shortfall() is None
        True
        """
        if self.budget >= 1.0 or self.budget * self.window >= _FULL_ESTIMATE - _EPS:
            return None
        longer = math.ceil(_FULL_ESTIMATE / self.budget - _EPS)
        return (
            f"A budget of {_pct(self.budget)} over an estimated window of {self.window:,} items "
            f"buys a label only when the estimate has room for a whole one: a spend of about "
            f"{_pct(self.attainable)}, not {_pct(self.budget)}; a window of {longer:,} items "
            f"(--window) spends about {_pct(EstimatedBudget._spend_of(self.budget, longer))}, "
            f"or use --budget-manager window (an exact count)."
        )

    @staticmethod
    def _spend_of(budget: float, window: int) -> float:
        """:attr:`attainable` of a budget and window, without building a manager."""
        return math.log1p(-1.0 / window) / math.log1p(-1.0 / (budget * window))


_MANAGERS: dict[str, type[BudgetManager]] = {
    WindowBudget.name: WindowBudget,
    EstimatedBudget.name: EstimatedBudget,
}


def get_budget_manager(
    budget: float | BudgetManager, manager: str | None = None, window: int | None = None
) -> BudgetManager:
    """A budget manager from a share and a manager name (an instance is returned as is).

    Parameters
    ----------
    budget : float or BudgetManager
        The share of items that may be queried, or a manager.
    manager : {"window", "estimated"}, optional
        The manager for a share (default ``"window"``).
    window : int, optional
        Its window (default 1,000 items).

    Raises
    ------
    ValueError
        For an unknown manager, a bad budget or window, or a ``manager`` or
        ``window`` given with an instance that has another one (they would be
        ignored).

    Examples
    --------
    >>> get_budget_manager(0.1, "estimated", window=500)
    EstimatedBudget(budget=0.1, window=500)
    """
    if isinstance(budget, BudgetManager):
        if manager is not None and manager != budget.name:
            raise ValueError(
                f"budget_manager={manager!r} would be ignored: the budget given is {budget!r}. "
                f"Pass a share as the budget with budget_manager={manager!r}, or leave "
                "budget_manager out."
            )
        if window is not None and window != budget.window:
            raise ValueError(
                f"window={window!r} would be ignored: the budget given is {budget!r}. Pass "
                f"{type(budget).__name__}({budget.budget:g}, window={window}), or leave window out."
            )
        return budget
    manager = "window" if manager is None else manager
    if manager not in _MANAGERS:
        raise ValueError(f"Unknown budget manager {manager!r}; choose one of {sorted(_MANAGERS)}.")
    return _MANAGERS[manager](budget, _DEFAULT_WINDOW if window is None else window)
