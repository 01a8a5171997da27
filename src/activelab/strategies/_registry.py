"""The registry of strategies by name, behind :func:`get_strategy`.

It imports no strategy: the package's ``__init__`` registers them, so a strategy that
builds others by name (``auto``, ``stochastic``) can use :func:`get_strategy` without an
import cycle.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from activelab.strategies._base import Strategy

__all__ = ["available", "get_strategy", "register", "takes_maximize"]

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
        return _REGISTRY[key](**params)
    raise TypeError(f"A strategy is a name or a Strategy instance, got {type(spec).__name__}.")


def takes_maximize(spec: str | Strategy) -> bool:
    """Whether a strategy looks for the largest or the smallest values by a ``maximize``
    parameter (``greedy``, ``ucb``, ``expected_improvement``, ``thompson``).

    ``ucb`` and ``expected_improvement`` take it through ``**kwargs``, so the instance is
    asked, not the signature.
    """
    return hasattr(get_strategy(spec), "maximize")
