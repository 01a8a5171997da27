"""activelab: active learning that asks a human expert for labels only where they pay the most.

The public API:

- :class:`ActiveLearner`, the pool-based loop around any scikit-learn estimator;
- :mod:`activelab.strategies`, every query strategy, found by name with
  :func:`get_strategy`;
- :func:`top_k`, the deterministic selection used everywhere (score
  descending, then index ascending);
- :class:`StreamLearner`, stream-based active learning under a label budget
  (:mod:`activelab.stream`).

Examples
--------
>>> import activelab
>>> "margin" in activelab.available_strategies()
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below are imported on first use (PEP 562), not here
    from activelab.learner import ActiveLearner, NotFittedError, QueryRecord
    from activelab.strategies import (
        QueryContext,
        Strategy,
        StrategyRequirementError,
        get_strategy,
        top_k,
    )
    from activelab.strategies import available as available_strategies
    from activelab.stream import StreamLearner

#: The installed version of activelab.
__version__ = "0.1.0"

#: public name -> (module, attribute); imported on first access so that
#: ``import activelab.cli`` (and ``activelab --help``) does not load scikit-learn
_LAZY: dict[str, tuple[str, str]] = {
    "ActiveLearner": ("activelab.learner", "ActiveLearner"),
    "NotFittedError": ("activelab.learner", "NotFittedError"),
    "QueryRecord": ("activelab.learner", "QueryRecord"),
    "QueryContext": ("activelab.strategies", "QueryContext"),
    "Strategy": ("activelab.strategies", "Strategy"),
    "StrategyRequirementError": ("activelab.strategies", "StrategyRequirementError"),
    "get_strategy": ("activelab.strategies", "get_strategy"),
    "top_k": ("activelab.strategies", "top_k"),
    "available_strategies": ("activelab.strategies", "available"),
    "StreamLearner": ("activelab.stream", "StreamLearner"),
}

__all__ = [
    "ActiveLearner",
    "NotFittedError",
    "QueryContext",
    "QueryRecord",
    "Strategy",
    "StrategyRequirementError",
    "StreamLearner",
    "__version__",
    "available_strategies",
    "get_strategy",
    "top_k",
]


def __getattr__(name: str) -> Any:  # PEP 562
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'activelab' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value  # later look-ups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
