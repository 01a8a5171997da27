"""Cold start with the hybrid fit: which representatives to ask for first.

    nice -n 10 env PYTHONPATH=src python3 benchmarks/hybrid_coldstart.py --seeds 3 --n-jobs 2

The learner starts with no label; its cold start picks the first batch (10 items), then
``margin`` (the learner's default strategy) picks batches of 10 up to 100 labels, fitted with
``semi_supervised="auto"``. Arms (the cold start only differs):

- ``typicality``: today's default (k-means on the features, typicality by a neighbour search
  inside a sample of each cluster);
- ``typicality_graph``: ``Typicality(graph=True)``, k-means in the shared graph's space and
  typicality read off the pool's shared graph (no search of its own);
- ``probcover``: ProbCover on the shared graph as the cold start.

Each seed fixes one stratified 75/25 pool/test split (standardised logistic regression).
Reported: mean accuracy over 10–100 labels (AULC), accuracy at 10, 50 and 100 labels.
Results: ``benchmarks/results/hybrid_coldstart.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cli import strategy_name
from activelab.simulation.campaign import run_campaign, split_pool_test
from activelab.simulation.metrics import aulc, score_at
from activelab.strategies.coldstart import Typicality
from activelab.strategies.coverage import ProbCover
from hybrid import SIZES, load, model

RESULTS = Path(__file__).resolve().parent / "results"
#: Sets the choice is made on, and sets that confirm it.
CHOSEN_ON = ("digits", "bananas", "image_segments")
CONFIRMED_ON = ("breast_cancer", "phishing", "mnist_2000")
ARMS = ("typicality", "typicality_graph", "probcover")


def cold(arm: str):
    return {
        "typicality": lambda: Typicality(),
        "typicality_graph": lambda: Typicality(graph=True),
        "probcover": lambda: ProbCover(),
    }[arm]()


def one(name, X, y, arm, seed, strategy):
    Xp, Xt, yp, yt = split_pool_test(X, y, seed=seed)
    r = run_campaign(
        model(),
        strategy,
        Xp,
        yp,
        Xt,
        yt,
        initial=0,
        batch_size=10,
        budget=100,
        seed=seed,
        cold_start=cold(arm),
        semi_supervised="auto",
    )
    return name, arm, seed, r.n_labels, r.scores


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--sets", nargs="*", default=list(CHOSEN_ON + CONFIRMED_ON), choices=SIZES)
    p.add_argument("--strategy", default="margin", type=strategy_name)
    args = p.parse_args()
    data = {name: load(name, None) for name in args.sets}
    jobs = [(n, a, s) for n in args.sets for a in ARMS for s in range(args.seeds)]
    t0 = time.perf_counter()
    out = Parallel(n_jobs=args.n_jobs)(
        delayed(one)(n, *data[n], a, s, args.strategy) for n, a, s in jobs
    )
    table: dict[str, dict[str, dict[str, float]]] = {}
    for name in args.sets:
        table[name] = {}
        for arm in ARMS:
            runs = [(x, sc) for n, a, _, x, sc in out if n == name and a == arm]
            table[name][arm] = {
                "aulc_10_100": float(np.mean([aulc(x, sc, lo=10, hi=100) for x, sc in runs])),
                **{
                    f"acc_{k}": float(np.mean([score_at(x, sc, k) for x, sc in runs]))
                    for k in (10, 50, 100)
                },
            }
    print(f"strategy={args.strategy}, seeds={args.seeds}, {time.perf_counter() - t0:.0f} s")
    print(f"{'set':16s} {'cold start':18s} {'AULC':>7s} {'@10':>7s} {'@50':>7s} {'@100':>7s}")
    for name, arms in table.items():
        for arm, m in arms.items():
            print(
                f"{name:16s} {arm:18s} {m['aulc_10_100']:7.4f} {m['acc_10']:7.4f} "
                f"{m['acc_50']:7.4f} {m['acc_100']:7.4f}"
            )
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"hybrid_coldstart_{args.strategy}.json"
    cmd = "nice -n 10 env PYTHONPATH=src python3 benchmarks/hybrid_coldstart.py " + " ".join(
        sys.argv[1:]
    )
    # NaN (no model could be fitted at some step in some seed) is written as null
    table = {
        name: {
            arm: {k: (None if np.isnan(v) else v) for k, v in m.items()} for arm, m in arms.items()
        }
        for name, arms in table.items()
    }
    path.write_text(json.dumps({"command": cmd, "seeds": args.seeds, "table": table}, indent=1))


if __name__ == "__main__":
    main()
