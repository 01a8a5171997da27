"""Margin sampling against random sampling on digits: normalised AULC over 5 seeds.

One command::

    PYTHONPATH=src python3 benchmarks/digits_margin_vs_random.py

scikit-learn's digits (75 % pool / 25 % test, stratified, split per seed),
LogisticRegression, 10 random initial labels, batch 1, up to 200 labels, seeds
0-4. Reports each strategy's normalised area under the test-accuracy curve
(:func:`activelab.simulation.campaign.aulc` over 10-200 labels) per seed and on
average, and the mean difference (the target is margin >= random +
0.02). Other strategies can be added with ``--strategies``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from _cli import strategy_name
from activelab.simulation.campaign import aulc, run_campaign, split_pool_test

RESULTS = Path(__file__).parent / "results" / "digits_margin_vs_random.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategies", nargs="+", default=["margin", "random"], type=strategy_name)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--initial", type=int, default=10)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    command = "PYTHONPATH=src python3 benchmarks/digits_margin_vs_random.py" + "".join(
        f" {a}" for a in sys.argv[1:]
    )
    X, y = load_digits(return_X_y=True)
    per: dict[str, list[float]] = {s: [] for s in args.strategies}
    secs: dict[str, float] = {s: 0.0 for s in args.strategies}
    with threadpool_limits(limits=1):
        for seed in range(args.seeds):
            Xp, Xt, yp, yt = split_pool_test(X, y, seed=seed)
            for name in args.strategies:
                t0 = time.perf_counter()
                r = run_campaign(
                    LogisticRegression(max_iter=1000),
                    name,
                    Xp,
                    yp,
                    Xt,
                    yt,
                    initial=args.initial,
                    batch_size=args.batch,
                    budget=args.budget,
                    seed=seed,
                )
                secs[name] += time.perf_counter() - t0
                per[name].append(aulc(r.n_labels, r.scores, lo=args.initial, hi=args.budget))
                print(f"seed {seed} {name:>16}: AULC {per[name][-1]:.4f}", flush=True)
            _save(args, command, per, secs, seed + 1)
    _report(args, per, secs)


def _summary(per: dict[str, list[float]]) -> tuple[dict[str, float], str]:
    means = {s: statistics.fmean(v) for s, v in per.items()}
    base = "random" if "random" in means else next(iter(means))
    return means, base


def _save(args, command, per, secs, seeds_done) -> None:
    """Write the results so far (after every seed, so a long run leaves partial results)."""
    means, base = _summary(per)
    result = {
        "benchmark": "digits_margin_vs_random",
        "command": command,
        "data": "sklearn digits, 75/25 stratified split per seed",
        "estimator": "LogisticRegression(max_iter=1000)",
        "initial": args.initial,
        "batch": args.batch,
        "budget": args.budget,
        "seeds_requested": args.seeds,
        "seeds_completed": list(range(seeds_done)),
        "aulc_per_seed": per,
        "aulc_mean": means,
        "difference_vs_" + base: {s: means[s] - means[base] for s in per},
        "seconds": secs,
        "blas_threads": 1,
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scikit_learn": sklearn.__version__,
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


def _report(args, per, secs) -> None:
    means, base = _summary(per)
    print()
    for s in per:
        print(
            f"{s:>16}: mean AULC {means[s]:.4f}  (vs {base}: {means[s] - means[base]:+.4f}, "
            f"{secs[s]:.1f} s)"
        )
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
