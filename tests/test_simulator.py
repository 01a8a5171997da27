"""The simulator: data sets, metrics, simulate (splits, resume), plots and the report."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from activelab.data import datasets
from activelab.simulation import aulc, labels_to_reach, simulate
from activelab.simulation import runner as sim
from activelab.simulation.metrics import label_savings, paired_test, score_at, summarize
from activelab.simulation.runner import make_model


def _logreg():
    return LogisticRegression(max_iter=300)


SMALL = dict(n_initial=6, batch_size=6, budget=24, progress=False)


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # two spinning BLAS threads on a busy two-core machine slow small fits down 10-20x
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


# ----------------------------------------------------------------------------- data sets


@pytest.mark.parametrize(
    ("name", "shape", "n_classes"),
    [
        ("digits", (1797, 64), 10),
        ("breast_cancer", (569, 30), 2),
        ("wine", (178, 13), 3),
        ("iris", (150, 4), 3),
        ("phishing", (1250, 9), 2),
        ("bananas", (5300, 2), 2),
        ("image_segments", (2310, 18), 7),
        ("mnist", (5000, 784), 10),
    ],
)
def test_bundled_classification_sets(name, shape, n_classes):
    ds = datasets.load(name)
    assert ds.X.shape == shape and ds.X.dtype == np.float64
    assert ds.task == "classification"
    assert len(np.unique(ds.y)) == n_classes
    assert ds.source and ds.description
    assert len(ds.feature_names) == shape[1]
    assert not np.isnan(ds.X).any()


def test_river_labels_and_feature_order_are_stable():
    a, b = datasets.load("phishing"), datasets.load("phishing")
    assert a.feature_names == b.feature_names and np.array_equal(a.X, b.X)
    assert a.y.dtype == np.int64 and set(np.unique(a.y)) == {0, 1}  # bools became 0/1
    assert datasets.load("image_segments").y.dtype.kind == "U"


def test_diabetes_is_regression():
    ds = datasets.load("diabetes")
    assert ds.task == "regression" and ds.y.dtype == np.float64


def test_unknown_and_missing_dataset(monkeypatch):
    with pytest.raises(ValueError, match=r"Bundled data sets: .*digits"):
        datasets.load("cifar")
    real = importlib.import_module

    def fake(name, *a, **k):
        if name.startswith("river"):
            raise ModuleNotFoundError("No module named 'river'")
        return real(name, *a, **k)

    monkeypatch.setattr(datasets.importlib, "import_module", fake)
    with pytest.raises(datasets.DatasetUnavailableError, match=r"pip install 'activelab\[data\]'"):
        datasets.load("phishing")


def test_load_table_csv_parquet_and_errors(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("a,b,label\n1,2,x\n3,4,y\n5,6,x\n")
    ds = datasets.load_table(good, "label")
    assert ds.X.tolist() == [[1, 2], [3, 4], [5, 6]] and ds.y.tolist() == ["x", "y", "x"]
    import pandas as pd

    pq = tmp_path / "t.parquet"
    pd.read_csv(good).to_parquet(pq)
    assert np.array_equal(datasets.load_table(pq, "label").X, ds.X)
    xlsx = tmp_path / "t.xlsx"
    pd.read_csv(good).to_excel(xlsx, index=False)
    assert np.array_equal(datasets.load_table(xlsx).X, ds.X)
    with pytest.raises(ValueError, match=r"good.csv: no label column 'y'.*a, b, label"):
        datasets.load_table(good, "y")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n3,oops,y\n")
    with pytest.raises(
        ValueError,
        match=r"bad.csv: feature column 'b' is neither numeric nor a column of cat.*'oops'.*row 2",
    ):
        datasets.load_table(bad, "label")
    plans = tmp_path / "plans.csv"  # a column of categories is one-hot, as in a project
    plans.write_text(
        "a,plan,label\n" + "".join(f"{i},{'ab'[i % 2]},{'xy'[i % 2]}\n" for i in range(8))
    )
    ds = datasets.load_table(plans, "label")
    assert ds.feature_names == ["a", "plan=a", "plan=b"] and ds.X[:2, 1:].tolist() == [
        [1, 0],
        [0, 1],
    ]
    assert "3 features (plan one-hot)" in ds.description
    nan = tmp_path / "nan.csv"
    nan.write_text("a,b,label\n1,2,x\n3,,y\n")
    with pytest.raises(
        ValueError, match=r"nan.csv: missing value \(NaN\) in column 'b', data row 2"
    ):
        datasets.load_table(nan, "label")


def test_load_table_names_the_file_when_it_cannot_be_read(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("a,label\n1,caf\xe9\n2,th\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin.csv: not UTF-8 text .*save the file as UTF-8"):
        datasets.load_table(latin)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match=r"empty.csv: the file is empty"):
        datasets.load_table(tmp_path / "empty.csv")
    (tmp_path / "broken.csv").write_text('a,label\n1,x\n"2,y\n')
    with pytest.raises(ValueError, match=r"broken.csv: malformed CSV"):
        datasets.load_table(tmp_path / "broken.csv")
    (tmp_path / "wide.csv").write_text("a,label\n1,x\n2,y,3\n")  # pandas' ends in "\n"
    with pytest.raises(ValueError) as err:
        datasets.load_table(tmp_path / "wide.csv")
    assert str(err.value).endswith("Expected 2 fields in line 3, saw 3).")


def test_load_table_leaves_an_id_column_out_of_the_features(tmp_path):
    path = tmp_path / "ids.csv"  # numbered in the file's order, which is the classes' order
    path.write_text("id,a,label\n1,0.5,x\n2,0.1,x\n3,0.4,y\n4,0.2,y\n")
    ds = datasets.load_table(path)
    assert ds.feature_names == ["a"] and ds.X.shape == (4, 1)
    assert datasets.load_table(path, id_column="").feature_names == ["id", "a"]
    named = tmp_path / "named.csv"
    named.write_text("key,a,label\nk1,0.5,x\nk2,0.1,y\n")
    assert datasets.load_table(named, id_column="key").feature_names == ["a"]
    with pytest.raises(ValueError, match=r"no id column 'id'; columns are key, a, label"):
        datasets.load_table(named, id_column="id")


def test_load_table_reads_many_whole_numbers_as_a_quantity_and_says_so(tmp_path):
    rng = np.random.default_rng(0)
    counts = tmp_path / "counts.csv"  # a count to predict: whole numbers, many distinct
    rows = [f"{x:.3f},{int(100 + 40 * x + rng.integers(0, 30))}" for x in rng.normal(size=200)]
    counts.write_text("a,label\n" + "\n".join(rows) + "\n")
    ds = datasets.load_table(counts)
    assert ds.task == "regression" and ds.y.dtype == np.float64
    assert "Task: regression (" in ds.description and "--task classification" in ds.description
    assert datasets.load_table(counts, task="classification").task == "classification"
    classes = tmp_path / "classes.csv"  # ten digits as whole numbers: classes
    classes.write_text("a,label\n" + "\n".join(f"{i},{i % 10}" for i in range(200)) + "\n")
    ds = datasets.load_table(classes)
    assert ds.task == "classification" and "10 distinct whole numbers" in ds.description


def test_load_table_refuses_measurements_that_some_cells_keep_from_being_numbers(tmp_path):
    """A unit or a '<' made the column text, and each value a class of its own."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=120)
    cells = [f"{v:.3f}" for v in 3 * x]

    def table(name: str, values: list[str]) -> Path:
        path = tmp_path / name
        path.write_text(
            "a,label\n" + "".join(f"{a:.3f},{v}\n" for a, v in zip(x, values, strict=True))
        )
        return path

    censored = table("censored.csv", [*cells[:7], "<0.5", *cells[8:]])
    with pytest.raises(
        ValueError,
        match=r"has '<0.5' on data row 8, which is not a plain number "
        r"\(1 row is not\); for regression make every cell a number",
    ):
        datasets.load_table(censored)
    units = table("units.csv", [f"{c} nM" for c in cells])
    with pytest.raises(
        ValueError,
        match=r"'label' looks like measurements \(\d+ distinct values, "
        r"120 of 120 beginning with a number\) but has '.* nM' on data row 1",
    ):
        datasets.load_table(units)
    assert datasets.load_table(units, task="classification").task == "classification"
    stars = table("stars.csv", [f"{i % 5 + 1} stars" for i in range(120)])  # few: categories
    assert datasets.load_table(stars).task == "classification"
    species = table("species.csv", [f"sp{i}" for i in range(120)])  # many, but not numbers
    assert datasets.load_table(species).task == "classification"


