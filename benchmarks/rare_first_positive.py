"""Rare classes: how many labels until the first positive, when the rare class is a small cluster?

A campaign on ``segments_3pct`` (``brickface`` at 3 % of ImageSegments; see
``rare_classes.py``) usually starts without a positive, and its balanced accuracy stays at
1/2 until one is found. This compares, after the same 10 random labels, batches of 10
picked by:

- ``random``;
- ``ucluster{K}``: covering k-means clusters (K of them, on the standardised pool)
  regardless of their size: each pick comes from a cluster drawn uniformly among those
  holding no labelled item yet (all once every cluster has one), its most central free
  member;
- ``ucluster{K}-member``: the same, a random member of the cluster.

Covering clusters uniformly, not in proportion to their size, would favour a small compact
class. Seeds 100-139 by default (one stratified 75/25 split each; ``--seeds``,
``--first-seed``); only the campaigns that start without a positive count; a campaign that
meets none within 150 labels counts as 150.

    PYTHONPATH=src python3 benchmarks/rare_first_positive.py

Results: ``benchmarks/results/rare_first_positive.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rare_classes import make_set

OUT = Path(__file__).resolve().parent / "results" / "rare_first_positive.json"
BUDGET = 150


def _random(X, labelled, rng, n):
    return rng.choice(np.setdiff1d(np.arange(len(X)), labelled), n, replace=False)


def _uniform_clusters(k: int, central: bool):
    fitted: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def pick(X, labelled, rng, n):
        if id(X) not in fitted:
            km = KMeans(k, n_init=3, random_state=0).fit(X)
            fitted[id(X)] = (
                km.labels_,
                np.linalg.norm(X - km.cluster_centers_[km.labels_], axis=1),
            )
        cluster, dist = fitted[id(X)]
        free = np.ones(len(X), bool)
        free[labelled] = False
        covered = np.zeros(k, bool)
        covered[cluster[labelled]] = True
        out: list[int] = []
        while len(out) < n:  # a batch: at most n small steps, not a loop over the pool
            open_ = np.flatnonzero(~covered & (np.bincount(cluster[free], minlength=k) > 0))
            if open_.size == 0:
                open_ = np.flatnonzero(np.bincount(cluster[free], minlength=k) > 0)
            c = rng.choice(open_)
            members = np.flatnonzero(free & (cluster == c))
            i = members[np.argmin(dist[members])] if central else rng.choice(members)
            out.append(int(i))
            free[i], covered[c] = False, True
        return np.array(out)

    return pick


def first_positive(picker, seeds) -> list[int | None]:
    """Labels until the first positive per seed (None: the 10 random labels held one)."""
    X, y = make_set("segments_3pct")
    out: list[int | None] = []
    for s in seeds:
        Xp, _, yp, _ = train_test_split(X, y, test_size=0.25, stratify=y, random_state=s)
        Xp = StandardScaler().fit_transform(Xp)
        rng = np.random.default_rng(s)
        labelled = rng.choice(len(yp), 10, replace=False)
        if yp[labelled].any():
            out.append(None)
            continue
        n = 10
        while n < BUDGET and not yp[labelled].any():
            labelled = np.concatenate([labelled, picker(Xp, labelled, rng, 10)])
            n += 10
        out.append(n if yp[labelled].any() else BUDGET)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--first-seed", type=int, default=100)
    args = ap.parse_args()
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    arms = {"random": _random}
    for k in (20, 50):
        arms[f"ucluster{k}"] = _uniform_clusters(k, central=True)
        arms[f"ucluster{k}-member"] = _uniform_clusters(k, central=False)
    results = {}
    for name, picker in arms.items():
        runs = first_positive(picker, seeds)
        counted = [v for v in runs if v is not None]
        results[name] = {
            "per_seed": runs,
            "mean": float(np.mean(counted)),
            "none_within_budget": sum(v == BUDGET for v in counted),
        }
        print(
            f"{name:20s} mean {results[name]['mean']:.1f} over {len(counted)} campaigns "
            f"({results[name]['none_within_budget']} met none)",
            flush=True,
        )
    doc = {
        "benchmark": "rare_first_positive",
        "command": "PYTHONPATH=src python3 benchmarks/rare_first_positive.py "
        + " ".join(sys.argv[1:]),
        "set": "segments_3pct",
        "seeds": seeds,
        "budget": BUDGET,
        "results": results,
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
