"""Round trips of every format (file → records → file keeps every field); malformed files are
refused with the line or field named; init and export through the command line."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from activelab.app.ingest import shown_fields
from activelab.app.project import open_project
from activelab.app.service import LabellingService
from activelab.cli import main
from activelab.interop.formats import detect_format, read_tasks, write_tasks
from activelab.interop.label_studio import parse_tasks, write_label_studio
from activelab.interop.prodigy import parse_prodigy, write_prodigy
from activelab.interop.records import FormatError
from activelab.interop.tabular import from_hf_dataset, to_hf_dataset

WORDS = {
    "pos": ["great", "lovely", "superb", "fine", "excellent", "wonderful"],
    "neg": ["awful", "poor", "dreadful", "bad", "terrible", "boring"],
}


def _texts(n: int) -> list[tuple[str, str]]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        lab = "pos" if i % 2 == 0 else "neg"
        words = rng.choice(WORDS[lab], size=4)
        out.append((f"item {i}: " + " ".join(words), lab))
    return out


def _region(labels: list[str], name: str = "sentiment") -> list[dict]:
    return [
        {
            "id": "r1",
            "from_name": name,
            "to_name": "text",
            "type": "choices",
            "value": {"choices": labels},
            "origin": "manual",
        }
    ]


LS_TASKS = [
    {
        "id": 11,
        "data": {"text": "great film", "source": "imdb", "stars": 5},
        "annotations": [
            {
                "id": 101,
                "result": _region(["pos"]),
                "was_cancelled": False,
                "completed_by": 1,
                "created_at": "2024-01-02T03:04:05Z",
                "lead_time": 3.5,
            }
        ],
        "predictions": [{"result": _region(["pos"]), "score": 0.25, "model_version": "m1"}],
        "meta": {"batch": 1},
        "created_at": "2024-01-01T00:00:00Z",
    },
    {
        "id": 12,
        "data": {"text": "dull plot", "source": "imdb", "stars": 1},
        "annotations": [{"id": 102, "result": [], "was_cancelled": True, "completed_by": 2}],
    },
    {
        "id": 13,
        "data": {"text": "sharp and funny", "source": "blog", "stars": None},
        "annotations": [],
        "predictions": [],
        "drafts": [],
    },
    {
        "id": 14,
        "data": {"text": "both at once", "source": "blog", "stars": 3},
        "annotations": [{"id": 103, "result": _region(["pos", "neg"]), "completed_by": 1}],
    },
]


# ------------------------------------------------------------------ Label Studio
def test_label_studio_round_trip_keeps_every_field(tmp_path: Path) -> None:
    src = tmp_path / "tasks.json"
    src.write_text(json.dumps(LS_TASKS))
    records = read_tasks(src)
    assert [r.id for r in records] == ["11", "12", "13", "14"]
    assert [r.final_labels() for r in records] == [["pos"], None, None, ["pos", "neg"]]
    assert records[1].answers[0].status == "ignore"
    assert records[0].predictions[0].score == 0.25
    assert records[0].answers[0].annotator == "1"
    out = tmp_path / "out.json"
    write_tasks(records, out, "label-studio")
    assert json.loads(out.read_text()) == LS_TASKS


def test_label_studio_bare_data_tasks() -> None:
    records = parse_tasks([{"text": "a"}, {"text": "b"}])
    assert [(r.id, r.data) for r in records] == [("1", {"text": "a"}), ("2", {"text": "b"})]
    assert json.loads(write_label_studio(records)) == [
        {"data": {"text": "a"}},
        {"data": {"text": "b"}},
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"data": {"text": "a"}},\n {"data": ', "line 2, column"),
        ("{}", "field 'data' is empty"),
        (  # JSON Lines named .json, as to_json(orient="records", lines=True) writes them
            '{"text": "a"}\n{"text": "b"}\n',
            "bad.json, line 2, column 1: invalid JSON (Extra data); one JSON object a line is "
            "JSON Lines: name the file .jsonl.",
        ),
        ("\ufeff \n", 'bad.json: the file is empty; it needs a JSON list of tasks ({"data": '),
        ("[]", "non-empty JSON list"),
        ('[{"data": {"text": "a"}}, 5]', "task 2: expected an object"),
        ('[{"data": "text"}]', "task 1: field 'data' must be an object"),
        (
            '[{"id": 7, "data": {"text": "a"}, "annotations": [{"result": [{"type": "choices",'
            ' "value": {"choices": "pos"}}]}]}]',
            "task 1 (id 7): annotations[0].result[0].value.choices must be a list",
        ),
        ('[{"id": 7, "data": {"text": "a"}, "annotations": {}}]', "field 'annotations' must be"),
        (
            '[{"id": 7, "data": {"text": "a"}, "predictions": [{"result": [], "score": "hi"}]}]',
            "predictions[0].score must be a finite number",
        ),
        ('[{"id": 1, "data": {"text": "a"}}, {"id": 1, "data": {"text": "b"}}]', "duplicate id"),
        # JSON keeps the last of a key given twice: "a" was lost without a word
        (
            '[{"data": {"text": "x"}},\n {"data": {"text": "a", "text": "b"}}]',
            "bad.json, line 2, column 11: key 'text' is given twice in one record (JSON would "
            "keep only the last); give it once.",
        ),
        ('[{"id": 1, "id": 2, "data": {"text": "a"}}]', "line 1, column 2: key 'id' is given"),
        (
            '[{"id": 3, "text": "a"}, {"id": 4, "text": "b", "sentiment": "pos", "annotator": 1,'
            ' "annotation_id": 9, "lead_time": 2.5}]',
            "task 2: this is Label Studio's JSON-MIN export",
        ),
    ],
)
def test_malformed_label_studio_names_line_or_field(tmp_path: Path, content, message) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(FormatError) as err:
        read_tasks(bad)
    assert message in str(err.value)
    assert "bad.json" in str(err.value)


# ------------------------------------------------------------------------ Prodigy
PRODIGY_LINES = [
    {"text": "great film", "_input_hash": 1, "_task_hash": 10, "label": "pos", "answer": "accept",
     "_annotator_id": "ada", "_timestamp": 1700000000, "meta": {"src": "a"}},
    {"text": "great film", "_input_hash": 1, "_task_hash": 11, "label": "pos", "answer": "accept",
     "_annotator_id": "tom", "_timestamp": 1700000001, "meta": {"src": "a"}},
    {"text": "dull plot", "_input_hash": 2, "_task_hash": 20, "label": "pos", "answer": "reject"},
    {"text": "both", "_input_hash": 3, "_task_hash": 30, "_view_id": "choice",
     "options": [{"id": "pos", "text": "pos"}, {"id": "neg", "text": "neg"}],
     "accept": ["pos", "neg"], "answer": "accept"},
    {"text": "skip me", "_input_hash": 4, "answer": "ignore"},
    {"image": "data:image/png;base64,AAAA", "_input_hash": 5, "label": "pos", "score": 0.4},
    {"text": "not yet", "_input_hash": 6},
]  # fmt: skip


def test_prodigy_round_trip_keeps_every_line(tmp_path: Path) -> None:
    src = tmp_path / "answers.jsonl"
    src.write_text("".join(json.dumps(line) + "\n" for line in PRODIGY_LINES))
    assert detect_format(src) == "prodigy"
    records = read_tasks(src)
    assert len(records) == 6  # two answers to the same input are one item
    assert [a.annotator for a in records[0].answers] == ["ada", "tom"]
    assert [r.final_labels() for r in records] == [["pos"], None, ["pos", "neg"], None, None, None]
    assert records[1].answers[0].status == "reject"
    assert records[4].kind == "image" and records[4].predictions[0].score == 0.4
    out = tmp_path / "out.jsonl"
    write_tasks(records, out, "prodigy")
    assert [json.loads(x) for x in out.read_text().splitlines()] == PRODIGY_LINES


def test_prodigy_new_answers_are_choice_examples() -> None:
    from activelab.interop.records import Answer, Prediction, Record

    recs = [
        Record("a", {"text": "x"}, [Answer(["neg"], annotator="ada")]),
        Record("b", {"text": "y"}, predictions=[Prediction(["pos"], 0.7, "v3")]),
    ]
    lines = [json.loads(x) for x in write_prodigy(recs, labels=["pos", "neg"]).splitlines()]
    assert lines[0]["accept"] == ["neg"] and lines[0]["answer"] == "accept"
    assert lines[0]["options"] == [{"id": "pos", "text": "pos"}, {"id": "neg", "text": "neg"}]
    assert lines[1]["meta"]["prediction"] == ["pos"] and lines[1]["meta"]["score"] == 0.7
    back = parse_prodigy(lines)
    assert back[0].final_labels() == ["neg"] and back[1].predictions[0].labels == ["pos"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"text": "a", "answer": "may"}\n', "line 1: field 'answer'"),
        ('{"text": "a", "answer": "accept"}\n{oops}\n', "line 2: invalid JSON"),
        ('{"text": "a", "accept": "pos", "answer": "accept"}\n', "line 1: field 'accept'"),
        ('{"answer": "accept", "_input_hash": 1}\n', "line 1: no item data"),
        ('{"text": "a"}\n{"text": "b", "answer": "accept", "answer": "reject"}\n',
         "line 2: key 'answer' is given twice in one record"),
    ],
)  # fmt: skip
def test_malformed_prodigy_names_the_line(tmp_path: Path, content, message) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    with pytest.raises(FormatError) as err:
        read_tasks(bad, "prodigy")
    assert message in str(err.value) and "bad.jsonl" in str(err.value)


# ------------------------------------------------------------------------ Parquet
def test_parquet_round_trip_keeps_every_column(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "id": [1, 2, 3],
            "text": ["a", "b", "c"],
            "lang": ["en", "fr", None],
            "label": ["pos", None, "neg"],
            "annotator": ["ada", None, "tom"],
        }
    )
    src = tmp_path / "items.parquet"
    pq.write_table(table, src)
    records = read_tasks(src)
    assert [r.final_labels() for r in records] == [["pos"], None, ["neg"]]
    assert records[2].answers[0].annotator == "tom"
    out = tmp_path / "out.parquet"
    write_tasks(records, out, "parquet")
    assert pq.read_table(out).equals(table)


def test_integer_labels_stored_as_floats_read_as_integers(tmp_path: Path) -> None:
    """pandas stores a column of integer labels with gaps as floats: 1.0 is the label "1"."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    labels = [1.0, 0.0, None, 2.5]
    pq.write_table(
        pa.table({"text": ["good film", "bad plot", "fine cast", "dull end"], "label": labels}),
        tmp_path / "f.parquet",
    )
    records = read_tasks(tmp_path / "f.parquet")
    assert [r.final_labels() for r in records] == [["1"], ["0"], None, ["2.5"]]
    r = _run("init", tmp_path / "p", "--data", tmp_path / "f.parquet", "--labels", "0,1,2.5")
    assert r.exit_code == 0 and "Imported 3 labels from the file." in r.output, r.output


