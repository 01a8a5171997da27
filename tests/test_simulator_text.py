"""``activelab simulate --text-column``: a text column featurised by TF-IDF (no model load)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import scipy.sparse as sp
from click.testing import CliRunner

from activelab.cli import main
from activelab.data import datasets

REVIEWS = Path(__file__).resolve().parents[1] / "examples" / "reviews.csv"


def _labelled_reviews(path: Path) -> Path:
    """examples/reviews.csv with a ``sentiment`` column (the reviews alternate: odd ids praise)."""
    with REVIEWS.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "sentiment"])
        for r in rows:  # writing a test file
            good = int(r["id"].lstrip("r")) % 2 == 1
            w.writerow([r["id"], r["text"], "positive" if good else "negative"])
    return path


def test_simulate_text_column_with_tfidf(tmp_path) -> None:
    data = _labelled_reviews(tmp_path / "reviews.csv")
    ds = datasets.load_table(data, "sentiment", text_column="text", text_features="tfidf")
    assert ds.featuriser == "tfidf" and sp.issparse(ds.X) and ds.X.shape[0] == 60
    assert ds.X.shape[1] > 100  # word uni- and bigrams, not the id column
    out = tmp_path / "results.json"
    args = ["simulate", "--data", str(data), "--label-column", "sentiment"]
    args += ["--text-column", "text", "--text-features", "tfidf", "--seeds", "2"]
    args += ["--budget", "25", "--batch-size", "5", "--initial", "4", "--out", str(out)]
    r = CliRunner().invoke(main, args, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert doc["settings"]["featuriser"] == "tfidf"
    assert doc["settings"]["dataset"]["featuriser"] == "tfidf"
    assert doc["settings"]["dataset"]["n_features"] == ds.X.shape[1]
    runs = doc["runs"]
    # the default strategy (auto: margin, diverse batch and k-means density arms) on sparse rows
    assert {(r["strategy"], r["seed"]) for r in runs} >= {("auto", 0), ("random", 1)}
    # without a text column the string column is refused, naming it and the fix (the id
    # column is left out of the features)
    r = CliRunner().invoke(main, ["simulate", "--data", str(data), "--label-column", "sentiment"])
    assert r.exit_code != 0 and "'text' is neither numeric nor a column of categories" in r.output
    assert "featurise it with --text-column text" in r.output
    r = CliRunner().invoke(main, [*args[:5], "--text-column", "body", "--out", str(out)])
    assert r.exit_code != 0 and "no text column 'body'" in r.output
