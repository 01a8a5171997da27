"""Information density at 10k-1M pools: the first query on a pool (clustering) and the next ones.

    PYTHONPATH=src python3 benchmarks/density_speed.py
    PYTHONPATH=src python3 benchmarks/density_speed.py --sizes 10000 --repeats 1   # quick

The same pool and model as ``query_speed.py`` (``n`` × 20 Gaussian blobs, 10
classes, 1,000 labelled items, a LogisticRegression fitted on them), one BLAS
thread. For the default ``density`` (k-means nearest-centre density with the
coverage discount) and for ``similarity="cosine"``:

- *first query*: a fresh strategy on the pool, so the density of every pool row
  is computed (for k-means: the fit on the 1,000-row reference sample and the
  assignment of every row to its nearest centre) and cached;
- *next query*: the same strategy again (the density comes from its cache; the
  model's uncertainty is recomputed, and the covering batch runs).

Beside them, the lower bound of ``query_speed.py`` (``predict_proba`` + a row
maximum + ``argpartition``). Median seconds over ``--repeats`` runs; the peak of
what each call allocates beyond the pool (tracemalloc) in one extra run.
Writes ``benchmarks/results/density_speed.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
import tracemalloc
from functools import partial
from pathlib import Path

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from _machine import cpu_model
from activelab.strategies import InformationDensity, QueryContext
from query_speed import N_LABELLED, K, lower_bound, make_pool

OUT = Path(__file__).resolve().parent / "results" / "density_speed.json"
VARIANTS = {
    "density (kmeans, default)": lambda: InformationDensity(),
    "density (cosine)": lambda: InformationDensity(similarity="cosine"),
}


def _ctx(X, y, lab, cand, model):
    return QueryContext(
        X=X,
        candidates=cand,
        labelled=lab,
        y_labelled=y[lab],
        model=model,
        classes=np.arange(K),
        rng=np.random.default_rng(0),
    )


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _peak_mb(fn) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def _measure(make, X, y, lab, cand, model, b: int, repeats: int) -> dict[str, tuple]:
    """Median seconds and peak MB of a fresh strategy's first query and of its next one."""
    first, warm = [], []
    for _ in range(repeats):
        strat, ctx = make(), _ctx(X, y, lab, cand, model)
        first.append(_time(partial(strat.select, ctx, b)))
        warm.append(_time(partial(strat.select, ctx, b)))
    strat, ctx = make(), _ctx(X, y, lab, cand, model)
    peak_first = _peak_mb(partial(strat.select, ctx, b))
    peak_warm = _peak_mb(partial(strat.select, ctx, b))
    return {
        "first query": (statistics.median(first), peak_first),
        "next query": (statistics.median(warm), peak_warm),
    }


def run(sizes: list[int], batches: list[int], repeats: int) -> list[dict]:
    rows = []
    for n in sizes:
        X, y = make_pool(n)
        lab = np.arange(N_LABELLED)
        cand = np.arange(N_LABELLED, n)
        model = LogisticRegression(max_iter=200).fit(X[lab], y[lab])
        Xc = X[cand]
        for b in batches:
            bound = partial(lower_bound, model, Xc, cand, b)
            lb = statistics.median(_time(bound) for _ in range(repeats))
            rows.append({"n": n, "batch": b, "method": "lower bound", "median_s": lb})
            for name, make in VARIANTS.items():
                for kind, (sec, peak) in _measure(make, X, y, lab, cand, model, b, repeats).items():
                    rows.append(
                        {
                            "n": n,
                            "batch": b,
                            "method": f"{name}, {kind}",
                            "median_s": sec,
                            "ratio_to_lower_bound": sec / lb,
                            "peak_mb": peak,
                        }
                    )
            print(f"n={n:,} batch={b} done", flush=True)
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| pool | batch | method | median s | × lower bound | peak MB beyond the pool |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = f"{r['ratio_to_lower_bound']:.1f}" if "ratio_to_lower_bound" in r else "1"
        peak = f"{r['peak_mb']:.1f}" if "peak_mb" in r else "–"
        head = f"| {r['n']:,} | {r['batch']} | {r['method']} "
        lines.append(head + f"| {r['median_s']:.3f} | {ratio} | {peak} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 100])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(OUT))
    a = ap.parse_args()
    with threadpool_limits(1):
        rows = run(a.sizes, a.batches, a.repeats)
    doc = {
        "command": "PYTHONPATH=src python3 benchmarks/density_speed.py",
        "pool": f"n x 20 Gaussian blobs, {K} classes, {N_LABELLED} labelled",
        "machine": {"cpu": cpu_model(), "cores": 2, "python": platform.python_version()},
        "versions": {"numpy": np.__version__, "scikit-learn": sklearn.__version__},
        "rows": rows,
    }
    Path(a.out).write_text(json.dumps(doc, indent=1))
    print(table(rows))


if __name__ == "__main__":
    main()
