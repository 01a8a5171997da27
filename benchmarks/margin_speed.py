"""Margin sampling on a 1,000,000 × 50 pool against its lower bound.

One command::

    PYTHONPATH=src python3 benchmarks/margin_speed.py

Compares, in one run and on one BLAS thread, the time of
``ActiveLearner.query(100)`` with the margin strategy against the lower bound
``model.predict_proba(pool)`` followed by :func:`numpy.argpartition`, over
interleaved repetitions, and reports the medians and their ratio. Peak memory
of a query beyond the pool is measured with :mod:`tracemalloc` (numpy reports
its buffers to it) in a separate, untimed repetition: the peak of traced
allocations made during the query, the pool itself having been allocated before
tracing started.
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

from _machine import cpu_model as _cpu_model
from activelab import ActiveLearner

RESULTS = Path(__file__).parent / "results" / "margin_speed.json"


def _make_pool(n: int, d: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.0, size=(k, d))
    X = np.empty((n, d))
    y = rng.integers(0, k, size=n)
    step = 100_000
    for s in range(0, n, step):
        e = min(n, s + step)
        X[s:e] = centres[y[s:e]] + rng.normal(size=(e - s, d))
    return X, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-pool", type=int, default=1_000_000)
    parser.add_argument("--n-features", type=int, default=50)
    parser.add_argument("--n-classes", type=int, default=10)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    X, y = _make_pool(args.n_pool, args.n_features, args.n_classes, seed=0)
    rng = np.random.default_rng(1)
    labelled = rng.choice(args.n_pool, size=2000, replace=False)
    kwargs = {} if args.chunk_size is None else {"chunk_size": args.chunk_size}
    with threadpool_limits(limits=1):
        learner = ActiveLearner(LogisticRegression(max_iter=1000), "margin", **kwargs)
        learner.fit(X, labelled, y[labelled])
        model = learner.model_
        k = args.batch

        def lower_bound() -> np.ndarray:
            P = model.predict_proba(X)
            return np.argpartition(P.max(axis=1), k)[:k]

        def query() -> np.ndarray:
            return learner.query(k)

        lower_bound(), query()  # warm-up
        t_query, t_lower, c_query, c_lower = [], [], [], []
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            lower_bound()
            t_lower.append(time.perf_counter() - t0)
            c_lower.append(time.process_time() - c0)
            t0, c0 = time.perf_counter(), time.process_time()
            query()
            t_query.append(time.perf_counter() - t0)
            c_query.append(time.process_time() - c0)

        tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        query()
        peak_query = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        lower_bound()
        peak_lower = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()

    med_q, med_l = statistics.median(t_query), statistics.median(t_lower)
    cpu_ratio = statistics.median(c_query) / statistics.median(c_lower)
    result = {
        "benchmark": "margin_speed",
        "command": "PYTHONPATH=src python3 benchmarks/margin_speed.py",
        "n_pool": args.n_pool,
        "n_features": args.n_features,
        "n_classes": args.n_classes,
        "batch": k,
        "n_labelled": int(labelled.size),
        "chunk_size": learner.chunk_size,
        "repeats": args.repeats,
        "blas_threads": 1,
        "query_seconds": t_query,
        "lower_bound_seconds": t_lower,
        "query_median_s": med_q,
        "lower_bound_median_s": med_l,
        "ratio_query_over_lower_bound": med_q / med_l,
        "query_cpu_seconds": c_query,
        "lower_bound_cpu_seconds": c_lower,
        "ratio_cpu_time": statistics.median(c_query) / statistics.median(c_lower),
        "load_average_at_start": os.getloadavg()[0],
        "pool_mb": X.nbytes / 2**20,
        "query_peak_mb_beyond_pool": peak_query / 2**20,
        "lower_bound_peak_mb_beyond_pool": peak_lower / 2**20,
        "memory_method": "tracemalloc peak of allocations made during one query",
        "machine": {
            "cpu": _cpu_model(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scikit_learn": sklearn.__version__,
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"pool {args.n_pool:,} x {args.n_features}, {args.n_classes} classes, batch {k}, "
        f"chunk {learner.chunk_size}, 1 BLAS thread, {args.repeats} interleaved repeats"
    )
    print(f"margin query (ActiveLearner): median {med_q:.3f} s")
    print(f"predict_proba + argpartition: median {med_l:.3f} s")
    print(f"ratio: {med_q / med_l:.3f}  (target <= 1.1); CPU-time ratio {cpu_ratio:.3f}")
    print(
        f"peak memory beyond the pool: query {peak_query / 2**20:.1f} MB, "
        f"lower bound {peak_lower / 2**20:.1f} MB (target < 1024 MB)"
    )
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
