"""A column without a name in a user's table: refused when it holds values, else left out.

``DataFrame.to_csv()`` writes the index first, under an empty header cell; read as a
feature, it would teach a model the row number.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

pd = pytest.importorskip("pandas")

_INDEX = "column 1: a value in a column without a name; name the column in the header row"


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"a": [0.1, 0.9, 0.2, 0.8, 0.3, 0.7], "b": [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]}
    ).assign(label=["x", "y"] * 3)


@pytest.mark.parametrize("name", ["t.csv", "t.tsv", "t.csv.gz"])
def test_load_table_refuses_a_pandas_index_in_a_csv(tmp_path: Path, name: str) -> None:
    from activelab.data.datasets import load_table

    path = tmp_path / name
    _frame().to_csv(path, sep="\t" if name.endswith(".tsv") else ",")  # the index written
    with pytest.raises(ValueError) as err:
        load_table(path, "label")
    assert str(err.value) == (
        f"{path}, data row 1, {_INDEX} (a pandas index: save with to_csv(index=False))."
    )


def test_load_table_refuses_a_pandas_index_in_a_sheet_and_a_parquet_file(tmp_path: Path) -> None:
    from activelab.data.datasets import load_table

    pytest.importorskip("openpyxl")
    _frame().to_excel(tmp_path / "t.xlsx")
    with pytest.raises(ValueError, match=r"t\.xlsx, row 2, column 1: .*to_excel\(index=False\)"):
        load_table(tmp_path / "t.xlsx", "label")
    named = _frame().rename(columns={"a": "NA", "b": "None"})  # names, not missing values
    named.to_excel(tmp_path / "n.xlsx", index=False)
    assert load_table(tmp_path / "n.xlsx", "label").feature_names == ["NA", "None"]
    pytest.importorskip("pyarrow")
    _frame().to_csv(tmp_path / "t.csv")
    pd.read_csv(tmp_path / "t.csv").to_parquet(tmp_path / "t.parquet")  # "Unnamed: 0" kept
    with pytest.raises(ValueError, match=r"column 1 \('Unnamed: 0'\): a value in a column wi"):
        load_table(tmp_path / "t.parquet", "label")


def test_load_table_leaves_out_empty_unnamed_columns_and_reads_names_as_written(
    tmp_path: Path,
) -> None:
    from activelab.data.datasets import load_table

    (tmp_path / "t.csv").write_text("a,b,label,\n1,2,x,\n3,4,y,\n")  # trailing commas
    assert load_table(tmp_path / "t.csv", "label").feature_names == ["a", "b"]
    # a header row that writes "Unnamed: 0" (or "NA") names its column
    (tmp_path / "n.csv").write_text("Unnamed: 0,NA,label\n1,2,x\n3,4,y\n")
    assert load_table(tmp_path / "n.csv", "label").feature_names == ["Unnamed: 0", "NA"]
    (tmp_path / "t.csv").write_text("a,,label\n1,,x\n3,7,y\n")  # a later column: no hint
    with pytest.raises(ValueError, match=r"data row 2, column 2: .* header row\.$"):
        load_table(tmp_path / "t.csv", "label")


def test_load_table_refuses_a_value_under_an_empty_json_key(tmp_path: Path) -> None:
    from activelab.data.datasets import load_table

    path = tmp_path / "t.jsonl"
    path.write_text('{"": null, "a": 1, "label": "x"}\n{"": 5, "a": 2, "label": "y"}\n')
    with pytest.raises(ValueError) as err:
        load_table(path, "label")
    assert str(err.value) == (
        f"{path}, line 2: a value under key 1 (''), a key without a name; give the key a name."
    )
    path.write_text('{"": null, "a": 1, "label": "x"}\n{"": "", "a": 2, "label": "y"}\n')
    assert load_table(path, "label").feature_names == ["a"]


def test_simulate_refuses_a_data_file_with_a_pandas_index(tmp_path: Path) -> None:
    from activelab.cli import main

    _frame().to_csv(tmp_path / "t.csv")
    args = ["simulate", "--data", str(tmp_path / "t.csv"), "--seeds", "1"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "results.json")])
    assert result.exit_code != 0
    assert "data row 1, column 1: a value in a column without a name" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz"])
def test_a_stream_refuses_a_pandas_index_naming_its_line(tmp_path: Path, name: str) -> None:
    from activelab.stream.datasets import load_csv

    path = tmp_path / name
    _frame().to_csv(path)
    with pytest.raises(ValueError) as err:
        load_csv(path, "label")
    assert str(err.value) == (
        f"{path}, line 2, {_INDEX} (a pandas index: save with to_csv(index=False))."
    )


def test_a_stream_leaves_out_an_empty_unnamed_column(tmp_path: Path) -> None:
    from activelab.cli import main
    from activelab.stream.datasets import load_csv

    path = tmp_path / "t.csv"
    path.write_text("a,b,label,\n" + "".join(f"{i},{i % 2},{'xy'[i % 2]},\n" for i in range(8)))
    assert load_csv(path, "label").feature_names == ["a", "b"]
    path.write_text("a,,label\n1,,x\n2,,y\n\n3,5,x\n")  # a blank line counted
    result = CliRunner().invoke(main, ["stream", "--data", str(path)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert f"{path}, line 5, column 2: a value in a column without a name" in result.output


def test_json_lines_refuse_a_value_under_an_empty_key_and_drop_an_empty_one() -> None:
    from activelab._jsonl import JSONLineError, json_lines

    assert list(json_lines(['{"": null, "a": 1}', '{"": " ", "a": 2}'])) == [
        (1, {"a": 1}),
        (2, {"a": 2}),
    ]
    assert list(json_lines(['[1, {"": 3}]', '{"meta": {"": 3}}']))[1][1] == {"meta": {"": 3}}
    with pytest.raises(JSONLineError) as err:
        list(json_lines(['{"a": 1}', '{"": 0, "a": 2}']))
    assert str(err.value) == (
        "line 2: a value under key 1 (''), a key without a name; give the key a name"
    )
    assert err.value.key == ""


def test_a_jsonl_stream_and_project_refuse_a_value_under_an_empty_key(tmp_path: Path) -> None:
    from activelab.app.ingest import IngestError, read_items
    from activelab.stream.datasets import load_csv

    path = tmp_path / "t.jsonl"
    path.write_text(
        '{"": null, "a": 1, "text": "hi", "label": "x"}\n'
        '{"": 7, "a": 2, "text": "yo", "label": "y"}\n'
    )
    want = f"{path}, line 2: a value under key 1 (''), a key without a name; give the key a name."
    with pytest.raises(ValueError) as err:
        load_csv(path, "label")
    assert str(err.value) == want
    with pytest.raises(IngestError) as err:
        read_items(path, text_features="tfidf")
    assert str(err.value) == want


def _query(tmp_path: Path, model: object, pool: Path, *extra: str) -> object:
    import joblib

    from activelab.cli import main

    joblib.dump(model, tmp_path / "model.joblib")
    args = ["query", "--model", str(tmp_path / "model.joblib"), "--pool", str(pool), "-n", "2"]
    return CliRunner().invoke(main, [*args, *extra])


def test_query_refuses_a_pool_with_a_pandas_index(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    frame = _frame()
    model = LogisticRegression().fit(frame[["a", "b"]].to_numpy(), frame["label"])
    frame[["a", "b"]].to_csv(tmp_path / "pool.csv")  # read whole, the index was a feature
    result = _query(tmp_path, model, tmp_path / "pool.csv")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output == (
        f"Error: {tmp_path / 'pool.csv'}, data row 1, {_INDEX} (a pandas index: save with "
        "to_csv(index=False)).\n"
    )
    (tmp_path / "pool.csv").write_text("a,b,\n0.1,1,\n0.9,0,\n0.5,1,\n")  # trailing commas
    result = _query(tmp_path, model, tmp_path / "pool.csv")
    assert result.exit_code == 0, result.output


def test_query_refuses_a_text_pool_with_a_value_under_an_empty_key(tmp_path: Path) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(), LogisticRegression())
    model.fit(["good film", "bad film", "fine film", "poor film"], ["y", "n", "y", "n"])
    pool = tmp_path / "pool.jsonl"
    pool.write_text('{"": null, "text": "good"}\n{"": 3, "text": "bad"}\n')
    result = _query(tmp_path, model, pool)
    assert f"{pool}, line 2: a value under key 1 ('')" in result.output
    pd.DataFrame({"text": ["good", "bad"]}).to_csv(tmp_path / "pool.csv")
    result = _query(tmp_path, model, tmp_path / "pool.csv")
    assert "data row 1, column 1: a value in a column without a name" in result.output


def test_a_dask_pool_names_the_column_of_a_pandas_index(tmp_path: Path) -> None:
    import click

    from activelab.cli.query import _csv_start, _without_unnamed

    dd = pytest.importorskip("dask.dataframe")
    _frame()[["a", "b"]].to_csv(tmp_path / "pool.csv")
    header = _csv_start(tmp_path / "pool.csv")[1]
    with pytest.raises(click.ClickException) as err:
        _without_unnamed(dd.read_csv(tmp_path / "pool.csv"), tmp_path / "pool.csv", True, header)
    assert err.value.message.startswith(f"{tmp_path / 'pool.csv'}, column 1: a value in a")
    (tmp_path / "pool.csv").write_text("a,b,\n0.1,1,\n0.9,0,\n")
    header = _csv_start(tmp_path / "pool.csv")[1]
    kept = _without_unnamed(dd.read_csv(tmp_path / "pool.csv"), tmp_path / "pool.csv", True, header)
    assert list(kept.columns) == ["a", "b"]


def test_init_refuses_a_parquet_file_with_a_pandas_index_read_back(tmp_path: Path) -> None:
    from activelab.cli import main
    from activelab.interop.tabular import read_parquet

    pytest.importorskip("pyarrow")
    pd.DataFrame({"text": ["good film", "bad film"]}).to_csv(tmp_path / "items.csv")
    pd.read_csv(tmp_path / "items.csv").to_parquet(tmp_path / "items.parquet")
    args = ["init", str(tmp_path / "p"), "--data", str(tmp_path / "items.parquet")]
    result = CliRunner().invoke(main, [*args, "--labels", "pos,neg"])
    assert result.exit_code != 0 and not (tmp_path / "p").exists()
    assert "items.parquet, row 1, column 1 ('Unnamed: 0'): a value in a column" in result.output
    pd.DataFrame({"text": ["a", "b"], "": [None, None]}).to_parquet(tmp_path / "e.parquet")
    assert [r.data for r in read_parquet(tmp_path / "e.parquet")] == [{"text": "a"}, {"text": "b"}]
