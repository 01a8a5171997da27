"""Stream-based active learning under a label budget: accuracy, spend, drift and throughput.

Replays river's Phishing stream and a SEA stream with a concept drift (and, for
the drift section, an Agrawal stream with a drift) through ``StreamLearner``
with every stream strategy at 5 %, 10 % and 20 % budgets over 5 seeds, with a
logistic regression (scikit-learn's ``LogisticRegression()``, refitted on the
last 1,000 labels after each labelled batch, on running standardisation); then
``rvu`` against ``random`` on Phishing with two incremental linear models
(``SGDClassifier(loss="log_loss")`` by ``partial_fit``, river's
``LogisticRegression``) and with the paper's threshold steps; and the
mini-batch throughput of both scikit-learn models.

Run:  PYTHONPATH=src python3 benchmarks/stream_budget.py            (about 20 min on 2 cores)
      PYTHONPATH=src python3 benchmarks/stream_budget.py --quick    (a smoke run)
Writes benchmarks/results/stream_budget.json and prints the tables.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import river
import sklearn
from sklearn.linear_model import LogisticRegression, SGDClassifier
from threadpoolctl import threadpool_limits

from _machine import cpu_model as _cpu
from activelab.stream import StreamLearner, load_stream, replay

STRATEGIES = ("random", "rvu", "vu", "split", "fixed-uncertainty")
BUDGETS = (0.05, 0.1, 0.2)
OUT = Path(__file__).parent / "results" / "stream_budget.json"


MODEL = (
    "LogisticRegression() refitted on the last 1,000 labels after each labelled batch, "
    "with running standardisation"
)


def _river_logreg():
    from river import linear_model, preprocessing

    return preprocessing.StandardScaler() | linear_model.LogisticRegression()


# name -> (factory, standardize); "logreg" is the main model, the others are checks
MODELS = {
    "logreg": (LogisticRegression, True),
    "sgd": (lambda: SGDClassifier(loss="log_loss"), True),
    "river-logreg": (_river_logreg, False),
}


def run_one(
    stream,
    strategy: str,
    budget: float,
    seed: int,
    batch_size: int,
    model: str = "logreg",
    **strategy_params,
) -> dict:
    factory, standardize = MODELS[model]
    learner = StreamLearner(
        factory(),
        strategy,
        budget,
        classes=stream.classes,
        standardize=standardize,
        random_state=seed,
        **strategy_params,
    )
    every = max(batch_size, len(stream) // 40 // batch_size * batch_size)
    run = replay(learner, stream.X, stream.y, batch_size=batch_size, every=every, seed=seed)
    out = run.to_dict()
    out["accuracy"] = run.accuracy
    out["realised_spend"] = run.realised_spend
    if stream.drift_at is not None:
        seen = np.asarray(run.items_seen)
        rec = np.asarray(run.recent_scores)
        after = (seen > stream.drift_at) & (seen <= stream.drift_at + len(stream) // 8)
        before = (seen > stream.drift_at - len(stream) // 8) & (seen <= stream.drift_at)
        out["accuracy_before_drift"] = float(rec[before].mean())
        out["accuracy_after_drift"] = float(rec[after].mean())
        n_lab = np.asarray(run.n_labels)
        out["labels_after_drift"] = int(n_lab[after][-1] - n_lab[before][-1])
    return out


def model_check(seeds: int) -> list[dict]:
    """rvu against random on Phishing with other models and with the paper's steps."""
    stream = load_stream("phishing")
    cases = [
        ("sgd", "rvu", {}),
        ("sgd", "random", {}),
        ("river-logreg", "rvu", {}),
        ("river-logreg", "random", {}),
        ("logreg", "rvu", {"rule": "steps"}),
        ("sgd", "rvu", {"rule": "steps"}),
    ]
    rows = []
    for budget in BUDGETS:
        for model_name, strategy, params in cases:
            runs = [
                run_one(stream, strategy, budget, seed, 1, model_name, **params)
                for seed in range(seeds)
            ]
            row = {
                "model": model_name,
                "strategy": strategy,
                "params": params,
                "budget": budget,
                **_accuracy_and_spend(runs),
                "accuracies": [r["accuracy"] for r in runs],
            }
            rows.append(row)
            print(
                f"phishing/{model_name:12s} B={budget:<5} {strategy:6s} {params or ''} "
                f"acc {row['accuracy_mean']:.4f} ± {row['accuracy_std']:.4f}  "
                f"spend {row['spend_mean']:.4f}",
                flush=True,
            )
    return rows


