"""The classifier's scaler fitted on the labelled items or on the whole pool.

    PYTHONPATH=src python3 benchmarks/pool_scaling.py --seeds 5 --n-jobs 2

A ``StandardScaler`` + logistic regression fitted on the labelled items alone
(the labels-only fit) against the same classifier whose scaler is fitted once on the
seed's pool and frozen (:func:`activelab.models.semi.scaled_on_pool`, what the hybrid fit
does; nothing else is learnt from the pool). Random and margin sampling, 10 random
initial labels, batches of 10 up to ``--budget`` labels, one stratified 75/25 split per
seed (:func:`activelab.simulation.campaign.run_campaign`), the same splits and initial
labels for both fits.
Reported: mean AULC (mean test accuracy over the campaign) per set, strategy and fit.

Results: ``benchmarks/results/pool_scaling.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from joblib import Parallel, delayed

from activelab.data.datasets import available, load
from activelab.models.semi import scaled_on_pool
from activelab.simulation.campaign import run_campaign, split_pool_test
from activelab.simulation.runner import make_model

SETS = ("image_segments", "digits", "phishing", "wine", "breast_cancer", "iris")


def _run(X: np.ndarray, y: np.ndarray, strategy: str, fit: str, seed: int, budget: int) -> float:
    Xp, Xt, yp, yt = split_pool_test(X, y, seed=seed)
    model = make_model("logreg")
    if fit == "pool":
        model = scaled_on_pool(model, Xp)
    r = run_campaign(
        model, strategy, Xp, yp, Xt, yt, initial=10, batch_size=10, budget=budget, seed=seed
    )
    return float(np.mean(r.scores))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=200)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=available())
    ap.add_argument("--out", default="benchmarks/results/pool_scaling.json")
    args = ap.parse_args()
    t0 = time.perf_counter()
    out: dict = {
        "benchmark": "pool_scaling",
        "command": "PYTHONPATH=src python3 benchmarks/pool_scaling.py " + " ".join(sys.argv[1:]),
        "model": "StandardScaler + LogisticRegression(max_iter=1000)",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "sets": {},
    }
    print(f"{'set':>16} {'strategy':>8} {'labelled':>9} {'pool':>7} {'gain':>7}")
    for name in args.sets:
        ds = load(name)
        X, y = np.asarray(ds.X, dtype=float), np.asarray(ds.y)
        jobs = [
            (strategy, fit, seed)
            for strategy in ("random", "margin")
            for fit in ("labelled", "pool")
            for seed in range(args.seeds)
        ]
        scores = Parallel(n_jobs=args.n_jobs)(
            delayed(_run)(X, y, st, fit, seed, args.budget) for st, fit, seed in jobs
        )
        row: dict = {}
        for (strategy, fit, _), score in zip(jobs, scores, strict=True):
            row.setdefault(strategy, {}).setdefault(fit, []).append(score)
        for strategy, fits in row.items():
            a, b = np.mean(fits["labelled"]), np.mean(fits["pool"])
            print(f"{name:>16} {strategy:>8} {a:9.4f} {b:7.4f} {b - a:+7.4f}", flush=True)
        out["sets"][name] = row
    out["seconds"] = time.perf_counter() - t0
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(f"wrote {args.out} in {out['seconds']:.0f} s")


if __name__ == "__main__":
    main()
