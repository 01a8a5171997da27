"""Information density on the pool's shared graph against its k-means density.

    nice -n 10 env PYTHONPATH=src python3 benchmarks/density_graph.py --seeds 5 --n-jobs 2

``density`` (margin × density ** 0.5 with the coverage discount) with
``similarity="kmeans"`` (today's default) and ``similarity="graph"`` (the local density
on the pool's shared 20-nearest-neighbour graph, coverage counted among graph neighbours),
each fitted supervised and with the hybrid fit (``semi_supervised="auto"``), plus
``random`` (supervised) for reference. Standardised logistic regression; the initial set,
batch and budget of ``benchmarks/hybrid.py``; each seed fixes one stratified 75/25
pool/test split and one random initial set shared by every arm.
Results: ``benchmarks/results/density_graph.json`` (mean AULC per set and arm).
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
from activelab.simulation.campaign import run_campaign, split_pool_test
from activelab.simulation.metrics import aulc
from activelab.strategies.density import InformationDensity
from hybrid import SIZES, load, model

RESULTS = Path(__file__).resolve().parent / "results"
#: Sets the choice is made on, and sets that confirm it.
CHOSEN_ON = ("digits", "image_segments", "bananas")
CONFIRMED_ON = ("mnist_2000", "phishing")
ARMS = (
    "random+supervised",
    "kmeans+supervised",
    "graph+supervised",
    "kmeans+hybrid",
    "graph+hybrid",
)


def one(name, X, y, arm, seed):
    n_init, batch, budget = SIZES[name]
    Xp, Xt, yp, yt = split_pool_test(X, y, seed=seed)
    sim, fit = arm.split("+")
    strategy = "random" if sim == "random" else InformationDensity(similarity=sim)
    r = run_campaign(
        model(),
        strategy,
        Xp,
        yp,
        Xt,
        yt,
        initial=n_init,
        batch_size=batch,
        budget=min(budget, len(yp)),
        seed=seed,
        semi_supervised="auto" if fit == "hybrid" else None,
    )
    return name, arm, seed, aulc(r.n_labels, r.scores)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--sets", nargs="*", default=list(CHOSEN_ON + CONFIRMED_ON), choices=SIZES)
    args = p.parse_args()
    data = {name: load(name, None) for name in args.sets}
    jobs = [(n, a, s) for n in args.sets for a in ARMS for s in range(args.seeds)]
    t0 = time.perf_counter()
    out = Parallel(n_jobs=args.n_jobs)(delayed(one)(n, *data[n], a, s) for n, a, s in jobs)
    table = {
        name: {
            arm: float(np.mean([v for n, a, _, v in out if n == name and a == arm])) for arm in ARMS
        }
        for name in args.sets
    }
    print(f"seeds={args.seeds}, {time.perf_counter() - t0:.0f} s; mean AULC")
    print(f"{'set':16s}" + "".join(f"{a:>19s}" for a in ARMS) + f"{'graph-kmeans':>14s}")
    for name, row in table.items():
        diff = row["graph+supervised"] - row["kmeans+supervised"]
        diff_h = row["graph+hybrid"] - row["kmeans+hybrid"]
        print(
            f"{name:16s}" + "".join(f"{row[a]:19.4f}" for a in ARMS) + f"{diff:+8.4f}/{diff_h:+.4f}"
        )
    RESULTS.mkdir(exist_ok=True)
    cmd = "nice -n 10 env PYTHONPATH=src python3 benchmarks/density_graph.py " + " ".join(
        sys.argv[1:]
    )
    (RESULTS / "density_graph.json").write_text(
        json.dumps({"command": cmd, "seeds": args.seeds, "mean_aulc": table}, indent=1)
    )


if __name__ == "__main__":
    main()
