"""The kits of the conformance suite: one per task, with its data, models and strategies.

A strategy registered with :func:`activelab.strategies.register` is picked up by the kit of its
task ("any" joins every task) and runs through every shared check of
``test_every_strategy.py``. The task-specific checks reach a kit through the fixture named after
its task (``classification``, ``multilabel``, ``regression``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_multilabel_classification
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier

from activelab import ActiveLearner
from activelab.scoring import DEFAULT_CHUNK_SIZE
from activelab.strategies import (
    BatchBALD,
    DiverseBatch,
    InformationDensity,
    KCenterGreedy,
    QueryByCommittee,
    RankedBatch,
    Strategy,
    Typicality,
    available,
    get_strategy,
)


def _options(requirement) -> tuple[str, ...]:
    return requirement if isinstance(requirement, tuple) else (requirement,)


def needs_only_predict_proba(strategy) -> bool:
    """Whether a requirement of the strategy is predict_proba and nothing else will do."""
    return any(_options(r) == ("predict_proba",) for r in get_strategy(strategy).requires)


def needs_scores(strategy) -> bool:
    """Whether the strategy needs class scores: predict_proba or decision_function."""
    scores = {"predict_proba", "decision_function"}
    return any(scores & set(_options(r)) for r in get_strategy(strategy).requires)


def needs_model(strategy) -> bool:
    return get_strategy(strategy).needs_model


def uses_spread(strategy) -> bool:
    return getattr(get_strategy(strategy), "uses_spread", False)


def strategy_id(strategy) -> str:
    return strategy if isinstance(strategy, str) else type(strategy).__name__ + "-variant"


@dataclass(frozen=True)
class Refusal:
    """A model lacking a capability that the strategies in ``applies`` need, and the error text."""

    id: str
    applies: Callable[[Any], bool]
    model: Callable[[], Any]
    match: str


@dataclass(frozen=True)
class Kit:
    """What the shared checks need to know of one task."""

    task: str
    strategies: list
    #: ``data(seed=0, n=...)`` -> (X, y): a small pool with every label known
    data: Callable[..., tuple[np.ndarray, np.ndarray]]
    #: ``estimator(strategy)`` -> an unfitted model the strategy can work with
    estimator: Callable[[Any], Any]
    #: a sparse pool made from the dense one
    sparse: Callable[[np.ndarray], sp.csr_matrix]
    #: ``cold(X, y)`` -> (indices, labels) from which no model can be fitted
    cold: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    refusals: list[Refusal]
    #: extra ActiveLearner settings of the task
    settings: dict = field(default_factory=dict)
    #: how many random labels a fitted learner starts from
    n_init: int = 12

    def learner(
        self,
        strategy,
        X,
        y,
        n_init=None,
        seed=0,
        estimator=None,
        chunk_size=DEFAULT_CHUNK_SIZE,
        **params,
    ):
        """A learner fitted on ``n_init`` random labels; ``params`` go to the strategy."""
        n_init = self.n_init if n_init is None else n_init
        est = estimator if estimator is not None else self.estimator(strategy)
        strategy = get_strategy(strategy, **params)
        learner = ActiveLearner(
            est,
            strategy,
            random_state=seed,
            cold_start="random",
            chunk_size=chunk_size,
            **self.settings,
        )
        init = np.random.default_rng(seed).choice(len(y), n_init, replace=False)
        return learner.fit(X, init, y[init])

    @staticmethod
    def assert_picks(learner: ActiveLearner, idx: np.ndarray, n: int) -> None:
        """``idx`` holds ``n`` distinct unlabelled indices of the learner's pool, as int64."""
        assert idx.dtype == np.int64 and idx.shape == (n,)
        assert len(set(idx.tolist())) == n
        assert np.isin(idx, learner.unlabelled_).all()

    def unfitted(self, strategy, estimator=None, **settings) -> ActiveLearner:
        """A learner with the default cold start, not fitted yet."""
        est = estimator if estimator is not None else self.estimator(strategy)
        return ActiveLearner(est, strategy, **{**self.settings, **settings})


# --- classification ---------------------------------------------------------------------------

# Non-default settings that take other code paths: committees given as lists, model-based
# embeddings, the sampled RBF density. They run through the same checks as the names.
VARIANTS: list[Strategy] = [
    QueryByCommittee(
        committee=[
            LogisticRegression(max_iter=500),
            LogisticRegression(C=0.05, max_iter=500),
            DecisionTreeClassifier(max_depth=3),
        ]
    ),
    QueryByCommittee(
        "kl_divergence",
        committee=[LogisticRegression(max_iter=500), DecisionTreeClassifier(max_depth=3)],
    ),
    KCenterGreedy(embedding="proba"),
    InformationDensity(uncertainty="margin", similarity="rbf", n_reference=50),
    InformationDensity(similarity="graph", n_neighbors=8),  # on the pool's shared graph
    Typicality(graph=True),
    DiverseBatch(embedding="proba"),
    RankedBatch(uncertainty="margin"),
    BatchBALD(n_samples=8, n_configurations=4, max_candidates=30),  # sampled configurations
]

# Strategies that need a deep model's MC dropout or learned embedding run every check with a
# tiny torch classifier instead of LogisticRegression.
_DEEP_REQUIREMENTS = {"mc_dropout", "model_embedding"}


