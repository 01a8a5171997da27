"""The command lines of the scripts in benchmarks/: help, and one-line errors for bad names."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / name), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_hybrid_regression_help_prints_usage_and_runs_nothing():
    results = ROOT / "benchmarks" / "results" / "hybrid_regression.json"
    before = results.stat().st_mtime_ns
    run = _script("hybrid_regression.py", "--help")
    assert run.returncode == 0 and run.stdout.startswith("usage:"), run.stdout + run.stderr
    assert "--seeds" in run.stdout and "--out" in run.stdout
    assert results.stat().st_mtime_ns == before


def test_a_mistyped_set_is_refused_before_any_result_is_rewritten():
    # --summary-only with a typo used to rewrite results/hybrid.{json,md} with no set in them
    results = ROOT / "benchmarks" / "results"
    before = {p: p.stat().st_mtime_ns for p in (results / "hybrid.json", results / "hybrid.md")}
    run = _script("hybrid.py", "--summary-only", "--sets", "irsi")
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert "error: argument --sets: invalid choice: 'irsi'" in run.stderr.splitlines()[-1]
    assert {p: p.stat().st_mtime_ns for p in before} == before


@pytest.mark.parametrize(
    ("script", "args", "says"),
    [
        ("auto_arms.py", ("--models", "logreg,nosuch"), "--models: unknown model 'nosuch'"),
        ("regression_default.py", ("--strategies", "nosuch"), "Unknown strategy 'nosuch'"),
    ],
)
def test_unknown_names_are_one_line_errors(script, args, says):
    run = _script(script, *args)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert says in run.stderr.splitlines()[-1]


def test_annotators_takes_no_cost_sets_as_its_documented_commands_do(tmp_path):
    # docs/annotators.md runs the comparison alone with --cost-sets ""
    out = tmp_path / "a.json"
    run = _script(
        "annotators.py",
        *("--seeds", "1", "--sets", "iris", "--noises", "0.2", "--budget", "30"),
        *("--batch", "10", "--cost-sets", "", "--out", str(out)),
    )
    assert run.returncode == 0, run.stderr
    assert out.exists()


def test_name_checks():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from _cli import name_list, strategy_name
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    assert name_list(["iris", "wine"])("iris, wine") == "iris, wine"
    with pytest.raises(argparse.ArgumentTypeError, match=r"unknown data set 'x', 'y'; choose"):
        name_list(["iris"])("x,iris,y")
    with pytest.raises(argparse.ArgumentTypeError, match=r"no model named"):
        name_list(["logreg"], "model")(",")
    assert strategy_name("margin") == "margin"
    with pytest.raises(argparse.ArgumentTypeError, match=r"Unknown strategy 'nosuch'"):
        strategy_name("nosuch")


def test_query_speed_render_of_a_missing_file_is_a_one_line_error(tmp_path):
    run = _script("query_speed.py", "--render", "--out", str(tmp_path / "none.json"))
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert "none.json does not exist" in run.stderr.splitlines()[-1]


def test_rare_classes_no_positive_label_leaves_the_strategies_to_pick_their_target(monkeypatch):
    from activelab.simulation import runner
    from activelab.strategies.rare import PositiveSeeking

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import rare_classes

    told = []

    def campaign(estimator, strategy, *args, **kwargs):
        told.append(strategy.positive_label)

    monkeypatch.setattr(runner, "run_campaign", campaign)
    with rare_classes._strategies_blind(True):
        runner.run_campaign(None, PositiveSeeking(positive_label=1))
    runner.run_campaign(None, PositiveSeeking(positive_label=1))
    assert told == [None, 1] and runner.run_campaign is campaign