def test_load_table_refuses_labels_the_given_task_cannot_take(tmp_path):
    measured = tmp_path / "measured.csv"
    measured.write_text("a,label\n1,0.7\n2,1.2\n3,2.0\n4,0.4\n")
    # classes from fractions: casting to whole numbers silently merged 0.7 and 0.4 into class 0
    with pytest.raises(ValueError, match=r"'label' has 0.7 on data row 1 \(3 rows with fr"):
        datasets.load_table(measured, task="classification")
    assert datasets.load_table(measured).y.tolist() == [0.7, 1.2, 2.0, 0.4]
    words = tmp_path / "words.csv"
    words.write_text("a,label\n1,2.5\n2,high\n3,1.0\n")
    with pytest.raises(ValueError, match=r"'high' on data row 2 \(1 row is not a number"):
        datasets.load_table(words, task="regression")  # was numpy's "could not convert"
    whole = tmp_path / "whole.csv"
    whole.write_text("a,label\n1,1.0\n2,2.0\n3,1.0\n")
    assert datasets.load_table(whole, task="classification").y.tolist() == [1, 2, 1]


def test_load_table_reads_json_lines_and_names_unlabelled_rows(tmp_path):
    lines = tmp_path / "t.jsonl"
    lines.write_text('{"a": 1, "b": 2, "label": "x"}\n{"a": 3, "b": 4, "label": "y"}\n')
    ds = datasets.load_table(lines)  # the label column defaults to "label"
    assert ds.X.tolist() == [[1, 2], [3, 4]] and ds.y.tolist() == ["x", "y"]
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"a": 1, "label": "x"}\nnot json\n')
    with pytest.raises(ValueError, match=r"broken.jsonl, line 2: invalid JSON"):
        datasets.load_table(broken)
    partial = tmp_path / "partial.csv"
    partial.write_text("a,label\n1,x\n2,\n3,\n4,y\n")
    with pytest.raises(
        ValueError,
        match=r"partial.csv: 2 of 4 rows have no label in column 'label' \(the first: data "
        r"row 2\); a simulation replays labelled data, so drop those rows",
    ):
        datasets.load_table(partial)


