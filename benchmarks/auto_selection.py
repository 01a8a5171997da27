"""Benchmark: automatic strategy selection, unbiased accuracy estimates, stopping.

Replays campaigns on real data sets that ship with scikit-learn and river, 10
seeds each, with a standardised logistic regression, and measures:

1. AULC of ``"auto"`` against random, margin, entropy and least confident;
2. coverage of the 90% interval of the unbiased (LURE) accuracy estimate of the
   ``"auto"`` runs (and of ``Stochastic("margin")`` runs) against the true test
   accuracy at every step, and the mean signed error of the naive estimate;
3. when stabilising predictions (and the confidence criterion) fire on the
   margin runs, the labels saved against the budget and the accuracy it costs.

Run from the repository root::

    PYTHONPATH=src python3 benchmarks/auto_selection.py

Options: ``--seeds N``, ``--datasets a,b``, ``--jobs N``, ``--out PATH``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from _cli import name_list
from _machine import cpu_model as _cpu
from activelab.simulation.campaign import aulc, run_campaign, split_pool_test
from activelab.stopping import ConfidenceCriterion, StabilizingPredictions, StoppingMonitor
from activelab.strategies import Stochastic
from activelab.weighting import estimate_accuracy

# name -> (budget, batch size)
SETTINGS: dict[str, tuple[int, int]] = {
    "iris": (60, 5),
    "wine": (80, 5),
    "breast_cancer": (150, 5),
    "phishing": (200, 10),
    "bananas": (200, 10),
    "image_segments": (200, 10),
    "digits": (200, 10),
}
STRATEGIES = ["random", "margin", "entropy", "least_confident", "auto", "stochastic_margin"]
SINGLES = ("random", "margin", "entropy", "least_confident")
ESTIMATED = {"auto", "stochastic_margin"}
N_INITIAL = 10
CV = 10  # folds of the cross-fitted losses of the accuracy estimate


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of a data set that ships inside an installed package."""
    import sklearn.datasets as skd

    if name in ("iris", "wine", "breast_cancer", "digits"):
        X, y = getattr(skd, f"load_{name}")(return_X_y=True)
        return np.asarray(X, float), np.asarray(y)
    import river.datasets as rd

    cls = {"phishing": rd.Phishing, "bananas": rd.Bananas, "image_segments": rd.ImageSegments}
    rows = list(cls[name]())
    keys = list(rows[0][0])
    X = np.array([[float(x[k]) for k in keys] for x, _ in rows])
    _, y = np.unique(np.array([str(t) for _, t in rows]), return_inverse=True)
    return X, y


def model() -> Any:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def one_run(name: str, seed: int, strategy: str) -> dict[str, Any]:
    budget, batch = SETTINGS[name]
    X, y = load(name)
    Xp, Xt, yp, yt = split_pool_test(X, y, seed=seed)
    estimates: list[dict[str, float]] = []

    def on_step(learner: Any, result: Any) -> None:
        if learner.model_ is None:
            return
        e = estimate_accuracy(learner, level=0.9, cv=CV, seed=seed, losses="cross_fitted")
        from activelab.scoring import take_rows

        apparent = learner.model_.score(take_rows(Xp, learner.labelled_), learner.labels_)
        ins = estimate_accuracy(learner, level=0.9, seed=seed, losses="in_sample")
        bl = estimate_accuracy(learner, level=0.9, cv=CV, seed=seed, losses="blend")
        estimates.append(
            {
                "n_labels": learner.n_labelled_,
                "true": result.scores[-1],
                "lure": e.estimate,
                "low": e.low,
                "high": e.high,
                "naive": e.naive,
                "apparent": float(apparent),
                "n_effective": e.n_effective,
                "lure_in_sample": ins.estimate,
                "low_in_sample": ins.low,
                "high_in_sample": ins.high,
                "lure_blend": bl.estimate,
                "low_blend": bl.low,
                "high_blend": bl.high,
            }
        )

    strat: Any = Stochastic("margin") if strategy == "stochastic_margin" else strategy
    monitor = StoppingMonitor(
        [StabilizingPredictions(), ConfidenceCriterion()], stop_set_size=2000, seed=seed
    )
    t0 = time.perf_counter()
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = run_campaign(
            model(),
            strat,
            Xp,
            yp,
            Xt,
            yt,
            initial=N_INITIAL,
            batch_size=batch,
            budget=budget,
            seed=seed,
            stopping=monitor,
            callback=on_step if strategy in ESTIMATED else None,
        )
    return {
        "dataset": name,
        "seed": seed,
        "strategy": strategy,
        "n_labels": r.n_labels,
        "scores": r.scores,
        "aulc": aulc(r.n_labels, r.scores),
        "arms": [a for step in r.arms for a in step],
        "stopping": r.stopping,
        "estimates": estimates,
        "seconds": time.perf_counter() - t0,
    }


