"""The optimisation curve in the simulator: share of the true top k found against labels tested."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LogisticRegression, Ridge

from activelab.cli import main
from activelab.simulation import load_results, simulate
from activelab.simulation.campaign import initial_indices, run_campaign, split_pool_test
from activelab.simulation.metrics import summarize_top_k
from activelab.simulation.report import write_report

K = 20
SETTINGS = dict(n_initial=10, batch_size=10, budget=50, seeds=2, progress=False, top_k=K)


def _brute_share(y: np.ndarray, labelled: list[int], k: int) -> float:
    """The share found, by sorting every (value, index) pair in plain Python."""
    ranked = sorted(range(len(y)), key=lambda i: (-float(y[i]), i))
    return len(set(ranked[:k]) & set(int(i) for i in labelled)) / k


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("topk") / "diabetes.json"
    simulate("diabetes", Ridge(), ["random", "greedy"], out=out, **SETTINGS)
    return out, load_results(out)


def test_runs_carry_monotone_top_k_curves(results):
    _, doc = results
    assert doc["settings"]["top_k"] == K
    assert {(r["strategy"], r["seed"]) for r in doc["runs"]} == {
        (s, k) for s in ("random", "greedy") for k in (0, 1)
    }
    for r in doc["runs"]:
        curve = np.asarray(r["top_k_found"])
        assert r["top_k"] == K
        assert curve.shape == (len(r["n_labels"]),) == (5,)
        assert np.all((curve >= 0) & (curve <= 1))
        assert np.all(np.diff(curve) >= 0)


def test_final_share_matches_brute_force(results):
    """Replay each campaign, recording the labelled set, and recount by brute force."""
    X, y = load_diabetes(return_X_y=True)
    _, doc = results
    for r in doc["runs"]:
        seed = int(r["seed"])
        Xp, Xt, yp, yt = split_pool_test(X, y, seed=seed, stratify=False)
        seen: list[list[int]] = []
        run_campaign(
            Ridge(),
            r["strategy"],
            Xp,
            yp,
            Xt,
            yt,
            initial=initial_indices(yp, 10, seed),
            batch_size=10,
            budget=50,
            seed=seed,
            scoring="r2",
            callback=lambda learner, _res, seen=seen: seen.append(learner.labelled_.tolist()),
        )
        brute = [_brute_share(yp, labelled, K) for labelled in seen]
        assert r["top_k_found"] == pytest.approx(brute)
        assert r["top_k_found"][-1] == pytest.approx(brute[-1])


def test_greedy_finds_more_than_random_on_diabetes(results):
    _, doc = results
    m = summarize_top_k(doc["runs"], at=[50])
    greedy, random = m["greedy"]["found_at"]["50"]["mean"], m["random"]["found_at"]["50"]["mean"]
    # 50 of 331 pool items tested at random find about 15 % of the top 20; greedy on a
    # ridge model of diabetes (a largely linear target) finds far more.
    assert greedy > random
    assert m["greedy"]["test"]["n"] == 2 and m["random"]["test"] is None


def test_whole_pool_tested_finds_everything():
    X, y = load_diabetes(return_X_y=True)
    r = run_campaign(
        Ridge(),
        "greedy",
        X[:60],
        y[:60],
        X[60:],
        y[60:],
        initial=5,
        batch_size=11,
        budget=60,
        track_top_k=7,
    )
    assert r.n_labels[-1] == 60 and r.top_k_found[-1] == 1.0
    assert r.to_dict()["top_k_found"] == r.top_k_found


def test_untracked_campaign_is_unchanged():
    X, y = load_diabetes(return_X_y=True)
    kw = dict(initial=5, batch_size=5, budget=20, seed=3)
    plain = run_campaign(Ridge(), "greedy", X[:100], y[:100], X[100:], y[100:], **kw)
    tracked = run_campaign(
        Ridge(), "greedy", X[:100], y[:100], X[100:], y[100:], track_top_k=10, **kw
    )
    assert plain.top_k_found == [] and plain.top_k is None
    assert plain.n_labels == tracked.n_labels and plain.scores == tracked.scores


def test_report_has_the_top_k_section(results):
    path, _ = results
    page = write_report(path).read_text()
    assert 'id="top-k"' in page and f"True top-{K} found" in page
    assert '<figure id="topk"><img' in page and "data:image/png;base64," in page
    assert 'id="topk-metrics"' in page
    # 10 % of the 331-item pool is 33.1; the first step at or past it has 40 labels.
    assert "found at 10 % of the pool (40 tested)" in page
    assert "found at the budget (50 tested)" in page
    assert page.count('data-strategy="greedy"') == 2  # metrics table and top-k table
    assert (path.parent / "diabetes_topk.png").stat().st_size > 1000


def test_report_without_top_k_has_no_section(tmp_path):
    out = tmp_path / "iris.json"
    simulate(
        "iris",
        LogisticRegression(max_iter=300),
        ["random"],
        n_initial=6,
        batch_size=6,
        budget=18,
        seeds=1,
        progress=False,
        out=out,
    )
    page = write_report(out).read_text()
    assert 'id="top-k"' not in page and not (tmp_path / "iris_topk.png").exists()


def test_top_k_refused_for_classification():
    with pytest.raises(ValueError, match="regression"):
        simulate("iris", LogisticRegression(), ["random"], seeds=1, progress=False, top_k=5)
    X, y = load_diabetes(return_X_y=True)
    with pytest.raises(ValueError, match=r"1\.\.331"):
        simulate("diabetes", Ridge(), ["random"], seeds=1, progress=False, top_k=400)
    with pytest.raises(ValueError, match="track_top_k is for regression"):
        run_campaign(
            LogisticRegression(),
            "random",
            X[:50],
            (y[:50] > 140).astype(int),
            X[50:],
            (y[50:] > 140).astype(int),
            initial=5,
            budget=10,
            track_top_k=3,
        )


def test_cli_top_k(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(
        main, ["simulate", "--dataset", "iris", "--top-k", "5", "--out", str(tmp_path / "x.json")]
    )
    assert bad.exit_code == 2
    assert "--top-k is for regression" in bad.output and "classification" in bad.output
    assert not (tmp_path / "x.json").exists()
    out = tmp_path / "d.json"
    ok = runner.invoke(
        main,
        [
            "simulate",
            "--dataset",
            "diabetes",
            "--strategy",
            "random",
            "--strategy",
            "greedy",
            "--seeds",
            "1",
            "--budget",
            "30",
            "--top-k",
            "15",
            "--out",
            str(out),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "top 15 found after 30 tested" in ok.output
    doc = json.loads(out.read_text())
    assert doc["settings"]["top_k"] == 15 and len(doc["runs"][0]["top_k_found"]) == 3


def test_resume_refuses_another_top_k(tmp_path):
    out = tmp_path / "d.json"
    kw = dict(n_initial=10, batch_size=10, budget=20, seeds=1, progress=False, out=out)
    simulate("diabetes", Ridge(), ["random"], **kw)
    with pytest.raises(ValueError, match="top_k: file has None, now 20"):
        simulate("diabetes", Ridge(), ["random"], top_k=20, **kw)
    assert load_results(out)["runs"][0]["top_k_found"] == []  # the stored file is untouched
