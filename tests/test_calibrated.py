"""CalibratedClassifier: probabilities for an SVC from the first labels of a campaign on."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_digits, load_iris
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC

from activelab import ActiveLearner
from activelab.models import CalibratedClassifier
from activelab.models.imbalance import balanced, class_weight_of
from activelab.simulation import make_model


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def test_one_item_per_class_is_what_sklearn_refuses_and_this_fits(iris):
    X, y = iris
    few = [0, 50, 100]
    with pytest.raises(ValueError, match=r"less than 5 examples|n_splits=5 greater"):
        CalibratedClassifierCV(SVC(), ensemble=False).fit(X[few], y[few])
    model = CalibratedClassifier(SVC()).fit(X[few], y[few])
    P = model.predict_proba(X)
    assert model.n_folds_ == 0
    assert P.shape == (150, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert (model.predict(X[few]) == y[few]).all()


def test_folds_follow_the_smallest_class(iris):
    X, y = iris
    idx = np.r_[0:3, 50:55, 100:110]  # 3, 5 and 10 of each class
    assert CalibratedClassifier(SVC(), random_state=0).fit(X[idx], y[idx]).n_folds_ == 3
    assert CalibratedClassifier(SVC(), max_folds=2).fit(X[idx], y[idx]).n_folds_ == 2
    assert CalibratedClassifier(SVC(), random_state=0).fit(X, y).n_folds_ == 5
    with pytest.raises(ValueError, match="max_folds must be at least 2"):
        CalibratedClassifier(SVC(), max_folds=1).fit(X, y)


def test_a_single_class_gives_certainty(iris):
    X, y = iris
    model = CalibratedClassifier(SVC()).fit(X[:5], y[:5])
    assert model.calibrated_ is None
    np.testing.assert_array_equal(model.predict_proba(X[:3]), np.ones((3, 1)))
    np.testing.assert_array_equal(model.predict(X[:3]), [0, 0, 0])


def test_string_labels_and_sample_weights(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    few = [0, 1, 50, 51, 100, 101]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = CalibratedClassifier(SVC()).fit(X[few], names[few], sample_weight=np.ones(6))
        one = CalibratedClassifier(LinearSVC()).fit(
            X[[0, 50, 100]], names[[0, 50, 100]], np.ones(3)
        )
    assert list(model.classes_) == ["setosa", "versicolor", "virginica"]
    assert set(model.predict(X)) <= set(names)
    assert one.n_folds_ == 0


def test_learner_runs_a_campaign_from_one_label_per_class_without_warnings():
    X, y = load_digits(return_X_y=True)
    start = np.array([np.flatnonzero(y == c)[0] for c in range(10)])
    model = make_pipeline(StandardScaler(), CalibratedClassifier(SVC(), random_state=0))
    learner = ActiveLearner(model, "margin", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        learner.fit(X, start, y[start])
        for _ in range(3):
            picked = learner.query(10)
            learner.teach(picked, y[picked])
    assert len(learner.labels_) == 40
    labelled = learner.labelled_
    svc = make_pipeline(StandardScaler(), SVC()).fit(X[labelled], learner.labels_)
    assert learner.score(X, y) == pytest.approx(svc.score(X, y))  # the SVC predicts
    assert learner.predict_proba(X).shape == (X.shape[0], 10)


def test_the_simulators_svm_is_not_deprecated_and_takes_balanced_weights():
    model = make_model("svm", seed=3)
    assert isinstance(model[-1], CalibratedClassifier)
    assert class_weight_of(model) is None
    weighted = balanced(model)
    assert class_weight_of(weighted) == "balanced"
    assert weighted[-1].estimator.class_weight == "balanced"
    assert model[-1].estimator.class_weight is None  # the original is untouched
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        weighted.fit(X[::5], y[::5])


def _rare(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] + 0.5 * rng.normal(size=n) > 1.8).astype(int)  # about 5 %


@pytest.mark.parametrize("pipeline", [False, True])
def test_class_weights_weigh_the_calibration_too(pipeline):
    X, y = _rare(400, 0)
    Xt, yt = _rare(2000, 1)
    svc = SVC(class_weight="balanced")
    model = CalibratedClassifier(make_pipeline(StandardScaler(), svc) if pipeline else svc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.set_params(random_state=0).fit(X, y)
    rare = yt == 1
    assert (model.predict(Xt)[rare] == 1).mean() > 0.8  # the balanced SVC finds them
    # an unweighted calibration put every rare item under 0.5 (none above, mean 0.24)
    assert (model.predict_proba(Xt)[rare, 1] > 0.5).mean() > 0.8
    assert class_weight_of(model.estimator) == "balanced"  # the given model is untouched


def test_one_rare_item_keeps_the_class_weights_on_the_frozen_model():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = np.zeros(40, dtype=int)
    y[np.flatnonzero(X[:, 0] > 1.2)[0]] = 1  # one rare item: no folds
    svc = SVC(class_weight="balanced")
    model = CalibratedClassifier(svc).fit(X, y)
    assert model.n_folds_ == 0
    assert model.calibrated_.calibrated_classifiers_[0].estimator.estimator.class_weight == (
        "balanced"
    )
    rare = int(np.flatnonzero(y)[0])
    got = model.predict_proba(X[[rare, 0, 1]])[:, 1]
    assert got == pytest.approx([0.8883, 0.0141, 0.0674], abs=1e-4)
    assert svc.class_weight == "balanced"  # the given model is untouched