def test_parquet_multilabel_and_malformed(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"id": ["a", "b"], "text": ["x", "y"], "labels": [["p", "q"], []]})
    pq.write_table(table, tmp_path / "m.parquet")
    records = read_tasks(tmp_path / "m.parquet")
    assert [r.final_labels() for r in records] == [["p", "q"], []]
    write_tasks(records, tmp_path / "o.parquet", "parquet")
    assert pq.read_table(tmp_path / "o.parquet").equals(table)
    pq.write_table(pa.table({"id": ["a", "a"], "text": ["x", "y"]}), tmp_path / "d.parquet")
    with pytest.raises(FormatError, match=r"row 2, column 'id': duplicate id 'a'"):
        read_tasks(tmp_path / "d.parquet")
    pq.write_table(pa.table({"text": ["x"], "labels": ["p"]}), tmp_path / "s.parquet")
    with pytest.raises(FormatError, match=r"row 1, column 'labels': must be a list"):
        read_tasks(tmp_path / "s.parquet")
    (tmp_path / "junk.parquet").write_text("not parquet")
    with pytest.raises(FormatError, match="not a readable Parquet file"):
        read_tasks(tmp_path / "junk.parquet")


def test_parquet_and_hf_labelled_at_take_timestamps_and_unix_seconds(tmp_path: Path) -> None:
    # a timestamp column came through as text by luck of str(); Unix seconds (which CSV
    # takes) and a time that is none were dropped without a word, and the import time used
    import datasets as hf
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from activelab.interop.project import answer_time
    from activelab.interop.records import time_seconds

    def times(path: Path) -> list[float | None]:
        return [answer_time(r.answers[0].created_at) for r in read_tasks(path)]

    when = 1_700_000_000.0
    stamp = pd.Timestamp(when, unit="s")
    columns = {
        "pandas_naive": pd.Series([stamp, stamp]),
        "pandas_zone": pd.Series([stamp.tz_localize("UTC").tz_convert("Asia/Tokyo")] * 2),
        "unix_seconds": pd.Series([int(when), int(when)]),
        "iso_text": pd.Series(["2023-11-14T23:13:20+01:00", "2023-11-14T22:13:20"]),
    }
    for name, column in columns.items():
        frame = pd.DataFrame({"text": ["x", "y"], "label": ["p", "q"], "labelled_at": column})
        frame.to_parquet(tmp_path / f"{name}.parquet")
        assert times(tmp_path / f"{name}.parquet") == [when, when], name
    for unit, zone in (("s", None), ("ms", "America/New_York"), ("ns", "UTC")):
        scale = {"s": 1, "ms": 10**3, "ns": 10**9}[unit]
        table = pa.table(
            {
                "text": ["x"],
                "label": ["p"],
                "labelled_at": pa.array([int(when) * scale], pa.timestamp(unit, tz=zone)),
            }
        )
        pq.write_table(table, tmp_path / "arrow.parquet")
        assert times(tmp_path / "arrow.parquet") == [when], (unit, zone)
        path = tmp_path / f"hf_{unit}"
        hf.Dataset(table).save_to_disk(str(path))
        assert times(path) == [when], (unit, zone)
    frame = pd.DataFrame({"text": ["x"], "label": ["p"], "labelled_at": ["last week"]})
    frame.to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(FormatError, match=r"row 1, column 'labelled_at': 'last week' is not a"):
        read_tasks(tmp_path / "bad.parquet")
    assert time_seconds(stamp) == when  # a spreadsheet's date cell, read with pandas


