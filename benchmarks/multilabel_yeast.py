"""Multi-label active learning on Yeast: every multi-label strategy against random.

One command::

    PYTHONPATH=src python3 benchmarks/multilabel_yeast.py

Yeast (river's bundled copy: 2,417 genes × 103 features, 14 labels) is split
75/25 into a pool (1,812) and a test set (605) per seed. Each campaign starts
from 20 random labelled items and queries batches of 10 up to 500 labels with a
one-vs-rest logistic regression; the test micro-F1 is recorded after every
batch and summarised by its AULC (normalised area under the learning curve,
20 → 500 labels). Five seeds (split, initial set and strategy) per strategy;
one BLAS thread. Two models are run: ``plain`` (OneVsRest(LogisticRegression())
on the raw features) and ``scaled`` (a StandardScaler in
front of it).

Writes ``benchmarks/results/multilabel_yeast.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import activelab
from _machine import cpu_model as _cpu
from activelab.multilabel import load_yeast
from activelab.simulation.campaign import aulc, run_campaign, split_pool_test

STRATEGIES = ["random", "binmin", "mean_entropy", "max_entropy", "mmc", "adaptive_ml"]
MODELS = {
    "plain": lambda: OneVsRestClassifier(LogisticRegression(max_iter=1000)),
    "scaled": lambda: make_pipeline(
        StandardScaler(), OneVsRestClassifier(LogisticRegression(max_iter=1000))
    ),
}


def _one(model: str, strategy: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    X, Y = load_yeast()
    Xp, Xt, Yp, Yt = split_pool_test(X, Y, test_size=0.25, seed=seed)
    t0 = time.perf_counter()
    with threadpool_limits(1):
        r = run_campaign(
            MODELS[model](),
            strategy,
            Xp,
            Yp,
            Xt,
            Yt,
            initial=args.initial,
            batch_size=args.batch,
            budget=args.budget,
            seed=seed,
            scoring="f1_micro",
        )
    return {
        "model": model,
        "strategy": strategy,
        "seed": seed,
        "aulc": aulc(r.n_labels, r.scores),
        "final": r.scores[-1],
        "n_labels": r.n_labels,
        "scores": r.scores,
        "select_seconds": float(np.sum(r.select_seconds)),
        "wall_seconds": time.perf_counter() - t0,
        "cold_steps": int(sum(u != r.strategy for u in r.strategies_used[1:])),
    }


def _summary(runs: list[dict[str, Any]], model: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for s in STRATEGIES:
        rs = sorted(
            (r for r in runs if r["model"] == model and r["strategy"] == s), key=lambda r: r["seed"]
        )
        a = np.array([r["aulc"] for r in rs])
        f = np.array([r["final"] for r in rs])
        out[s] = {
            "aulc_per_seed": a.round(5).tolist(),
            "aulc_mean": float(a.mean()),
            "aulc_std": float(a.std(ddof=1)) if a.size > 1 else 0.0,
            "final_f1_micro_mean": float(f.mean()),
            "select_seconds_mean": float(np.mean([r["select_seconds"] for r in rs])),
            "mean_curve": np.mean([r["scores"] for r in rs], axis=0).round(5).tolist(),
            "n_labels": rs[0]["n_labels"],
        }
    rand = np.array(out["random"]["aulc_per_seed"])
    best = max((s for s in STRATEGIES if s != "random"), key=lambda s: out[s]["aulc_mean"])
    diff = np.array(out[best]["aulc_per_seed"]) - rand
    out["best_vs_random"] = {
        "best": best,
        "aulc_gain_mean": float(diff.mean()),
        "aulc_gain_std": float(diff.std(ddof=1)) if diff.size > 1 else 0.0,
        "seeds_won": int((diff > 0).sum()),
        "seeds": int(diff.size),
        "beats_random": bool(diff.mean() > 0),
    }
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--initial", type=int, default=20)
    p.add_argument("--batch", type=int, default=10)
    p.add_argument("--budget", type=int, default=500)
    p.add_argument("--jobs", type=int, default=2, help="parallel campaigns (processes)")
    p.add_argument("--out", default=str(Path(__file__).parent / "results/multilabel_yeast.json"))
    args = p.parse_args(argv)

    tasks = [(m, s, seed) for m in args.models for seed in range(args.seeds) for s in STRATEGIES]
    t0 = time.perf_counter()
    runs = Parallel(n_jobs=args.jobs)(delayed(_one)(m, s, seed, args) for m, s, seed in tasks)
    wall = time.perf_counter() - t0
    result = {
        "benchmark": "multilabel_yeast",
        "command": "PYTHONPATH=src python3 benchmarks/multilabel_yeast.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "data": {
            "name": "Yeast (river bundled)",
            "n_pool": 1812,
            "n_test": 605,
            "n_features": 103,
            "n_labels": 14,
        },
        "protocol": {
            "initial": args.initial,
            "batch": args.batch,
            "budget": args.budget,
            "seeds": args.seeds,
            "metric": "micro-F1 on the test set",
            "summary": "AULC over the label range (normalised area)",
            "blas_threads": 1,
            "parallel_campaigns": args.jobs,
        },
        "models": {m: repr(MODELS[m]()) for m in args.models},
        "machine": {"cpu": _cpu(), "cores": os.cpu_count(), "python": platform.python_version()},
        "versions": {
            "activelab": activelab.__version__,
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
        },
        "wall_seconds": wall,
        "results": {m: _summary(runs, m) for m in args.models},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")

    for m in args.models:
        res = result["results"][m]
        print(
            f"\nmodel={m}: AULC of test micro-F1, {args.initial}->{args.budget} labels, "
            f"batch {args.batch}, {args.seeds} seeds"
        )
        print(f"{'strategy':<14}{'AULC mean':>10}{'std':>8}{'final F1':>10}{'select s':>10}")
        for s in sorted(STRATEGIES, key=lambda s: -res[s]["aulc_mean"]):
            r = res[s]
            print(
                f"{s:<14}{r['aulc_mean']:>10.4f}{r['aulc_std']:>8.4f}"
                f"{r['final_f1_micro_mean']:>10.4f}{r['select_seconds_mean']:>10.1f}"
            )
        b = res["best_vs_random"]
        print(
            f"best={b['best']}: AULC gain over random {b['aulc_gain_mean']:+.4f} "
            f"± {b['aulc_gain_std']:.4f} (won {b['seeds_won']}/{b['seeds']} seeds)"
        )
    print(f"\nwall {wall:.0f} s; wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
