"""Tables with columns of categories: learnt from (one-hot), through init, add, model and query."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from activelab.app.ingest import IngestError, read_items
from activelab.cli import main
from activelab.data.tables import TableFeatures, category_columns


def _customers(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    city = rng.choice(["paris", "lyon", "nice"], n)
    age = rng.integers(20, 70, n)
    return pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(n)],
            "age": age,
            "city": city,
            "note": [f"called on day {i}" for i in range(n)],  # distinct texts: shown only
            "label": np.where(city == "nice", "churn", "stay"),  # the city decides
        }
    )


def _invoke(*args: object):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, [str(a) for a in args])


def test_a_column_of_categories_is_learnt_from_and_a_column_of_texts_is_not(tmp_path: Path):
    path = tmp_path / "customers.csv"
    _customers().to_csv(path, index=False)
    data = read_items(path, label_column="label")
    assert data.settings["feature_columns"] == ["age"]
    assert data.settings["category_columns"] == ["city"]
    assert data.settings["other_columns"] == ["note"]
    assert data.X.shape == (120, 4)  # age, then city=lyon, city=nice, city=paris
    assert isinstance(data.featuriser, TableFeatures)
    onehot = data.X[:, 1:]
    assert set(np.unique(onehot)) == {0.0, 1.0} and (onehot.sum(axis=1) == 1).all()
    r = _invoke("init", tmp_path / "p", "--data", path)
    assert r.exit_code == 0, r.output
    assert "features age; categories city (one-hot)" in r.output
    assert "shown but not learnt from: note" in r.output


def test_categories_follow_the_rule_of_distinct_values():
    rows = [{"yes_no": "yes" if i % 2 else "no", "code": f"k{i}", "one": "x"} for i in range(10)]
    rows += [{"yes_no": "", "code": "k0", "one": "x"}]  # an empty cell is a category of its own
    assert category_columns(rows, ["yes_no", "code", "one"]) == (["yes_no"], ["code", "one"])
    commas = [{"price": f"{i % 3},5"} for i in range(12)]  # a decimal comma: a number
    assert category_columns(commas, ["price"]) == ([], ["price"])


def test_a_batch_with_a_new_category_is_added_and_the_model_reads_tables(tmp_path: Path):
    table = _customers(160)
    table.iloc[:120].assign(label=[*table.label[:40], *[""] * 80]).to_csv(
        tmp_path / "a.csv", index=False
    )
    later = table.iloc[120:].drop(columns=["label"]).copy()
    later.loc[later.index[:2], "city"] = "marseille"  # a city the project has not seen
    later.to_csv(tmp_path / "b.csv", index=False)
    proj = tmp_path / "p"
    assert _invoke("init", proj, "--data", tmp_path / "a.csv").exit_code == 0
    later.drop(columns=["city"]).to_csv(tmp_path / "nocity_batch.csv", index=False)
    r = _invoke("add", proj, "--data", tmp_path / "nocity_batch.csv")
    assert r.exit_code == 1 and "feature columns ['city'] not found" in r.output, r.output
    r = _invoke("add", proj, "--data", tmp_path / "b.csv")
    assert r.exit_code == 0 and "Added 40 items" in r.output, r.output
    r = _invoke("model", proj, "--out", tmp_path / "m.joblib")
    assert r.exit_code == 0 and "from the columns age, city." in r.output, r.output
    import joblib

    model = joblib.load(tmp_path / "m.joblib")
    assert model[0].transform(later.iloc[:2])[:, 1:].sum() == 0  # unseen: zeros, not an error
    assert (model.predict(table) == table.label).mean() > 0.9
    table.drop(columns=["label"]).to_csv(tmp_path / "pool.csv", index=False)
    r = _invoke("query", "--model", tmp_path / "m.joblib", "--pool", tmp_path / "pool.csv", "-n", 4)
    assert r.exit_code == 0, r.output
    assert len(r.stdout.split()) == 4 and all(0 <= int(x) < 160 for x in r.stdout.split())
    table.drop(columns=["city", "label"]).to_csv(tmp_path / "nocity.csv", index=False)
    r = _invoke("query", "--model", tmp_path / "m.joblib", "--pool", tmp_path / "nocity.csv")
    assert r.exit_code == 1 and "lacks the model's feature column(s) ['city']" in r.output


def test_named_feature_columns_may_be_categories_within_a_limit(tmp_path: Path):
    path = tmp_path / "t.csv"
    table = _customers()
    table.to_csv(path, index=False)
    data = read_items(path, label_column="label", feature_columns=["city", "age"])
    assert data.settings["feature_columns"] == ["age"]
    assert data.settings["category_columns"] == ["city"]
    wide = table.assign(note=[f"n{i}" for i in range(120)] * 1)
    wide = pd.concat(
        [wide, wide.assign(id=[f"d{i}" for i in range(120)], note=[f"m{i}" for i in range(120)])]
    )
    wide.to_csv(path, index=False)
    with pytest.raises(IngestError, match=r"'note', .* holds 240 distinct values; .* at most 200"):
        read_items(path, label_column="label", feature_columns=["note"])


def test_table_features_name_a_missing_column_and_a_bad_number():
    table = pd.DataFrame({"age": [20.0, 40.0], "city": ["a", "b"]})
    features = TableFeatures(["age"], ["city"]).fit(table)
    assert features.get_feature_names_out().tolist() == ["age", "city=a", "city=b"]
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['city'\]"):
        features.transform(table[["age"]])
    with pytest.raises(ValueError, match=r"Row 2, column 'age': 'old' is not a finite number"):
        features.transform(pd.DataFrame({"age": ["30", "old"], "city": ["a", "b"]}))
