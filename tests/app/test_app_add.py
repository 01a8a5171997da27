"""``activelab add``: a new batch of items in the project's feature space, with its labels."""

from __future__ import annotations

import io
import json
import pickle
import time
from pathlib import Path

import joblib
import numpy as np
import pytest
from click.testing import CliRunner

from activelab.app.extend import ITEM_BATCHES, extend_project, read_new_items
from activelab.app.ingest import IngestError, read_items
from activelab.app.project import create_project, open_project
from activelab.app.quality import double_share_items
from activelab.app.service import LabellingService
from activelab.app.store import Store, StoreError
from activelab.app.trainer import STATUS_ARTIFACT
from activelab.cli import main


def _invoke(*args: object) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def test_a_table_batch_is_scaled_as_the_first_and_its_labels_imported(
    tmp_path: Path, labelled_table
) -> None:
    proj = tmp_path / "p"
    first = labelled_table(["no", "yes"] + [""] * 18, name="first.csv")
    assert _invoke("init", proj, "--data", first, "--labels", "no,yes").exit_code == 0
    store = open_project(proj)
    scaler = pickle.loads(store.artifact("featuriser"))
    before = store.load_features()
    store.close()
    # the new rows: other ids, another spread (a fresh scaler would map them elsewhere)
    new = tmp_path / "new.csv"
    new.write_text("id,a,b,label\nn1,10,10,yes\nn2,-10,-10,\nn3,0,0,\n")
    r = _invoke("add", proj, "--data", new)
    assert r.exit_code == 0, r.output
    # the file's own ids, not the project's row numbers 20-22
    assert "Added 3 items to" in r.output and "(ids n1, n2, n3; 23 in all)" in r.output
    assert "Imported 1 label." in r.output
    store = open_project(proj)
    X = store.load_features()
    assert np.allclose(X[:20], before)
    assert np.allclose(X[20:], scaler.transform([[10, 10], [-10, -10], [0, 0]]))
    assert store.external_ids()[20:] == ["n1", "n2", "n3"]
    assert {i: c.label for i, c in store.current_labels().items() if i >= 20} == {20: "yes"}
    assert store.settings[ITEM_BATCHES] == [20, 3]
    svc = LabellingService(store)  # a server started now holds and ranks the new items
    assert svc.n == 23 and {21, 22} <= set(svc._order.tolist())
    store.close()


def _tfidf_project(tmp_path: Path, new: str) -> tuple[Store, Path]:
    """A TF-IDF text project of two films (one labelled), and a file of new texts."""
    first = tmp_path / "first.jsonl"
    first.write_text('{"text": "good film", "label": "pos"}\n{"text": "bad film"}\n')
    create_project(tmp_path / "p", read_items(first, text_features="tfidf"), ["pos", "neg"])
    more = tmp_path / "more.jsonl"
    more.write_text(new)
    return open_project(tmp_path / "p"), more


def test_texts_go_through_the_projects_tfidf_and_numbering_goes_on(tmp_path: Path) -> None:
    new = '{"text": "a bad plot"}\n{"text": "wholly unseen words"}\n'
    store, more = _tfidf_project(tmp_path, new)
    vocabulary = pickle.loads(store.artifact("featuriser")).vocabulary_
    data = read_new_items(store, more)
    assert data.X.shape[1] == len(vocabulary)  # the project's vocabulary, not a new one
    assert data.X[1].nnz == 0  # no word of it is in that vocabulary
    assert extend_project(store, data) == (2, 2, 0, 0)
    assert store.external_ids() == ["1", "2", "3", "4"]  # row numbers go on
    store.close()


