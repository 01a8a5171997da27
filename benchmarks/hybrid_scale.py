"""Cost of the hybrid fit on large pools: the graph, one refit, one query.

    PYTHONPATH=src python3 benchmarks/hybrid_scale.py --sizes 100000 200000

A synthetic pool (``make_classification``: 30 features, 10 classes) of each
size; 500 random labels; standardised logistic regression. Timed: building
the pool's graph (:class:`activelab.models.spreading.GraphPool`, k = 10), one
refit with ``semi_supervised="auto"`` (the classifier, the spreading and the
5-fold check, on the graph already built), and one ``margin`` query of 10 items
over the whole pool (the spread distributions found by row); wall and CPU seconds
(the CPU time of all threads: on a shared machine the wall time also counts waiting),
with the load average before the run. Memory of the
graph: its index, distance and affinity arrays. Pools above ``--approximate-from``
(default: activelab's own threshold) are searched approximately when ``pynndescent`` is
installed; the share of the true neighbours found is checked on 500 rows, and the one-off
compilation of the approximate search is timed apart. Results:
``benchmarks/results/hybrid_scale.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model
from activelab import ActiveLearner, graph


def one(n: int, n_labels: int, seed: int = 0) -> dict:
    X, y = make_classification(
        n, n_features=30, n_informative=20, n_classes=10, n_clusters_per_class=2,
        random_state=seed,
    )  # fmt: skip
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    learner = ActiveLearner(est, "margin", random_state=seed, semi_supervised="auto")
    lab = np.random.default_rng(seed).choice(n, n_labels, replace=False)
    learner.fit(X)
    from activelab.models.spreading import GraphPool

    load = os.getloadavg()[0]
    approximate = graph._approximate("auto", n)
    t0, c0 = time.perf_counter(), time.process_time()
    learner.graph_pool_ = GraphPool(X, n_neighbors=10)
    graph_s, graph_cpu = time.perf_counter() - t0, time.process_time() - c0
    recall = _recall(learner.graph_pool_) if approximate else 1.0
    t0, c0 = time.perf_counter(), time.process_time()
    learner.teach(lab, y[lab])  # the first refit, on the graph just built
    refit_s, refit_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    learner.query(10)
    query_s = time.perf_counter() - t0
    g = learner.graph_pool_
    mb = (g.graph.indices.nbytes + g.graph.distances.nbytes) / 2**20
    S = g.S
    mb += (S.data.nbytes + S.indices.nbytes + S.indptr.nbytes) / 2**20
    return {
        "n": n,
        "labels": n_labels,
        "graph_s": round(graph_s, 2),
        "graph_cpu_s": round(graph_cpu, 2),
        "refit_s": round(refit_s, 2),
        "refit_cpu_s": round(refit_cpu, 2),
        "load_average_before": round(load, 1),
        "query_s": round(query_s, 2),
        "chosen": learner.model_.chosen_,
        "graph_mb": round(mb, 1),
        "search": "approximate" if approximate else "exact",
        "recall_of_true_neighbours": round(recall, 3),
    }


def _recall(pool, n_rows: int = 500) -> float:
    """Share of the true 20 nearest neighbours the graph holds, on a sample of rows."""
    Z, found = pool.space.Z, pool.graph.indices
    rows = np.random.default_rng(1).choice(Z.shape[0], n_rows, replace=False)
    sq = (Z * Z).sum(axis=1)
    hits = 0
    for r in rows:  # one exact search per sampled row (500 rows, not the pool)
        d = sq - 2.0 * Z @ Z[r] + sq[r]
        d[r] = np.inf
        true = np.argpartition(d, found.shape[1])[: found.shape[1]]
        hits += np.intersect1d(true, found[r]).size
    return hits / (n_rows * found.shape[1])


def _warm_up() -> float:
    """Compile the approximate search once (numba), outside the timings; its seconds."""
    t0 = time.perf_counter()
    graph.knn_graph(np.random.default_rng(0).normal(size=(2000, 5)), 5, method="approximate")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    ap.add_argument("--labels", type=int, default=500)
    ap.add_argument("--out", default="benchmarks/results/hybrid_scale.json")
    ap.add_argument(
        "--approximate-from",
        type=int,
        default=graph.APPROXIMATE_FROM,
        help="pools larger than this are searched approximately (pynndescent, if installed)",
    )
    args = ap.parse_args()
    graph.APPROXIMATE_FROM = args.approximate_from
    compile_s = None
    if any(graph._approximate("auto", n) for n in args.sizes):
        compile_s = round(_warm_up(), 1)
        print(f"approximate search compiled in {compile_s} s (not in the timings)", flush=True)
    rows = []
    for n in args.sizes:
        rows.append(one(n, args.labels))
        print(rows[-1], flush=True)
    doc = {
        "benchmark": "hybrid_scale",
        "command": "PYTHONPATH=src python3 benchmarks/hybrid_scale.py " + " ".join(sys.argv[1:]),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "threads": os.environ.get("OMP_NUM_THREADS"),
        "approximate_from": graph.APPROXIMATE_FROM,
        "approximate_compile_s": compile_s,
        "rows": rows,
    }
    Path(args.out).write_text(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
