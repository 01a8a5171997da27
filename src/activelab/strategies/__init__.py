"""Query strategies: which unlabelled items to ask about next.

Every strategy is a small class with one :meth:`~Strategy.select` entry point
over a shared :class:`QueryContext`. Strategies are found by name with
:func:`get_strategy`; :func:`available` lists the names.

Examples
--------
>>> from activelab.strategies import available, get_strategy
>>> get_strategy("margin")
Margin()
>>> "random" in available()
True
"""

from __future__ import annotations

from activelab.strategies._base import (
    DECISION_FUNCTION,
    EMBEDDING,
    MODEL,
    PREDICT_PROBA,
    QueryContext,
    ScoringStrategy,
    Strategy,
    StrategyRequirementError,
    top_k,
)
from activelab.strategies._registry import available, clone_strategy, get_strategy, register
from activelab.strategies.coldstart import Typicality
from activelab.strategies.committee import KLDivergence, QueryByCommittee, VoteEntropy
from activelab.strategies.coverage import ProbCover
from activelab.strategies.deep import BADGE, BALD, BatchBALD, DeepCoreSet
from activelab.strategies.density import InformationDensity
from activelab.strategies.diversity import DiverseBatch, KCenterGreedy, RankedBatch
from activelab.strategies.expected import ExpectedErrorReduction
from activelab.strategies.multilabel import MMC, AdaptiveMultilabel, BinMin, MaxEntropy, MeanEntropy
from activelab.strategies.random import RandomSampling
from activelab.strategies.rare import (
    ActiveAnomalyDiscovery,
    AnomalyColdStart,
    ClassBalanced,
    PositiveSeeking,
    RareAuto,
    RareDiscovery,
)
from activelab.strategies.regression import (
    EMCM,
    IGS,
    CommitteeVariance,
    ExpectedImprovement,
    Greedy,
    GSx,
    GSy,
    ThompsonSampling,
    UpperConfidenceBound,
    Variance,
)
from activelab.strategies.selection import AutoStrategy
from activelab.strategies.stochastic import Explore, Stochastic
from activelab.strategies.uncertainty import Entropy, LeastConfident, Margin

__all__ = [
    "BADGE",
    "BALD",
    "DECISION_FUNCTION",
    "EMBEDDING",
    "EMCM",
    "IGS",
    "MMC",
    "MODEL",
    "PREDICT_PROBA",
    "ActiveAnomalyDiscovery",
    "AdaptiveMultilabel",
    "AnomalyColdStart",
    "AutoStrategy",
    "BatchBALD",
    "BinMin",
    "ClassBalanced",
    "CommitteeVariance",
    "DeepCoreSet",
    "DiverseBatch",
    "Entropy",
    "ExpectedErrorReduction",
    "ExpectedImprovement",
    "Explore",
    "GSx",
    "GSy",
    "Greedy",
    "InformationDensity",
    "KCenterGreedy",
    "KLDivergence",
    "LeastConfident",
    "Margin",
    "MaxEntropy",
    "MeanEntropy",
    "PositiveSeeking",
    "ProbCover",
    "QueryByCommittee",
    "QueryContext",
    "RandomSampling",
    "RankedBatch",
    "RareAuto",
    "RareDiscovery",
    "ScoringStrategy",
    "Stochastic",
    "Strategy",
    "StrategyRequirementError",
    "ThompsonSampling",
    "Typicality",
    "UpperConfidenceBound",
    "Variance",
    "VoteEntropy",
    "available",
    "clone_strategy",
    "get_strategy",
    "register",
    "top_k",
]

for _cls in (
    RandomSampling,
    LeastConfident,
    Margin,
    Entropy,
    Typicality,
    ProbCover,
    QueryByCommittee,
    VoteEntropy,
    KLDivergence,
    InformationDensity,
    KCenterGreedy,
    DiverseBatch,
    RankedBatch,
    ExpectedErrorReduction,
):
    register(_cls)
for _cls in (BALD, BatchBALD, BADGE, DeepCoreSet):
    register(_cls)
for _cls in (
    Variance,
    CommitteeVariance,
    GSx,
    GSy,
    IGS,
    EMCM,
    Greedy,
    UpperConfidenceBound,
    ExpectedImprovement,
    ThompsonSampling,
):
    register(_cls)
for _cls in (BinMin, MeanEntropy, MaxEntropy, MMC, AdaptiveMultilabel):
    register(_cls)
for _cls in (AutoStrategy, Stochastic, Explore):
    register(_cls)
for _cls in (
    AnomalyColdStart,
    ClassBalanced,
    PositiveSeeking,
    ActiveAnomalyDiscovery,
    RareDiscovery,
    RareAuto,
):
    register(_cls)
