"""Speed and memory of the batch-diverse strategies on large pools.

One command::

    PYTHONPATH=src python3 benchmarks/diversity_speed.py

On one BLAS thread: k-center greedy on a 1,000,000 × 50 pool (100 labelled,
batch 100), and diverse batch, ranked batch and margin (for reference) on a
100,000 × 50 pool with a fitted 10-class LogisticRegression (batch 100).
Medians of ``--repeats`` runs, interleaved; peak memory beyond the pool from
:mod:`tracemalloc` in one extra, untimed run of each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from activelab.strategies import QueryContext, get_strategy

RESULTS = Path(__file__).parent / "results" / "diversity_speed.json"


def _pool(n: int, d: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.0, size=(k, d))
    y = rng.integers(0, k, size=n)
    X = np.empty((n, d))
    for s in range(0, n, 100_000):
        e = min(n, s + 100_000)
        X[s:e] = centres[y[s:e]] + rng.normal(size=(e - s, d))
    return X, y


def _context(X, y, n_labelled, model=None) -> QueryContext:
    labelled = np.arange(0, X.shape[0], X.shape[0] // n_labelled)[:n_labelled]
    mask = np.ones(X.shape[0], dtype=bool)
    mask[labelled] = False
    return QueryContext(
        X=X,
        candidates=np.flatnonzero(mask),
        labelled=labelled,
        y_labelled=y[labelled],
        model=model,
        estimator=LogisticRegression(max_iter=1000),
        classes=np.unique(y),
        rng=np.random.default_rng(0),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    n = args.batch
    load = os.getloadavg()[0]
    cases = []
    X_big, y_big = _pool(1_000_000, 50, 10, seed=0)
    cases.append(("kcenter", X_big, _context(X_big, y_big, 100)))
    X, y = _pool(100_000, 50, 10, seed=1)
    lab = np.random.default_rng(2).choice(X.shape[0], 500, replace=False)
    model = LogisticRegression(max_iter=1000).fit(X[lab], y[lab])
    for name in ("margin", "diverse_batch", "ranked_batch"):
        cases.append((name, X, _context(X, y, 500, model=model)))
    times: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    cpu: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    peaks: dict[str, float] = {}
    with threadpool_limits(limits=1):
        for _ in range(args.repeats):
            for name, _, ctx in cases:
                strategy = get_strategy(name)
                t0, c0 = time.perf_counter(), time.process_time()
                picks = strategy.select(ctx, n)
                times[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
                assert len(set(picks.tolist())) == n
        for name, _, ctx in cases:
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            get_strategy(name).select(ctx, n)
            peaks[name] = (tracemalloc.get_traced_memory()[1] - base) / 2**20
            tracemalloc.stop()
    result = {
        "benchmark": "diversity_speed",
        "command": "PYTHONPATH=src python3 benchmarks/diversity_speed.py",
        "batch": n,
        "blas_threads": 1,
        "repeats": args.repeats,
        "load_average_at_start": load,
        "cases": {
            name: {
                "pool": list(X_.shape),
                "n_labelled": int(ctx.labelled.size),
                "seconds": times[name],
                "median_s": statistics.median(times[name]),
                "cpu_seconds": cpu[name],
                "median_cpu_s": statistics.median(cpu[name]),
                "peak_mb_beyond_pool": peaks[name],
                "pool_mb": X_.nbytes / 2**20,
            }
            for name, X_, ctx in cases
        },
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scikit_learn": sklearn.__version__,
        },
    }
    for name, X_, ctx in cases:
        c = result["cases"][name]
        print(
            f"{name:>14}: pool {X_.shape[0]:>9,} x {X_.shape[1]}, {ctx.labelled.size} labelled, "
            f"batch {n}: median {c['median_s']:.3f} s (CPU {c['median_cpu_s']:.3f} s), "
            f"peak {c['peak_mb_beyond_pool']:.0f} MB "
            f"beyond the {c['pool_mb']:.0f} MB pool"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
