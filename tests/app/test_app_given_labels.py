"""Labels a CSV/JSONL file already holds: imported at init, never a feature, checked first."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from activelab.app.ingest import IngestError, read_items
from activelab.app.project import (
    GIVEN_LABELS_ANNOTATOR,
    ProjectError,
    create_project,
    open_project,
)
from activelab.app.store import Store, StoreError, decode_label_set
from activelab.cli import main


def _invoke(*args: object) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def _nothing_created(tmp_path: Path, name: str) -> bool:
    return not any(p.name.lstrip(".").startswith(name) for p in tmp_path.iterdir())


def test_the_label_column_is_imported_and_is_never_a_feature(
    tmp_path: Path, labelled_table
) -> None:
    given = ["0", "1", "", "", "0", "1"] + [""] * 14  # numeric labels: a numeric column
    data = read_items(labelled_table(given))
    assert data.settings["feature_columns"] == ["a", "b"]
    assert data.X.shape == (20, 2)
    assert data.given_labels == {0: "0", 1: "1", 4: "0", 5: "1"}
    assert data.given_lines == {0: 2, 1: 3, 4: 6, 5: 7}
    assert all("label" not in row["content"]["fields"] for row in data.rows)


def test_init_records_the_given_labels_and_trains_on_them(tmp_path: Path, labelled_table) -> None:
    given = ["no", "yes", "no", "yes"] + [""] * 16
    proj = tmp_path / "p"
    r = _invoke("init", proj, "--data", labelled_table(given), "--labels", "no,yes")
    assert r.exit_code == 0, r.output
    assert "Imported 4 labels from column 'label'." in r.output
    store = open_project(proj)
    current = store.current_labels()
    assert {i: c.label for i, c in current.items()} == {0: "no", 1: "yes", 2: "no", 3: "yes"}
    assert {c.annotator for c in current.values()} == {GIVEN_LABELS_ANNOTATOR}
    version = store.latest_model()  # the first model learnt from the four labels
    assert version is not None and version.n_labels == 4
    store.close()
    out = tmp_path / "labels.csv"
    assert _invoke("export", proj, "--out", out).exit_code == 0
    rows = out.read_text().splitlines()
    assert rows[0] == "id,label,annotator,labelled_at" and len(rows) == 5
    assert rows[1].startswith("r0,no,imported:file,")


def test_an_unknown_label_names_the_values_and_lines_and_creates_nothing(
    tmp_path: Path, labelled_table
) -> None:
    given = ["cat", "dog", "dgo", "", "dgo", "bird"] + [""] * 14
    r = _invoke("init", tmp_path / "p", "--data", labelled_table(given), "--labels", "cat,dog")
    assert r.exit_code == 1
    line = r.output.strip().splitlines()[-1]
    assert "items.csv: column 'label' holds labels that are not among" in line
    assert "'dgo' (lines 4, 6)" in line and "'bird' (line 7)" in line
    assert "--label-column ''" in line and "Traceback" not in r.output
    assert _nothing_created(tmp_path, "p")


def test_the_column_can_be_named_or_switched_off(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("id,a,b,klass\n1,0.1,1,x\n2,0.2,3,\n3,0.9,2,y\n")
    assert read_items(path).given_labels == {}  # no column called "label": nothing is given
    named = read_items(path, label_column="klass")
    assert named.given_labels == {0: "x", 2: "y"} and named.settings["label_column"] == "klass"
    numeric = tmp_path / "numeric.csv"
    numeric.write_text("id,a,label\n1,0.5,1\n2,0.7,0\n")
    off = read_items(numeric, label_column="")
    assert off.given_labels == {} and off.settings["feature_columns"] == ["a", "label"]
    # a column named as a feature is data, so the default leaves it alone
    claimed = read_items(numeric, feature_columns=["a", "label"])
    assert claimed.given_labels == {} and claimed.X.shape == (2, 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"label_column": "lable"}, "--label-column 'lable' is not a column; columns:"),
        (
            {"label_column": "b", "feature_columns": ["a", "b"]},
            "column 'b' is both the label column and --feature-columns",
        ),
        ({"label_column": "id"}, "column 'id' is both the label column and --id-column"),
    ],
)
def test_a_bad_label_column_is_a_clear_error(tmp_path: Path, kwargs, message) -> None:
    path = tmp_path / "items.csv"
    path.write_text("id,a,b\n1,0.1,1\n2,0.2,3\n")
    if kwargs.get("label_column") == "id":
        kwargs = {**kwargs, "id_column": "id"}
    with pytest.raises(IngestError) as err:
        read_items(path, **kwargs)
    assert message in str(err.value)


def test_a_labelling_tools_file_or_images_take_no_label_column(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps([{"id": 1, "data": {"text": "fine"}}]))
    with pytest.raises(IngestError, match="does not apply to label-studio files"):
        read_items(tasks, label_column="label")


def test_jsonl_texts_single_and_multi_label(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    rows = [
        {"id": "a", "text": "good film, great cast", "label": "pos"},
        {"id": "b", "text": "dull and far too long", "label": ["neg"]},
        {"id": "c", "text": "a film", "label": None},
        {"id": "d", "text": "great and long", "label": ["pos", "neg"]},
        {"id": "e", "text": "nothing to say", "label": []},
        {"id": "f", "text": "good and dull", "label": "neg; pos"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data = read_items(path, text_features="tfidf")
    assert all("label" not in r["content"] for r in data.rows)
    with pytest.raises(ProjectError, match=r"line 2, column 'label': \['neg'\] is a list"):
        create_project(tmp_path / "single", data, ["pos", "neg"])
    assert _nothing_created(tmp_path, "single")
    create_project(tmp_path / "multi", data, ["pos", "neg"], multilabel=True)
    store = open_project(tmp_path / "multi")
    got = {i: decode_label_set(c.label) for i, c in store.current_labels().items()}
    # in the project's label order; [] is an answer ("none of these"), null is no answer
    assert got == {0: ["pos"], 1: ["neg"], 3: ["pos", "neg"], 4: [], 5: ["pos", "neg"]}
    store.close()


def test_a_labels_column_as_a_multilabel_export_writes_it_is_imported(tmp_path: Path) -> None:
    """Without a 'label' column, 'labels' (the column a multi-label export writes) is the label
    column: imported, never shown with the item or learnt from; ``''`` keeps it as data."""
    csv_path = tmp_path / "items.csv"
    csv_path.write_text("id,size,weight,labels\na,1,2,big;red\nb,3,1,\nc,2,2,small\nd,2,5,red\n")
    data = read_items(csv_path)
    assert data.settings["label_column"] == "labels"
    assert data.given_labels == {0: "big;red", 2: "small", 3: "red"}
    assert data.settings["feature_columns"] == ["size", "weight"]
    assert all("labels" not in r["content"] for r in data.rows)
    assert read_items(csv_path, label_column="").given_labels == {}
    jsonl = tmp_path / "items.jsonl"
    rows = [{"id": "a", "text": "good", "labels": ["pos"]}, {"id": "b", "text": "x", "labels": []}]
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert read_items(jsonl, text_features="tfidf").given_labels == {0: ["pos"], 1: []}
    both = tmp_path / "both.csv"
    both.write_text("text,label,labels\ngood,pos,x\nbad,,y\n")
    assert read_items(both, text_features="tfidf").settings["label_column"] == "label"


def test_a_value_that_is_not_a_label_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text('{"text": "x", "label": "a"}\n{"text": "y", "label": {"a": 1}}\n')
    with pytest.raises(IngestError, match=r"line 2, column 'label': \{'a': 1\} is not a label"):
        read_items(path, text_features="tfidf")


def test_import_labels_is_for_items_without_answers() -> None:
    store = Store.create("sqlite://", {"labels": ["a", "b"], "kind": "text"})
    store.add_items(
        [{"external_id": str(i), "kind": "text", "content": {"text": str(i)}} for i in range(3)]
    )
    who, _ = store.add_annotator(GIVEN_LABELS_ANNOTATOR, with_token=False)
    assert store.import_labels(who.id, {1: "b"}) == 1
    with pytest.raises(StoreError, match="Item 1 has answers already"):
        store.import_labels(who.id, {2: "a", 1: "a"})
    assert store.import_labels(who.id, {2: "a"}) == 1
    assert {i: c.label for i, c in store.current_labels().items()} == {1: "b", 2: "a"}


def test_a_tool_export_keeps_the_given_labels(tmp_path: Path, labelled_table) -> None:
    proj = tmp_path / "p"
    given = ["no", "yes"] + [""] * 18
    assert (
        _invoke("init", proj, "--data", labelled_table(given), "--labels", "no,yes").exit_code == 0
    )
    out = tmp_path / "tasks.json"
    r = _invoke("export", proj, "--format", "label-studio", "--out", out)
    assert r.exit_code == 0, r.output
    tasks = json.loads(out.read_text())
    answered = [t for t in tasks if t.get("annotations")]
    assert len(answered) == 2


def test_without_labels_the_project_takes_those_the_data_holds(
    tmp_path: Path, labelled_table
) -> None:
    r = _invoke("init", tmp_path / "p", "--data", labelled_table(["yes", "no"] + [""] * 18))
    assert r.exit_code == 0, r.output
    assert "labels no, yes," in r.output and "the ones found there" in r.output
    store = open_project(tmp_path / "p")
    assert store.settings["labels"] == ["no", "yes"] and len(store.current_labels()) == 2
    store.close()
    one = labelled_table(["yes"] + [""] * 19, name="one.csv")
    r = _invoke("init", tmp_path / "q", "--data", one)
    assert r.exit_code == 1 and "holds one label only ('yes')" in r.output
    assert "--labels yes,OTHER" in r.output and _nothing_created(tmp_path, "q")
    r = _invoke("init", tmp_path / "q", "--data", one, "--label-column", "")
    assert r.exit_code == 1 and "Name the labels with --labels" in r.output
    amounts = labelled_table([str(100 + i) for i in range(60)], name="amounts.csv")
    r = _invoke("init", tmp_path / "q", "--data", amounts)  # a quantity, not 60 labels
    assert r.exit_code == 1 and "holds a quantity (60 distinct whole numbers" in r.output
    assert "--label-column ''" in r.output and _nothing_created(tmp_path, "q")
    two = tmp_path / "two.csv"  # a multi-label export's cells, in a single-label project
    two.write_text("text,label\nsunny,weather;mood\nrain,weather\n")
    r = _invoke("init", tmp_path / "q", "--data", two, "--text-features", "tfidf")
    assert r.exit_code == 1 and "include 'weather;mood'" in r.output and "--multi-label" in r.output
    r = _invoke("init", tmp_path / "q", "--data", two, "--text-features", "tfidf", "--multi-label")
    assert r.exit_code == 0 and "labels mood, weather," in r.output


def test_a_label_column_of_measurements_is_refused_not_taken_as_classes(
    tmp_path: Path, labelled_table
) -> None:
    # a chemist's table: 12 compounds measured so far, each pIC50 would have become a class
    measured = [f"{5 + 0.37 * i:.2f}" for i in range(12)] + [""] * 8
    r = _invoke("init", tmp_path / "p", "--data", labelled_table(measured))
    assert r.exit_code == 1, r.output
    assert "column 'label' holds a quantity (numbers with fractions, 12 distinct" in r.output
    assert "'5.00', '5.37', '5.74'" in r.output and "regressor" in r.output
    assert "--labels" in r.output and "--label-column ''" in r.output
    assert _nothing_created(tmp_path, "p")
    # named by hand, the values are classes; whole-number grades are classes as before
    r = _invoke(
        "init",
        tmp_path / "q",
        "--data",
        labelled_table(["0.5", "1.5"] + [""] * 18),
        "--labels",
        "0.5,1.5",
    )
    assert r.exit_code == 0, r.output
    r = _invoke("init", tmp_path / "s", "--data", labelled_table(["1", "2", "3"] + [""] * 17))
    assert r.exit_code == 0 and "labels 1, 2, 3," in r.output


def test_a_table_project_comes_back_from_its_own_parquet_with_its_labels(
    tmp_path: Path, labelled_table
) -> None:
    from activelab.app.ingest import item_source, shown_fields

    given = ["no", "yes", "no"] + [""] * 17
    assert _invoke("init", tmp_path / "p", "--data", labelled_table(given)).exit_code == 0
    out = tmp_path / "p.parquet"
    assert _invoke("export", tmp_path / "p", "--format", "parquet", "--out", out).exit_code == 0
    r = _invoke("init", tmp_path / "q", "--data", out)  # before: the labels were dropped
    assert r.exit_code == 0, r.output
    assert "Imported 3 labels from the file" in r.output
    store = open_project(tmp_path / "q")
    assert {i: c.label for i, c in store.current_labels().items()} == {0: "no", 1: "yes", 2: "no"}
    content = store.item(0)["content"]  # the file's own record beside the data, not in it
    assert "_source" not in content["fields"] and item_source(content)["format"] == "parquet"
    assert set(shown_fields("table", content)) == {"id", "a", "b"}
    assert store.settings["feature_columns"] == ["a", "b"]
    store.close()


def _pets(root: Path, folders: dict[str, int]) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for folder, n in folders.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            pixels = (rng.random((8, 8)) * 255).astype("uint8")
            Image.fromarray(pixels).save(root / folder / f"{folder.strip('.') or 'top'}{i}.png")
    return root


def test_images_sorted_into_label_folders_bring_their_labels(
    tmp_path: Path, labelled_table
) -> None:
    pets = _pets(tmp_path / "pets", {"cat": 2, "dog": 3, ".": 4})  # "." : the top level
    proj = tmp_path / "p"
    r = _invoke("init", proj, "--data", pets, "--labels", "cat,dog", "--label-folders")
    assert r.exit_code == 0, r.output
    assert "9 image items" in r.output and "Imported 5 labels from the folders' names." in r.output
    store = open_project(proj)
    ids = store.external_ids()
    got = {ids[i]: c.label for i, c in store.current_labels().items()}
    assert got == {
        "cat/cat0.png": "cat",
        "cat/cat1.png": "cat",
        "dog/dog0.png": "dog",
        "dog/dog1.png": "dog",
        "dog/dog2.png": "dog",
    }  # top-level images: none
    store.close()
    _pets(tmp_path / "more", {"dgo": 1, "cat": 1})
    r = _invoke("add", proj, "--data", tmp_path / "more", "--label-folders")
    assert r.exit_code == 1
    assert (
        "the folder 'dgo' (1 image, e.g. dgo/dgo0.png) is not among the project's labels"
        in r.output
    )
    r = _invoke(
        "init",
        tmp_path / "q",
        "--data",
        pets,
        "--labels",
        "cat,dog",
        "--label-folders",
        "--label-column",
        "x",
    )
    assert r.exit_code == 1 and "--label-column does not apply to a folder of images" in r.output
    r = _invoke(
        "init",
        tmp_path / "q",
        "--data",
        labelled_table([""] * 4),
        "--labels",
        "a,b",
        "--label-folders",
    )
    assert r.exit_code == 1 and "--label-folders applies to a folder of images" in r.output


def test_the_labelled_at_column_keeps_each_answers_time_through_export_and_back(
    tmp_path: Path,
) -> None:
    """``labelled_at`` (ISO with or without a zone, or Unix seconds) is when each imported
    answer was given; an empty cell takes the import time; an export read back keeps them."""
    texts = {"a": "good film", "b": "dull film", "c": "long film", "d": "great cast"}
    path = tmp_path / "items.csv"
    path.write_text(
        "id,text,label,annotator,labelled_at\n"
        "a,good film,pos,ada,2023-11-14T22:13:20Z\n"
        "b,dull film,neg,bob,2023-11-14T23:13:21\n"
        "c,long film,,,\n"
        "d,great cast,pos,ada,1700000002\n"
    )
    data = read_items(path, text_features="tfidf")
    assert data.given_times == {0: 1700000000.0, 1: 1700003601.0, 3: 1700000002.0}
    assert all("labelled_at" not in r["content"] for r in data.rows)
    assert data.rows[0]["content"]["annotator"] == "ada"  # data, as before: the rule is 'file'
    proj = tmp_path / "p"
    create_project(proj, data, ["pos", "neg"])
    store = open_project(proj)
    current = store.current_labels()
    store.close()
    assert {i: c.created_at for i, c in current.items()} == {
        0: 1700000000.0,
        1: 1700003601.0,
        3: 1700000002.0,
    }
    assert {c.annotator for c in current.values()} == {GIVEN_LABELS_ANNOTATOR}
    out = tmp_path / "labels.csv"
    assert _invoke("export", proj, "--out", out).exit_code == 0
    lines = out.read_text().splitlines()
    back = tmp_path / "back.csv"  # the export joined with the texts, as a user would
    back.write_text(
        "id,text,label,labelled_at\n"
        + "".join(
            f"{i},{texts[i]},{lab},{t}\n" for i, lab, _, t in (r.split(",") for r in lines[1:])
        )
    )
    r = _invoke("init", tmp_path / "q", "--data", back, "--labels", "pos,neg",
                "--text-features", "tfidf")  # fmt: skip
    assert r.exit_code == 0, r.output
    store = open_project(tmp_path / "q")
    again = {c.created_at for c in store.current_labels().values()}
    store.close()
    assert again == {c.created_at for c in current.values()}


def test_a_labelled_at_cell_that_is_not_a_time_refuses_the_file(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text(
        "text,label,labelled_at\ngood,pos,2023-11-14\nbad,neg,last week\nfine,pos,soon\n"
    )
    r = _invoke("init", tmp_path / "p", "--data", path, "--labels", "pos,neg",
                "--text-features", "tfidf")  # fmt: skip
    assert r.exit_code != 0
    assert "line 3, column 'labelled_at': 'last week' is not a time" in r.output
    assert _nothing_created(tmp_path, "p")


def test_add_keeps_the_times_of_the_labels_it_imports(tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    first.write_text("id,text,label\na,good film,pos\nb,dull film,neg\n")
    proj = tmp_path / "p"
    r = _invoke("init", proj, "--data", first, "--labels", "pos,neg", "--text-features", "tfidf")
    assert r.exit_code == 0, r.output
    more = tmp_path / "more.jsonl"
    rows = [
        {"id": "c", "text": "great film", "label": "pos", "labelled_at": 1700000000},
        {"id": "d", "text": "dull cast", "label": "neg", "labelled_at": "2023-11-14T22:13:21Z"},
    ]
    more.write_text("".join(json.dumps(r) + "\n" for r in rows))
    r = _invoke("add", proj, "--data", more)
    assert r.exit_code == 0, r.output
    store = open_project(proj)
    times = {i: c.created_at for i, c in store.current_labels().items() if i >= 2}
    store.close()
    assert times == {2: 1700000000.0, 3: 1700000001.0}
