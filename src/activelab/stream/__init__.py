"""Stream-based active learning: decide on each arriving item at once, under a label budget.

- :class:`StreamLearner`: ``process(x)`` / ``process_many(X)`` decide,
  ``learn(x, y)`` / ``learn_many(X, y)`` update the model (scikit-learn
  ``partial_fit`` models and river models behind one interface);
- :mod:`~activelab.stream.strategies`: random under budget, fixed uncertainty,
  variable uncertainty, randomised variable uncertainty and split
  (Žliobaitė et al., 2014);
- :mod:`~activelab.stream.budget`: budget managers over a sliding window;
- :func:`replay`: the prequential (test-then-train) replay of a labelled
  stream with a simulated oracle, and :func:`load_stream` for the bundled
  streams.

Examples
--------
>>> from activelab.stream import available_stream_strategies
>>> "rvu" in available_stream_strategies()
True
"""

from __future__ import annotations

from activelab.stream.budget import (
    BudgetManager,
    BudgetShortfallWarning,
    EstimatedBudget,
    WindowBudget,
    get_budget_manager,
)
from activelab.stream.datasets import STREAMS, Stream, load_csv, load_stream
from activelab.stream.learner import StreamBatch, StreamDecision, StreamLearner
from activelab.stream.replay import StreamRun, replay
from activelab.stream.strategies import (
    FixedUncertainty,
    RandomBudget,
    RandomizedVariableUncertainty,
    Split,
    StreamStrategy,
    VariableUncertainty,
    available_stream_strategies,
    get_stream_strategy,
)

__all__ = [
    "STREAMS",
    "BudgetManager",
    "BudgetShortfallWarning",
    "EstimatedBudget",
    "FixedUncertainty",
    "RandomBudget",
    "RandomizedVariableUncertainty",
    "Split",
    "Stream",
    "StreamBatch",
    "StreamDecision",
    "StreamLearner",
    "StreamRun",
    "StreamStrategy",
    "VariableUncertainty",
    "WindowBudget",
    "available_stream_strategies",
    "get_budget_manager",
    "get_stream_strategy",
    "load_csv",
    "load_stream",
    "replay",
]
