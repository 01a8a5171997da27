"""``simulate --stopping`` / ``--estimates``: the records in the JSON and the report's sections."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

from activelab.simulation import simulate
from activelab.simulation.metrics import estimate_summary, stopping_summary
from activelab.simulation.report import render, write_report


def test_cli_stopping_records_and_report_table(tmp_path):
    out = tmp_path / "iris.json"
    from activelab.cli import main

    run = CliRunner().invoke(main, [
        "simulate", "--dataset", "iris", "--strategy", "random", "--strategy", "margin",
        "--seeds", "2", "--budget", "60", "--batch-size", "6", "--initial", "6",
        "--stopping", "--out", str(out),
    ])  # fmt: skip
    assert run.exit_code == 0, run.output
    assert "stabilizing_predictions fired in" in run.output
    doc = json.loads(out.read_text())
    assert doc["settings"]["stopping"] is True
    assert len(doc["runs"]) == 4
    for r in doc["runs"]:
        assert set(r["stopping"]) == {"stabilizing_predictions", "confidence"}
        for at in r["stopping"].values():
            assert at is None or at in r["n_labels"]
    # iris with logistic regression: successive models agree well before 60 labels
    assert any(r["stopping"]["stabilizing_predictions"] is not None for r in doc["runs"])
    summary = stopping_summary(doc["runs"])
    s = summary["margin"]["stabilizing_predictions"]
    assert s["runs"] == 2
    margin = [r for r in doc["runs"] if r["strategy"] == "margin"]
    ats = [r["stopping"]["stabilizing_predictions"] for r in margin]
    costs = [
        r["scores"][-1] - r["scores"][r["n_labels"].index(at)]
        for r, at in zip(margin, ats, strict=True)
        if at is not None
    ]
    assert s["fired"] == len(costs)
    if costs:  # the summary's mean cost and savings, recomputed by hand
        assert abs(s["cost"]["mean"] - sum(costs) / len(costs)) < 1e-12
        saved = [60 - at for at in ats if at is not None]
        assert s["saved"]["mean"] == sum(saved) / len(saved)
    page = write_report(out).read_text()
    assert "When to stop" in page and 'id="stopping"' in page
    assert 'data-criterion="stabilizing_predictions"' in page
    assert "Estimated accuracy" not in page  # no --estimates: no such section


def test_stopping_off_by_default_and_resume_checks_it(tmp_path):
    out = tmp_path / "r.json"
    kw = dict(n_initial=6, batch_size=12, budget=30, seeds=1, progress=False, out=out)
    doc = simulate("iris", LogisticRegression(max_iter=500), ["random"], **kw)
    assert "stopping" not in doc["settings"] and doc["runs"][0]["stopping"] == {}
    assert "When to stop" not in render(doc)
    try:
        simulate("iris", LogisticRegression(max_iter=500), ["random"], stopping=True, **kw)
    except ValueError as exc:
        assert "stopping" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("resuming a file made without --stopping must refuse")


def test_estimates_record_lure_and_naive_per_step():
    doc = simulate(
        "iris", LogisticRegression(max_iter=500), ["auto", "margin"],
        n_initial=6, batch_size=6, budget=36, seeds=2, progress=False, estimates=True,
    )  # fmt: skip
    for r in doc["runs"]:
        assert len(r["estimates"]) == len(r["n_labels"])
        if r["strategy"] == "auto":  # every pick has a probability: an estimate per step
            assert all(e is not None for e in r["estimates"])
            for e in r["estimates"]:
                assert 0.0 <= e["low"] <= e["estimate"] <= e["high"] <= 1.0
                assert 0.0 <= e["naive"] <= 1.0
            # the weights are not uniform once the bandit has chosen: LURE differs from naive
            assert any(abs(e["estimate"] - e["naive"]) > 1e-9 for e in r["estimates"][1:])
        else:  # margin is deterministic: only the random initial set has probabilities
            assert r["estimates"][0] is not None
            assert all(e is None for e in r["estimates"][1:])
    est = estimate_summary(doc["runs"])
    assert est["auto"]["steps"] == 2 * 6 and 0.0 <= est["auto"]["coverage"] <= 1.0
    page = render(doc)
    assert "Estimated accuracy: unbiased (LURE) vs naive" in page
    assert 'id="estimates"' in page and 'data-strategy="auto"' in page
    table = page[page.index('id="estimates"') :]
    assert 'data-strategy="margin"' not in table[: table.index("</table>")]  # deterministic


def test_estimates_are_compared_with_the_test_accuracy_whatever_the_curves_metric():
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    from activelab.simulation import make_model

    X, y = load_breast_cancer(return_X_y=True)
    keep = np.r_[np.flatnonzero(y == 1)[:160], np.flatnonzero(y == 0)[:40]]  # 20 % of class 0
    doc = simulate(
        (X[keep], y[keep]), make_model("logreg"), ["random"],
        n_initial=20, batch_size=10, budget=40, seeds=1, progress=False, estimates=True,
        scoring="balanced_accuracy",
    )  # fmt: skip
    run = doc["runs"][0]
    steps = [i for i, e in enumerate(run["estimates"]) if e is not None]
    tests = [run["estimates"][i]["test"] for i in steps]
    assert len(steps) >= 2 and all(0.0 <= t <= 1.0 for t in tests)
    # accuracy, not the balanced accuracy of the curve
    assert not np.allclose(tests, [run["scores"][i] for i in steps])
    est = estimate_summary(doc["runs"])["random"]
    assert np.allclose(est["test"], tests)


def test_estimate_summary_reads_the_recorded_test_accuracy():
    run = {"strategy": "auto", "n_labels": [10, 20], "scores": [0.5, 0.6],
           "estimates": [None, {"estimate": 0.88, "low": 0.8, "high": 0.95, "naive": 1.0,
                                "test": 0.9}]}  # fmt: skip
    e = estimate_summary([run])["auto"]
    assert e["test"] == [0.9] and e["coverage"] == 1.0 and round(e["lure_bias"], 3) == -0.02