# ------------------------------------------------------------- Hugging Face datasets
def test_hf_dataset_round_trip_with_class_labels(tmp_path: Path) -> None:
    import datasets as hf

    features = hf.Features(
        {
            "id": hf.Value("string"),
            "text": hf.Value("string"),
            "label": hf.ClassLabel(names=["neg", "pos"]),
        }
    )
    ds = hf.Dataset.from_dict(
        {"id": ["a", "b", "c"], "text": ["x", "y", "z"], "label": [1, -1, 0]}, features=features
    )
    records = from_hf_dataset(ds)
    assert [r.final_labels() for r in records] == [["pos"], None, ["neg"]]
    back = to_hf_dataset(records, label_names=["neg", "pos"])
    assert back.features == ds.features and back.to_list() == ds.to_list()
    ds.save_to_disk(str(tmp_path / "ds"))
    assert detect_format(tmp_path / "ds") == "hf"
    write_tasks(read_tasks(tmp_path / "ds"), tmp_path / "out", "hf", labels=["neg", "pos"])
    again = hf.load_from_disk(str(tmp_path / "out"))
    assert again.features == ds.features and again.to_list() == ds.to_list()


def test_functions_the_project_no_longer_uses_warn_naming_what_to_use(tmp_path: Path) -> None:
    import datasets as hf

    from activelab.app.store import Store
    from activelab.interop import project, tabular

    features = hf.Features({"text": hf.Value("string"), "label": hf.ClassLabel(names=["n", "p"])})
    hf.Dataset.from_dict({"text": ["x"], "label": [1]}, features=features).save_to_disk(
        str(tmp_path / "ds")
    )
    with pytest.warns(DeprecationWarning, match=r"hf_label_names .* 0\.3; read_hf_with_label_n"):
        assert tabular.hf_label_names(tmp_path / "ds") == ["n", "p"]
    assert tabular.read_hf_with_label_names(tmp_path / "ds")[1] == ["n", "p"]
    store = Store.create("sqlite://", {"labels": ["n", "p"], "kind": "text"})
    store.add_items([{"external_id": "a", "kind": "text", "content": {"text": "x"}}])
    with pytest.warns(DeprecationWarning, match=r"answers_left_out .* 0\.3; import_answers\("):
        assert project.answers_left_out(store) == 0
    assert "answers_left_out" not in project.__all__ and "hf_label_names" not in tabular.__all__


def test_hf_dataset_dict_names_the_split_folder_to_give(tmp_path: Path) -> None:
    """A DatasetDict of several splits is refused, naming a split's folder, which reads."""
    import datasets as hf

    split = {"text": ["good film", "bad plot"], "label": ["pos", "neg"]}
    dd = hf.DatasetDict({"train": hf.Dataset.from_dict(split), "test": hf.Dataset.from_dict(split)})
    dd.save_to_disk(str(tmp_path / "dd"))
    with pytest.raises(FormatError) as err:
        read_tasks(tmp_path / "dd")
    assert f"e.g. {tmp_path / 'dd' / 'train'} " in str(err.value)
    assert [r.final_labels() for r in read_tasks(tmp_path / "dd" / "train")] == [["pos"], ["neg"]]


def test_a_hf_dataset_column_without_a_name_is_refused_or_left_out(tmp_path: Path) -> None:
    """As a Parquet file's: Dataset.from_pandas of a CSV file read back with its index kept
    "Unnamed: 0", which became a field of every item."""
    import datasets as hf
    import pandas as pd

    frame = pd.DataFrame({"Unnamed: 0": [0, 1], "text": ["good film", "bad plot"]})
    hf.Dataset.from_pandas(frame).save_to_disk(str(tmp_path / "ds"))
    with pytest.raises(FormatError) as err:
        read_tasks(tmp_path / "ds")
    assert str(err.value).startswith(
        "dataset, row 1, column 1 ('Unnamed: 0'): a value in a column without a name"
    )
    frame = pd.DataFrame({" ": [None, None], "text": ["good film", "bad plot"]})
    hf.Dataset.from_pandas(frame).save_to_disk(str(tmp_path / "blank"))
    assert [r.data for r in read_tasks(tmp_path / "blank")] == [
        {"text": "good film"},
        {"text": "bad plot"},
    ]


def test_hf_multilabel_and_images_round_trip() -> None:
    import datasets as hf
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (4, 4), color=200).save(buf, format="PNG")
    png = buf.getvalue()
    features = hf.Features(
        {
            "id": hf.Value("string"),
            "image": hf.Image(),
            "labels": hf.Sequence(hf.ClassLabel(names=["cat", "dog", "bird"])),
        }
    )
    ds = hf.Dataset.from_dict(
        {"id": ["a", "b"], "image": [{"bytes": png, "path": None}] * 2, "labels": [[0, 2], []]},
        features=features,
    )
    records = from_hf_dataset(ds)
    assert records[0].kind == "image"
    assert records[0].data["image"] == "data:image/png;base64," + base64.b64encode(png).decode()
    assert [r.final_labels() for r in records] == [["cat", "bird"], []]
    back = to_hf_dataset(records, label_names=["cat", "dog", "bird"], multilabel=True)
    assert back.features == ds.features
    raw = back.cast_column("image", hf.Image(decode=False)).to_list()
    assert [r["labels"] for r in raw] == [[0, 2], []] and raw[0]["image"]["bytes"] == png


def test_hf_multilabel_export_keeps_unanswered_items_unlabelled(tmp_path: Path) -> None:
    """An item no one answered is null in the labels column, not [] ("none of these"), so
    that reading the export back does not turn every unanswered item into an answer."""
    import datasets as hf

    features = hf.Features(
        {
            "id": hf.Value("string"),
            "text": hf.Value("string"),
            "labels": hf.Sequence(hf.ClassLabel(names=["cat", "dog"])),
        }
    )
    ds = hf.Dataset.from_dict(
        {"id": ["a", "b", "c"], "text": ["x", "y", "z"], "labels": [[1], None, []]},
        features=features,
    )
    records = from_hf_dataset(ds)
    assert [r.final_labels() for r in records] == [["dog"], None, []]
    back = to_hf_dataset(records, label_names=["cat", "dog"], multilabel=True)
    assert back.features == ds.features
    assert back["labels"] == [[1], None, []]
    write_tasks(records, tmp_path / "out", "hf", labels=["cat", "dog"])
    again = read_tasks(tmp_path / "out")
    assert [r.final_labels() for r in again] == [["dog"], None, []]


