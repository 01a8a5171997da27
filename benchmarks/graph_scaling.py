"""How the pool's graph scales its columns: label spreading with random labels.

    PYTHONPATH=src python3 benchmarks/graph_scaling.py --seeds 10 --cache-dir DIR

The hybrid fit, ``probcover``, ``typicality`` and graph density all work on one
k-nearest-neighbour graph of the pool (:mod:`activelab.shared_graph`). This compares the
space it is built in: plain standardisation (every column divided by its standard
deviation) against the rule activelab uses (each column divided by the larger of its own
standard deviation and the median one of the columns, so a near-constant column is not
blown up) and two other floors (half and twice the median). Measured: label spreading
(k = 10, alpha = 0.9, 30 steps) from ``n`` random labels, accuracy on the other pool items,
mean over seeds. The rule was chosen on :data:`CHOSEN_ON` and confirmed on the others.
Results: ``benchmarks/results/graph_scaling.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model
from activelab.graph import PoolGraph
from activelab.models.spreading import normalized_affinity, spread
from hybrid import SIZES, load

RESULTS = Path(__file__).resolve().parent / "results"
#: Sets the rule was chosen on; the others confirm it.
CHOSEN_ON = ("digits", "phishing", "image_segments", "breast_cancer")
CONFIRMED_ON = ("iris", "wine", "mnist_2000", "fashion_mnist_3000", "movie_reviews")
#: Floors, as multiples of the median column standard deviation (0: plain standardisation).
FLOORS = {
    "standardised": 0.0,
    "floor 0.5 x median": 0.5,
    "floor median (activelab)": 1.0,
    "floor 2 x median": 2.0,
}
LABELS = (20, 50, 100, 200)


def spreading_accuracy(Z: np.ndarray, y: np.ndarray, n_labels: int, seeds: int) -> float:
    """Mean accuracy of label spreading from ``n_labels`` random labels on the rest."""
    S = normalized_affinity(PoolGraph(Z, 10).affinity("gaussian"))
    classes, codes = np.unique(y, return_inverse=True)
    out = []
    for seed in range(seeds):
        lab = np.random.default_rng(seed).choice(len(y), n_labels, replace=False)
        Y = np.zeros((len(y), classes.size))
        Y[lab, codes[lab]] = 1.0
        pred = spread(S, Y).argmax(axis=1)
        rest = np.ones(len(y), dtype=bool)
        rest[lab] = False
        out.append(float(np.mean(pred[rest] == codes[rest])))
    return float(np.mean(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--sets", nargs="+", default=[*CHOSEN_ON, *CONFIRMED_ON], choices=SIZES)
    ap.add_argument("--cache-dir", default=None, help="sentence-embedding cache")
    args = ap.parse_args()
    t0 = time.perf_counter()
    doc: dict = {
        "command": f"PYTHONPATH=src python3 benchmarks/graph_scaling.py --seeds {args.seeds}",
        "cpu": cpu_model(),
        "chosen_on": list(CHOSEN_ON),
        "sets": {},
    }
    for name in args.sets:
        X, y = load(name, args.cache_dir)
        X = X - X.mean(axis=0)
        std = X.std(axis=0)
        med = float(np.median(std[std > 0]))
        row = {}
        for n_labels in LABELS:
            if n_labels > len(y) // 2:
                continue
            row[str(n_labels)] = {
                arm: round(
                    spreading_accuracy(
                        X / np.maximum(std, f * med) if f else X / np.where(std > 0, std, 1.0),
                        y,
                        n_labels,
                        args.seeds,
                    ),
                    4,
                )
                for arm, f in FLOORS.items()
            }
            print(name, n_labels, row[str(n_labels)], flush=True)
        doc["sets"][name] = row
    doc["seconds"] = round(time.perf_counter() - t0, 1)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "graph_scaling.json").write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
