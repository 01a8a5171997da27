"""Model predictions in exports: the latest model version, every item, apart from the labels."""

from __future__ import annotations

import io
import json

import joblib
import numpy as np
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

from activelab.app.predictions import latest_predictions
from activelab.app.project import CONFIG_NAME
from activelab.app.store import Store
from activelab.cli import main


def _model_bytes(model) -> bytes:
    buf = io.BytesIO()
    joblib.dump(model, buf)
    return buf.getvalue()


def test_the_latest_model_predicts_every_item_and_aggregated_labels_stay(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = Store.create(url, {"labels": ["neg", "pos"], "overlap": 2, "name": "p"})
    X = np.r_[np.zeros((3, 2)), np.ones((3, 2))] + np.arange(6)[:, None] * 0.01
    store.add_items(
        [{"external_id": f"i{i}", "kind": "text", "content": {"text": str(i)}} for i in range(6)]
    )
    store.save_features(X)
    ada, bob = store.add_annotator("ada")[0], store.add_annotator("bob")[0]
    for i, (a, b) in enumerate([("neg", "neg"), ("pos", "neg"), ("pos", "pos")]):
        store.append_event(i * 2, ada.id, "label", label=a)
        store.append_event(i * 2, bob.id, "label", label=b)
    old = LogisticRegression().fit(X, ["pos", "pos", "pos", "neg", "neg", "neg"])  # inverted
    new = LogisticRegression().fit(X, ["neg", "neg", "neg", "pos", "pos", "pos"])
    for model in (old, new):
        store.save_model_version(
            n_labels=3, last_event_id=6, strategy="margin", metrics={}, model=_model_bytes(model)
        )
    pred = latest_predictions(store)
    assert pred is not None and pred.version == 2 and pred.source == "model v2"
    assert pred.labels == new.predict(X).tolist()
    np.testing.assert_allclose(pred.proba, new.predict_proba(X).max(axis=1))
    store.close()
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / CONFIG_NAME).write_text(json.dumps({"db": url}))
    runner = CliRunner()
    plain = runner.invoke(main, ["export", str(tmp_path / "proj"), "--format", "jsonl"]).output
    human = {d["id"]: d for d in map(json.loads, plain.splitlines())}
    r = runner.invoke(
        main, ["export", str(tmp_path / "proj"), "--format", "jsonl", "--with-predictions"]
    )
    assert r.exit_code == 0, r.output
    docs = [json.loads(x) for x in r.output.splitlines()]
    assert [d["id"] for d in docs] == [f"i{i}" for i in range(6)]
    for d in docs:
        if d["id"] in human:  # the aggregated human columns, exactly as the plain export
            assert {k: d[k] for k in human[d["id"]]} == human[d["id"]]
        else:
            assert d["label"] is None and d["n_answers"] is None
        assert d["prediction_source"] == "model v2"
    assert [d["predicted_label"] for d in docs] == new.predict(X).tolist()
    # the human answers stay even where the model disagrees (item i2: ada pos, bob neg)
    assert next(d for d in docs if d["id"] == "i2")["label"] == human["i2"]["label"]