def test_tool_files_without_ids_are_numbered_on_and_exported_with_the_new_ids(
    tmp_path: Path,
) -> None:
    # Label Studio tasks without "id" and Parquet files without an id column number their
    # items 1, 2, ...: a second batch of the same shape is numbered on, as a CSV's rows are
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    first = tmp_path / "first.json"
    first.write_text(json.dumps([{"data": {"text": "good film"}}, {"data": {"text": "bad"}}]))
    create_project(tmp_path / "p", read_items(first, text_features="tfidf"), ["pos", "neg"])
    store = open_project(tmp_path / "p")
    assert store.settings["id_column"] is None
    more = tmp_path / "more.json"
    more.write_text(json.dumps([{"data": {"text": "dull plot"}}, {"data": {"text": "fine"}}]))
    assert extend_project(store, read_new_items(store, more))[:2] == (2, 2)
    table = pa.table({"text": ["great cast", "awful sound"], "label": ["pos", None]})
    pq.write_table(table, tmp_path / "more.parquet")
    assert extend_project(store, read_new_items(store, tmp_path / "more.parquet")) == (4, 2, 1, 0)
    assert store.external_ids() == ["1", "2", "3", "4", "5", "6"]
    assert store.item(4)["content"]["id"] == "5"
    store.close()
    out = tmp_path / "out.parquet"
    assert _invoke("export", tmp_path / "p", "--format", "parquet", "--out", out).exit_code == 0
    assert pq.read_table(out).column("id").to_pylist() == ["1", "2", "3", "4", "5", "6"]


def test_a_tool_file_is_read_by_the_projects_text_column(tmp_path: Path) -> None:
    """A project whose texts are under 'review' takes a new Label Studio file of the same
    shape (as its own export writes it)."""
    first = tmp_path / "first.json"
    texts = ["great film", "awful plot", "fine cast", "dull end"]
    first.write_text(json.dumps([{"id": i, "data": {"review": t}} for i, t in enumerate(texts)]))
    r = _invoke("init", tmp_path / "p", "--data", first, "--text-column", "review",
                "--labels", "pos,neg", "--text-features", "tfidf")  # fmt: skip
    assert r.exit_code == 0, r.output
    out = tmp_path / "out.json"
    assert (
        _invoke("export", tmp_path / "p", "--format", "label-studio", "--out", out).exit_code == 0
    )
    assert json.loads(out.read_text())[0]["data"] == {"review": "great film"}
    more = tmp_path / "more.json"
    more.write_text(json.dumps([{"id": 9, "data": {"review": "superb sound"}}]))
    r = _invoke("add", tmp_path / "p", "--data", more)
    assert r.exit_code == 0 and "Added 1 item to" in r.output and "(id 9;" in r.output, r.output


def test_add_says_how_many_answers_of_a_tool_file_are_left_out_as_init_does(
    tmp_path: Path,
) -> None:
    def task(i: int, text: str, label: str) -> dict:
        region = {"from_name": "label", "to_name": "text", "type": "choices"}
        return {
            "id": i,
            "data": {"text": text},
            "annotations": [{"result": [{**region, "value": {"choices": [label]}}]}],
        }

    first = tmp_path / "first.json"
    first.write_text(json.dumps([task(1, "good film", "pos"), task(2, "bad film", "neg")]))
    assert _invoke("init", tmp_path / "p", "--data", first).exit_code == 0
    more = tmp_path / "more.json"
    more.write_text(json.dumps([task(3, "fine cast", "maybe"), task(4, "dull plot", "neg")]))
    r = _invoke("add", tmp_path / "p", "--data", more)
    assert r.exit_code == 0, r.output
    assert "Imported 1 label. 1 answer left out: their labels are not among" in r.output


def test_a_batch_of_texts_without_words_is_added_not_refused(tmp_path: Path) -> None:
    # read on its own, such a file has no vocabulary to fit; through the project's, it reads
    store, wordless = _tfidf_project(tmp_path, '{"text": "!!"}\n{"text": "?"}\n')
    with pytest.raises(IngestError, match="no words"):
        read_items(wordless, text_features="tfidf")
    data = read_new_items(store, wordless)
    assert data.X.shape == (2, store.load_features().shape[1]) and data.X.nnz == 0
    assert data.featuriser.vocabulary_ == pickle.loads(store.artifact("featuriser")).vocabulary_
    assert extend_project(store, data) == (2, 2, 0, 0)
    store.close()


