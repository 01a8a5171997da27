"""The app shows labels and the cross-validated recall of every class (a rare class shows)."""

from __future__ import annotations

import itertools

import numpy as np
from fastapi.testclient import TestClient

from activelab.app.api import ProgressOut, create_app
from activelab.app.ingest import read_items
from activelab.app.project import create_project, open_project
from activelab.app.service import LabellingService
from activelab.app.training import train


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