# ----------------------------------------------------------------------------- metrics


def test_metrics_are_importable_from_experiments_and_correct():
    assert aulc([0, 10], [0.5, 0.5]) == 0.5
    assert labels_to_reach([1, 2, 3], [0.1, 0.2, 0.3], 0.25) == 3
    assert score_at([10, 20], [0.1, 0.2], 30) is None
    # random reaches the target 0.9 at 30; the strategy at 20: a third of the labels saved
    assert label_savings(
        [10, 20, 30], [0.5, 0.9, 0.9], [10, 20, 30], [0.4, 0.6, 0.9], target=0.9
    ) == (pytest.approx(1 / 3), False)
    # never reaching the target that random reaches is flagged as censored
    assert label_savings([10, 20], [0.1, 0.2], [10, 20], [0.5, 0.6], target=0.6)[1] is True


def test_load_table_strips_the_spaces_around_a_label(tmp_path):
    # " fraud" and "fraud" were two classes; a label of spaces only was a class of its own
    p = tmp_path / "t.csv"
    p.write_text("a,label\n1, fraud\n2,ok \n3,fraud\n4,ok\n")
    ds = datasets.load_table(p, "label")
    assert ds.y.tolist() == ["fraud", "ok", "fraud", "ok"]
    p.write_text("a,label\n1, fraud\n2,ok\n3,  \n")
    with pytest.raises(ValueError, match=r"1 of 3 rows has no label.*data row 3"):
        datasets.load_table(p, "label")
    p = tmp_path / "t.jsonl"
    p.write_text('{"a": 1, "label": " x"}\n{"a": 2, "label": 3}\n{"a": 3, "label": "x"}\n')
    assert datasets.load_table(p, "label").y.tolist() == ["x", "3", "x"]


