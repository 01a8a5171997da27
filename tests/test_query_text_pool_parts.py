"""``activelab query`` reads a text model's pool in parts as it reads a numeric pool's."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

pd = pytest.importorskip("pandas")
joblib = pytest.importorskip("joblib")

_TEXTS = [f"{w} film number {i}" for i, w in enumerate(["good", "bad", "fine", "poor"] * 6)]


def _model(tmp_path: Path) -> Path:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(), LogisticRegression())
    model.fit(["good film", "bad film", "fine film", "poor film"], ["y", "n", "y", "n"])
    joblib.dump(model, tmp_path / "model.joblib")
    return tmp_path / "model.joblib"


def _query(model: Path, pool: Path) -> list[str]:
    from activelab.cli import main

    result = CliRunner().invoke(main, ["query", "--model", str(model), "--pool", str(pool)])
    assert result.exit_code == 0, result.output
    return result.stdout.split()


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_pattern_of_text_parts_ranks_as_the_one_file(tmp_path: Path, suffix: str) -> None:
    model = _model(tmp_path)
    frame = pd.DataFrame({"text": _TEXTS, "id": range(len(_TEXTS))})
    (tmp_path / "parts").mkdir()
    for i, start in enumerate(range(0, len(_TEXTS), 2)):  # 12 parts: 10 after 9, not after 1
        part = frame.iloc[start : start + 2]
        where = tmp_path / "parts" / f"part.{i}.{suffix}"
        part.to_csv(where, index=False) if suffix == "csv" else part.to_parquet(where)
    frame.to_csv(tmp_path / "whole.csv", index=False)
    whole = _query(model, tmp_path / "whole.csv")
    assert _query(model, tmp_path / "parts" / f"*.{suffix}") == whole
    if suffix == "parquet":  # a folder of Parquet parts too
        assert _query(model, tmp_path / "parts") == whole


def test_text_parts_with_other_headers_or_a_pattern_of_other_files_are_one_line(
    tmp_path: Path,
) -> None:
    from activelab.cli import main

    model = _model(tmp_path)
    (tmp_path / "0.csv").write_text("text\ngood\n")
    (tmp_path / "1.csv").write_text("words\nbad\n")
    args = ["query", "--model", str(model), "--pool"]
    result = CliRunner().invoke(main, [*args, str(tmp_path / "*.csv")])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {tmp_path / '1.csv'}: its header row ['words'] differs from 0.csv's "
        "['text']; every part of a CSV pool needs the same columns in the same order.\n"
    )
    result = CliRunner().invoke(main, [*args, str(tmp_path / "*.jsonl")])
    assert result.exit_code == 2
    assert "a pattern names parts of a .parquet or .csv pool" in result.output
    assert "Traceback" not in result.output
