"""The command lines of the scripts in benchmarks/: help, and one-line errors for bad names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