def test_load_table_refuses_a_header_that_names_a_column_twice(tmp_path):
    # pandas renamed the second "label" to "label.1", which became a feature
    p = tmp_path / "t.csv"
    p.write_bytes(b"\xef\xbb\xbflabel,a,label\r\nx,1,x\r\ny,2,y\r\n")
    message = r"t.csv: the header names column 'label' twice \(columns 1 and 3\); give each"
    with pytest.raises(ValueError, match=message):
        datasets.load_table(p, "label")
    pd = pytest.importorskip("pandas")
    pytest.importorskip("openpyxl")
    frame = pd.DataFrame([["x", 1, "x", 2], ["y", 2, "y", 3]], columns=["a", "b", "a", "b"])
    frame.to_excel(tmp_path / "t.xlsx", index=False)
    with pytest.raises(ValueError, match=r"names column 'a' twice \(columns 1 and 3\)"):
        datasets.load_table(tmp_path / "t.xlsx", "b")


def test_a_cold_start_from_no_label_has_a_finite_aulc():
    # no model at 0 labels: that point has no score, and the area starts at the first one
    assert aulc([0, 10, 20], [None, 0.6, 0.8]) == pytest.approx(0.7)
    assert np.isnan(aulc([0, 10], [float("nan"), None]))
    doc = simulate(
        "iris",
        _logreg(),
        ["random"],
        n_initial=0,
        batch_size=10,
        budget=30,
        seeds=2,
        progress=False,
    )
    row = summarize(doc["runs"], doc["full_pool"])["random"]
    assert np.isfinite(row["aulc"]["mean"]) and 0.5 < row["aulc"]["mean"] <= 1.0


def test_paired_test_detects_a_consistent_gain_and_not_noise():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.7, 0.8, 10)
    assert paired_test(base + 0.05, base)["p_value"] < 0.01
    assert paired_test(base, base)["p_value"] == 1.0
    assert paired_test(base + rng.normal(0, 0.01, 10), base)["p_value"] > 0.01


def test_summarize_reach_and_savings():
    runs = [
        {"strategy": s, "seed": k, "n_labels": [10, 20, 30, 40], "scores": sc}
        for k in range(4)
        for s, sc in (("random", [0.5, 0.6, 0.7, 0.8]), ("margin", [0.5, 0.8, 0.85, 0.9]))
    ]
    m = summarize(runs, {str(k): 0.84 for k in range(4)}, budgets=[20])
    # 95 % of the whole-pool 0.84 is 0.798: margin reaches it at 20, random at 40
    assert m["margin"]["savings"]["mean"] == pytest.approx(0.5)
    assert m["margin"]["labels_to_99"]["mean"] == 30 and m["random"]["labels_to_95"]["reached"] == 4
    assert m["random"]["labels_to_99"]["reached"] == 0
    # with a whole-pool score random never gets near, there is no saving to report
    assert summarize(runs, {str(k): 0.95 for k in range(4)})["margin"]["savings"]["mean"] is None
    assert m["margin"]["score_at"]["20"]["mean"] == pytest.approx(0.8)
    assert m["margin"]["test"]["mean_diff"] > 0 and m["random"]["test"] is None


