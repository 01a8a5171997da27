"""A CSV saved by a spreadsheet with semicolons and decimal commas reads as its comma twin."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from activelab.data.csvfile import csv_format

pd = pytest.importorskip("pandas")


def _twins(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "width": rng.normal(2, 1, 60).round(3),
            "height": rng.normal(5, 2, 60).round(3),
            "city": rng.choice(["lyon", "nice"], 60),
        }
    )
    frame["label"] = np.where(frame.width > 2, "big", "small")
    comma, semicolon = tmp_path / "comma.csv", tmp_path / "semicolon.csv"
    frame.to_csv(comma, index=False)
    frame.to_csv(semicolon, index=False, sep=";", decimal=",")  # as a European spreadsheet
    header, first = semicolon.read_text().splitlines()[:2]
    assert "," not in header and "," in first  # decimal commas in the rows
    return comma, semicolon


def test_the_format_is_read_from_the_header_row(tmp_path) -> None:
    comma, semicolon = _twins(tmp_path)
    assert csv_format(comma) == (",", ".") and csv_format(semicolon) == (";", ",")
    assert csv_format(tmp_path / "x.tsv", "a;b") == ("\t", ".")
    assert csv_format(tmp_path / "x.csv", "a\tb") == ("\t", ".")


def test_simulated_tables_and_streams_read_a_semicolon_file_as_its_comma_twin(tmp_path) -> None:
    from activelab.data.datasets import load_table
    from activelab.stream.datasets import load_csv

    comma, semicolon = _twins(tmp_path)
    a, b = load_table(comma, "label"), load_table(semicolon, "label")
    np.testing.assert_allclose(a.X, b.X)
    assert list(a.y) == list(b.y)
    s, t = load_csv(comma, "label"), load_csv(semicolon, "label")
    np.testing.assert_allclose(s.X, t.X)
    assert s.feature_names == t.feature_names and list(s.y) == list(t.y)


def test_query_ranks_a_semicolon_pool_as_its_comma_twin(tmp_path) -> None:
    import joblib
    from sklearn.linear_model import LogisticRegression

    from activelab.cli import main

    comma, semicolon = _twins(tmp_path)
    frame = pd.read_csv(comma)
    model = LogisticRegression().fit(frame[["width", "height"]], frame["label"])
    joblib.dump(model, tmp_path / "model.joblib")
    runs = [
        CliRunner().invoke(
            main, ["query", "--model", str(tmp_path / "model.joblib"), "--pool", str(p), "-n", "5"]
        )
        for p in (comma, semicolon)
    ]
    assert all(r.exit_code == 0 for r in runs), [r.output for r in runs]
    assert runs[0].output == runs[1].output


def test_a_compressed_csv_is_read_by_its_header_not_its_bytes(tmp_path) -> None:
    from activelab.data.datasets import load_table

    comma, _ = _twins(tmp_path)
    frame = pd.read_csv(comma)
    frame.to_csv(tmp_path / "comma.csv.gz", index=False)
    frame.to_csv(tmp_path / "semicolon.csv.gz", index=False, sep=";", decimal=",")
    assert csv_format(tmp_path / "comma.csv.gz") == (",", ".")
    assert csv_format(tmp_path / "semicolon.csv.gz") == (";", ",")
    want = load_table(comma, "label").X
    for name in ("comma.csv.gz", "semicolon.csv.gz"):
        np.testing.assert_allclose(load_table(tmp_path / name, "label").X, want)
