"""Every reader of a user's files gives the same one-line answer to the same file.

A pool, a labelled table, a stream, a labelling project's items and a labelling tool's
export are read by several readers; a file one of them refuses (a JSON record naming a key
twice) is refused by all of them in the same words, and a file one of them reads (a
byte-order mark, trailing empty cells) is read by all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

pd = pytest.importorskip("pandas")

_TWICE = "key 'label' is given twice in one record (JSON would keep only the last); give it once."


def _text_query(tmp_path: Path, pool: Path) -> Any:
    """``activelab query`` of a text model on ``pool`` (its result)."""
    import joblib
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from activelab.cli import main

    model = make_pipeline(TfidfVectorizer(), LogisticRegression())
    model.fit(["good film", "bad film", "fine film", "poor film"], ["y", "n", "y", "n"])
    joblib.dump(model, tmp_path / "model.joblib")
    args = ["query", "--model", str(tmp_path / "model.joblib"), "--pool", str(pool), "-n", "2"]
    return CliRunner().invoke(main, args)


def _message(read: Any) -> str:
    """The one-line message ``read()`` stops with."""
    with pytest.raises(Exception) as err:
        read()
    return str(err.value)


@pytest.mark.parametrize("name", ["t.jsonl", "t.jsonl.gz", "t.ndjson.gz"])
def test_every_reader_refuses_a_json_key_given_twice_in_the_same_words(
    tmp_path: Path, name: str
) -> None:
    import gzip

    from activelab.app.ingest import read_items
    from activelab.data.datasets import load_table
    from activelab.stream.datasets import load_csv

    path = tmp_path / name
    text = (
        '{"a": 1, "text": "good", "label": "x"}\n'
        '{"a": 2, "text": "bad", "label": "x", "label": "y"}\n'
    )
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    want = f"{path}, line 2: {_TWICE}"
    assert _message(lambda: load_table(path, "label")) == want  # pandas kept "y"
    assert _message(lambda: load_csv(path, "label")) == want
    if not name.endswith(".gz"):
        assert _message(lambda: read_items(path, text_features="tfidf")) == want
        result = _text_query(tmp_path, path)
        assert result.exit_code == 1 and result.output == f"Error: {want}\n"


def test_load_table_reads_json_lines_as_the_other_readers_do(tmp_path: Path) -> None:
    from activelab.data.datasets import load_table

    path = tmp_path / "t.jsonl"
    # a byte-order mark (Windows Notepad's UTF-8), a blank line, numbers written as texts
    path.write_text('\ufeff{"a": "1.5", "label": "x"}\n\n{"a": 2, "label": "y"}\n')
    ds = load_table(path, "label")
    assert ds.X.tolist() == [[1.5], [2.0]] and ds.y.tolist() == ["x", "y"]
    path.write_text("")
    assert _message(lambda: load_table(path, "label")) == (
        f"{path}: the file is empty; it needs one JSON object per line."
    )
    path.write_text('{"a": 1, "label": "x"}\n[1, 2]\n')
    assert _message(lambda: load_table(path, "label")).startswith(
        f"{path}, line 2: list, not a JSON object;"
    )


_UNNAMED = "a value under key 3 (' '), a key without a name; give the key a name."


def test_every_reader_refuses_a_value_under_a_blank_json_key_naming_its_place(
    tmp_path: Path,
) -> None:
    from activelab.app.ingest import read_items
    from activelab.data.datasets import load_table
    from activelab.interop.formats import read_tasks
    from activelab.stream.datasets import load_csv

    path = tmp_path / "t.jsonl"
    # a key of spaces was a feature called " " (simulate), a field (init), or "the key ''"
    path.write_text(
        '{"a": 1, "text": "good", "label": "x"}\n{"a": 2, "text": "bad", " ": 5, "label": "y"}\n'
    )
    want = f"{path}, line 2: {_UNNAMED}"
    assert _message(lambda: load_table(path, "label")) == want
    assert _message(lambda: load_csv(path, "label")) == want
    assert _message(lambda: read_items(path, text_features="tfidf")) == want
    result = _text_query(tmp_path, path)
    assert result.exit_code == 1 and result.output == f"Error: {want}\n"
    prodigy = tmp_path / "p.jsonl"
    prodigy.write_text('{"text": "a", "answer": "accept", " ": "y"}\n')
    assert _message(lambda: read_tasks(prodigy, "prodigy")) == (f"{prodigy}, line 1: {_UNNAMED}")
    tasks = tmp_path / "tasks.json"
    tasks.write_text('[{"data": {"text": "a", "lang": "en", " ": "z"}}]')
    assert _message(lambda: read_tasks(tasks)) == (f"{tasks}: task 1: field 'data' has {_UNNAMED}")


def test_every_reader_leaves_out_a_blank_json_key_without_a_value(tmp_path: Path) -> None:
    from activelab.data.datasets import load_table
    from activelab.interop.formats import read_tasks
    from activelab.stream.datasets import load_csv

    path = tmp_path / "t.jsonl"
    path.write_text('{"a": 1, " ": null, "label": "x"}\n{"a": 2, "  ": "", "label": "y"}\n')
    assert load_table(path, "label").feature_names == ["a"]
    assert load_csv(path, "label").feature_names == ["a"]
    tasks = tmp_path / "tasks.json"
    tasks.write_text('[{"data": {"text": "a", " ": null}}]')
    assert read_tasks(tasks)[0].data == {"text": "a"}


def _numeric_query(tmp_path: Path, pool: Path) -> Any:
    """``activelab query`` of a model of two numeric features on ``pool`` (its result)."""
    import joblib
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from activelab.cli import main

    model = LogisticRegression().fit(np.array([[0.1, 1], [0.9, 0], [0.2, 1], [0.8, 0]]), [0, 1] * 2)
    joblib.dump(model, tmp_path / "model.joblib")
    args = ["query", "--model", str(tmp_path / "model.joblib"), "--pool", str(pool), "-n", "3"]
    return CliRunner().invoke(main, args)


def _sheet(path: Path, sep: str, header: list[str], rows: list[list[str]], past: int) -> None:
    """A CSV file as a spreadsheet saves it: CRLF, and ``past`` empty cells past the header
    (the cells of columns that once held something) on every row."""
    lines = [sep.join(header), *(sep.join([*row, *[""] * past]) for row in rows)]
    path.write_text("\r\n".join(lines) + "\r\n")


@pytest.mark.parametrize(("sep", "past"), [(",", 1), (",", 2), (";", 2)])
def test_every_reader_reads_a_spreadsheets_trailing_empty_cells(
    tmp_path: Path, sep: str, past: int
) -> None:
    from activelab.app.ingest import read_items
    from activelab.data.datasets import load_table
    from activelab.stream.datasets import load_csv

    point = "." if sep == "," else ","
    numbers = [[f"0{point}1", "1"], [f"0{point}9", "0"]] * 2
    table = tmp_path / "t.csv"
    _sheet(
        table, sep, ["a", "b", "label"], [[*r, "xy"[i % 2]] for i, r in enumerate(numbers)], past
    )
    ds = load_table(table, "label")  # every column was shifted by the cells past the header
    assert ds.feature_names == ["a", "b"] and ds.X.tolist()[:2] == [[0.1, 1.0], [0.9, 0.0]]
    assert ds.y.tolist() == ["x", "y", "x", "y"]
    stream = load_csv(table, "label")  # refused: "4 fields, the header has 3"
    assert stream.feature_names == ["a", "b"] and stream.X.tolist()[:2] == [[0.1, 1], [0.9, 0]]
    texts = tmp_path / "items.csv"
    _sheet(texts, sep, ["id", "text"], [["1", "good film"], ["2", "bad film"]], past)
    assert [r["content"]["text"] for r in read_items(texts, text_features="tfidf").rows] == [
        "good film",
        "bad film",
    ]
    pool = tmp_path / "pool.csv"
    _sheet(pool, sep, ["a", "b"], numbers, past)
    result = _numeric_query(tmp_path, pool)  # the features were read as NaN
    assert result.exit_code == 0, result.output
    (tmp_path / "clean.csv").write_text("a,b\n0.1,1\n0.9,0\n0.1,1\n0.9,0\n")
    assert result.output == _numeric_query(tmp_path, tmp_path / "clean.csv").output


def test_every_reader_refuses_a_value_past_the_header(tmp_path: Path) -> None:
    from activelab.app.ingest import read_items
    from activelab.data.datasets import load_table
    from activelab.stream.datasets import load_csv

    table = tmp_path / "t.csv"
    table.write_text("a,b,label\n1,2,x,,\n3,4,y,9,\n")
    want = (
        f"{table}, line 3: 5 fields, the header has 3, and field 4 holds '9'; quote a value "
        "that holds the separator, or name the column in the header row."
    )
    assert _message(lambda: load_csv(table, "label")) == want
    assert _message(lambda: load_table(table, "label")) == (
        f"{table}, data row 2, column 4: a value in a column without a name; name the column "
        "in the header row."
    )
    texts = tmp_path / "items.csv"
    texts.write_text("id,text\n1,good film,\n2,a big, bad film\n")  # an unquoted comma
    assert _message(lambda: read_items(texts, text_features="tfidf")) == (
        f"{texts}, line 3: 3 fields, the header has 2, and field 3 holds ' bad film'; quote a "
        "value that holds the separator, or name the column in the header row."
    )
    pool = tmp_path / "pool.csv"
    pool.write_text("a,b\n0.1,1,\n0.9,0,7\n")
    result = _numeric_query(tmp_path, pool)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{pool}, data row 2, column 3: a value in a column without a name" in result.output


def test_query_refuses_a_pool_without_rows_or_texts_in_one_line(tmp_path: Path) -> None:
    pool = tmp_path / "pool.csv"
    pool.write_text("a,b\n")  # said "column(s) ['a', 'b'] are not numeric"
    result = _numeric_query(tmp_path, pool)
    assert result.output == f"Error: {pool}: a header but no rows; the pool needs rows to rank.\n"
    pool.write_text("text\n")  # a traceback from TfidfTransformer
    result = _text_query(tmp_path, pool)
    assert result.output == f"Error: {pool}: a header but no rows; the pool needs rows to rank.\n"
    pool = tmp_path / "pool.jsonl"
    pool.write_text('{"text": "good"}\n\n{"other": "bad"}\n{"text": null}\n')  # a traceback
    result = _text_query(tmp_path, pool)
    assert result.exit_code == 1 and result.output == (
        f"Error: {pool}, line 3: no text in column 'text' (2 rows without one); give every row "
        "of the pool a text, or leave the row out.\n"
    )


def test_every_reader_takes_the_spaces_off_the_header_rows_names(tmp_path: Path) -> None:
    import joblib
    from sklearn.linear_model import LogisticRegression

    from activelab.app.ingest import read_items
    from activelab.cli import main
    from activelab.data.datasets import load_table
    from activelab.stream.datasets import load_csv

    table = tmp_path / "t.csv"
    table.write_text("a, b, label\n0.1, 1, x\n0.9, 0, y\n")  # typed by hand, or a sheet's
    ds = load_table(table, "label")  # "no label column 'label'; columns are a,  b,  label"
    assert ds.feature_names == ["a", "b"] and ds.y.tolist() == ["x", "y"]
    assert load_csv(table, "label").feature_names == ["a", "b"]
    items = tmp_path / "items.csv"
    items.write_text("id, text\n1, good film\n2, bad film\n")
    assert list(read_items(items, text_features="tfidf").rows[0]["content"]) == ["text", "id"]
    frame = pd.DataFrame({"a": [0.1, 0.9, 0.2, 0.8], "b": [1, 0, 1, 0]})
    joblib.dump(LogisticRegression().fit(frame, [0, 1, 0, 1]), tmp_path / "model.joblib")
    pool = tmp_path / "pool.csv"
    pool.write_text("a, b\n0.1, 1\n0.9, 0\n")
    args = ["query", "--model", str(tmp_path / "model.joblib"), "--pool", str(pool), "-n", "1"]
    result = CliRunner().invoke(main, args)  # "lacks the model's feature column(s) ['b']"
    assert result.exit_code == 0, result.output
    table.write_text("a, a ,label\n1,2,x\n3,4,y\n")
    assert _message(lambda: load_table(table, "label")).startswith(
        f"{table}: the header names column 'a' twice (columns 1 and 2)"
    )
    pool.write_text("a,a \n1,2\n")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "names column 'a' twice (columns 1 and 2)" in result.output


def test_every_reader_passes_over_a_sheets_blank_rows(tmp_path: Path) -> None:
    from activelab.app.ingest import read_items
    from activelab.data.datasets import load_table

    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    for row in (["a", "b", "label"], [0.1, 1, "x"], [None, None, None], [None, " ", None]):
        book.active.append(row)
    book.active.append([0.9, 0, "y"])
    book.save(tmp_path / "t.xlsx")
    ds = load_table(tmp_path / "t.xlsx", "label")  # "missing value (NaN) ... data row 2"
    assert ds.X.tolist() == [[0.1, 1.0], [0.9, 0.0]] and ds.y.tolist() == ["x", "y"]
    book = openpyxl.Workbook()
    for row in (["id", "text"], [1, "good film"], [None, None], [2, "bad film"]):
        book.active.append(row)
    book.save(tmp_path / "items.xlsx")
    rows = read_items(tmp_path / "items.xlsx", text_features="tfidf").rows
    assert [r["content"]["text"] for r in rows] == ["good film", "bad film"]


def test_a_pool_of_csv_parts_reads_a_spreadsheets_trailing_empty_cells(tmp_path: Path) -> None:
    from activelab.cli.query import _read_pool, _read_texts

    for name in ("p1.csv", "p2.csv"):  # read as the single file is, not all cells blank
        (tmp_path / name).write_text("a,b,label\n1,2,x,,\n3,4,y,,\n")
    (tmp_path / "one.csv").write_text("a,b,label\n1,2,x,,\n3,4,y,,\n1,2,x,,\n3,4,y,,\n")
    assert _read_texts(tmp_path / "p*.csv", "label") == ["x", "y", "x", "y"]
    assert _read_texts(tmp_path / "p*.csv", "label") == _read_texts(tmp_path / "one.csv", "label")
    pool = _read_pool(tmp_path / "p*.csv", ("a", "b"), False)
    assert pool.tolist() == [[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [3.0, 4.0]]
    assert pool.tolist() == _read_pool(tmp_path / "one.csv", ("a", "b"), False).tolist()


def test_a_dask_pool_reads_a_spreadsheets_trailing_empty_cells(tmp_path: Path) -> None:
    import click

    from activelab.cli.query import _read_pool

    dask = pytest.importorskip("dask")
    pytest.importorskip("dask.dataframe")
    pool = tmp_path / "pool.csv"
    _sheet(pool, ",", ["a", "b"], [["0.1", "1"], ["0.9", "0"]], 2)
    with dask.config.set(scheduler="synchronous"):
        frame = _read_pool(pool, (), True).compute()  # read shifted: a and b all NaN
        assert frame.to_numpy().tolist() == [[0.1, 1.0], [0.9, 0.0]]
        _sheet(pool, ",", ["", "a", "b"], [["0", "0.1", "1"], ["1", "0.9", "0"]], 1)
        with pytest.raises(click.ClickException, match=r"pool.csv, column 1: a value in a colu"):
            _read_pool(pool, (), True)
        pool.write_text("a,b\n0.1,1,,\n0.9,0,7,\n")
        with pytest.raises(click.ClickException, match=r"pool.csv, column 3: a value in a colu"):
            _read_pool(pool, (), True)
