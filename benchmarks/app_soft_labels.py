"""The app's trainer on soft labels vs hard aggregated labels, with noisy double answers.

For each data set, noise level and seed: a pool/test split, 300 random pool items
each answered by two of five simulated annotators (uniform noise, error rates
spread from 0.5x to 1.5x the level), Dawid–Skene on the answers, then the app's
:func:`activelab.app.training.train` fitted twice on the same items: on the hard
aggregated labels (the app before soft labels) and with ``soft_labels`` (the
Dawid–Skene posterior as weighted rows, ``SOFT_MIN_WEIGHT`` = 0.3). Reported:
test accuracy of each model (mean over seeds) and the paired difference, for the
supervised model (``semi_supervised=None``) and the app's default pool-aware
model (``"auto"``).

Command (the committed results)::

    PYTHONPATH=src nice -n 10 python3 benchmarks/app_soft_labels.py --seeds 10
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
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from sklearn.preprocessing import StandardScaler

from _cli import name_list
from activelab.annotators.aggregate import dawid_skene
from activelab.annotators.simulated import uniform_noise
from activelab.app.training import train
from activelab.data.datasets import available, load
from activelab.simulation.campaign import split_pool_test

N_ANNOTATORS = 5
N_ITEMS = 300


def one_run(X: np.ndarray, y: np.ndarray, noise: float, seed: int, semi: str | None) -> dict:
    """Test accuracy of the hard-label and the soft-label model for one seed."""
    rng = np.random.default_rng(seed)
    X_pool, X_test, y_pool, y_test = split_pool_test(X, y, seed=seed)
    scaler = StandardScaler().fit(X_pool)
    X_pool, X_test = scaler.transform(X_pool), scaler.transform(X_test)
    classes, y_pool = np.unique(y_pool, return_inverse=True)
    y_test = np.searchsorted(classes, y_test)
    k = classes.shape[0]
    panel = uniform_noise(N_ANNOTATORS, noise * np.linspace(0.5, 1.5, N_ANNOTATORS), n_classes=k)
    idx = np.sort(rng.choice(X_pool.shape[0], N_ITEMS, replace=False))
    who = np.argsort(rng.random((N_ITEMS, N_ANNOTATORS)), axis=1)[:, :2].ravel()
    items = np.repeat(idx, 2)
    labels = panel.answer(items, who, y_pool, rng)
    ds = dawid_skene(items, who, labels, n_items=X_pool.shape[0], n_classes=k)
    names = np.array([str(c) for c in classes])
    hard = names[ds.labels[idx]]
    kw = {"classes": list(names), "strategy": "margin", "seed": seed, "semi_supervised": semi}
    out = {}
    for name, soft in (("hard", None), ("soft", ds.posterior[idx])):
        r = train(X_pool, idx, hard, soft_labels=soft, **kw)
        pred = np.asarray(r.model.predict(X_test)).astype(str)
        out[name] = float(np.mean(pred == names[y_test]))
        if soft is not None:
            out["split_items"] = (r.metrics.get("soft_labels") or {}).get("split_items", 0)
    out["label_accuracy"] = float(np.mean(ds.labels[idx] == y_pool[idx]))
    return out


def main(argv: list[str] | None = None) -> None:
    """Run the comparison and write the results JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--sets", default="digits,image_segments", type=name_list(available()))
    ap.add_argument("--noises", default="0.1,0.2,0.3")
    ap.add_argument("--semi", default="none,auto", help="semi_supervised settings to compare")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/app_soft_labels.json"))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    results = []
    for set_name in args.sets.split(","):
        data = load(set_name)
        X, y = np.asarray(data.X, dtype=float), np.asarray(data.y)
        for semi in args.semi.split(","):
            for noise in map(float, args.noises.split(",")):
                runs = [
                    one_run(X, y, noise, s, None if semi == "none" else semi)
                    for s in range(args.seeds)
                ]
                diff = np.array([r["soft"] - r["hard"] for r in runs])
                se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
                row = {
                    "set": set_name,
                    "semi_supervised": semi,
                    "noise": noise,
                    "hard": float(np.mean([r["hard"] for r in runs])),
                    "soft": float(np.mean([r["soft"] for r in runs])),
                    "diff_mean": float(diff.mean()),
                    "diff_se": se,
                    "soft_wins": int(np.sum(diff > 0)),
                    "soft_losses": int(np.sum(diff < 0)),
                    "split_items": float(np.mean([r["split_items"] for r in runs])),
                    "label_accuracy": float(np.mean([r["label_accuracy"] for r in runs])),
                }
                results.append(row)
                print(
                    f"{set_name:15s} {semi:5s} noise {noise:.1f}: hard {row['hard']:.4f} "
                    f"soft {row['soft']:.4f} diff {row['diff_mean']:+.4f} ± {row['diff_se']:.4f} "
                    f"(wins {row['soft_wins']}, losses {row['soft_losses']}; "
                    f"{row['split_items']:.0f} split items of {N_ITEMS})",
                    flush=True,
                )
    payload = {
        "command": "PYTHONPATH=src nice -n 10 python3 benchmarks/app_soft_labels.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "config": {
            "seeds": args.seeds,
            "items": N_ITEMS,
            "answers_per_item": 2,
            "annotators": N_ANNOTATORS,
            "noise_spread": [0.5, 1.5],
        },
        "results": results,
        "seconds": round(time.perf_counter() - t0, 1),
        "python": platform.python_version(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.out} ({payload['seconds']} s)")


if __name__ == "__main__":
    main()