# ----------------------------------------------------------------------------- simulate


def test_same_split_and_initial_set_for_every_strategy_of_a_seed():
    doc = simulate("iris", _logreg(), ["random", "margin", "entropy"], seeds=[3, 4], **SMALL)
    assert len(doc["runs"]) == 6 and set(doc["full_pool"]) == {"3", "4"}
    for seed in (3, 4):
        first = {r["scores"][0] for r in doc["runs"] if r["seed"] == seed}
        assert len(first) == 1  # same initial set and test split -> same first score
        for r in doc["runs"]:
            assert r["n_labels"] == [6, 12, 18, 24]
            assert len(r["select_seconds"]) == len(r["fit_seconds"]) == 4
            assert r["strategies_used"][0] == "initial"
    s = doc["settings"]
    assert (
        s["scoring"] == "accuracy" and s["dataset"]["name"] == "iris" and s["split"] == "stratified"
    )
    assert {"numpy", "scikit-learn"} <= set(s["versions"]) and s["machine"]["cores"]


def test_interrupted_simulation_resumes_where_it_stopped(tmp_path, monkeypatch):
    out = tmp_path / "r.json"
    real = sim.run_campaign
    calls = {"n": 0}

    def crashing(*a, **k):
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the machine goes down after three campaigns
        calls["n"] += 1
        return real(*a, **k)

    monkeypatch.setattr(sim, "run_campaign", crashing)
    args = (_logreg(), ["random", "margin"])
    with pytest.raises(KeyboardInterrupt):
        simulate("iris", *args, seeds=3, out=out, **SMALL)
    saved = json.loads(out.read_text())
    assert len(saved["runs"]) == 3 and not list(tmp_path.glob("*.tmp"))

    calls["n"] = 0
    monkeypatch.setattr(
        sim,
        "run_campaign",
        lambda *a, **k: (calls.__setitem__("n", calls["n"] + 1), real(*a, **k))[1],
    )
    doc = simulate("iris", *args, seeds=3, out=out, **SMALL)
    assert calls["n"] == 3  # only the three missing campaigns ran
    fresh = simulate("iris", *args, seeds=3, **SMALL)
    key = lambda r: (r["seed"], r["strategy"])  # noqa: E731
    assert [(key(r), r["scores"]) for r in doc["runs"]] == [
        (key(r), r["scores"]) for r in fresh["runs"]
    ]
    assert doc == json.loads(out.read_text())

    calls["n"] = 0
    simulate("iris", *args, seeds=3, out=out, **SMALL)
    assert calls["n"] == 0  # everything was there
    with pytest.raises(ValueError, match=r"budget: file has 24, now 30.*--no-resume"):
        simulate("iris", *args, seeds=3, out=out, **{**SMALL, "budget": 30})


def test_regression_and_custom_scorer():
    from sklearn.linear_model import Ridge

    doc = simulate("diabetes", Ridge(), ["random"], seeds=1, **SMALL)
    assert doc["settings"]["scoring"] == "r2" and doc["settings"]["split"] == "random"
    assert all(np.isfinite(doc["runs"][0]["scores"]))
    doc = simulate("iris", _logreg(), ["margin"], seeds=1, scoring="f1_macro", **SMALL)
    assert doc["runs"][0]["scoring"] == "f1_macro"


def test_multilabel_with_a_named_scorer():
    from sklearn.datasets import make_multilabel_classification
    from sklearn.multiclass import OneVsRestClassifier

    X, Y = make_multilabel_classification(200, 8, n_classes=3, random_state=0)
    doc = simulate(
        (X, Y),
        OneVsRestClassifier(_logreg()),
        ["random"],
        seeds=1,
        scoring="f1_micro",
        **{**SMALL, "n_initial": 20, "budget": 40, "batch_size": 20},
    )
    assert doc["settings"]["split"] == "random" and len(doc["runs"][0]["scores"]) == 2
    assert all(0 < s <= 1 for s in doc["runs"][0]["scores"])
    # the results say what the data are: 3 labels, not the 2 values of the 0/1 matrix
    summary = doc["settings"]["dataset"]
    assert summary["task"] == "multilabel" and summary["n_labels"] == 3
    assert "n_classes" not in summary