def _accuracy_and_spend(runs: list[dict]) -> dict:
    """Mean and std of the prequential accuracy, and the mean realised spend, over seeds."""
    acc = [r["accuracy"] for r in runs]
    return {
        "accuracy_mean": float(np.mean(acc)),
        "accuracy_std": float(np.std(acc)),
        "spend_mean": float(np.mean([r["realised_spend"] for r in runs])),
    }


def accuracy_section(
    name: str,
    n_items: int | None,
    batch_size: int,
    seeds: int,
    budgets,
    strategies,
    model: str = "logreg",
) -> dict:
    rows = []
    for budget in budgets:
        for strategy in strategies:
            runs = []
            for seed in range(seeds):
                stream = load_stream(name, n_items=n_items, seed=seed)
                runs.append(run_one(stream, strategy, budget, seed, batch_size, model))
            spend = np.array([r["realised_spend"] for r in runs])
            row = {
                "stream": name,
                "model": model,
                "budget": budget,
                "strategy": strategy,
                **_accuracy_and_spend(runs),
                "spend_max_abs_error": float(np.max(np.abs(spend - budget))),
                "runs": runs,
            }
            if "accuracy_after_drift" in runs[0]:
                for k in ("accuracy_before_drift", "accuracy_after_drift", "labels_after_drift"):
                    row[k + "_mean"] = float(np.mean([r[k] for r in runs]))
            rows.append(row)
            extra = (
                f"  before/after drift {row['accuracy_before_drift_mean']:.3f}/"
                f"{row['accuracy_after_drift_mean']:.3f} "
                f"({row['labels_after_drift_mean']:.0f} labels after)"
                if "accuracy_after_drift_mean" in row
                else ""
            )
            print(
                f"{name:14s} {model:6s} B={budget:<5} {strategy:18s} "
                f"acc {row['accuracy_mean']:.4f} ± {row['accuracy_std']:.4f}  "
                f"spend {row['spend_mean']:.4f}{extra}",
                flush=True,
            )
    return {
        "stream": name,
        "model": model,
        "n_items": n_items,
        "batch_size": batch_size,
        "rows": rows,
    }


def throughput(n_items: int, batch_sizes, repeats: int) -> list[dict]:
    stream = load_stream("sea-drift", n_items=n_items, seed=0)
    out = []
    for model_name in ("logreg", "sgd"):
        factory, standardize = MODELS[model_name]
        for bs in batch_sizes:
            rates = []
            for r in range(repeats):
                learner = StreamLearner(
                    factory(),
                    "rvu",
                    0.1,
                    classes=stream.classes,
                    standardize=standardize,
                    random_state=r,
                )
                t0 = time.perf_counter()
                run = replay(learner, stream.X, stream.y, batch_size=bs, every=n_items)
                rates.append(n_items / (time.perf_counter() - t0))
                assert run.items_seen[-1] == n_items
            row = {
                "model": model_name,
                "batch_size": bs,
                "n_items": n_items,
                "items_per_second_median": statistics.median(rates),
                "items_per_second_runs": rates,
            }
            out.append(row)
            print(
                f"throughput {model_name:6s} batch {bs:5d}: median "
                f"{row['items_per_second_median']:,.0f} items/s over {repeats} runs of "
                f"{n_items:,} items (process_many + learn_many, rvu, 10 %)",
                flush=True,
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run (1 seed, small streams)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    seeds = 1 if args.quick else 5
    n_sea = 2000 if args.quick else 10_000
    n_agrawal = 4000 if args.quick else 20_000
    t0 = time.perf_counter()
    with threadpool_limits(1):
        sections = [
            accuracy_section("phishing", None, 1, seeds, BUDGETS, STRATEGIES),
            accuracy_section("sea-drift", n_sea, 10, seeds, BUDGETS, STRATEGIES),
            accuracy_section("agrawal-drift", n_agrawal, 10, seeds, (0.1,), STRATEGIES),
            accuracy_section("agrawal-drift", n_agrawal, 10, seeds, (0.1,), STRATEGIES, "sgd"),
        ]
        check = model_check(seeds)
        tp = throughput(20_000 if args.quick else 200_000, (1000, 100), 3 if args.quick else 5)
    result = {
        "schema": "activelab.benchmark.stream/1",
        "command": "PYTHONPATH=src python3 benchmarks/stream_budget.py"
        + (" --quick" if args.quick else ""),
        "machine": {
            "cpu": _cpu(),
            "cores": __import__("os").cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
            "river": river.__version__,
            "blas_threads": 1,
        },
        "model": MODEL,
        "settings": {"seeds": seeds, "budgets": list(BUDGETS), "window": 1000},
        "sections": sections,
        "phishing_model_check": check,
        "throughput": tp,
        "seconds": time.perf_counter() - t0,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(f"wrote {args.out} in {result['seconds']:.0f} s")


if __name__ == "__main__":
    main()