def test_a_file_that_does_not_fit_the_project_changes_nothing(
    tmp_path: Path, labelled_table
) -> None:
    proj = tmp_path / "p"
    assert (
        _invoke("init", proj, "--data", labelled_table([""] * 20), "--labels", "no,yes").exit_code
        == 0
    )
    texts = tmp_path / "texts.csv"
    texts.write_text("id,text\nx,hello\n")
    r = _invoke("add", proj, "--data", texts)
    assert r.exit_code == 1 and "the project's feature columns ['a', 'b'] not found" in r.output
    again = labelled_table([""] * 3, name="again.csv")  # ids r0-r2: the project has them
    r = _invoke("add", proj, "--data", again)
    assert r.exit_code == 1 and "3 of the new items' ids are in the project already" in r.output
    typo = tmp_path / "typo.csv"
    typo.write_text("id,a,b,label\nz1,1,1,maybe\n")
    r = _invoke("add", proj, "--data", typo)
    assert r.exit_code == 1 and "'maybe' (line 2)" in r.output
    store = open_project(proj)
    assert store.n_items() == 20 and store.load_features().shape == (20, 2)
    assert ITEM_BATCHES not in store.settings and not store.current_labels()
    store.close()


def test_labels_found_while_labelling_are_added_and_trained_on(
    tmp_path: Path, labelled_table
) -> None:
    proj = tmp_path / "p"
    given = ["no", "yes", "no", "yes"] + [""] * 16
    assert _invoke("init", proj, "--data", labelled_table(given)).exit_code == 0
    r = _invoke("add", proj, "--labels", "maybe")
    assert r.exit_code == 0, r.output
    assert "Added the label(s) maybe to" in r.output and "now no, yes, maybe" in r.output
    r = _invoke("add", proj, "--labels", " yes,later")  # one of them exists: nothing added
    assert r.exit_code == 1 and "has the label(s) ['yes'] already" in r.output
    r = _invoke("add", proj)
    assert r.exit_code == 2 and "Give --data FILE (new items), --labels NAMES" in r.output
    new = tmp_path / "new.csv"  # a batch whose labels use a label not there yet
    new.write_text("id,a,b,label\nz1,3,3,unsure\nz2,-3,-3,no\n")
    r = _invoke("add", proj, "--data", new)
    assert r.exit_code == 1 and "'unsure' (line 2)" in r.output
    r = _invoke("add", proj, "--data", new, "--labels", "unsure")
    assert r.exit_code == 0, r.output
    assert "Added 2 items to" in r.output and "Imported 2 labels." in r.output
    store = open_project(proj)
    assert store.settings["labels"] == ["no", "yes", "maybe", "unsure"]
    assert {i: c.label for i, c in store.current_labels().items() if i >= 20} == {
        20: "unsure",
        21: "no",
    }
    model = joblib.load(io.BytesIO(store.latest_model().model))  # retrained on the batch
    assert [str(c) for c in model.classes_] == ["no", "unsure", "yes"]
    store.close()
    bad = tmp_path / "bad.csv"  # the file is refused: the label given with it is not kept
    bad.write_text("id,a,b,label\nz3,1,1,never\n")
    r = _invoke("add", proj, "--data", bad, "--labels", "other")
    assert r.exit_code == 1 and "'never' (line 2)" in r.output
    store = open_project(proj)
    assert store.settings["labels"] == ["no", "yes", "maybe", "unsure"] and store.n_items() == 22
    store.close()
    r = _invoke("add", proj, "--labels", "x" * 300)  # too long, not "empty"
    assert r.exit_code == 1 and "1 to 256 characters; 'xxxx" in r.output and "has 300" in r.output


def test_a_label_added_to_a_multi_label_project_gets_a_column_of_the_model(
    tmp_path: Path,
) -> None:
    rows = [
        f"{w} day {i},{lab}"
        for i, (w, lab) in enumerate(
            [("sunny", "weather"), ("happy", "mood"), ("sunny happy", "weather;mood")] * 4
        )
    ]
    data = tmp_path / "ml.csv"
    data.write_text("text,label\n" + "\n".join(rows) + "\nrainy day,\ncalm day,\n")
    proj = tmp_path / "p"
    args = ("--multi-label", "--text-features", "tfidf")
    assert _invoke("init", proj, "--data", data, *args).exit_code == 0
    assert _invoke("add", proj, "--labels", "sport").exit_code == 0
    store = open_project(proj)
    view = LabellingService(store).view(12)
    assert list(view.probabilities) == ["mood", "weather", "sport"]
    # the model is compared with the one before the label, which predicted no "sport"
    pays = store.latest_model().metrics["still_pays"]
    assert pays["agreement"] == 1.0, pays
    store.close()


