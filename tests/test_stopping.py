"""Stopping criteria fire on a converged model and not on an early one."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from activelab.simulation.campaign import run_campaign, split_pool_test
from activelab.stopping import (
    Budget,
    ConfidenceCriterion,
    StabilizingPredictions,
    StoppingMonitor,
)


@pytest.fixture(scope="module")
def digits_models():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    order = np.random.default_rng(0).permutation(len(y))
    fits = {}
    for n in (20, 30, 40, 800, 820, 840, 860):
        idx = order[:n]
        fits[n] = LogisticRegression(max_iter=300).fit(X[idx], y[idx])
    return X, fits


def test_stabilizing_predictions_fire_only_when_converged(digits_models):
    X, fits = digits_models
    early = StoppingMonitor([StabilizingPredictions()], stop_set_size=500)
    fired = [early.update(fits[n], X, n) for n in (20, 30, 40)]
    assert fired == [[], [], []] and early.fired_["stabilizing_predictions"] is None
    late = StoppingMonitor([StabilizingPredictions(window=3, threshold=0.97)], stop_set_size=500)
    for n in (800, 820, 840, 860):
        late.update(fits[n], X, n)
    assert late.fired_["stabilizing_predictions"] == 860
    crit = late.criteria[0]
    assert len(crit.kappas_) == 3 and min(crit.kappas_) > 0.97


def test_confidence_and_budget(digits_models):
    X, fits = digits_models
    c = ConfidenceCriterion(threshold=0.2)
    assert not c.update(fits[20], X[:300], 20)
    assert c.update(fits[860], X[:300], 860)
    assert c.values_[1] < c.values_[0]
    assert Budget(50).update(None, None, 50) and not Budget(50).update(None, None, 49)
    with pytest.raises(ValueError, match="statistic"):
        ConfidenceCriterion(statistic="median")


def test_monitor_in_a_campaign_and_stop_set_is_fixed():
    X, y = load_digits(return_X_y=True)
    Xp, Xt, yp, yt = split_pool_test(X / 16.0, y, seed=0)
    mon = StoppingMonitor(
        [StabilizingPredictions(threshold=0.9), Budget(60)], stop_set_size=300, seed=1
    )
    r = run_campaign(
        LogisticRegression(max_iter=300),
        "margin",
        Xp,
        yp,
        Xt,
        yt,
        initial=20,
        batch_size=20,
        budget=200,
        stopping=mon,
    )
    assert r.stopping["budget"] == 60
    at = r.stopping["stabilizing_predictions"]
    assert at is not None and 80 <= at <= 200
    assert mon.stop_set_.shape == (300,)
    first = mon.stop_set_.copy()
    mon.update(None, Xp, 999)
    assert np.array_equal(first, mon.stop_set_)


def test_stabilizing_predictions_refuses_a_regressor_by_name():
    from sklearn.linear_model import Ridge

    X = np.random.default_rng(0).normal(size=(40, 2))
    model = Ridge().fit(X, X[:, 0] + 0.5)
    with pytest.raises(TypeError, match=r"Ridge predicts continuous values.*stop at a Budget"):
        StabilizingPredictions().update(model, X, 10)


def test_stabilizing_predictions_takes_multilabel_rows():
    c = StabilizingPredictions(window=1)
    a = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    b = np.array([[1, 0], [0, 1], [1, 0], [0, 0]])

    class Fixed:
        def __init__(self, rows):
            self.rows = rows

        def predict(self, X):
            return self.rows

    assert c.update(Fixed(a), None, 10) is False
    c.update(Fixed(b), None, 20)
    assert c.kappas_ == [pytest.approx(0.75)]  # 7 of 8 decisions agree


def test_confidence_reads_a_multilabel_model_per_label():
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.multioutput import MultiOutputClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    Y = (X > 0).astype(int)
    values = []
    for model in (
        MultiOutputClassifier(LogisticRegression()),
        OneVsRestClassifier(LogisticRegression()),
    ):
        c = ConfidenceCriterion()
        c.update(model.fit(X[:30], Y[:30]), X, 30)
        values.append(c.values_[0])
    # MultiOutputClassifier's list of (n, 2) arrays read as one matrix gave 0: "stop at once"
    assert values[0] == pytest.approx(values[1]) and 0.05 < values[0] < 0.5


def test_seed_none_draws_the_stop_set_from_a_fresh_seed_kept_on_the_monitor():
    mon = StoppingMonitor([Budget(40)], stop_set_size=5, seed=None)  # failed at update
    assert isinstance(mon.seed, int)
    X = np.random.default_rng(0).normal(size=(30, 2))
    model = LogisticRegression().fit(X[:10], np.arange(10) % 2)
    mon.update(model, X, 10, unlabelled=np.arange(10, 30))
    assert mon.stop_set_.shape == (5,)
    with pytest.raises(ValueError, match="seed must be a whole number"):
        StoppingMonitor(seed=1.5)
