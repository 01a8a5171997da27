"""The app's trainer learns from soft labels: a disputed item becomes weighted rows (one per
plausible class), while a project with one answer per item trains exactly as before."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from activelab.annotators.aggregate import SOFT_MIN_WEIGHT
from activelab.app.service import LabellingService
from activelab.app.store import Store
from activelab.app.training import train

NAMES = np.array(["setosa", "versicolor", "virginica"])


def _iris() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    idx = np.r_[0:5, 50:55, 100:105]
    return X, y, idx


def test_a_disputed_item_contributes_weighted_rows_and_moves_the_model() -> None:
    X, y, idx = _iris()
    soft = np.eye(3)[y[idx]]
    soft[5] = [0.0, 0.6, 0.4]  # item 50: versicolor 0.6, virginica 0.4
    kw = {"classes": list(NAMES), "strategy": "margin", "seed": 0, "semi_supervised": None}
    hard = train(X, idx, NAMES[y[idx]], **kw)
    got = train(X, idx, NAMES[y[idx]], soft_labels=soft, **kw)
    assert got.metrics["soft_labels"] == {"items": 15, "rows": 16, "split_items": 1}
    # the same model as a weighted fit on the soft rows
    rows = np.r_[idx[:6], 50, idx[6:]]  # item by item, its classes in order
    cls = np.concatenate([NAMES[y[idx[:5]]], ["versicolor", "virginica"], NAMES[y[idx[6:]]]])
    w = np.ones(16)
    w[5], w[6] = 0.6, 0.4
    ref = LogisticRegression(max_iter=1000).fit(X[rows], cls, sample_weight=w)
    np.testing.assert_allclose(got.model.coef_, ref.coef_, rtol=1e-5, atol=1e-6)
    assert not np.allclose(got.model.coef_, hard.model.coef_)
    # the doubt shows: item 50 is less sure of versicolor than under the hard label
    p_soft = got.model.predict_proba(X[[50]])[0, 1]
    p_hard = hard.model.predict_proba(X[[50]])[0, 1]
    assert p_soft < p_hard
    # a class under min_weight gets no row
    faint = soft.copy()
    faint[5] = [0.0, 1 - SOFT_MIN_WEIGHT / 2, SOFT_MIN_WEIGHT / 2]
    assert "soft_labels" not in train(X, idx, NAMES[y[idx]], soft_labels=faint, **kw).metrics


def test_one_hot_soft_labels_train_exactly_as_hard_labels() -> None:
    X, y, idx = _iris()
    kw = {"classes": list(NAMES), "strategy": "margin", "seed": 3}
    hard = train(X, idx, NAMES[y[idx]], **kw)  # default: pool-aware ("auto")
    same = train(X, idx, NAMES[y[idx]], soft_labels=np.eye(3)[y[idx]], **kw)
    assert "soft_labels" not in same.metrics
    np.testing.assert_array_equal(hard.order, same.order)
    np.testing.assert_array_equal(hard.model.predict_proba(X), same.model.predict_proba(X))


def test_pool_aware_model_gets_a_soft_supervised_part() -> None:
    X, y, idx = _iris()
    soft = np.eye(3)[y[idx]]
    soft[5] = [0.0, 0.5, 0.5]
    got = train(
        X, idx, NAMES[y[idx]], classes=list(NAMES), strategy="margin", seed=0, soft_labels=soft
    )
    model = got.model
    assert hasattr(model, "supervised_")  # a HybridClassifier
    assert got.metrics["soft_labels"]["split_items"] == 1
    w = np.ones(16)
    w[5] = w[6] = 0.5
    rows = np.r_[idx[:6], 50, idx[6:]]
    cls = np.concatenate([NAMES[y[idx[:5]]], ["versicolor", "virginica"], NAMES[y[idx[6:]]]])
    ref = LogisticRegression(max_iter=1000).fit(X[rows], cls, sample_weight=w)
    np.testing.assert_allclose(model.supervised_.coef_, ref.coef_, rtol=1e-5, atol=1e-6)


def _store(**settings) -> Store:
    store = Store.create("sqlite://", {"labels": ["neg", "pos"], "strategy": "margin", **settings})
    store.add_items(
        [
            {"external_id": f"i{i}", "kind": "table", "content": {"fields": {"x": i}}}
            for i in range(30)
        ]
    )
    store.save_features(np.c_[np.arange(30, dtype=float), np.sin(np.arange(30))])
    return store


def test_single_answer_project_trains_exactly_as_before() -> None:
    store = _store()
    ada, _ = store.add_annotator("ada")
    for i in range(0, 30, 3):
        store.append_event(i, ada.id, "label", label="neg" if i < 15 else "pos")
    result = LabellingService(store).retrain()
    assert "soft_labels" not in result.metrics
    idx = np.arange(0, 30, 3)
    ref = train(
        store.load_features(),
        idx,
        np.where(idx < 15, "neg", "pos"),
        classes=["neg", "pos"],
        strategy="margin",
        seed=store.last_event_id(),
    )
    X = store.load_features()
    np.testing.assert_array_equal(result.order, ref.order)
    np.testing.assert_array_equal(result.model.predict_proba(X), ref.model.predict_proba(X))


def test_disagreeing_answers_reach_the_app_model_as_soft_rows() -> None:
    store = _store(overlap=2)
    ada, _ = store.add_annotator("ada")
    bob, _ = store.add_annotator("bob")
    for i in range(0, 30, 3):
        truth = "neg" if i < 15 else "pos"
        store.append_event(i, ada.id, "label", label=truth)
        other = ("pos" if truth == "neg" else "neg") if i in (12, 15) else truth
        store.append_event(i, bob.id, "label", label=other)
    result = LabellingService(store).retrain()
    soft = result.metrics["soft_labels"]
    assert soft["split_items"] == 2 and soft["rows"] == soft["items"] + 2
    # the latest answer as training label: no soft rows
    store.update_settings(aggregate="latest")
    assert "soft_labels" not in LabellingService(store).retrain().metrics
