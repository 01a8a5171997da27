"""The conformance suite: every registered strategy passes the same checks.

A strategy registered with :func:`activelab.strategies.register` is picked up
here automatically and run on the fixture of its task.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from activelab import ActiveLearner, StrategyRequirementError
from activelab.strategies import (
    BatchBALD,
    DiverseBatch,
    InformationDensity,
    KCenterGreedy,
    QueryByCommittee,
    RankedBatch,
    available,
    get_strategy,
)

# Non-default settings that take other code paths: committees given as lists, model-based
# embeddings, the sampled RBF density. They run through the same checks as the names.
VARIANTS = [
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
    DiverseBatch(embedding="proba"),
    RankedBatch(uncertainty="margin"),
    BatchBALD(n_samples=8, n_configurations=4, max_candidates=30),  # sampled configurations
]
CLASSIFICATION = [
    s for s in available() if get_strategy(s).task in ("classification", "any")
] + VARIANTS
UNCERTAINTY = ["least_confident", "margin", "entropy"]


def _id(strategy):
    return strategy if isinstance(strategy, str) else repr(strategy).split("(")[0] + "-variant"


def _options(req):
    return req if isinstance(req, tuple) else (req,)


PROBA_ONLY = [
    s
    for s in CLASSIFICATION
    if any(_options(r) == ("predict_proba",) for r in get_strategy(s).requires)
]
NEEDS_MODEL = [
    s
    for s in CLASSIFICATION
    if any(
        {"predict_proba", "decision_function"} & set(_options(r)) for r in get_strategy(s).requires
    )
]


# Strategies that need a deep model's MC dropout or learned embedding run every check with a
# tiny torch classifier instead of LogisticRegression.
DEEP_REQUIREMENTS = {"mc_dropout", "model_embedding"}


def _estimator(name):
    flat = {o for r in get_strategy(name).requires for o in _options(r)}
    if flat & DEEP_REQUIREMENTS:
        from activelab.deep import TorchMLPClassifier

        return TorchMLPClassifier(hidden_layer_sizes=(8,), epochs=5, min_steps=10, random_state=0)
    return LogisticRegression(max_iter=500)


def _data(seed: int = 0, n: int = 160):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 1.0], [0.0, 3.0, -1.0]])
    y = rng.integers(0, 3, size=n)
    X = centres[y] + rng.normal(scale=1.0, size=(n, 3))
    return X, y


def _learner(name, X, y, n_init=12, seed=0, estimator=None):
    est = estimator if estimator is not None else _estimator(name)
    learner = ActiveLearner(est, name, random_state=seed, cold_start="random")
    init = np.random.default_rng(seed).choice(len(y), n_init, replace=False)
    return learner.fit(X, init, y[init])


@pytest.mark.parametrize("name", CLASSIFICATION, ids=_id)
@pytest.mark.parametrize("n", [1, 7])
def test_returns_n_unique_unlabelled_indices(name, n):
    X, y = _data()
    learner = _learner(name, X, y)
    idx = learner.query(n)
    assert idx.dtype == np.int64 and idx.shape == (n,)
    assert len(set(idx.tolist())) == n
    assert np.isin(idx, learner.unlabelled_).all()


@pytest.mark.parametrize("name", CLASSIFICATION, ids=_id)
def test_repeats_exactly_under_a_seed(name):
    X, y = _data()
    runs = []
    for _ in range(2):
        learner = _learner(name, X, y, seed=3)
        picks = []
        for _ in range(3):
            idx = learner.query(4)
            learner.teach(idx, y[idx])
            picks.append(idx.tolist())
        runs.append(picks)
    assert runs[0] == runs[1]


@pytest.mark.parametrize("name", CLASSIFICATION, ids=_id)
def test_n_larger_than_candidates_is_a_clear_error(name):
    X, y = _data(n=30)
    learner = _learner(name, X, y, n_init=25)
    with pytest.raises(ValueError, match="only 5 unlabelled candidates remain"):
        learner.query(6)
    assert learner.n_labelled_ == 25


@pytest.mark.parametrize("name", CLASSIFICATION, ids=_id)
def test_n_zero_is_empty(name):
    X, y = _data()
    idx = _learner(name, X, y).query(0)
    assert idx.shape == (0,)


@pytest.mark.parametrize("name", CLASSIFICATION, ids=_id)
def test_one_class_seen_so_far(name):
    X, y = _data()
    one = np.flatnonzero(y == 0)[:5]
    learner = ActiveLearner(_estimator(name), name, random_state=0).fit(X, one, y[one])
    idx = learner.query(5)
    assert len(set(idx.tolist())) == 5 and not np.isin(idx, one).any()
    if get_strategy(name).needs_model:
        assert learner.history_[-1].cold_start
        assert learner.history_[-1].strategy == "typicality"


@pytest.mark.parametrize("name", CLASSIFICATION, ids=_id)
def test_sparse_pool(name):
    X, y = _data()
    Xs = sp.csr_matrix(np.abs(X))
    learner = _learner(name, Xs, y)
    idx = learner.query(5)
    assert len(set(idx.tolist())) == 5 and np.isin(idx, learner.unlabelled_).all()


@pytest.mark.parametrize("name", CLASSIFICATION, ids=_id)
def test_float32_pool_picks_like_float64(name):
    """A dense float32 pool (embeddings, images) works, with and without a model, and picks
    what the same pool in float64 picks (the scores agree to float32 precision)."""
    X, y = _data()
    X32 = X.astype(np.float32)
    one = np.flatnonzero(y == 0)[:5]
    cold = ActiveLearner(_estimator(name), name, random_state=0).fit(X32, one, y[one])
    idx = cold.query(5)  # the cold start (typicality) on float32
    assert len(set(idx.tolist())) == 5 and not np.isin(idx, one).any()
    picks = {}
    for dtype in (np.float32, np.float64):
        learner = _learner(name, X32.astype(dtype), y)
        idx = learner.query(5)
        assert idx.dtype == np.int64 and len(set(idx.tolist())) == 5
        assert np.isin(idx, learner.unlabelled_).all()
        picks[dtype] = set(idx.tolist())
    assert len(picks[np.float32] & picks[np.float64]) >= 4


@pytest.mark.parametrize("name", CLASSIFICATION, ids=_id)
def test_pipeline_estimator(name):
    X, y = _data()
    pipe = make_pipeline(StandardScaler(), _estimator(name))
    learner = _learner(name, X, y, estimator=pipe)
    idx = learner.query(5)
    assert len(set(idx.tolist())) == 5 and np.isin(idx, learner.unlabelled_).all()


@pytest.mark.parametrize("name", PROBA_ONLY, ids=_id)
def test_model_without_predict_proba_is_refused_before_work(name):
    X, _y = _data()
    with pytest.raises(StrategyRequirementError, match="predict_proba"):
        ActiveLearner(SVC(), name).fit(X)


@pytest.mark.parametrize("name", NEEDS_MODEL, ids=_id)
def test_model_without_any_scores_is_refused(name):
    X, _y = _data()
    with pytest.raises(StrategyRequirementError, match="Ridge has none"):
        ActiveLearner(Ridge(), name).fit(X)


@pytest.mark.parametrize("name", UNCERTAINTY)
def test_uncertainty_picks_the_known_most_uncertain_point(name):
    # Two well separated classes on a line; the boundary is at 0 by symmetry.
    X = np.array([[-3.0], [-2.0], [2.0], [3.0], [-1.0], [0.02], [1.2], [-2.5], [2.5]])
    y = np.array([0, 0, 1, 1, 0, 0, 1, 0, 1])
    learner = ActiveLearner(LogisticRegression(), name).fit(X, [0, 1, 2, 3], y[:4])
    assert learner.query(1).tolist() == [5]
    assert learner.query(2).tolist() == [5, 4]


def test_regression_strategies_are_not_offered_to_classification_suite():
    # Guard for the parametrisation above: every strategy declares a known task.
    for name in available():
        assert get_strategy(name).task in ("classification", "regression", "multilabel", "any")


@pytest.mark.parametrize("name", CLASSIFICATION, ids=_id)
def test_select_proba_agrees_with_select(name):
    # Same picks as select under the same generator, and either None (deterministic) or one
    # selection probability in (0, 1] per pick.
    X, y = _data(n=120)
    ctx = _learner(name, X, y).context()

    def fresh():
        return ctx.__class__(**{**ctx.__dict__, "rng": np.random.default_rng(5)})

    a = get_strategy(name).select(fresh(), 6)
    b, p = get_strategy(name).select_proba(fresh(), 6)
    assert a.tolist() == b.tolist()
    assert p is None or (p.shape == (6,) and ((p > 0) & (p <= 1)).all())
