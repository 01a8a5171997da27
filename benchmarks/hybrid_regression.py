"""Does self-training help a regressor? A measurement, not a feature.

    PYTHONPATH=src python3 benchmarks/hybrid_regression.py [--seeds 10] [--out FILE]

On the bundled regression set (diabetes, the only one), 10 seeds, random labelled
sets of 20, 50 and 100 items from a 75 % pool: R² on the held-out
quarter of a model fitted on the labels alone, and of the same model self-trained
(three rounds, each adopting as pseudo-targets the predictions for the 10 % of the
remaining pool with the least spread across a random forest's trees; ridge: the
least distance to the labelled items). Results: ``benchmarks/results/hybrid_regression.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from activelab.data import datasets

MODELS = {
    "ridge": lambda: make_pipeline(StandardScaler(), Ridge()),
    "forest": lambda: RandomForestRegressor(n_estimators=50, random_state=0, n_jobs=1),
}


def _confidence(model, X, Xl):
    final = model[-1] if hasattr(model, "steps") else model
    if hasattr(final, "estimators_"):
        return -np.std([t.predict(X) for t in final.estimators_], axis=0)
    d = ((X[:, None, :] - Xl[None, :, :]) ** 2).sum(-1).min(axis=1)
    return -d


def self_train(est, Xp, lab, yl, rounds=3, share=0.10):
    rows, targets = lab.copy(), yl.copy()
    free = np.setdiff1d(np.arange(len(Xp)), lab)
    model = clone(est).fit(Xp[rows], targets)
    for _ in range(rounds):
        conf = _confidence(model, Xp[free], Xp[lab])
        take = free[np.argsort(-conf, kind="stable")[: max(1, int(share * free.size))]]
        rows = np.concatenate([rows, take])
        targets = np.concatenate([targets, model.predict(Xp[take])])
        free = np.setdiff1d(free, take)
        model = clone(est).fit(Xp[rows], targets)
    return model


RESULTS = Path(__file__).resolve().parent / "results" / "hybrid_regression.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10, help="splits per row (default 10)")
    ap.add_argument("--out", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    args = ap.parse_args()
    if args.seeds < 1:
        ap.error(f"--seeds must be at least 1, got {args.seeds}")
    sets = {"diabetes": datasets.load("diabetes")}
    command = "PYTHONPATH=src python3 benchmarks/hybrid_regression.py"
    if args.seeds != 10:
        command += f" --seeds {args.seeds}"
    out = {"command": command, "rows": []}
    for name, ds in sets.items():
        X, y = np.asarray(ds.X, float), np.asarray(ds.y, float)
        for mname, make in MODELS.items():
            for n in (20, 50, 100):
                sup, st = [], []
                for seed in range(args.seeds):
                    Xp, Xt, yp, yt = train_test_split(X, y, test_size=0.25, random_state=seed)
                    lab = np.random.default_rng(seed).choice(len(yp), n, replace=False)
                    sup.append(r2_score(yt, clone(make()).fit(Xp[lab], yp[lab]).predict(Xt)))
                    st.append(r2_score(yt, self_train(make(), Xp, lab, yp[lab]).predict(Xt)))
                row = {
                    "set": name,
                    "model": mname,
                    "labels": n,
                    "r2_supervised": round(float(np.mean(sup)), 4),
                    "r2_self_trained": round(float(np.mean(st)), 4),
                    "difference": round(float(np.mean(np.subtract(st, sup))), 4),
                    "difference_std": round(float(np.std(np.subtract(st, sup))), 4),
                }
                out["rows"].append(row)
                print(row, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