# -------------------------------------------------------------- init and export
def _run(*args: object) -> object:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_init_refuses_label_sets_in_a_single_label_project(tmp_path: Path) -> None:
    """A multi-label export's answers were left out as "labels not among --labels"."""

    def task(i: int, choices: list[str]) -> dict:
        result = [
            {
                "from_name": "label",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": choices},
            }
        ]
        return {"data": {"text": f"item {i}"}, "annotations": [{"result": result}]}

    tasks = [task(0, ["a", "b"]), task(1, ["a"]), {"data": {"text": "item 2"}}]
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps(tasks))
    r = CliRunner().invoke(main, ["init", str(tmp_path / "p"), "--data", str(path)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert (
        "answers include ['a', 'b'], several labels of one item; create the project with "
        "--multi-label" in " ".join(r.output.split())
    )
    assert not (tmp_path / "p").exists()
    r = _run("init", tmp_path / "m", "--data", path, "--multi-label", "--text-features", "tfidf")
    assert r.exit_code == 0 and "Imported 2 labels from the file" in r.output


def test_add_refuses_label_sets_in_a_single_label_project(tmp_path: Path) -> None:
    """add imported a multi-label export into a single-label project, dropping its answers."""

    def task(i: int, choices: list[str]) -> dict:
        result = [{"from_name": "label", "to_name": "text", "type": "choices"}]
        result[0]["value"] = {"choices": choices}
        return {"data": {"id": i, "text": f"item {i}"}, "annotations": [{"result": result}]}

    first = tmp_path / "first.json"
    first.write_text(json.dumps([task(i, ["a" if i % 2 else "b"]) for i in range(6)]))
    project = tmp_path / "p"
    r = _run("init", project, "--data", first, "--text-features", "tfidf")
    assert r.exit_code == 0, r.output
    more = tmp_path / "more.json"
    more.write_text(json.dumps([task(10, ["a"]), task(11, ["a", "b"])]))
    r = CliRunner().invoke(main, ["add", str(project), "--data", str(more)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    said = " ".join(r.output.split())
    assert "answers include ['a', 'b'], several labels of one item; this project takes one" in said
    assert "add the file to a multi-label project" in said
    store = open_project(project)
    try:
        assert store.n_items() == 6  # nothing was added
    finally:
        store.close()


def _label_first(project: Path, label: str) -> None:
    store = open_project(project)
    svc = LabellingService(store)
    ada, _ = store.add_annotator("ada", with_token=False)
    assert store.lease(2, ada.id, seconds=60)  # answers go to leased items only
    svc.answer(ada, 2, label)
    store.close()


def test_init_from_label_studio_and_export_gives_the_file_back(tmp_path: Path) -> None:
    tasks = [
        {"id": 100 + i, "data": {"text": t, "n": i}, "meta": {"k": i}}
        for i, (t, _) in enumerate(_texts(12))
    ]
    tasks[0]["annotations"] = LS_TASKS[0]["annotations"]
    (tmp_path / "tasks.json").write_text(json.dumps(tasks))
    r = _run("init", tmp_path / "p", "--data", tmp_path / "tasks.json", "--labels", "pos,neg")
    assert r.exit_code == 0 and "12 text items" in r.output
    assert "Imported 1 label from the file" in r.output
    store = open_project(tmp_path / "p")
    (now,) = store.current_labels().values()  # the file's annotation, ready to train on
    assert (now.item_id, now.label, now.annotator) == (0, "pos", "imported:1")
    # annotators see the task's data, not its earlier annotations
    assert shown_fields("text", store.item(0)["content"]) == {"n": "0", "id": "100"}
    assert store.latest_model() is not None
    store.close()
    _label_first(tmp_path / "p", "neg")
    r = _run("export", tmp_path / "p", "--format", "label-studio", "--out", tmp_path / "o.json")
    assert r.exit_code == 0, r.output
    out = json.loads((tmp_path / "o.json").read_text())
    assert [t["data"] for t in out] == [t["data"] for t in tasks]
    assert out[0]["annotations"] == tasks[0]["annotations"] and out[0]["meta"] == {"k": 0}
    added = out[2]["annotations"]
    assert len(added) == 1 and added[0]["result"][0]["value"]["choices"] == ["neg"]
    assert added[0]["created_username"] == "ada"
    # the export is itself a valid task file
    assert [rec.final_labels() for rec in read_tasks(tmp_path / "o.json")][:3] == [
        ["pos"], None, ["neg"]
    ]  # fmt: skip


@pytest.mark.parametrize("fmt", ["prodigy", "parquet", "hf"])
def test_init_and_export_in_every_format(tmp_path: Path, fmt: str) -> None:
    from activelab.interop.records import Record

    records = [Record(str(i), {"text": t, "lang": "en"}) for i, (t, _) in enumerate(_texts(10))]
    name = {"prodigy": "in.jsonl", "parquet": "in.parquet", "hf": "in_ds"}[fmt]
    write_tasks(records, tmp_path / name, fmt, labels=["pos", "neg"])
    if fmt == "prodigy":  # an unanswered Prodigy stream still looks like Prodigy
        assert detect_format(tmp_path / name) == "prodigy"
    r = _run("init", tmp_path / "p", "--data", tmp_path / name, "--labels", "pos,neg")
    assert r.exit_code == 0, r.output
    _label_first(tmp_path / "p", "pos")
    out = tmp_path / ("out" + {"prodigy": ".jsonl", "parquet": ".parquet", "hf": ""}[fmt])
    r = _run("export", tmp_path / "p", "--format", fmt, "--out", out)
    assert r.exit_code == 0, r.output
    assert len(r.output.strip().splitlines()) == 1, r.output  # "Wrote ...", no progress bars
    back = read_tasks(out, fmt)
    assert [b.data for b in back] == [rec.data for rec in records]
    assert [b.final_labels() for b in back][:3] == [None, None, ["pos"]]
    assert back[2].answers[-1].annotator == "ada"


def test_init_without_labels_takes_a_class_label_in_its_order_and_gives_it_back(
    tmp_path: Path,
) -> None:
    import datasets as hf

    names = ["pos", "neg", "mixed"]  # not alphabetical; "mixed" has no example yet
    features = hf.Features({"text": hf.Value("string"), "label": hf.ClassLabel(names=names)})
    texts = ["good one", "bad one", "okay", "nice film", "bad plot", "great"]
    ds = hf.Dataset.from_dict({"text": texts, "label": [0, 1, -1, 0, 1, -1]}, features=features)
    ds.save_to_disk(str(tmp_path / "ds"))
    r = _run("init", tmp_path / "p", "--data", tmp_path / "ds")
    assert r.exit_code == 0 and "labels pos, neg, mixed" in r.output, r.output
    store = open_project(tmp_path / "p")
    assert store.settings["labels"] == names
    store.close()
    assert (
        _run("export", tmp_path / "p", "--format", "hf", "--out", tmp_path / "out").exit_code == 0
    )
    back = hf.load_from_disk(str(tmp_path / "out"))
    assert back.features["label"].names == names
    assert back["label"] == [0, 1, -1, 0, 1, -1]  # each class keeps its integer


def test_init_loads_a_hf_dataset_once_for_its_items_and_its_class_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datasets as hf

    features = hf.Features({"text": hf.Value("string"), "label": hf.ClassLabel(names=["b", "a"])})
    ds = hf.Dataset.from_dict(
        {"text": ["good film", "bad plot", "fine cast"], "label": [0, 1, -1]}, features
    )
    ds.save_to_disk(str(tmp_path / "ds"))
    loads: list[str] = []
    real = hf.load_from_disk
    monkeypatch.setattr(
        hf, "load_from_disk", lambda p, *a, **k: loads.append(p) or real(p, *a, **k)
    )
    r = _run("init", tmp_path / "p", "--data", tmp_path / "ds")
    assert r.exit_code == 0 and "labels b, a" in r.output, r.output
    assert len(loads) == 1


def test_init_refuses_malformed_tool_files_with_the_place(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('[{"id": 1, "data": {"text": "a"}, "annotations": 3}]')
    r = CliRunner().invoke(
        main, ["init", str(tmp_path / "p"), "--data", str(tmp_path / "bad.json"), "--labels", "a,b"]
    )
    assert r.exit_code == 1
    assert "task 1 (id 1): field 'annotations' must be a list" in r.output
    assert "Traceback" not in r.output and not (tmp_path / "p").exists()


def test_init_from_label_studio_images(tmp_path: Path) -> None:
    from PIL import Image

    for i in range(6):
        Image.new("L", (8, 8), color=40 * i).save(tmp_path / f"im{i}.png")
    tasks = [{"id": i, "data": {"image": f"im{i}.png"}} for i in range(6)]
    tasks.append({"id": 6, "data": {"image": "data:image/png;base64,"
                  + base64.b64encode((tmp_path / "im0.png").read_bytes()).decode()}})  # fmt: skip
    (tmp_path / "t.json").write_text(json.dumps(tasks))
    r = _run("init", tmp_path / "p", "--data", tmp_path / "t.json", "--labels", "dark,light")
    assert r.exit_code == 0 and "7 image items" in r.output, r.output
    _run("export", tmp_path / "p", "--format", "label-studio", "--out", tmp_path / "o.json")
    assert json.loads((tmp_path / "o.json").read_text()) == tasks
    tasks[0]["data"]["image"] = "https://example.org/x.png"
    (tmp_path / "w.json").write_text(json.dumps(tasks))
    r = CliRunner().invoke(
        main, ["init", str(tmp_path / "q"), "--data", str(tmp_path / "w.json"), "--labels", "a,b"]
    )
    assert r.exit_code == 1 and "item 1, field 'image'" in r.output and "web address" in r.output


@pytest.mark.parametrize(("fmt", "out"), [("label-studio", "o.json"), ("hf", "o_ds")])
def test_an_image_folder_project_exports_its_images(tmp_path: Path, fmt: str, out: str) -> None:
    from PIL import Image

    (tmp_path / "pics").mkdir()
    for i in range(6):
        Image.new("L", (8, 8), color=40 * i).save(tmp_path / "pics" / f"im{i}.png")
    r = _run("init", tmp_path / "p", "--data", tmp_path / "pics", "--labels", "dark,light")
    assert r.exit_code == 0, r.output
    _label_first(tmp_path / "p", "dark")
    assert _run("export", tmp_path / "p", "--format", fmt, "--out", tmp_path / out).exit_code == 0
    records = read_tasks(tmp_path / out)
    assert [rec.kind for rec in records] == ["image"] * 6  # the image itself, not a file name
    assert records[2].data["image"].startswith("data:image/png;base64,")
    assert records[2].final_labels() == ["dark"]
    r = _run("init", tmp_path / "again", "--data", tmp_path / out, "--labels", "dark,light")
    assert r.exit_code == 0 and "6 image items" in r.output, r.output
    first, again = open_project(tmp_path / "p"), open_project(tmp_path / "again")
    assert np.array_equal(first.load_features(), again.load_features())
    first.close()
    again.close()


@pytest.mark.parametrize("fmt", ["label-studio", "prodigy"])
def test_export_carries_every_annotator_and_skips(tmp_path: Path, fmt: str) -> None:
    """Two annotators on one item are two answers, a skip a cancelled (ignored) one; the
    label of the item is the latest, as in the project."""
    (tmp_path / "items.csv").write_text(
        "id,text\n" + "".join(f"t{i},{t}\n" for i, (t, _) in enumerate(_texts(6)))
    )
    r = _run("init", tmp_path / "p", "--data", tmp_path / "items.csv", "--labels", "pos,neg")
    assert r.exit_code == 0, r.output
    store = open_project(tmp_path / "p")
    ada, _ = store.add_annotator("ada", with_token=False)
    bob, _ = store.add_annotator("bob", with_token=False)
    store.append_event(1, ada.id, "label", label="pos")
    store.append_event(1, bob.id, "label", label="neg", overlap=2)
    store.append_event(2, ada.id, "skip")
    store.append_event(3, bob.id, "label", label="pos")
    store.undo_last(bob.id)
    store.close()
    out = tmp_path / ("o.json" if fmt == "label-studio" else "o.jsonl")
    assert _run("export", tmp_path / "p", "--format", fmt, "--out", out).exit_code == 0
    back = read_tasks(out)
    got = [[(a.annotator, a.status, a.labels) for a in rec.answers] for rec in back]
    assert got[1] == [("ada", "accept", ["pos"]), ("bob", "accept", ["neg"])]
    assert got[2] == [("ada", "ignore", [])] and got[3] == []
    assert back[1].final_labels() == ["neg"]
    if fmt == "label-studio":
        assert json.loads(out.read_text())[2]["annotations"][0]["result"] == []


def test_an_export_read_again_keeps_imported_annotators_names(tmp_path: Path) -> None:
    """A CSV's given labels (imported:file) exported and read into a new project stay
    imported:file, not imported:imported:file."""
    (tmp_path / "items.csv").write_text(
        "id,text,label\n" + "".join(f"t{i},{t},{lab}\n" for i, (t, lab) in enumerate(_texts(6)))
    )
    assert _run("init", tmp_path / "p", "--data", tmp_path / "items.csv").exit_code == 0
    out = tmp_path / "o.json"
    assert _run("export", tmp_path / "p", "--format", "label-studio", "--out", out).exit_code == 0
    assert _run("init", tmp_path / "q", "--data", out).exit_code == 0
    store = open_project(tmp_path / "q")
    assert {c.annotator for c in store.current_labels().values()} == {"imported:file"}
    store.close()


@pytest.mark.parametrize(("fmt", "name"), [("label-studio", "o.json"), ("prodigy", "o.jsonl")])
def test_a_tool_export_of_a_csv_project_keeps_its_ids(tmp_path: Path, fmt: str, name: str) -> None:
    """Label Studio tasks carry no task id, Prodigy lines a hash of the data: the data's id
    (Prodigy: meta's) names them when read again, so a round trip keeps the project's ids."""
    ids = ["a1", "007", "x-3", "b4", "c5", "d6"]
    (tmp_path / "items.csv").write_text(
        "id,text,label\n"
        + "".join(f"{i},{t},{lab}\n" for i, (t, lab) in zip(ids, _texts(6), strict=True))
    )
    assert _run("init", tmp_path / "p", "--data", tmp_path / "items.csv").exit_code == 0
    out = tmp_path / name
    assert _run("export", tmp_path / "p", "--format", fmt, "--out", out).exit_code == 0
    assert _run("init", tmp_path / "q", "--data", out).exit_code == 0
    store = open_project(tmp_path / "q")
    assert store.external_ids() == ids
    store.close()
    again = tmp_path / ("again" + Path(name).suffix)
    assert _run("export", tmp_path / "q", "--format", fmt, "--out", again).exit_code == 0
    assert read_tasks(again) == read_tasks(out)


def _through_label_studio(path: Path) -> None:
    """What an import into Label Studio and its JSON export do to a task file: every task
    gets a task id of that project's own; the data is kept as it was."""
    tasks = json.loads(path.read_text())
    path.write_text(json.dumps([{**t, "id": 9000 + n} for n, t in enumerate(tasks)]))


@pytest.mark.parametrize(
    ("header", "row", "options"),
    [
        ("id,text,label", "{id},{text},{label}", ["--text-features", "tfidf"]),
        ("ref,text,label", "{id},{text},{label}", ["--id-column", "ref"]),
        ("text,label", "{text},{label}", ["--text-features", "tfidf"]),
        ("id,x,y,label", "{id},{n},{m},{label}", []),
        ("ref,x,y,label", "{id},{n},{m},{label}", ["--id-column", "ref"]),
        ("x,y,label", "{n},{m},{label}", []),
    ],
    ids=["text", "text-ref", "text-rows", "table", "table-ref", "table-rows"],
)
@pytest.mark.parametrize("via", ["file", "label-studio"])
def test_a_label_studio_export_keeps_the_items_ids_and_answers(
    tmp_path: Path, header: str, row: str, options: list[str], via: str
) -> None:
    """The item id goes in each task's data, under ``id`` as in the csv export, where Label
    Studio keeps it: ``init`` from the export (straight, or after Label Studio gave the tasks
    ids of its own) has the project's ids and answers, and never reads the id as a feature
    or shows it as the text."""
    ids = ["a1", "007", "x-3", "b4", "c5", "d6", "e7", "f8"]
    lines = [
        row.format(
            id=i, text=t, label=lab if n not in (2, 7) else "", n=n * 1.5 + (lab == "pos"), m=n % 3
        )
        for n, (i, (t, lab)) in enumerate(zip(ids, _texts(8), strict=True))
    ]
    (tmp_path / "items.csv").write_text("\n".join([header, *lines]) + "\n")
    init = ["init", tmp_path / "p", "--data", tmp_path / "items.csv", "--labels", "pos,neg"]
    assert _run(*init, *options).exit_code == 0
    _label_first(tmp_path / "p", "neg")  # an answer given in the project, beside the file's
    out = tmp_path / "o.json"
    assert _run("export", tmp_path / "p", "--format", "label-studio", "--out", out).exit_code == 0
    if via == "label-studio":
        _through_label_studio(out)
    r = _run("init", tmp_path / "q", "--data", out, "--labels", "pos,neg")
    assert r.exit_code == 0, r.output
    first, again = open_project(tmp_path / "p"), open_project(tmp_path / "q")
    try:
        assert again.external_ids() == first.external_ids()
        assert _answers(again) == _answers(first)
        assert again.settings.get("feature_columns") == first.settings.get("feature_columns")
        assert again.load_features().shape == first.load_features().shape
        if again.settings["kind"] == "text":
            assert again.item(0)["content"]["text"] == first.item(0)["content"]["text"]
    finally:
        first.close()
        again.close()


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("prodigy", "o.jsonl"), ("parquet", "o.parquet"), ("hf", "o"), ("label-studio", "o.json")],
)
def test_a_tool_export_of_a_table_leaves_its_id_column_out_of_the_data(
    tmp_path: Path, fmt: str, name: str
) -> None:
    """A table made with --id-column ref (numbers) carries its ids in the format's own place;
    its ref column left among the data was a feature of the project made from the export."""
    (tmp_path / "items.csv").write_text(
        "ref,x,y,label\n"
        + "".join(
            f"{1000 + i},{i * 1.5},{i % 3},{'ab'[i % 2] if i < 6 else ''}\n" for i in range(8)
        )
    )
    init = ["init", tmp_path / "p", "--data", tmp_path / "items.csv", "--labels", "a,b"]
    assert _run(*init, "--id-column", "ref").exit_code == 0
    out = tmp_path / name
    assert _run("export", tmp_path / "p", "--format", fmt, "--out", out).exit_code == 0
    assert all("ref" not in rec.data for rec in read_tasks(out))
    r = _run("init", tmp_path / "q", "--data", out, "--labels", "a,b")
    assert r.exit_code == 0 and "features x, y," in r.output, r.output
    first, again = open_project(tmp_path / "p"), open_project(tmp_path / "q")
    try:
        assert again.external_ids() == first.external_ids()
        assert _answers(again) == _answers(first)
    finally:
        first.close()
        again.close()


def test_a_label_studio_export_keeps_the_ids_of_tasks_and_of_items_added_from_a_csv(
    tmp_path: Path,
) -> None:
    """A project made from Label Studio tasks (task ids, no data id) with a CSV's items added
    (their ids in the data): a project made from its export has every id."""
    tasks = [{"id": 100 + i, "data": {"text": t}} for i, (t, _) in enumerate(_texts(6))]
    (tmp_path / "t.json").write_text(json.dumps(tasks))
    (tmp_path / "more.csv").write_text("id,text\nm1,lovely plot\nm2,dreadful acting\n")
    init = ["init", tmp_path / "p", "--data", tmp_path / "t.json", "--labels", "pos,neg"]
    assert _run(*init, "--text-features", "tfidf").exit_code == 0
    assert _run("add", tmp_path / "p", "--data", tmp_path / "more.csv").exit_code == 0
    out = tmp_path / "o.json"
    assert _run("export", tmp_path / "p", "--format", "label-studio", "--out", out).exit_code == 0
    assert _run("init", tmp_path / "q", "--data", out, "--labels", "pos,neg").exit_code == 0
    first, again = open_project(tmp_path / "p"), open_project(tmp_path / "q")
    assert again.external_ids() == first.external_ids() == [*map(str, range(100, 106)), "m1", "m2"]
    first.close()
    again.close()


def _answers(store: object) -> dict[str, tuple[str, str]]:
    """Item id → its label and who gave it (an imported answer by the name the file gave)."""
    ids = store.external_ids()
    return {
        ids[i]: (c.label, c.annotator.removeprefix("imported:"))
        for i, c in store.current_labels().items()
    }


def test_an_answer_without_a_choice_is_no_label_not_a_refused_one(tmp_path: Path) -> None:
    """Single-label: an annotation of a text area only chose nothing, so the item stays
    unlabelled; it is not counted as an answer whose labels are not the project's."""
    tasks = [{"id": i, "data": {"text": t}} for i, (t, _) in enumerate(_texts(4))]
    tasks[0]["annotations"] = [{"id": 1, "result": _region(["pos"])}]
    tasks[1]["annotations"] = [{"id": 2, "result": _region(["neg"])}]
    note = {"from_name": "note", "to_name": "text", "type": "textarea", "value": {"text": ["?"]}}
    tasks[2]["annotations"] = [{"id": 3, "result": [note]}]
    tasks[3]["annotations"] = [{"id": 4, "result": _region(["pos"])}, {"id": 5, "result": [note]}]
    (tmp_path / "t.json").write_text(json.dumps(tasks))
    r = _run("init", tmp_path / "p", "--data", tmp_path / "t.json")
    assert r.exit_code == 0, r.output
    assert "Imported 3 labels from the file." in r.output and "left out" not in r.output
    store = open_project(tmp_path / "p")
    assert {i: c.label for i, c in store.current_labels().items()} == {0: "pos", 1: "neg", 3: "pos"}
    store.close()
    (tmp_path / "more.json").write_text(json.dumps([{**t, "id": t["id"] + 10} for t in tasks]))
    r = _run("add", tmp_path / "p", "--data", tmp_path / "more.json")
    assert r.exit_code == 0 and "Imported 3 labels." in r.output, r.output
    assert "left out" not in r.output


def test_a_config_of_two_choices_is_read_and_written_by_one_control(tmp_path: Path) -> None:
    """Regions of a sentiment and a topic control come in any order: every task is read by
    the file's first control, and new answers are written for it, not for 'label'."""
    tasks = [{"id": i, "data": {"text": t}} for i, (t, _) in enumerate(_texts(6))]
    for i in (0, 1, 3, 4):  # item 2 is left for a new answer
        mood, topic = _region(["pos" if i % 2 else "neg"]), _region(["film"], name="topic")
        tasks[i]["annotations"] = [{"id": i, "result": topic + mood if i == 1 else mood + topic}]
    (tmp_path / "t.json").write_text(json.dumps(tasks))
    r = _run("init", tmp_path / "p", "--data", tmp_path / "t.json")
    assert r.exit_code == 0 and "labels neg, pos," in r.output, r.output
    _label_first(tmp_path / "p", "pos")
    r = _run("export", tmp_path / "p", "--format", "label-studio", "--out", tmp_path / "o.json")
    assert r.exit_code == 0, r.output
    new = json.loads((tmp_path / "o.json").read_text())[2]["annotations"][-1]["result"][0]
    assert (new["from_name"], new["to_name"]) == ("sentiment", "text")
    assert [rec.final_labels() for rec in read_tasks(tmp_path / "o.json")] == [
        ["neg"], ["pos"], ["pos"], ["pos"], ["neg"], None
    ]  # fmt: skip


def test_an_export_in_another_format_writes_that_format(tmp_path: Path) -> None:
    """A project from Label Studio exported as Prodigy (and back) writes each answer in the
    target's own form, never the other tool's annotation objects or task fields."""
    tasks = [{"id": 20 + i, "data": {"text": t}, "meta": {"k": i}} for i, (t, _) in
             enumerate(_texts(6))]  # fmt: skip
    tasks[0]["annotations"] = LS_TASKS[0]["annotations"]
    tasks[1]["annotations"] = LS_TASKS[1]["annotations"]  # cancelled
    (tmp_path / "t.json").write_text(json.dumps(tasks))
    r = _run("init", tmp_path / "p", "--data", tmp_path / "t.json", "--labels", "pos,neg")
    assert r.exit_code == 0, r.output
    out = tmp_path / "o.jsonl"
    assert _run("export", tmp_path / "p", "--format", "prodigy", "--out", out).exit_code == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert all("result" not in x and "meta" in x and "data" not in x for x in lines)
    assert [(x.get("answer"), x.get("accept")) for x in lines[:2]] == [
        ("accept", ["pos"]), ("ignore", [])
    ]  # fmt: skip
    assert _run("init", tmp_path / "q", "--data", out, "--labels", "pos,neg").exit_code == 0
    back = tmp_path / "back.json"
    assert _run("export", tmp_path / "q", "--format", "label-studio", "--out", back).exit_code == 0
    again = json.loads(back.read_text())
    assert all("_input_hash" not in t and "meta" not in t for t in again)
    assert all("result" in a for t in again for a in t.get("annotations", []))
    assert [rec.final_labels() for rec in read_tasks(back)] == [["pos"]] + [None] * 5


@pytest.mark.parametrize(("fmt", "name"), [("label-studio", "o.json"), ("parquet", "o.parquet")])
def test_a_gold_label_is_the_items_label_in_a_tool_export(
    tmp_path: Path, fmt: str, name: str
) -> None:
    """Gold labels count as the item's label in exports: the last answer, by 'gold'."""
    (tmp_path / "items.csv").write_text(
        "id,text\n" + "".join(f"t{i},{t}\n" for i, (t, _) in enumerate(_texts(6)))
    )
    r = _run("init", tmp_path / "p", "--data", tmp_path / "items.csv", "--labels", "pos,neg")
    assert r.exit_code == 0, r.output
    (tmp_path / "gold.csv").write_text("id,label\nt3,neg\nt4,pos\n")
    assert _run("gold", tmp_path / "p", tmp_path / "gold.csv").exit_code == 0
    store = open_project(tmp_path / "p")
    ada, _ = store.add_annotator("ada", with_token=False)
    store.append_event(3, ada.id, "label", label="pos")
    store.close()
    out = tmp_path / name
    assert _run("export", tmp_path / "p", "--format", fmt, "--out", out).exit_code == 0
    back = read_tasks(out)
    assert [rec.final_labels() for rec in back] == [None, None, None, ["neg"], ["pos"], None]
    assert back[4].answers[-1].annotator == "gold"


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("label-studio", "o.json"), ("prodigy", "o.jsonl"), ("parquet", "o.parquet"), ("hf", "o")],
)
def test_with_predictions_exports_the_models_guess_as_predictions(
    tmp_path: Path, fmt: str, name: str
) -> None:
    """--with-predictions adds the latest model's guess as each item's prediction, flagged by
    its model version; read back, predictions are never labels."""
    texts = _texts(10)
    (tmp_path / "items.csv").write_text(
        "id,text,label\n"
        + "".join(f"t{i},{t},{lab if i < 4 else ''}\n" for i, (t, lab) in enumerate(texts))
    )
    assert _run("init", tmp_path / "p", "--data", tmp_path / "items.csv").exit_code == 0
    out = tmp_path / name
    r = _run("export", tmp_path / "p", "--format", fmt, "--with-predictions", "--out", out)
    assert r.exit_code == 0, r.output
    back = read_tasks(out, fmt)
    assert [rec.final_labels() for rec in back] == [[lab] for _, lab in texts[:4]] + [None] * 6
    guesses = [rec.predictions[-1] for rec in back if rec.predictions]
    assert len(guesses) == (6 if fmt == "prodigy" else 10)  # Prodigy: unanswered items only
    assert all(g.model_version == "model v1" and g.labels[0] in ("pos", "neg") for g in guesses)
    assert all(0.5 <= g.score <= 1 for g in guesses)
    r = _run("init", tmp_path / "q", "--data", out, "--labels", "pos,neg")
    assert r.exit_code == 0 and "Imported 4 labels" in r.output, r.output


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("/data/upload/3/cat.png", "a file on the Label Studio server; copy the images here"),
        ("/data/local-files/?d=pets/cat.png", "a file on the Label Studio server"),
        ("s3://bucket/cat.png", "is in s3:// storage; download the images"),
        ("cats/none.png", "no such image file"),
    ],
)
def test_an_image_init_cannot_read_says_where_it_is(tmp_path: Path, ref: str, message) -> None:
    from activelab.interop.images import ImageRefError, load_image_ref

    with pytest.raises(ImageRefError, match=message.replace("?", r"\?")):
        load_image_ref(ref, base=tmp_path)


