"""Fraud triage in a stream, and the rare-class options of the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

from activelab.cli import main
from activelab.stream.triage import POLICIES, triage_replay


def _stream(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.3 * rng.normal(size=n) > 1.9).astype(int)  # about 3 %
    return X, y


def test_triage_catches_more_fraud_than_random_review_within_the_budget():
    X, y = _stream()
    model = LogisticRegression(class_weight="balanced")
    runs = {
        p: triage_replay(model, X, y, positive_label=1, budget=0.05, policy=p, batch_size=100)
        for p in POLICIES
    }
    for run in runs.values():
        assert run.reviewed[-1] == 150 and run.items_seen[-1] == 3000
        assert run.positives_seen[-1] == int(y.sum())
        assert len(run.ap) == len(run.caught) == len(run.balanced_accuracy)
    assert runs["triage"].caught[-1] >= 2 * runs["random"].caught[-1]
    assert runs["top_risk"].caught[-1] >= runs["triage"].caught[-1] * 0.8
    assert runs["triage"].ap_mean > y.mean()  # better than a random ranking
    json.dumps(runs["triage"].to_dict())


def test_triage_bad_input():
    X, y = _stream(n=200)
    model = LogisticRegression()
    with pytest.raises(ValueError, match="not among the labels of the data: 0, 1"):
        triage_replay(model, X, y, positive_label=5)
    with pytest.raises(ValueError, match="no positive"):
        triage_replay(model, X, np.zeros(200, int), positive_label=1)
    with pytest.raises(ValueError, match="policy must be one of"):
        triage_replay(model, X, y, positive_label=1, policy="greedy")
    # None, a word or True raised a TypeError from a comparison, or reviewed every item
    for bad in (0, None, "a tenth", True, float("nan")):
        with pytest.raises(ValueError, match="budget must be a share"):
            triage_replay(model, X, y, positive_label=1, budget=bad)
    # label_memory=0 kept every reviewed item; a NaN item was scored silently
    with pytest.raises(ValueError, match="label_memory must be a positive whole number"):
        triage_replay(model, X, y, positive_label=1, label_memory=0)
    # 0.001 of 200 items: no review at all, and a run that reported 0 caught
    with pytest.raises(ValueError, match=r"0\.2 reviews: not one item .* at least 0\.005"):
        triage_replay(model, X, y, positive_label=1, budget=0.001)
    assert triage_replay(model, X, y, positive_label=1, budget=0.005).reviewed[-1] == 1
    X = np.array(X, dtype=float)
    X[7, 0] = np.nan
    with pytest.raises(ValueError, match="Item 7 has a NaN or infinite feature"):
        triage_replay(model, X, y, positive_label=1)


@pytest.fixture
def fraud_csv(tmp_path):
    X, y = _stream(n=600)
    path = tmp_path / "fraud.csv"
    rows = ["a,b,c,fraud"] + [
        f"{a},{b},{c},{'yes' if t else 'no'}" for (a, b, c), t in zip(X, y, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_stream_cli_triage_and_a_bad_positive_label(fraud_csv, tmp_path):
    runner = CliRunner()
    out = tmp_path / "t.json"
    args = ["stream", "--dataset", str(fraud_csv), "--label-column", "fraud"]
    res = runner.invoke(
        main,
        [
            *args,
            "--positive-label",
            "yes",
            "--budget",
            "0.05",
            "--metric",
            "balanced_accuracy",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "top_risk" in res.output and "balanced_accuracy" in res.output
    doc = json.loads(out.read_text())
    assert {r["policy"] for r in doc["runs"]} == set(POLICIES)
    plain = runner.invoke(main, [*args, "--budget", "0.05", "--batch-size", "50"])
    assert plain.exit_code == 0 and "--positive-label yes" in plain.output
    bad = runner.invoke(main, [*args, "--positive-label", "fraud!"])
    assert bad.exit_code != 0 and "'no', 'yes'" in bad.output and "Traceback" not in bad.output


def test_simulate_cli_positive_label(fraud_csv, tmp_path):
    runner = CliRunner()
    out = tmp_path / "r.json"
    args = [
        "simulate",
        "--data",
        str(fraud_csv),
        "--label-column",
        "fraud",
        "--seeds",
        "1",
        "--budget",
        "30",
        "--out",
        str(out),
    ]
    res = runner.invoke(main, [*args, "--strategy", "random", "--strategy", "rare_discovery"])
    assert res.exit_code == 0, res.output
    assert "Scored by balanced accuracy" in res.output and "positives ('yes') per 100" in res.output
    assert "class_weight='balanced'" in res.output
    bad = runner.invoke(main, [*args, "--positive-label", "maybe", "--no-resume"])
    assert bad.exit_code == 1 and "not among the labels of the data: 'no', 'yes'" in bad.output


def test_simulate_cli_does_not_claim_balanced_weights_for_a_model_without_them(fraud_csv, tmp_path):
    # --model knn has no class_weight: the CLI said it weighed the classes equally all the same
    out = str(tmp_path / "r.json")
    args = ["simulate", "--data", str(fraud_csv), "--label-column", "fraud", "--seeds", "1",
            "--budget", "20", "--strategy", "random", "--out", out]  # fmt: skip
    res = CliRunner().invoke(main, [*args, "--model", "knn"])
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())
    assert "class_weight='balanced'" not in said
    assert "--model knn takes no class weights" in said


def test_simulate_cli_refuses_a_single_positive_in_one_line(tmp_path):
    # the split put it in the test set and the full-pool model failed with scikit-learn's
    # "the data contains only one class", though the data hold two
    X, _ = _stream(n=80)
    y = np.zeros(80, int)
    y[7] = 1
    path = tmp_path / "one.csv"
    rows = ["a,b,c,label"] + [f"{a},{b},{c},{t}" for (a, b, c), t in zip(X, y, strict=True)]
    path.write_text("\n".join(rows) + "\n")
    args = ["simulate", str(path), "--seeds", "1", "--budget", "30", "--out", str(tmp_path / "r")]
    for extra in ([], ["--positive-label", "1"]):
        res = CliRunner().invoke(main, [*args, *extra])
        assert res.exit_code == 1, res.output
        assert "hold 1 item of the positive class 1" in res.output
        assert "at least 2 positives" in res.output and "Traceback" not in res.output


def test_simulate_refuses_a_predefined_split_without_a_positive_on_one_side(tmp_path):
    # all positives marked train: balanced accuracy scored the negatives alone, with
    # scikit-learn's "y_pred contains classes not in y_true" at every step; all marked
    # test: the whole-pool model failed with "the data contains only one class"
    X, _ = _stream(n=80)
    y = np.zeros(80, int)
    y[[3, 7, 11, 40]] = 1
    split = np.where(np.arange(80) % 4 == 0, "test", "train")
    for positives_in, missing in (("train", "test rows"), ("test", "pool")):
        split[y == 1] = positives_in
        path = tmp_path / f"{positives_in}.csv"
        rows = ["a,b,c,label,split"] + [
            f"{a},{b},{c},{t},{s}" for (a, b, c), t, s in zip(X, y, split, strict=True)
        ]
        path.write_text("\n".join(rows) + "\n")
        for extra in ([], ["--positive-label", "1"]):
            res = CliRunner().invoke(
                main,
                ["simulate", str(path), "--split-column", "split", "--seeds", "1", "--budget",
                 "20", "--out", str(tmp_path / "r.json"), *extra],
            )  # fmt: skip
            assert res.exit_code == 1, res.output
            if missing == "pool":
                assert "leaves only the class 0 in the pool" in res.output
            else:
                assert f"none in the {missing}" in res.output
            assert "Traceback" not in res.output and "y_pred contains" not in res.output


def test_triage_seed_none_records_a_fresh_seed_and_fractions_are_refused():
    X, y = _stream(n=200)
    run = triage_replay(LogisticRegression(), X, y, positive_label=1, seed=None)
    assert isinstance(run.seed, int) and run.seed >= 0
    with pytest.raises(ValueError, match=r"batch_size must be a positive whole number, got 5\.5"):
        triage_replay(LogisticRegression(), X, y, positive_label=1, batch_size=5.5)


def test_triage_on_a_stream_of_several_classes_waits_for_a_reviewed_positive():
    # reviews of two other classes gave a model without the positive class (IndexError)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2))
    y = np.where(X[:, 0] > 0, "a", "b").astype("<U5")
    y[np.argsort(X[:, 1])[-8:]] = "fraud"
    model = LogisticRegression(class_weight="balanced")
    for policy in POLICIES:
        run = triage_replay(
            model, X, y, positive_label="fraud", budget=0.1, policy=policy, batch_size=20
        )
        assert run.reviewed[-1] == 40 and run.positives_seen[-1] == 8


def test_stream_cli_triage_keeps_the_file_order_and_refuses_the_other_modes_options(tmp_path):
    X, y = _stream(n=600)
    order = np.argsort(y, kind="stable")  # every positive at the end of the file
    path = tmp_path / "late.csv"
    rows = ["a,b,c,fraud"] + [
        f"{a},{b},{c},{t}" for (a, b, c), t in zip(X[order], y[order], strict=True)
    ]
    path.write_text("\n".join(rows) + "\n")
    out = tmp_path / "t.json"
    runner = CliRunner()
    args = ["stream", str(path), "--label-column", "fraud", "--positive-label", "1"]
    res = runner.invoke(main, [*args, "--keep-order", "--out", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["settings"]["order"] == "file"
    assert all(r["positives_seen"][0] == 0 for r in doc["runs"])  # --keep-order was ignored
    # options of the other mode were silently ignored
    for extra in (["--strategy", "vu"], ["--window", "200"], ["--budget-manager", "estimated"]):
        bad = runner.invoke(main, [*args, *extra])
        assert bad.exit_code == 2 and extra[0] in bad.output and "drop" in bad.output
    plain = ["stream", str(path), "--label-column", "fraud"]
    for extra in (["--explore", "0.5"], ["--metric", "balanced_accuracy"]):
        bad = runner.invoke(main, [*plain, *extra])
        assert bad.exit_code == 2 and "--positive-label" in bad.output, bad.output


def test_stream_cli_triage_writes_its_plot(fraud_csv, tmp_path):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "triage.png"
    args = ["stream", str(fraud_csv), "--label-column", "fraud", "--positive-label", "yes"]
    res = CliRunner().invoke(main, [*args, "--metric", "balanced_accuracy", "--plot", str(plot)])
    assert res.exit_code == 0, res.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # --plot was silently ignored


def test_stream_cli_shows_a_small_budget_as_it_is(fraud_csv):
    # {budget:.0%} printed a 0.4 % review budget as "0%" (and 5.5 % as "6%")
    args = ["stream", str(fraud_csv), "--label-column", "fraud", "--budget", "0.004"]
    res = CliRunner().invoke(main, [*args, "--positive-label", "yes"])
    assert res.exit_code == 0 and "review budget 0.4%" in res.output, res.output
    res = CliRunner().invoke(main, [*args[:-1], "0.055", "--n-items", "100"])
    assert res.exit_code == 0 and "(budget 5.5%)" in res.output, res.output


@pytest.mark.parametrize("budget", [0.29, 0.57, 0.58])
def test_triage_reviews_the_whole_budget_whatever_its_rounding(budget):
    # budget * items fell just under a whole number (0.29 * 100 = 28.999...): one review short
    X, y = _stream(n=100)
    run = triage_replay(LogisticRegression(), X, y, positive_label=1, budget=budget, batch_size=100)
    assert run.reviewed[-1] == round(budget * 100)