def test_add_refuses_while_the_project_is_served(tmp_path: Path, labelled_table) -> None:
    proj = tmp_path / "p"
    assert (
        _invoke("init", proj, "--data", labelled_table([""] * 20), "--labels", "no,yes").exit_code
        == 0
    )
    store = open_project(proj)
    state = {"state": "idle", "published_at": time.time()}  # as a running server publishes it
    store.save_artifact(STATUS_ARTIFACT, json.dumps(state).encode())
    store.close()
    new = tmp_path / "new.csv"
    new.write_text("id,a,b\nn1,1,1\n")
    r = _invoke("add", proj, "--data", new)
    assert r.exit_code == 1 and "is being served or labelled" in r.output
    store = open_project(proj)
    stale = {"state": "idle", "published_at": time.time() - 600}  # a server that died
    store.save_artifact(STATUS_ARTIFACT, json.dumps(stale).encode())
    store.close()
    assert _invoke("add", proj, "--data", new).exit_code == 0


def test_the_double_share_of_earlier_items_stays_as_it_was(tmp_path: Path, labelled_table) -> None:
    proj = tmp_path / "p"
    r = _invoke(
        "init",
        proj,
        "--data",
        labelled_table([""] * 20),
        "--labels",
        "no,yes",
        "--double-share",
        "0.5",
    )
    assert r.exit_code == 0, r.output
    store = open_project(proj)
    doubled = set(np.flatnonzero(LabellingService(store)._target == 2))
    assert doubled == set(double_share_items(20, 0.5))
    store.close()
    new = tmp_path / "new.csv"
    new.write_text("id,a,b\n" + "".join(f"n{i},{i},{-i}\n" for i in range(10)))
    assert _invoke("add", proj, "--data", new).exit_code == 0
    store = open_project(proj)
    target = LabellingService(store)._target
    assert set(np.flatnonzero(target[:20] == 2)) == doubled  # the first batch's sample
    assert (target[20:] == 2).sum() == 5  # half of the new batch, sampled on its own
    store.close()


def test_read_new_items_names_the_kind_that_does_not_fit(tmp_path: Path) -> None:
    store, _ = _tfidf_project(tmp_path, '{"text": "a plot"}\n')
    folder = tmp_path / "images"
    folder.mkdir()
    from PIL import Image

    Image.new("L", (4, 4)).save(folder / "a.png")
    with pytest.raises(IngestError, match="holds image items; the project holds text items"):
        read_new_items(store, folder)
    store.close()


def test_add_on_either_database(tmp_path: Path, project_db, labelled_table) -> None:
    data = read_items(labelled_table(["no", "yes"] + [""] * 8, name="first.csv"))
    create_project(tmp_path / "p", data, ["no", "yes"], db_url=project_db)
    new = tmp_path / "new.csv"
    new.write_text("id,a,b,label\nn1,3,3,yes\nn2,-3,-3,\n")
    store = open_project(tmp_path / "p")
    try:
        assert extend_project(store, read_new_items(store, new)) == (10, 2, 1, 0)
        assert store.load_features().shape == (12, 2) and store.external_ids()[-2:] == ["n1", "n2"]
        labels = {i: (c.label, c.annotator) for i, c in store.current_labels().items()}
        assert labels == {
            0: ("no", "imported:file"),
            1: ("yes", "imported:file"),
            10: ("yes", "imported:file"),
        }
        with pytest.raises(StoreError, match="in the project already"):
            store.append_items(data.rows[:1], data.X[:1])
        assert store.n_items() == 12
    finally:
        store.close()