def test_prodigy_timestamps_are_unix_seconds_and_iso_elsewhere(tmp_path: Path) -> None:
    """Prodigy's _timestamp (Unix seconds) reads as ISO 8601, which the other formats write,
    and a new Prodigy answer gets Unix seconds back; a Prodigy file still round-trips."""
    from activelab.interop.records import Answer, Record

    records = parse_prodigy(PRODIGY_LINES)
    assert records[0].answers[0].created_at == "2023-11-14T22:13:20Z"
    write_tasks(records, tmp_path / "o.parquet", "parquet")
    assert read_tasks(tmp_path / "o.parquet")[0].answers[0].created_at == "2023-11-14T22:13:21Z"
    assert [json.loads(x) for x in write_prodigy(records).splitlines()] == PRODIGY_LINES
    new = [Record("a", {"text": "x"}, [Answer(["pos"], created_at="2023-11-14T22:13:20Z")])]
    assert json.loads(write_prodigy(new))["_timestamp"] == 1700000000


def test_prodigy_timestamps_drop_the_fraction_as_every_export_does() -> None:
    """A time goes out to the second with its fraction dropped, as the CSV export writes it: a
    time before 1970 included (23:59:59.5 is 23:59:59, not the next second)."""
    from activelab.interop.records import Answer, Record

    times = ["2023-11-14T22:13:20.9Z", "1969-12-31T23:59:59.5Z"]
    new = [Record(t, {"text": t}, [Answer(["pos"], created_at=t)]) for t in times]
    lines = write_prodigy(new).splitlines()
    assert [json.loads(x)["_timestamp"] for x in lines] == [1700000000, -1]
    assert [r.answers[0].created_at for r in parse_prodigy([json.loads(x) for x in lines])] == [
        "2023-11-14T22:13:20Z",
        "1969-12-31T23:59:59Z",
    ]


