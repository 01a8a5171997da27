"""The conformance suite for multi-label strategies.

Every registered strategy of task "multilabel" or "any" goes through the same
checks as the classification suite, on a small multi-label problem with a
one-vs-rest logistic regression.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_multilabel_classification
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from activelab import ActiveLearner, StrategyRequirementError
from activelab.strategies import available, get_strategy

MULTILABEL = [s for s in available() if get_strategy(s).task in ("multilabel", "any")]
ML_ONLY = [s for s in available() if get_strategy(s).task == "multilabel"]
PROBA_ONLY = [
    s
    for s in MULTILABEL
    if any(
        (r if isinstance(r, tuple) else (r,)) == ("predict_proba",)
        for r in get_strategy(s).requires
    )
]


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # Tiny fits: a second BLAS thread only adds contention (20x slower on a busy 2-core box).
    with threadpool_limits(1):
        yield


def _data(seed: int = 0, n: int = 150):
    X, Y = make_multilabel_classification(
        n_samples=n, n_features=6, n_classes=4, n_labels=2, random_state=seed
    )
    return X.astype(float), Y


def _ovr():
    return OneVsRestClassifier(LogisticRegression(max_iter=500))


def _learner(name, X, Y, n_init=15, seed=0, estimator=None):
    est = estimator if estimator is not None else _ovr()
    learner = ActiveLearner(est, name, random_state=seed, cold_start="random", classes=Y.shape[1])
    init = np.random.default_rng(seed).choice(len(Y), n_init, replace=False)
    return learner.fit(X, init, Y[init])


def test_the_suite_covers_every_multilabel_strategy():
    assert {"binmin", "mean_entropy", "max_entropy", "mmc", "adaptive_ml"} <= set(ML_ONLY)
    assert "random" in MULTILABEL


@pytest.mark.parametrize("name", MULTILABEL)
@pytest.mark.parametrize("n", [1, 7])
def test_returns_n_unique_unlabelled_indices(name, n):
    X, Y = _data()
    learner = _learner(name, X, Y)
    idx = learner.query(n)
    assert idx.dtype == np.int64 and idx.shape == (n,)
    assert len(set(idx.tolist())) == n
    assert np.isin(idx, learner.unlabelled_).all()
    assert learner.history_[-1].strategy == name and not learner.history_[-1].cold_start


@pytest.mark.parametrize("name", MULTILABEL)
def test_repeats_exactly_under_a_seed(name):
    X, Y = _data()
    runs = []
    for _ in range(2):
        learner = _learner(name, X, Y, seed=3)
        picks = []
        for _ in range(3):
            idx = learner.query(4)
            learner.teach(idx, Y[idx])
            picks.append(idx.tolist())
        runs.append(picks)
    assert runs[0] == runs[1]


@pytest.mark.parametrize("name", MULTILABEL)
def test_n_larger_than_candidates_is_a_clear_error(name):
    X, Y = _data(n=30)
    learner = _learner(name, X, Y, n_init=25)
    with pytest.raises(ValueError, match="only 5 unlabelled candidates remain"):
        learner.query(6)
    assert learner.n_labelled_ == 25


@pytest.mark.parametrize("name", MULTILABEL)
def test_n_zero_is_empty(name):
    X, Y = _data()
    assert _learner(name, X, Y).query(0).shape == (0,)


@pytest.mark.parametrize("name", MULTILABEL)
def test_sparse_pool(name):
    X, Y = _data()
    learner = _learner(name, sp.csr_matrix(X), Y)
    idx = learner.query(5)
    assert len(set(idx.tolist())) == 5 and np.isin(idx, learner.unlabelled_).all()


@pytest.mark.parametrize("name", MULTILABEL)
def test_pipeline_estimator(name):
    X, Y = _data()
    pipe = make_pipeline(StandardScaler(), _ovr())
    learner = _learner(name, X, Y, estimator=pipe)
    idx = learner.query(5)
    assert len(set(idx.tolist())) == 5 and np.isin(idx, learner.unlabelled_).all()


@pytest.mark.parametrize("name", MULTILABEL)
def test_no_label_seen_both_ways_falls_back_to_cold_start(name):
    X, Y = _data()
    Y = Y.copy()
    Y[:5] = [1, 0, 1, 0]  # every column constant over the first five
    learner = ActiveLearner(_ovr(), name, random_state=0, classes=4).fit(X, np.arange(5), Y[:5])
    assert learner.model_ is None
    idx = learner.query(5)
    assert len(set(idx.tolist())) == 5 and not np.isin(idx, np.arange(5)).any()
    if get_strategy(name).needs_model:
        assert learner.history_[-1].cold_start
        assert learner.history_[-1].strategy == "typicality"


@pytest.mark.parametrize("name", PROBA_ONLY)
def test_model_without_predict_proba_is_refused_before_work(name):
    X, _Y = _data()
    with pytest.raises(StrategyRequirementError, match="predict_proba"):
        ActiveLearner(OneVsRestClassifier(LinearSVC()), name, classes=4).fit(X)


@pytest.mark.parametrize("name", ML_ONLY)
def test_refused_for_single_label_targets(name):
    X, Y = _data()
    learner = ActiveLearner(LogisticRegression(), name, random_state=0).fit(X)
    with pytest.raises(ValueError, match="is for multilabel targets but this learner has single"):
        learner.teach(np.arange(10), Y[:10, 0]).query(2)


@pytest.mark.parametrize("name", MULTILABEL)
def test_float32_pool(name):
    """A dense float32 pool works, from the cold start on."""
    X, Y = _data()
    learner = _learner(name, X.astype(np.float32), Y)
    idx = learner.query(5)
    assert len(set(idx.tolist())) == 5 and np.isin(idx, learner.unlabelled_).all()
