"""The registry of strategies by name, behind :func:`get_strategy`.

It imports no strategy: the package's ``__init__`` registers them, so a strategy that
builds others by name (``auto``, ``stochastic``) can use :func:`get_strategy` without an
import cycle.
"""

from __future__ import annotations

import copy
import difflib
import inspect
from collections.abc import Callable
from typing import Any

from activelab.strategies._base import Strategy

__all__ = ["available", "clone_strategy", "get_strategy", "register", "takes_maximize"]

_REGISTRY: dict[str, Callable[..., Strategy]] = {}


def register(factory: Callable[..., Strategy], name: str | None = None) -> Callable[..., Strategy]:
    """Make a strategy class (or factory) available by name to :func:`get_strategy`.

    Parameters
    ----------
    factory : callable
        A :class:`Strategy` subclass or a function returning a strategy.
    name : str, optional
        Defaults to the class's ``name`` attribute.
    """
    key = name or factory.name  # type: ignore[attr-defined]
    _REGISTRY[key] = factory
    return factory


def available() -> list[str]:
    """Names of all registered strategies, sorted."""
    return sorted(_REGISTRY)


def get_strategy(spec: str | Strategy, **params: Any) -> Strategy:
    """A strategy instance from a name (with parameters) or an instance (returned as is).

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones.
    TypeError
        For a parameter the strategy does not take; the message lists those it takes.
    """
    if isinstance(spec, Strategy):
        if params:
            raise ValueError("Parameters can only be given with a strategy name, not an instance.")
        return spec
    if isinstance(spec, str):
        key = spec.strip().lower().replace("-", "_")
        if key not in _REGISTRY:
            close = difflib.get_close_matches(key, available(), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"Unknown strategy {spec!r}.{hint} Known strategies: {', '.join(available())}."
            )
        _check_params(key, _REGISTRY[key], params)
        return _REGISTRY[key](**params)
    if isinstance(spec, type) and issubclass(spec, Strategy):
        named = (
            f" or its name {spec.name!r}" if isinstance(getattr(spec, "name", None), str) else ""
        )
        raise TypeError(
            f"A strategy is a name or a Strategy instance, got the class {spec.__name__}; pass "
            f"an instance, {spec.__name__}(){named}."
        )
    raise TypeError(f"A strategy is a name or a Strategy instance, got {type(spec).__name__}.")


def clone_strategy(strategy: Strategy) -> Strategy:
    """A fresh copy of a strategy: the same parameters, none of the state of its queries.

    Like scikit-learn's ``clone``: the strategy is built again from its parameters
    (the keyword parameters of its ``__init__``, read from the attributes of the same
    names), strategies among them (``Stochastic``'s base, ``auto``'s arms) cloned in
    turn; other parameters (estimators, functions, graphs) are shared, not copied. A
    strategy whose parameters cannot be read so (one stored under another name) is
    deep-copied instead, and the copy reset
    (:meth:`Strategy.reset <activelab.strategies.Strategy.reset>`).
    :class:`~activelab.ActiveLearner` clones its strategies at every ``fit``, so that
    learners given one instance do not share its state (an ``auto`` bandit's weights,
    the picks it has made) and each repeats under its seed.

    Parameters
    ----------
    strategy : Strategy
        The strategy to copy; it is not modified.

    Returns
    -------
    Strategy
        A new instance of the same class.

    Examples
    --------
    >>> from activelab.strategies import AutoStrategy
    >>> auto = AutoStrategy(gamma=0.2, cv=None)
    >>> twin = clone_strategy(auto)
    >>> twin is auto, twin.gamma, twin.cv
    (False, 0.2, None)
    """
    params = _init_values(strategy)
    if params is None:
        twin = copy.deepcopy(strategy)
        twin.reset()  # the copy forgets the choices of the original's campaign
        return twin
    return type(strategy)(**{k: _clone_value(v) for k, v in params.items()})


def _init_values(strategy: Strategy) -> dict[str, Any] | None:
    """The strategy's ``__init__`` parameters and their values, or ``None`` when unreadable.

    Unreadable: a parameter that takes anything (``**kwargs`` with no base to read it
    from), or one with no attribute of the same name.
    """
    known = _known_params(type(strategy))
    if known is None or any(k not in vars(strategy) for k in known):
        return None
    return {k: vars(strategy)[k] for k in known}


def _clone_value(value: Any) -> Any:
    """A parameter's value for the clone: strategies cloned, in lists and tuples too."""
    if isinstance(value, Strategy):
        return clone_strategy(value)
    if isinstance(value, list | tuple) and any(isinstance(v, Strategy) for v in value):
        return type(value)(_clone_value(v) for v in value)
    return value


def takes_maximize(spec: str | Strategy) -> bool:
    """Whether a strategy looks for the largest or the smallest values by a ``maximize``
    parameter (``greedy``, ``ucb``, ``expected_improvement``, ``thompson``).

    ``ucb`` and ``expected_improvement`` take it through ``**kwargs``, so the instance is
    asked, not the signature.
    """
    return hasattr(get_strategy(spec), "maximize")


def _known_params(factory: Callable[..., Strategy]) -> list[str] | None:
    """The keyword parameters a strategy's class or factory takes, ``None`` when unknown.

    A class's ``__init__`` that passes ``**kwargs`` on to its base (``greedy`` and
    ``maximize``) takes its base's parameters too, so the classes are read along the MRO
    until an ``__init__`` without ``**kwargs``; a factory function with ``**kwargs`` takes
    anything as far as can be told.
    """
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    inits = (
        [k.__dict__["__init__"] for k in factory.__mro__[:-1] if "__init__" in k.__dict__]
        if isinstance(factory, type)
        else [factory]
    )
    known: list[str] = []
    for init in inits:
        try:
            parameters = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):  # no introspectable signature: let the call decide
            return None
        known += [p.name for p in parameters if p.kind in kinds and p.name not in known]
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
            return [k for k in known if k != "self"]
    return None if len(inits) else []  # only object.__init__: no parameters


def _check_params(name: str, factory: Callable[..., Strategy], params: dict[str, Any]) -> None:
    """Refuse keyword parameters the strategy does not take, listing those it does.

    Parameters
    ----------
    name : str
        The strategy's registered name, for the message.
    factory : callable
        Its class or factory.
    params : dict
        The keyword parameters given to :func:`get_strategy`.

    Raises
    ------
    TypeError
        Naming the first unknown parameter, the closest known one and every known one.
    """
    if not params:
        return
    known = _known_params(factory)
    if known is None:
        return
    unknown = [k for k in params if k not in known]
    if not unknown:
        return
    if not known:
        raise TypeError(
            f"Strategy {name!r} takes no parameters, got {', '.join(map(repr, unknown))}; "
            "leave them out."
        )
    close = difflib.get_close_matches(unknown[0], known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise TypeError(
        f"Strategy {name!r} has no parameter {unknown[0]!r}{hint}; it takes {', '.join(known)}."
    )