def summarise(runs: list[dict[str, Any]], datasets: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in datasets:
        mine = [r for r in runs if r["dataset"] == name]
        if not mine:
            continue
        d: dict[str, Any] = {"budget": SETTINGS[name][0], "batch_size": SETTINGS[name][1]}
        d["aulc"] = {
            s: float(np.mean([r["aulc"] for r in mine if r["strategy"] == s]))
            for s in STRATEGIES
            if any(r["strategy"] == s for r in mine)
        }
        singles = {s: v for s, v in d["aulc"].items() if s in SINGLES}
        best = max(singles, key=singles.get)
        d["best_single"] = best
        d["auto_minus_best"] = d["aulc"]["auto"] - singles[best]
        d["auto_minus_random"] = d["aulc"]["auto"] - singles["random"]
        d["auto_within_0.01_of_best"] = bool(d["auto_minus_best"] >= -0.01)
        d["auto_not_below_random"] = bool(d["auto_minus_random"] >= 0)
        arms = [a for r in mine if r["strategy"] == "auto" for a in r["arms"]]
        names, counts = np.unique(arms, return_counts=True)
        d["auto_arm_share"] = {
            str(k): float(c / len(arms)) for k, c in zip(names, counts, strict=True)
        }
        for s in ESTIMATED:
            est = [e for r in mine if r["strategy"] == s for e in r["estimates"]]
            if not est:
                continue
            true = np.array([e["true"] for e in est])
            lure = np.array([e["lure"] for e in est])
            naive = np.array([e["naive"] for e in est])
            apparent = np.array([e["apparent"] for e in est])
            low = np.array([e["low"] for e in est])
            high = np.array([e["high"] for e in est])
            n = np.array([e["n_labels"] for e in est])
            ins = np.array([e["lure_in_sample"] for e in est])
            ins_lo = np.array([e["low_in_sample"] for e in est])
            ins_hi = np.array([e["high_in_sample"] for e in est])
            late = n >= 50
            bl = np.array([e["lure_blend"] for e in est])
            bl_lo = np.array([e["low_blend"] for e in est])
            bl_hi = np.array([e["high_blend"] for e in est])
            d[f"estimate_{s}"] = {
                "steps": len(est),
                "coverage_90": float(np.mean((low <= true) & (true <= high))),
                "coverage_90_from_50_labels": float(
                    np.mean(((low <= true) & (true <= high))[late])
                ),
                "in_sample_coverage_90": float(np.mean((ins_lo <= true) & (true <= ins_hi))),
                "in_sample_coverage_90_from_50_labels": float(
                    np.mean(((ins_lo <= true) & (true <= ins_hi))[late])
                ),
                "in_sample_lure_mean_signed_error": float(np.mean(ins - true)),
                "blend_coverage_90": float(np.mean((bl_lo <= true) & (true <= bl_hi))),
                "blend_lure_mean_signed_error": float(np.mean(bl - true)),
                "lure_mean_signed_error": float(np.mean(lure - true)),
                "naive_cv_mean_signed_error": float(np.mean(naive - true)),
                "apparent_mean_signed_error": float(np.mean(apparent - true)),
                "lure_mean_abs_error": float(np.mean(np.abs(lure - true))),
                "naive_cv_mean_abs_error": float(np.mean(np.abs(naive - true))),
                "mean_interval_width": float(np.mean(high - low)),
            }
        stops: dict[str, Any] = {}
        margin_runs = [r for r in mine if r["strategy"] == "margin"]
        for crit in ("stabilizing_predictions", "confidence"):
            fired, saved, cost = 0, [], []
            for r in margin_runs:
                at = r["stopping"].get(crit)
                final = r["scores"][-1]
                if at is None:
                    saved.append(0)
                    cost.append(0.0)
                    continue
                fired += 1
                i = r["n_labels"].index(at)
                saved.append(r["n_labels"][-1] - at)
                cost.append(final - r["scores"][i])
            stops[crit] = {
                "fired_in_runs": fired,
                "runs": len(margin_runs),
                "mean_labels_saved": float(np.mean(saved)),
                "mean_share_of_budget_saved": float(np.mean(saved) / SETTINGS[name][0]),
                "mean_accuracy_cost": float(np.mean(cost)),
                "max_accuracy_cost": float(np.max(cost)),
            }
        d["stopping_margin"] = stops
        out[name] = d
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--datasets", default=",".join(SETTINGS), type=name_list(SETTINGS))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default="benchmarks/results/auto_selection.json")
    args = ap.parse_args()
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    t0 = time.perf_counter()
    runs: list[dict[str, Any]] = []
    for name in datasets:  # one data set at a time; results are saved after each
        tasks = [(name, s, st) for s in range(args.seeds) for st in STRATEGIES]
        runs += Parallel(n_jobs=args.jobs, verbose=0)(delayed(one_run)(*t) for t in tasks)
        _save(args, datasets, runs, time.perf_counter() - t0)
        print(f"{name} done at {time.perf_counter() - t0:.0f} s", flush=True)
    summary = _save(args, datasets, runs, time.perf_counter() - t0)
    _print(summary, time.perf_counter() - t0)


def _save(args: Any, datasets: list[str], runs: list[dict[str, Any]], wall: float) -> Any:
    summary = summarise(runs, datasets)
    import sklearn

    import activelab

    meta = {
        "command": "PYTHONPATH=src python3 benchmarks/auto_selection.py "
        + f"--seeds {args.seeds} --datasets {','.join(datasets)} --jobs {args.jobs}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit_learn": sklearn.__version__,
        "activelab": activelab.__version__,
        "machine": platform.machine(),
        "processor": _cpu(),
        "model": "StandardScaler + LogisticRegression(max_iter=1000), one BLAS thread",
        "n_initial": N_INITIAL,
        "seeds": args.seeds,
        "cv_folds_of_estimate": CV,
        "wall_seconds": wall,
        "complete": sorted({r["dataset"] for r in runs}) == sorted(datasets),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    slim = [{k: v for k, v in r.items() if k != "estimates"} for r in runs]
    payload = {"meta": meta, "summary": summary, "runs": slim}
    Path(args.out).write_text(json.dumps(payload, indent=1))
    return summary


def _print(summary: dict[str, Any], wall: float) -> None:
    print(f"wall time {wall:.0f} s")
    head = f"{'data set':15s} " + " ".join(f"{s[:10]:>10s}" for s in STRATEGIES) + "  auto-best"
    print(head)
    for name, d in summary.items():
        vals = " ".join(f"{d['aulc'].get(s, float('nan')):10.4f}" for s in STRATEGIES)
        print(f"{name:15s} {vals}  {d['auto_minus_best']:+.4f}")
    print("\nunbiased estimate (90% interval)")
    for name, d in summary.items():
        for s in sorted(ESTIMATED):
            e = d.get(f"estimate_{s}")
            if e:
                print(
                    f"{name:15s} {s:18s} coverage {e['coverage_90']:.3f} "
                    f"(>=50 labels {e['coverage_90_from_50_labels']:.3f}; in-sample "
                    f"{e['in_sample_coverage_90']:.3f})  LURE err "
                    f"{e['lure_mean_signed_error']:+.4f}  naive err "
                    f"{e['naive_cv_mean_signed_error']:+.4f}  apparent err "
                    f"{e['apparent_mean_signed_error']:+.4f}  width {e['mean_interval_width']:.3f}"
                )
    print("\nstopping (margin runs)")
    for name, d in summary.items():
        for crit, s in d["stopping_margin"].items():
            print(
                f"{name:15s} {crit:24s} fired {s['fired_in_runs']}/{s['runs']}  saved "
                f"{s['mean_labels_saved']:.0f} labels ({s['mean_share_of_budget_saved']:.0%})  "
                f"accuracy cost {s['mean_accuracy_cost']:+.4f} (max {s['max_accuracy_cost']:+.4f})"
            )


if __name__ == "__main__":
    main()
