"""LURE weights: unbiased on a constructed pool, clear errors, bias-corrected training."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from activelab import ActiveLearner
from activelab.strategies import Explore
from activelab.strategies.stochastic import sequential_probabilities
from activelab.weighting import (
    UnknownProbabilityError,
    estimate_accuracy,
    lure_estimate,
    lure_weights,
)


def test_lure_is_unbiased_where_the_naive_mean_is_not():
    # A pool of 60 items whose loss is high exactly where the acquisition
    # prefers to sample; 10 items drawn sequentially without replacement.
    rng = np.random.default_rng(0)
    N, M = 60, 10
    score = rng.normal(size=N)
    losses = (score + 0.5 * rng.normal(size=N) > 0.8).astype(float)
    true_risk = losses.mean()
    w = np.exp(1.5 * score)
    lure, naive = [], []
    for _ in range(6000):
        keys = np.log(w) + rng.gumbel(size=N)
        picked = np.argsort(-keys)[:M]
        q = sequential_probabilities(w, picked)
        lure.append(np.mean(lure_weights(q, N) * losses[picked]))
        naive.append(losses[picked].mean())
    se = np.std(lure) / np.sqrt(len(lure))
    assert abs(np.mean(lure) - true_risk) < 4 * se
    assert np.mean(naive) - true_risk > 0.15  # the naive mean is far off


def test_uniform_draws_have_unit_weights_and_wilson_interval_contains_estimate():
    q = 1.0 / (20 - np.arange(8))
    assert np.allclose(lure_weights(q, 20), 1.0)
    est, lo, hi, n_eff = lure_estimate(np.zeros(8), q, 20, level=0.9)
    assert est == 0.0 and lo == 0.0 and 0.0 < hi < 0.4 and n_eff == pytest.approx(8)


def test_unknown_probabilities_say_how_to_fix():
    with pytest.raises(UnknownProbabilityError, match="stochastic acquisition"):
        lure_weights([0.1, np.nan], 10)
    X = np.random.default_rng(0).normal(size=(80, 2))
    y = (X[:, 0] > 0).astype(int)
    learner = ActiveLearner(LogisticRegression(), "margin", random_state=0).fit(X)
    for _ in range(3):
        idx = learner.query(5)
        learner.teach(idx, y[idx])
    with pytest.raises(UnknownProbabilityError, match="'auto'"):
        estimate_accuracy(learner)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        learner.teach([70], [y[70]], probabilities=[0.0])


def test_estimate_accuracy_beside_naive():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 2))
    y = (X[:, 0] + 0.3 * rng.normal(size=300) > 0).astype(int)
    learner = ActiveLearner(
        LogisticRegression(), Explore("margin", share=0.5), cold_start="random", random_state=0
    )
    learner.fit(X)
    for _ in range(8):
        idx = learner.query(6)
        learner.teach(idx, y[idx])
    e = estimate_accuracy(learner, level=0.9)
    assert e.low <= min(max(e.estimate, 0), 1) <= e.high and e.n_labels == 48
    assert 0 < e.n_effective <= 48
    assert set(e.to_dict()) >= {"estimate", "low", "high", "naive", "method"}


class _Recorder(LogisticRegression):
    seen: list = []  # noqa: RUF012

    def fit(self, X, y, sample_weight=None):
        _Recorder.seen.append(sample_weight)
        return super().fit(X, y, sample_weight=sample_weight)


def test_lure_training_weights_are_passed_or_warned():
    X = np.random.default_rng(2).normal(size=(100, 2))
    y = (X[:, 1] > 0).astype(int)
    _Recorder.seen = []
    learner = ActiveLearner(_Recorder(), "random", random_state=0, weighting="lure").fit(X)
    for _ in range(3):
        idx = learner.query(5)
        learner.teach(idx, y[idx])
    w = _Recorder.seen[-1]
    assert w is not None and w.shape == (15,) and np.allclose(w, 1.0)  # uniform: unit weights
    learner = ActiveLearner(LogisticRegression(), "margin", random_state=0, weighting="lure")
    with pytest.warns(UserWarning, match=r"no recorded selection probability.*probabilities="):
        learner.fit(X, np.arange(6), y[:6])  # the fix for the initial set is named
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        idx = learner.query(3)
        learner.teach(idx, y[idx])
    assert any("weighting='lure' ignored" in str(c.message) for c in caught)
    with pytest.raises(ValueError, match="weighting"):
        ActiveLearner(LogisticRegression(), weighting="ipw").fit(X)


def test_self_normalised_estimate_divides_by_the_sum_of_the_weights():
    q = np.array([0.5, 0.05, 0.2, 0.3])
    losses = np.array([1.0, 0.0, 1.0, 0.0])
    v = lure_weights(q, 10)
    est, lo, hi, _ = lure_estimate(losses, q, 10)
    assert est == pytest.approx(np.sum(v * losses) / v.sum())
    plain, *_ = lure_estimate(losses, q, 10, self_normalized=False)
    assert plain == pytest.approx(np.mean(v * losses))
    assert est != pytest.approx(plain)  # these weights do not average 1
    assert lo <= est <= hi


def test_cross_fitting_takes_seed_none_and_refuses_one_fold():
    from activelab.weighting import cross_fitted_predictions

    X = np.r_[np.zeros((5, 1)), np.ones((5, 1))]
    y = np.r_[np.zeros(5, int), np.ones(5, int)]
    pred = cross_fitted_predictions(LogisticRegression(), X, y, seed=None)  # was a TypeError
    assert pred.tolist() == y.tolist()
    with pytest.raises(ValueError, match="cv must be a whole number >= 2, got 1"):
        cross_fitted_predictions(LogisticRegression(), X, y, cv=1)  # ran 2 folds silently


def test_lure_weights_reach_the_estimator_a_grid_search_tunes():
    from sklearn.model_selection import GridSearchCV
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.random.default_rng(2).normal(size=(60, 2))
    y = (X[:, 1] > 0).astype(int)
    _Recorder.seen = []
    search = GridSearchCV(
        make_pipeline(StandardScaler(), _Recorder()), {"_recorder__C": [1.0]}, cv=2
    )
    learner = ActiveLearner(search, "random", random_state=0, weighting="lure").fit(X)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="weighting=")
        for _ in range(2):
            idx = learner.query(10)
            learner.teach(idx, y[idx])
    assert _Recorder.seen and all(w is not None for w in _Recorder.seen)
    assert _Recorder.seen[-1].shape == (20,)  # the refit on every label
    search = GridSearchCV(KNeighborsClassifier(), {"n_neighbors": [1]}, cv=2)
    learner = ActiveLearner(search, "random", random_state=0, weighting="lure").fit(X)
    idx = learner.query(6)
    with pytest.warns(UserWarning, match=r"KNeighborsClassifier.fit \(searched over by GridSearch"):
        learner.teach(idx, np.r_[0, 1, 0, 1, 0, 1])


def test_lure_weights_reach_a_pipeline_under_metadata_routing():
    import sklearn
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from activelab.weighting import sample_weight_param

    X = np.random.default_rng(2).normal(size=(60, 2))
    y = (X[:, 1] > 0).astype(int)
    with sklearn.config_context(enable_metadata_routing=True):
        plain = make_pipeline(StandardScaler(), LogisticRegression())
        assert sample_weight_param(plain) is None  # Pipeline.fit refused the step's keyword
        learner = ActiveLearner(plain, "random", random_state=0, weighting="lure").fit(X)
        idx = learner.query(6)
        with pytest.warns(UserWarning, match=r"no estimator inside Pipeline requests sample_w"):
            learner.teach(idx, np.r_[0, 1, 0, 1, 0, 1])
        _Recorder.seen = []
        asked = make_pipeline(
            StandardScaler().set_fit_request(sample_weight=False),
            _Recorder().set_fit_request(sample_weight=True),
        )
        assert sample_weight_param(asked) == "sample_weight"
        learner = ActiveLearner(asked, "random", random_state=0, weighting="lure").fit(X)
        idx = learner.query(10)
        learner.teach(idx, y[idx])
    assert _Recorder.seen[-1].shape == (10,)
