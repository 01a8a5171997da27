"""The app shows labels and the cross-validated recall of every class (a rare class shows)."""

from __future__ import annotations

import itertools

import numpy as np
from fastapi.testclient import TestClient

from activelab.app.api import ProgressOut, create_app
from activelab.app.ingest import read_items
from activelab.app.project import create_project, open_project
from activelab.app.service import LabellingService
from activelab.app.training import stopping_text, train


def test_training_reports_recall_per_class_and_balanced_accuracy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = np.where(X[:, 0] > 1.5, "fraud", "ok")
    idx = np.r_[np.flatnonzero(y == "fraud")[:6], np.flatnonzero(y == "ok")[:40]]
    r = train(X, idx, y[idx], classes=["fraud", "ok"], strategy="margin", seed=0)
    acc = r.metrics["accuracy"]
    assert r.metrics["class_counts"] == {"fraud": 6, "ok": 40}
    assert set(acc["recall"]) == {"fraud", "ok"}
    assert 0.0 <= acc["recall"]["fraud"] <= 1.0
    assert acc["balanced_accuracy"] == (acc["recall"]["fraud"] + acc["recall"]["ok"]) / 2


def test_a_class_under_ten_percent_of_the_labels_gets_balanced_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = np.where(X[:, 0] > 1.6, "fraud", "ok")
    rare = np.r_[np.flatnonzero(y == "fraud")[:4], np.flatnonzero(y == "ok")[:60]]
    even = np.r_[np.flatnonzero(y == "fraud")[:10], np.flatnonzero(y == "ok")[:20]]
    cases = [(rare, "balanced"), (even, None)]
    for (idx, weight), semi in itertools.product(cases, (None, "auto")):
        r = train(
            X, idx, y[idx], classes=["fraud", "ok"], strategy="margin", seed=0, semi_supervised=semi
        )
        model = getattr(r.model, "supervised_", r.model)  # the hybrid's classifier
        assert r.metrics["class_weight"] == weight and model.class_weight == weight


def test_progress_carries_class_counts_and_recall(tmp_path):
    assert {"class_counts", "class_recall", "balanced_accuracy"} <= set(ProgressOut.model_fields)
    csv = tmp_path / "items.csv"
    rows = ["id,text"] + [
        f"t{i},{'great lovely' if i % 2 else 'awful broken'} {i}" for i in range(30)
    ]
    csv.write_text("\n".join(rows) + "\n")
    path = create_project(tmp_path / "proj", read_items(csv), ["good", "bad"])
    store = open_project(path)
    _, token = store.add_annotator("ada")
    service = LabellingService(store, retrain_every=2)
    with TestClient(create_app(service, run_trainer=False)) as client:
        head = {"Authorization": f"Bearer {token}"}
        for _ in range(8):
            item = client.get("/api/next", headers=head).json()["item"]
            label = "good" if "great" in item["text"] else "bad"
            client.post("/api/answer", headers=head, json={"item_id": item["id"], "label": label})
        service.retrain()
        p = client.get("/api/progress", headers=head).json()
    store.close()
    assert sum(p["class_counts"].values()) == 8
    assert set(p["class_recall"]) == {"good", "bad"}


def _claims_project(tmp_path, strategy="positive_seeking"):
    """A table of 600 claims: 'ok' in a blob, 'fraud' and 'chargeback' (5 % each) apart.

    The first 40 rows come labelled (given in the file), holding both rare classes.
    """
    rng = np.random.default_rng(0)
    truth = np.array(["ok"] * 540 + ["fraud"] * 30 + ["chargeback"] * 30)
    rng.shuffle(truth)
    head = np.r_[np.flatnonzero(truth == "ok")[:34], np.flatnonzero(truth == "fraud")[:3]]
    head = np.r_[head, np.flatnonzero(truth == "chargeback")[:3]]
    order = np.r_[head, np.setdiff1d(np.arange(600), head)]
    truth = truth[order]
    X = rng.normal(size=(600, 2))
    X[truth == "fraud"] += [5.0, 0.0]
    X[truth == "chargeback"] += [0.0, 5.0]
    lines = ["id,x0,x1,label"] + [
        f"c{i},{a:.4f},{b:.4f},{truth[i] if i < 40 else ''}" for i, (a, b) in enumerate(X)
    ]
    csv = tmp_path / "claims.csv"
    csv.write_text("\n".join(lines) + "\n")
    data = read_items(csv, id_column="id", label_column="label")
    path = create_project(tmp_path / "proj", data, ["ok", "fraud", "chargeback"], strategy=strategy)
    return path, truth


def test_a_rare_class_strategy_keeps_its_target_across_retrains_and_restarts(tmp_path):
    # the app built the strategy anew at every retrain, so a strategy without a positive
    # label chose its target afresh from each round's estimates: fraud and chargeback, at
    # 5 % each, took turns, and the queue's head went from one class to the other
    path, truth = _claims_project(tmp_path)
    store = open_project(path)
    service = LabellingService(store, retrain_every=10_000)
    first = service.retrain().metrics["rare_target"]
    other = "chargeback" if first == "fraud" else "fraud"
    service._metrics["rare_target"] = other  # as if an earlier round had chosen the other
    result = service.retrain()
    assert result.metrics["rare_target"] == other
    assert np.mean(truth[result.order[:20]] == other) >= 0.8  # and the queue seeks it
    store.close()
    store = open_project(path)  # a restart: the stored model version carries the target
    service = LabellingService(store, retrain_every=10_000)
    assert service.retrain().metrics["rare_target"] == other
    store.close()


def test_a_strategy_without_a_target_records_none(tmp_path):
    path, _ = _claims_project(tmp_path, strategy="margin")
    store = open_project(path)
    assert "rare_target" not in LabellingService(store, retrain_every=10_000).retrain().metrics
    store.close()


def test_the_stopping_read_out_reports_the_rare_class_found_and_its_recall():
    # the stopping criteria watch the model as a whole: both could fire while the model
    # missed most of the fraud, and the read-out said nothing of it
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3))
    y = np.where(X[:, 0] > 1.8, "fraud", "ok")
    idx = np.r_[np.flatnonzero(y == "fraud")[:5], np.flatnonzero(y == "ok")[:60]]
    r = train(X, idx, y[idx], classes=["fraud", "ok"], strategy="margin", seed=0)
    rare = r.metrics["stopping"]["rare_class"]
    assert rare == {
        "label": "fraud",
        "found": 5,
        "labels": 65,
        "recall": r.metrics["accuracy"]["recall"]["fraud"],
    }
    text = stopping_text(r.metrics["stopping"])
    assert "rare class 'fraud': 5 found in 65 labels, model's recall of it" in text
    even = np.r_[np.flatnonzero(y == "fraud")[:10], np.flatnonzero(y == "ok")[:20]]
    r = train(X, even, y[even], classes=["fraud", "ok"], strategy="margin", seed=0)
    assert "rare_class" not in r.metrics["stopping"]  # no class is rare among these labels


def test_the_read_out_follows_the_class_a_rare_class_strategy_seeks(tmp_path):
    path, _ = _claims_project(tmp_path)
    store = open_project(path)
    metrics = LabellingService(store, retrain_every=10_000).retrain().metrics
    store.close()
    assert metrics["stopping"]["rare_class"]["label"] == metrics["rare_target"]