def test_imported_answers_keep_the_time_the_tool_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Label Studio annotation's updated_at (else created_at) and a Prodigy _timestamp are
    when an imported label was given; without one, the import time is; an export read into
    a new project gives the same times back, that import time included."""
    import time

    tasks = [{"id": 100 + i, "data": {"text": t}} for i, (t, _) in enumerate(_texts(8))]
    stamps = [
        {"created_at": "2024-01-02T03:04:05Z"},
        {"created_at": "2024-01-02T03:04:05Z", "updated_at": "2024-02-03T04:05:06.250000Z"},
        {"created_at": "2024-03-04T06:07:08+01:00"},
        {},
    ]
    for i, stamp in zip((0, 1, 3, 4), stamps, strict=True):  # item 2 is labelled below
        tasks[i]["annotations"] = [{"result": _region(["pos"]), "completed_by": 1, **stamp}]
    (tmp_path / "tasks.json").write_text(json.dumps(tasks))
    before = time.time()
    assert _run("init", tmp_path / "p", "--data", tmp_path / "tasks.json", "--labels", "pos,neg")
    after = time.time()
    store = open_project(tmp_path / "p")
    when = {c.item_id: c.created_at for c in store.current_labels().values()}
    store.close()
    assert when[0] == 1704164645.0 and when[1] == 1706933106.25
    assert when[3] == 1709528828.0  # 05:07:08 UTC
    assert before <= when[4] <= after  # the file says nothing: now
    _label_first(tmp_path / "p", "neg")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3600.0)  # read back an hour later
    for name, fmt in (("o.json", "label-studio"), ("o.jsonl", "prodigy")):
        project = tmp_path / f"from-{fmt}"
        out = tmp_path / name
        assert _run("export", tmp_path / "p", "--format", fmt, "--out", out).exit_code == 0
        assert _run("init", project, "--data", out, "--labels", "pos,neg").exit_code == 0
        csv_p, csv_q = tmp_path / "p.csv", tmp_path / f"{fmt}.csv"
        assert _run("export", tmp_path / "p", "--out", csv_p).exit_code == 0
        assert _run("export", project, "--out", csv_q).exit_code == 0
        assert _label_times(csv_q) == _label_times(csv_p)


def _label_times(path: Path) -> list[tuple[str, str, str]]:
    import csv

    with path.open(newline="") as f:
        return [(row["id"], row["label"], row["labelled_at"]) for row in csv.DictReader(f)]


def test_a_prodigy_file_saved_with_a_byte_order_mark_is_prodigy(tmp_path: Path) -> None:
    # Notepad's UTF-8 starts the file with a BOM: the first record was not looked at, and a
    # file whose first record alone carries Prodigy's fields was read as plain items
    path = tmp_path / "answers.jsonl"
    path.write_text('\ufeff{"text": "a", "answer": "accept", "accept": ["pos"]}\n{"text": "b"}\n')
    assert detect_format(path) == "prodigy"
    assert [rec.final_labels() for rec in read_tasks(path)] == [["pos"], None]
