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
