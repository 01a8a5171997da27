"""modAL's selection time, measured inside modAL's own environment (scikit-learn < 1.8).

Called by ``query_speed.py``; reads the pool and labelled indices from ``--dir``,
times the lower bound (``predict_proba`` + row max + ``argpartition``) in this
same process, then modAL's margin, entropy, least-confident (``uncertainty``)
and ranked-batch (``uncertainty_batch_sampling``) selection and its information
density (only while its n × n matrix fits in ``--max-matrix-gb``).
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits


class _StoppedError(Exception):
    pass


def _alarm(signum, frame):
    raise _StoppedError


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 100])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cutoff", type=float, default=30.0)
    ap.add_argument("--max-matrix-gb", type=float, default=2.0)
    a = ap.parse_args()
    from modAL.batch import uncertainty_batch_sampling
    from modAL.density import information_density
    from modAL.models import ActiveLearner
    from modAL.uncertainty import (
        classifier_uncertainty,
        entropy_sampling,
        margin_sampling,
        uncertainty_sampling,
    )

    X = np.load(Path(a.dir) / "X.npy")
    lab = np.load(Path(a.dir) / "lab.npy")
    n, _d = X.shape
    y_lab = np.load(Path(a.dir) / "ylab.npy")
    cand = np.setdiff1d(np.arange(n), lab)
    Xc = X[cand]
    model = LogisticRegression(max_iter=200).fit(X[lab], y_lab)
    learner = ActiveLearner(model, X_training=X[lab], y_training=y_lab)
    learner.estimator = model  # keep the same fitted model (ActiveLearner refits a clone)

    def lower_bound(b):
        s = model.predict_proba(Xc).max(axis=1)
        return np.argpartition(s, b - 1)[:b]

    methods = {
        "lower_bound": lower_bound,
        "margin": lambda b: margin_sampling(model, Xc, n_instances=b),
        "entropy": lambda b: entropy_sampling(model, Xc, n_instances=b),
        "least_confident": lambda b: uncertainty_sampling(model, Xc, n_instances=b),
        "ranked_batch": lambda b: uncertainty_batch_sampling(learner, Xc, n_instances=b),
    }
    cut = {}
    need_gb = len(cand) ** 2 * 8 / 2**30
    if need_gb <= a.max_matrix_gb:
        # density-weighted uncertainty, as modAL's docs build it
        methods["density"] = lambda b: np.argpartition(
            -(information_density(Xc, "euclidean") * classifier_uncertainty(model, Xc)), b - 1
        )[:b]
    else:
        cut["density"] = f"n × n matrix would need {need_gb:.0f} GiB (limit {a.max_matrix_gb} GiB)"
    rows = []
    with threadpool_limits(1):
        for b in a.batches:
            times = {m: [] for m in methods}
            for _ in range(a.repeats):
                for m, f in methods.items():
                    if (m, b) in cut or m in cut or sum(times[m]) > a.cutoff:
                        continue
                    signal.signal(signal.SIGALRM, _alarm)
                    signal.setitimer(signal.ITIMER_REAL, 4 * a.cutoff)
                    t0 = time.perf_counter()
                    try:
                        f(b)
                        t = time.perf_counter() - t0
                    except _StoppedError:
                        t = float("inf")
                    finally:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                    times[m].append(t)
                    if t > a.cutoff:
                        what = "was stopped after" if t == float("inf") else "took"
                        cut[(m, b)] = (
                            f"one selection {what} {min(t, 4 * a.cutoff):.0f} s "
                            f"(limit {a.cutoff:.0f} s)"
                        )
            for m, ts in times.items():
                if not ts:
                    continue
                peak = None
                if ts[0] < a.cutoff / 4 and m != "density":
                    tracemalloc.start()
                    methods[m](b)
                    peak = tracemalloc.get_traced_memory()[1] / 2**20
                    tracemalloc.stop()
                rows.append(
                    {
                        "batch": b,
                        "method": m,
                        "median_s": None
                        if statistics.median(ts) == float("inf")
                        else statistics.median(ts),
                        "stopped_after_s": 4 * a.cutoff
                        if statistics.median(ts) == float("inf")
                        else None,
                        "runs": len(ts),
                        "peak_mb": peak,
                    }
                )
    from importlib.metadata import version

    Path(a.out).write_text(
        json.dumps(
            {
                "rows": rows,
                "cut": {k if isinstance(k, str) else f"{k[0]}@{k[1]}": v for k, v in cut.items()},
                "modAL": version("modAL-python"),
                "scikit-learn": version("scikit-learn"),
            }
        )
    )


if __name__ == "__main__":
    main()
