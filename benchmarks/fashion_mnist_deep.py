"""Deep active learning on Fashion-MNIST: BALD, BatchBALD, BADGE, core-set vs margin and random.

A stratified subset of Fashion-MNIST (Debian ``dataset-fashion-mnist``) is the
pool (default 5,000 images of the training split) and the test set (2,000 of
the test split), fixed across seeds. Every strategy drives the same
:class:`activelab.models.deep.TorchMLPClassifier` (784-128-10, dropout 0.3, 30
epochs, retrained from scratch after each batch) on the CPU with one torch
thread; seeds vary the initial labels, the network initialisation and the
strategy's randomness.

Run::

    PYTHONPATH=src python3 benchmarks/fashion_mnist_deep.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from _cli import strategy_name
from _machine import cpu_model as _cpu
from activelab.data.bundled import load_fashion_mnist, stratified_subset
from activelab.models.deep import TorchMLPClassifier
from activelab.simulation.campaign import aulc, run_campaign

STRATEGIES = ("random", "margin", "bald", "batchbald", "badge", "deep_coreset")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pool", type=int, default=5000)
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--initial", type=int, default=20)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--budget", type=int, default=520)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--strategies", nargs="+", default=list(STRATEGIES), type=strategy_name)
    ap.add_argument("--out", default="benchmarks/results/fashion_mnist_deep.json")
    args = ap.parse_args()

    Xtr, ytr = load_fashion_mnist("train")
    Xte, yte = load_fashion_mnist("test")
    pool = stratified_subset(ytr, args.pool, seed=0)
    test = stratified_subset(yte, args.test, seed=0)
    Xp, yp, Xt, yt = Xtr[pool], ytr[pool], Xte[test], yte[test]
    print(f"pool {Xp.shape}, test {Xt.shape}")

    results: dict[str, list[dict]] = {s: [] for s in args.strategies}
    with threadpool_limits(1):
        for seed in range(args.seeds):
            for strat in args.strategies:
                model = TorchMLPClassifier(
                    hidden_layer_sizes=(128,),
                    dropout=0.3,
                    epochs=args.epochs,
                    random_state=seed,
                    n_threads=1,
                )
                t0 = time.perf_counter()
                r = run_campaign(
                    model,
                    strat,
                    Xp,
                    yp,
                    Xt,
                    yt,
                    initial=args.initial,
                    batch_size=args.batch,
                    budget=args.budget,
                    seed=seed,
                )
                d = r.to_dict()
                d["wall_seconds"] = time.perf_counter() - t0
                d["aulc"] = aulc(r.n_labels, r.scores)
                results[strat].append(d)
                print(
                    f"seed {seed} {strat:>12}: acc@{r.n_labels[-1]}={r.scores[-1]:.3f} "
                    f"aulc={d['aulc']:.3f} select {np.mean(r.select_seconds[1:]):.2f} s/query, "
                    f"fit {np.mean(r.fit_seconds[1:]):.2f} s, wall {d['wall_seconds']:.0f} s",
                    flush=True,
                )

    marks = sorted(
        {m for m in (args.initial + 100, args.initial + 200, args.budget) if m <= args.budget}
    )
    summary = {}
    for strat, runs in results.items():
        row: dict[str, dict[str, float]] = {}
        for n in marks:
            accs = [dict(zip(r["n_labels"], r["scores"], strict=True))[n] for r in runs]
            row[f"acc@{n}"] = {"mean": float(np.mean(accs)), "std": float(np.std(accs))}
        row["aulc"] = {
            "mean": float(np.mean([r["aulc"] for r in runs])),
            "std": float(np.std([r["aulc"] for r in runs])),
        }
        row["select_seconds_per_query"] = float(
            np.median([np.mean(r["select_seconds"][1:]) for r in runs])
        )
        row["wall_seconds_per_campaign"] = float(np.median([r["wall_seconds"] for r in runs]))
        summary[strat] = row
    print("\nmean test accuracy (std) over seeds")
    for strat, row in summary.items():
        cells = "  ".join(
            f"@{n}: {row[f'acc@{n}']['mean']:.3f} ({row[f'acc@{n}']['std']:.3f})" for n in marks
        )
        print(
            f"{strat:>12}  {cells}  aulc {row['aulc']['mean']:.3f}  "
            f"select {row['select_seconds_per_query']:.2f} s/query  "
            f"campaign {row['wall_seconds_per_campaign']:.0f} s"
        )

    out = {
        "benchmark": "fashion_mnist_deep",
        "command": "PYTHONPATH=src python3 benchmarks/fashion_mnist_deep.py",
        "machine": {"cpu": _cpu(), "cores": os.cpu_count(), "python": platform.python_version()},
        "versions": {p: version(p) for p in ("torch", "numpy", "scikit-learn")},
        "data": {
            "pool": len(pool),
            "test": len(test),
            "source": "dataset-fashion-mnist (Debian); stratified subsets, seed 0",
        },
        "protocol": {
            "seeds": args.seeds,
            "initial": args.initial,
            "batch": args.batch,
            "budget": args.budget,
            "model": f"TorchMLPClassifier((128,), dropout=0.3, epochs={args.epochs}), CPU, "
            "1 torch thread, retrained from scratch each step",
            "strategy_params": "defaults (BALD/BatchBALD 20 MC samples; BatchBALD 256 "
            "configurations over the top-1000 BALD candidates)",
        },
        "summary": summary,
        "runs": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
