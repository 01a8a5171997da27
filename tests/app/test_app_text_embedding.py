"""A text project featurised by the all-MiniLM-L6-v2 sentence embedding (loads the real model)."""

from __future__ import annotations

import pickle
from pathlib import Path

import joblib
import numpy as np
from click.testing import CliRunner

from activelab.app.project import open_project
from activelab.app.service import LabellingService
from activelab.cli import main

REVIEWS = Path(__file__).resolve().parents[2] / "examples" / "reviews.csv"


def test_init_with_minilm_embeds_once_and_trains(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ACTIVELAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("ACTIVELAB_TEXT_FEATURES", raising=False)  # auto would do too
    proj = tmp_path / "reviews"
    args = ["init", str(proj), "--data", str(REVIEWS), "--labels", "positive,negative"]
    r = CliRunner().invoke(main, [*args, "--text-features", "minilm"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "60 text items" in r.output and "features minilm (384)" in r.output
    # computed once at init, cached on disk by content
    assert any((tmp_path / "cache" / "embeddings").glob("*.npz"))
    store = open_project(proj)
    try:
        assert store.settings["featuriser"] == "minilm"
        assert store.settings["n_features"] == 384
        X = store.load_features()
        assert isinstance(X, np.ndarray) and X.shape == (60, 384) and X.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-4)
        svc = LabellingService(store)
        ada = store.add_annotator("ada")[0]
        for k in range(8):  # the reviews alternate positive, negative
            item = svc.next_item(ada)
            n = int(item.external_id.lstrip("r"))
            svc.answer(ada, item.id, "positive" if n % 2 else "negative", request_id=f"q{k}")
        result = svc.retrain()
        assert result.n_labels == 8 and result.model is not None
        nxt = svc.next_item(ada)
        assert nxt is not None and nxt.id not in store.current_labels()
        # the stored featuriser embeds raw strings like the pool was embedded
        feat = pickle.loads(store.artifact("featuriser"))
        again = feat.transform([svc.view(0).content["text"]])
        assert feat.n_cache_hits_ == 1
        np.testing.assert_array_equal(again[0], X[0])
    finally:
        store.close()
    # `activelab model`: embedder + classifier, predicting from raw strings
    r = CliRunner().invoke(main, ["model", str(proj), "--out", str(tmp_path / "m.joblib")])
    assert r.exit_code == 0 and "raw texts" in r.output, r.output
    model = joblib.load(tmp_path / "m.joblib")
    assert set(model.predict(["friendly staff", "broken and dirty"])) <= {"positive", "negative"}


def test_minilm_without_its_packages_is_a_clear_error(tmp_path, monkeypatch) -> None:
    import activelab.data.features as features

    def missing() -> None:
        raise features.MissingTextModelError(f"not installed; {features.INSTALL_HINT}")

    monkeypatch.setattr(features, "_import_backend", missing)
    proj = tmp_path / "p"
    args = ["init", str(proj), "--data", str(REVIEWS), "--labels", "a,b", "--text-features"]
    r = CliRunner().invoke(main, [*args, "minilm"])
    assert r.exit_code != 0 and "pip install 'activelab[text]'" in r.output, r.output
    assert "--text-features tfidf" in r.output and not proj.exists()
    monkeypatch.setenv("ACTIVELAB_TEXT_FEATURES", "bert")
    r = CliRunner().invoke(main, args[:-1])
    assert r.exit_code != 0 and "'bert' (from $ACTIVELAB_TEXT_FEATURES)" in r.output, r.output


def test_model_fine_tune_tunes_the_encoder_on_the_final_labels(tmp_path, monkeypatch) -> None:
    """`activelab model --fine-tune`: a FineTunedTextClassifier fitted on the project's texts
    and final labels, saved for raw strings; clear errors where it cannot apply."""
    from activelab.models.finetune import FineTunedTextClassifier

    monkeypatch.setenv("ACTIVELAB_CACHE", str(tmp_path / "cache"))
    proj = tmp_path / "reviews"
    args = ["init", str(proj), "--data", str(REVIEWS), "--labels", "positive,negative"]
    r = CliRunner().invoke(main, [*args, "--text-features", "tfidf"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    out = str(tmp_path / "tuned.joblib")
    store = open_project(proj)
    try:
        svc = LabellingService(store)
        ada = store.add_annotator("ada")[0]
        item = svc.next_item(ada)
        svc.answer(ada, item.id, "positive", request_id="q0")
    finally:
        store.close()
    r = CliRunner().invoke(main, ["model", str(proj), "--out", out, "--fine-tune"])
    assert r.exit_code != 0 and "labels of 1 class(es)" in r.output, r.output
    store = open_project(proj)
    try:
        svc = LabellingService(store)
        ada = store.annotator_by_name("ada")
        for k in range(1, 12):  # the reviews alternate positive, negative
            item = svc.next_item(ada)
            n = int(item.external_id.lstrip("r"))
            svc.answer(ada, item.id, "positive" if n % 2 else "negative", request_id=f"q{k}")
        texts = {c["text"] for c in store.item_contents(sorted(store.current_labels()))}
    finally:
        store.close()
    r = CliRunner().invoke(main, ["model", str(proj), "--out", out, "--fine-tune"])
    assert r.exit_code == 0, r.output
    assert "fine-tuned text model (12 labels" in r.output and "raw texts" in r.output
    model = joblib.load(out)
    assert isinstance(model, FineTunedTextClassifier)
    assert model.n_pairs_ == 12 * 5 * 2 and len(texts) == 12
    assert set(model.predict(["friendly staff", "broken and dirty"])) <= {"positive", "negative"}
    # without the text extra: the pip command, no traceback
    import activelab.data.features as features

    def missing() -> None:
        raise features.MissingTextModelError(f"not installed; {features.INSTALL_HINT}")

    with monkeypatch.context() as m:
        m.setattr(features, "_import_backend", missing)
        m.setattr(features, "_MODELS", {})
        r = CliRunner().invoke(main, ["model", str(proj), "--out", out, "--fine-tune"])
    assert r.exit_code == 1 and "pip install 'activelab[text]'" in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    # a table project has no texts to tune an encoder on
    table = tmp_path / "table.csv"
    table.write_text("id,a,b\n" + "".join(f"{i},{i % 3},{i % 5}\n" for i in range(20)))
    r = CliRunner().invoke(
        main, ["init", str(tmp_path / "t"), "--data", str(table), "--labels", "x,y"]
    )
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["model", str(tmp_path / "t"), "--out", out, "--fine-tune"])
    assert r.exit_code != 0 and "needs a single-label text project" in r.output, r.output
    assert "Traceback" not in r.output