def _classifier(strategy):
    flat = {o for r in get_strategy(strategy).requires for o in _options(r)}
    if flat & _DEEP_REQUIREMENTS:
        from activelab.models.deep import TorchMLPClassifier

        return TorchMLPClassifier(hidden_layer_sizes=(8,), epochs=5, min_steps=10, random_state=0)
    return LogisticRegression(max_iter=500)


def _blobs(seed: int = 0, n: int = 160):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 1.0], [0.0, 3.0, -1.0]])
    y = rng.integers(0, 3, size=n)
    X = centres[y] + rng.normal(scale=1.0, size=(n, 3))
    return X, y


def _one_class(X, y):
    one = np.flatnonzero(y == 0)[:5]
    return one, y[one]


CLASSIFICATION = Kit(
    task="classification",
    strategies=[s for s in available() if get_strategy(s).task in ("classification", "any")]
    + VARIANTS,
    data=_blobs,
    estimator=_classifier,
    sparse=lambda X: sp.csr_matrix(np.abs(X)),
    cold=_one_class,
    refusals=[
        Refusal("no_predict_proba", needs_only_predict_proba, SVC, "predict_proba"),
        Refusal("no_scores", needs_scores, Ridge, "Ridge is a regressor"),
    ],
)

# --- multi-label ------------------------------------------------------------------------------


def _multilabel(seed: int = 0, n: int = 150):
    X, Y = make_multilabel_classification(
        n_samples=n, n_features=6, n_classes=4, n_labels=2, random_state=seed
    )
    return X.astype(float), Y


def _ovr(strategy=None):
    return OneVsRestClassifier(LogisticRegression(max_iter=500))


def _no_label_seen_both_ways(X, Y):
    return np.arange(5), np.tile([1, 0, 1, 0], (5, 1))  # every column constant


MULTILABEL = Kit(
    task="multilabel",
    strategies=[s for s in available() if get_strategy(s).task in ("multilabel", "any")],
    data=_multilabel,
    estimator=_ovr,
    sparse=sp.csr_matrix,
    cold=_no_label_seen_both_ways,
    refusals=[
        Refusal(
            "no_predict_proba",
            needs_only_predict_proba,
            lambda: OneVsRestClassifier(LinearSVC()),
            "predict_proba",
        )
    ],
    settings={"classes": 4},
    n_init=15,
)

# --- regression -------------------------------------------------------------------------------


def _wave(seed: int = 0, n: int = 120):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 3))
    y = np.sin(2 * X[:, 0]) + 0.5 * X[:, 1] + 0.1 * rng.normal(size=n)
    return X, y


def _forest(strategy=None):
    return RandomForestRegressor(n_estimators=10, random_state=0)


REGRESSION = Kit(
    task="regression",
    strategies=[s for s in available() if get_strategy(s).task in ("regression", "any")],
    data=_wave,
    estimator=_forest,
    sparse=lambda X: sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0)),
    cold=lambda X, y: (np.array([0]), y[:1]),
    refusals=[
        Refusal("no_spread", uses_spread, Ridge, r"Ridge has none.*bootstrap"),
        Refusal(
            "no_spread_in_pipeline",
            uses_spread,
            lambda: make_pipeline(StandardScaler(), Ridge()),
            "Ridge has none",
        ),
        Refusal(
            "classifier", needs_model, LogisticRegression, "LogisticRegression is a classifier"
        ),
    ],
)

# --- classification with the pool-aware (hybrid) fit ------------------------------------------


# The same strategies and checks, the model fitted on the labels and the pool's graph: "blend"
# always scores with the spread labels (mixed with the classifier's probabilities). Strategies
# that need the estimator's own MC-dropout samples cannot score a hybrid model: they are refused
# with semi_supervised="blend" and stay supervised with "auto" (tests/test_hybrid.py).
def needs_estimator_internals(strategy) -> bool:
    plain = {"model", "predict_proba", "decision_function", "embedding"}
    return any(not set(_options(r)) & plain for r in get_strategy(strategy).requires)


HYBRID = replace(
    CLASSIFICATION,
    strategies=[s for s in CLASSIFICATION.strategies if not needs_estimator_internals(s)],
    settings={"semi_supervised": "blend"},
)

KITS = {kit.task: kit for kit in (CLASSIFICATION, MULTILABEL, REGRESSION)}
#: Every kit the shared checks run on, by name.
ALL_KITS = {**KITS, "hybrid": HYBRID}
CASES = [(name, kit, s) for name, kit in ALL_KITS.items() for s in kit.strategies]
REFUSALS = [
    (kit, refusal, s)
    for kit in KITS.values()
    for refusal in kit.refusals
    for s in kit.strategies
    if refusal.applies(s)
]


@pytest.fixture(params=[c[1:] for c in CASES], ids=[f"{n}-{strategy_id(s)}" for n, _, s in CASES])
def case(request) -> tuple[Kit, Any]:
    """Every (kit, strategy) pair of the suite."""
    return request.param


@pytest.fixture(params=REFUSALS, ids=[f"{k.task}-{r.id}-{strategy_id(s)}" for k, r, s in REFUSALS])
def refusal_case(request) -> tuple[Kit, Refusal, Any]:
    """Every (kit, model lacking a capability, strategy needing it) triple of the suite."""
    return request.param


@pytest.fixture
def kits() -> dict[str, Kit]:
    return KITS


@pytest.fixture
def classification() -> Kit:
    return CLASSIFICATION


@pytest.fixture
def multilabel() -> Kit:
    return MULTILABEL


@pytest.fixture
def regression() -> Kit:
    return REGRESSION
