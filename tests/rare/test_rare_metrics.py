"""Rare-class metrics, and ``simulate`` recording them with a positive label."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from activelab.simulation.rare_metrics import (
    average_precision,
    balanced_accuracy,
    check_positive_label,
    default_scoring,
    get_rare_scorer,
    labels_until,
    per_class_recall,
    positives_per_100,
    rare_class,
    rare_summary,
)
from activelab.simulation.runner import simulate


def _rare_data(n: int = 600, share: float = 0.04, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < share).astype(int)
    X = rng.normal(size=(n, 4)) + 2.5 * y[:, None]
    return X, y


def test_accuracy_hides_the_rare_class_balanced_accuracy_does_not():
    X, y = np.zeros((100, 1)), np.r_[np.zeros(95, int), np.ones(5, int)]
    never = DummyClassifier(strategy="most_frequent").fit(X, y)
    assert get_rare_scorer("accuracy")(never, X, y) == pytest.approx(0.95)
    assert get_rare_scorer("balanced_accuracy")(never, X, y) == pytest.approx(0.5)
    assert get_rare_scorer("recall_positive", 1)(never, X, y) == 0.0


def test_balanced_accuracy_is_quiet_about_a_predicted_class_the_truth_lacks(recwarn):
    # a test set without some class (a predefined split, a stream's window): scikit-learn's
    # balanced_accuracy_score warned "y_pred contains classes not in y_true" at every step
    assert balanced_accuracy([0, 0, 1, 1], [0, 2, 1, 1]) == pytest.approx(0.75)
    assert balanced_accuracy(["no"] * 4, ["no", "yes", "no", "no"]) == pytest.approx(0.75)
    assert not recwarn.list
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        balanced_accuracy([0, 1], [0])


def test_per_class_recall_and_average_precision():
    assert per_class_recall([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], labels=[0, 1, 2, 3]) == {
        0: 0.5,
        1: 1.0,
        2: 0.0,
        3: None,
    }
    assert average_precision([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], 1) == 1.0
    assert average_precision([0, 0], [0.1, 0.2], 1) is None
    # average precision of a multi-class model, for one class
    X, y = _rare_data()
    y3 = np.where(y == 1, 2, np.arange(len(y)) % 2)
    model = LogisticRegression(max_iter=500).fit(X, y3)
    assert get_rare_scorer("average_precision", 2)(model, X, y3) > 0.9
    with pytest.raises(ValueError, match="needs a positive label"):
        get_rare_scorer("average_precision")


def test_positives_per_100_and_labels_until():
    hits = np.zeros(200, int)
    hits[[4, 50, 99, 150]] = 1
    assert positives_per_100(hits) == 3.0
    assert labels_until(hits, 1) == 5 and labels_until(hits, 4) == 151
    assert labels_until(hits, 5) is None


def test_default_metric_is_balanced_accuracy_under_ten_percent_with_the_reason():
    assert rare_class([0] * 91 + [1] * 9) == 1
    assert rare_class([0] * 90 + [1] * 10) is None
    metric, why = default_scoring(["ok"] * 95 + ["fraud"] * 5)
    assert metric == "balanced_accuracy" and "'fraud' is 5.0%" in why and "95.0%" in why
    assert default_scoring([0, 1, 1]) == ("accuracy", None)


def test_positive_label_errors_name_the_labels_or_say_there_is_no_positive():
    assert check_positive_label(np.array([0, 1]), "1") == 1
    assert check_positive_label(np.array(["a", "b"]), "b") == "b"
    with pytest.raises(
        ValueError, match=r"'x' is not among the labels of the data: 'a', 'b'\. Pass"
    ):
        check_positive_label(np.array(["a", "b"]), "x")


def test_a_positive_label_that_nearly_names_a_label_gets_a_did_you_mean():
    # --positive-label Yes for a file of yes/no said only which labels there were
    y = np.array(["no", "yes", "no"])
    for typed in ("Yes", " yes", "yess"):
        with pytest.raises(ValueError, match=r"'no', 'yes'\. Did you mean 'yes'\? Pass one"):
            check_positive_label(y, typed, option="--positive-label")
    with pytest.raises(ValueError, match="no positive: all 3 items are labelled 0"):
        check_positive_label(np.array([0, 0, 0]), 1)
    with pytest.raises(ValueError, match="no item of the positive class 1"):
        check_positive_label(np.array([0, 0]), 1, classes=[0, 1])


def test_positive_label_errors_name_the_spelling_of_their_caller(tmp_path):
    # simulate(..., positive_label=7) and triage_replay said "Pass one of them as
    # --positive-label", an option a Python user has no way to pass
    from click.testing import CliRunner

    from activelab.cli import main
    from activelab.stream.triage import triage_replay

    X, y = _rare_data(200)
    with pytest.raises(ValueError, match=r"Pass one of them as positive_label=\.\.\.\.$"):
        simulate((X, y), LogisticRegression(), ["random"], seeds=1, positive_label=7)
    with pytest.raises(ValueError, match=r"as positive_label=\.\.\.\.$"):
        triage_replay(LogisticRegression(), X, y, positive_label=7)
    with pytest.raises(ValueError, match=r"or another positive_label=\.\.\.\.$"):
        check_positive_label(np.array([0, 0]), 1, classes=[0, 1])
    with pytest.raises(ValueError, match=r"pass positive_label=\.\.\. \(--positive-label on"):
        get_rare_scorer("recall_positive")
    with pytest.raises(ValueError, match=r"\(strategy_params=\{'aad': \{'positive_label'"):
        simulate((X, y), LogisticRegression(), ["aad"], seeds=1, progress=False,
                 strategy_params={"aad": {"positive_label": 7}})  # fmt: skip
    (tmp_path / "c.csv").write_text("x,y\n" + "".join(f"{i},{'ab'[i % 2]}\n" for i in range(20)))
    run = CliRunner().invoke(
        main, ["simulate", str(tmp_path / "c.csv"), "--label-column", "y", "--positive-label", "z"]
    )
    assert "Pass one of them as --positive-label." in " ".join(run.output.split())
    assert "positive_label=" not in run.output


def test_the_messages_rare_md_quotes_are_the_ones_given(tmp_path):
    """docs/rare.md quotes the errors for data without a positive as the code words them."""
    from click.testing import CliRunner

    from activelab.cli import main

    page = " ".join((Path(__file__).parents[2] / "docs" / "rare.md").read_text().split())
    with pytest.raises(ValueError) as python:
        simulate(
            (np.arange(100.0).reshape(50, 2), np.zeros(50, int)),
            LogisticRegression(),
            ["random"],
            positive_label=1,
            seeds=1,
            budget=20,
            progress=False,
        )
    assert f"`{python.value}`" in page
    with pytest.raises(ValueError) as named:
        simulate((np.zeros((40, 1)), np.r_[["no"] * 20, ["yes"] * 20]), LogisticRegression(),
                 ["random"], positive_label="maybe", seeds=1, progress=False)  # fmt: skip
    assert f"`{named.value}`" in page
    (tmp_path / "claims.csv").write_text("amount,fraud\n" + "".join(f"{i},no\n" for i in range(9)))
    args = ["simulate", str(tmp_path / "claims.csv"), "--label-column", "fraud"]
    run = CliRunner().invoke(main, [*args, "--positive-label", "yes", "--out", str(tmp_path / "r")])
    said = " ".join(run.output.split("Error: ", 1)[1].split()).replace(str(tmp_path) + "/", "")
    assert f"`{said}`" in page


def test_simulate_records_the_rare_class_and_defaults_to_balanced_accuracy(tmp_path):
    X, y = _rare_data()
    res = simulate(
        (X, y),
        LogisticRegression(max_iter=500),
        ["random", "positive_seeking"],
        n_initial=5,
        batch_size=10,
        budget=45,
        seeds=2,
        progress=False,
        out=tmp_path / "r.json",
    )
    s = res["settings"]
    assert s["scoring"] == "balanced_accuracy" and s["positive_label"] == 1
    assert "accuracy would hide it" in s["scoring_reason"]
    run = res["runs"][0]
    assert len(run["rare"]["hits"]) == 45 and len(run["rare"]["average_precision"]) == 5
    assert set(run["rare"]["recall"]) == {"0", "1"}
    assert all(v is not None for v in run["scores"])  # 1/K before a model could be fitted
    json.loads((tmp_path / "r.json").read_text())
    summary = rare_summary(res["runs"])
    assert summary["positive_seeking"]["per_100"]["mean"] > 2 * summary["random"]["per_100"]["mean"]
    with pytest.raises(ValueError, match="not among the labels of the data: 0, 1"):
        simulate((X, y), LogisticRegression(), ["random"], seeds=1, positive_label=7)


def test_an_explicit_positive_label_and_metric_on_balanced_data():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    res = simulate(
        (X, y),
        LogisticRegression(max_iter=500),
        ["margin"],
        n_initial=6,
        batch_size=6,
        budget=18,
        seeds=1,
        progress=False,
        positive_label=2,
        scoring="average_precision",
    )
    assert res["settings"]["scoring"] == "average_precision"
    assert "scoring_reason" not in res["settings"]
    assert res["runs"][0]["scores"][-1] == res["runs"][0]["rare"]["average_precision"][-1]


def test_labels_until_and_positives_per_100_refuse_a_count_below_one():
    # k=0 gave the labels until the *last* positive, n=-1 counted all but the last label
    hits = [0, 1, 0, 1]
    assert labels_until(hits, 1) == 2 and labels_until(hits, 2) == 4
    assert positives_per_100(hits, n=2) == 50.0
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="k must be a positive whole number"):
            labels_until(hits, k=bad)
        with pytest.raises(ValueError, match="n must be a positive whole number"):
            positives_per_100(hits, n=bad)


def test_a_positive_label_names_a_number_written_as_text():
    # a CSV stream keeps its labels as texts: --positive-label 1 did not find "1.0", which
    # the simulator (reading numbers) found
    assert check_positive_label(np.array(["0.0", "1.0"]), "1") == "1.0"
    assert check_positive_label(np.array(["0.0", "1.0"]), 1) == "1.0"
    assert check_positive_label(np.array(["1", "01", "0"]), "01") == "01"  # the text first
    with pytest.raises(ValueError, match="not among the labels of the data: False, True"):
        check_positive_label(np.array([False, True]), "1")  # a boolean is no number


def test_a_strategy_parameter_positive_label_is_checked_against_the_labels():
    # --param positive_seeking.positive_label=maybe sought a class the data lack and stayed on
    # its cold start (anomalies and random picks) for the whole campaign, without a word
    X, y = _rare_data(200)
    names = np.array(["no", "yes"])[y]
    kw = dict(seeds=1, budget=20, batch_size=5, progress=False)
    with pytest.raises(ValueError, match=r"positive_seeking\.positive_label='maybe' is not among"):
        simulate(
            (X, names), LogisticRegression(), ["positive_seeking"],
            strategy_params={"positive_seeking": {"positive_label": "maybe"}}, **kw,
        )  # fmt: skip
    with pytest.raises(ValueError, match=r"'no', 'yes'\. Did you mean 'yes'\? Pass one of them"):
        simulate(
            (X, names), LogisticRegression(), ["positive_seeking"],
            strategy_params={"positive_seeking": {"positive_label": "YES"}}, **kw,
        )  # fmt: skip
    doc = simulate(
        (X, y), LogisticRegression(), ["aad"], strategy_params={"aad": {"positive_label": "1"}},
        **kw,
    )  # fmt: skip
    assert doc["settings"]["strategy_params"] == {"aad": {"positive_label": 1}}


def test_a_positive_label_on_multi_label_data_says_what_the_data_are():
    # the message read "positive_label is for classification; 'arrays' is classification"
    from sklearn.multiclass import OneVsRestClassifier

    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(60, 3)), (rng.random((60, 3)) < 0.3).astype(int)
    with pytest.raises(ValueError, match=r"single-label classification; 'arrays' is multi-label"):
        simulate((X, Y), OneVsRestClassifier(LogisticRegression()), ["random"], positive_label=1,
                 seeds=1, budget=20, progress=False)  # fmt: skip
    with pytest.raises(ValueError, match=r"'arrays' is regression\. Leave positive_label unset"):
        simulate((X, rng.normal(size=60)), LogisticRegression(), ["random"], positive_label=1,
                 seeds=1, budget=20, progress=False)  # fmt: skip


def test_the_rare_read_out_says_1_label_and_1_run(monkeypatch):
    # "first positive after 1 labels (1/1 runs)"
    from rich.console import Console

    from activelab.cli import simulate as cli_simulate
    from activelab.simulation import rare_metrics

    one = {
        "until": {"1": {"mean": 1.0, "found": 1}},
        "runs": 1,
        "per_100": {"mean": 50.0},
        "ap_final": {"mean": None},
        "recall_final": {"mean": None},
    }
    two = {**one, "until": {"1": {"mean": 7.5, "found": 2}}, "runs": 2}
    monkeypatch.setattr(rare_metrics, "rare_summary", lambda runs: {"a": one, "b": two})
    console = Console(record=True, width=200)
    cli_simulate._print_rare(console, {"settings": {"positive_label": 1}, "runs": []})
    text = console.export_text()
    assert "first positive after 1 label (1/1 run)" in text
    assert "first positive after 8 labels (2/2 runs)" in text


def test_the_positive_a_strategy_parameter_names_is_the_one_scored():
    # --param positive_seeking.positive_label=chargeback sought chargeback, while the positives
    # found, the recall and the AP were counted for the rarest class, fraud
    rng = np.random.default_rng(1)
    y = rng.choice(["ok", "fraud", "chargeback"], size=300, p=[0.90, 0.04, 0.06])
    X = rng.normal(size=(300, 3)) + 3.0 * (y == "chargeback")[:, None]
    kw = dict(seeds=1, budget=20, batch_size=5, progress=False)
    doc = simulate(
        (X, y), LogisticRegression(), ["positive_seeking"],
        strategy_params={"positive_seeking": {"positive_label": "chargeback"}}, **kw,
    )  # fmt: skip
    assert doc["settings"]["positive_label"] == "chargeback"
    doc = simulate((X, y), LogisticRegression(), ["positive_seeking"], **kw)
    assert doc["settings"]["positive_label"] == "fraud"  # the rarest, as before