def test_a_label_matrix_takes_the_multilabel_strategies():
    from sklearn.datasets import make_multilabel_classification
    from sklearn.multiclass import OneVsRestClassifier

    X, Y = make_multilabel_classification(200, 8, n_classes=3, random_state=0)
    kw = {**SMALL, "n_initial": 20, "budget": 40, "batch_size": 20}
    doc = simulate((X, Y), OneVsRestClassifier(_logreg()), ["random", "mmc"], seeds=1, **kw)
    assert [r["strategy"] for r in doc["runs"]] == ["mmc", "random"]
    with pytest.raises(
        ValueError,
        match=r"'margin' is for classification, but 'arrays' is "
        r"multilabel; use one of .*mmc",
    ):
        simulate((X, Y), OneVsRestClassifier(_logreg()), ["margin"], seeds=1, **kw)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="Unknown strategy 'nope'"):
        simulate("iris", _logreg(), ["nope"], **SMALL)
    with pytest.raises(ValueError, match="n_initial=6, budget=3"):
        simulate("iris", _logreg(), ["random"], **{**SMALL, "budget": 3})
    with pytest.raises(ValueError, match="not_a_scorer"):
        simulate("iris", _logreg(), ["random"], scoring="not_a_scorer", **SMALL)
    # a fractional count was a TypeError ("not iterable"); a fractional seed was cut to 1
    with pytest.raises(ValueError, match=r"seeds must be a count or a list of whole numbers"):
        simulate("iris", _logreg(), ["random"], seeds=2.5, **SMALL)
    with pytest.raises(ValueError, match=r"got \[1\.5\]"):
        simulate("iris", _logreg(), ["random"], seeds=[1.5], **SMALL)
    with pytest.raises(ValueError, match=r"batch_size must be a positive whole number, got 6\.5"):
        simulate("iris", _logreg(), ["random"], **{**SMALL, "batch_size": 6.5})


def test_a_scorer_that_cannot_score_the_data_is_refused_before_any_campaign():
    # scikit-learn would fail at the first score, in its own words (pos_label=1 ...)
    from sklearn.linear_model import Ridge

    cases = [
        ("iris", _logreg(), "f1", r"'f1' is for two classes, and iris has 3; use 'f1_macro'"),
        ("iris", _logreg(), "roc_auc", r"use 'roc_auc_ovr'"),
        ("iris", _logreg(), "r2", r"'r2' scores a quantity, and iris has classes"),
        ("diabetes", Ridge(), "accuracy", r"'accuracy' scores classes, and diabetes is regression"),
    ]
    for name, model, scoring, message in cases:
        with pytest.raises(ValueError, match=message):
            simulate(name, model, ["random"], scoring=scoring, **SMALL)
    X, y = datasets.load("breast_cancer").X, np.where(datasets.load("breast_cancer").y, "b", "m")
    with pytest.raises(ValueError, match=r"scores the class 1, .* \(its classes: 'b', 'm'\)"):
        simulate((X, y), _logreg(), ["random"], scoring="f1", **SMALL)
    doc = simulate((X, y), make_model("logreg"), ["random"], scoring="roc_auc", seeds=1, **SMALL)
    assert all(0.5 < v <= 1 for v in doc["runs"][0]["scores"])  # roc_auc takes any two labels


def test_a_strategy_for_another_task_is_refused_naming_those_that_fit():
    with pytest.raises(
        ValueError,
        match=r"'margin' is for classification, but 'diabetes' is "
        r"regression; use one of .*variance",
    ):
        simulate("diabetes", make_model("ridge", task="regression"), ["margin"], **SMALL)
    with pytest.raises(ValueError, match=r"'variance' is for regression, but 'iris' is "):
        simulate("iris", _logreg(), ["variance"], **SMALL)


def test_a_stream_replay_given_to_the_report_says_what_draws_it(tmp_path):
    path = tmp_path / "stream.json"
    path.write_text(json.dumps({"schema": "activelab.stream/1", "settings": {}, "runs": []}))
    with pytest.raises(
        ValueError,
        match=r"a stream replay .*rerun that activelab stream "
        r"command with --plot FILE.png",
    ):
        sim.load_results(path)


def test_one_strategy_name_alone_is_one_strategy_not_its_letters():
    doc = simulate("iris", _logreg(), "margin", seeds=1, **SMALL)
    assert doc["settings"]["strategies"] == ["margin"]


# ----------------------------------------------------------------------------- report


def test_report_escapes_text_and_embeds_plots(tmp_path):
    from activelab.simulation.report import write_report

    X, y = datasets.load("iris").X, datasets.load("iris").y
    out = tmp_path / "r.json"
    simulate(
        (X, y),
        _logreg(),
        ["random", "margin"],
        seeds=2,
        out=out,
        dataset_name="<script>alert(1)</script>",
        **SMALL,
    )
    page = write_report(out).read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("data:image/png;base64,") == 2 and 'data-strategy="margin"' in page
    for part in ("curves", "savings"):
        for ext in ("png", "svg"):
            assert (tmp_path / f"r_{part}.{ext}").stat().st_size > 1000


def test_a_strategy_instance_is_replayed_with_its_own_parameters():
    # simulate rebuilt every strategy from its name: Explore("margin", share=0.9) replayed
    # the default share, without a word
    from sklearn.tree import DecisionTreeClassifier

    from activelab.strategies import Explore, QueryByCommittee

    small = {"seeds": 1, "n_initial": 5, "batch_size": 5, "budget": 15, "progress": False}
    est = LogisticRegression(max_iter=300)
    doc = simulate("iris", est, [Explore("margin", share=0.9), "random"], **small)
    assert doc["settings"]["strategy_params"] == {"explore": {"share": 0.9}}
    by_name = simulate(
        "iris", est, ["explore", "random"], strategy_params={"explore": {"share": 0.9}}, **small
    )
    assert [r["scores"] for r in doc["runs"]] == [r["scores"] for r in by_name["runs"]]
    assert "strategy_params" not in simulate("iris", est, Explore(), **small)["settings"]
    with pytest.raises(ValueError, match=r"share is 0.9 on the instance but 0.5 in strategy_"):
        simulate("iris", est, [Explore(share=0.9)], strategy_params={"explore": {"share": 0.5}})
    committee = QueryByCommittee(committee=[DecisionTreeClassifier(), est])
    with pytest.raises(ValueError, match=r"qbc's committee=\[DecisionTree.*run_campaign"):
        simulate("iris", est, [committee], **small)


def test_nan_features_are_replayed_with_an_imputing_pipeline_and_refused_in_one_line_without():
    from sklearn.datasets import load_iris
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    X, y = load_iris(return_X_y=True)
    X[np.random.default_rng(0).random(X.shape) < 0.1] = np.nan
    small = {"seeds": 1, "n_initial": 6, "batch_size": 6, "budget": 18, "progress": False}
    est = make_pipeline(SimpleImputer(), LogisticRegression(max_iter=300))
    doc = simulate((X, y), est, ["margin", "random"], **small)
    assert np.isfinite(doc["runs"][0]["scores"][-1])
    # the whole-data reference fit raised scikit-learn's message of several lines
    with pytest.raises(ValueError, match=r"^The pool has a non-finite value \(nan\) at row 0"):
        simulate((X, y), LogisticRegression(), ["margin"], **small)
