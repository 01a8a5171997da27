"""Many noisy annotators: new items only vs fixed double annotation vs active second opinions.

For each data set, noise level and seed, five simulated annotators with uniform
noise (their error rates spread from 0.5x to 1.5x the level, so that their
qualities differ) answer a fixed budget of answers under three policies of
:func:`activelab.simulation.annotated.run_annotated_campaign`:

(a) ``new``: every answer labels a new item;
(b) ``double``: every new item is answered by two annotators;
(c) ``active``: each request goes to a new item or to a second (third ...)
    opinion, whichever is worth more.

All three train a logistic regression on Dawid–Skene aggregated labels (soft
labels as weighted rows) and pick new items by the same value. Reported: test
accuracy at the end of the budget (mean over seeds, paired differences), and
the correlation between each annotator's estimated and true accuracy.

A second experiment prices answers: an item costs 1 to 5 seconds, more for
items that are harder (rank of a cross-validated model's error on the item),
and compares (c) ranked by value with (c) ranked by value per predicted second
on curves of test accuracy against cumulative seconds.

Command (the committed results; about 40 minutes on the shared 2-core machine)::

    PYTHONPATH=src nice -n 10 python3 benchmarks/annotators.py --seeds 10

Movie reviews: a stratified sample of 3,000 reviews embedded with
all-MiniLM-L6-v2 (the ``text`` extra; the model ships with the package, the
embeddings are cached on disk).
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
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.preprocessing import StandardScaler

from _cli import name_list
from activelab.annotators.simulated import (
    SimulatedAnnotators,
    class_dependent,
    one_careless,
    uniform_noise,
)
from activelab.data.datasets import available
from activelab.simulation.annotated import POLICIES, run_annotated_campaign
from activelab.simulation.campaign import split_pool_test

N_ANNOTATORS = 5
NOISES = (0.1, 0.2, 0.3)


#: The sets :func:`load` reads: movie reviews and the bundled classification sets.
SETS = ("movie_reviews", *(n for n in available() if n != "diabetes"))


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Features and integer classes of one benchmark set."""
    if name == "movie_reviews":
        from activelab.data.bundled import load_movie_reviews
        from activelab.data.features import TextEmbedder

        texts, y = load_movie_reviews()
        rng = np.random.default_rng(0)
        keep = np.sort(
            np.concatenate(
                [rng.choice(np.flatnonzero(y == c), 1500, replace=False) for c in (0, 1)]
            )
        )
        Z = TextEmbedder(n_threads=1, batch_size=64).transform([texts[i] for i in keep])
        return np.asarray(Z, dtype=float), np.asarray(y)[keep].astype(np.int64)
    from activelab.data.datasets import load as load_set

    ds = load_set(name)
    _, y = np.unique(ds.y, return_inverse=True)
    return StandardScaler().fit_transform(np.asarray(ds.X, dtype=float)), y.astype(np.int64)


def panel(kind: str, noise: float, n_classes: int) -> SimulatedAnnotators:
    """Five simulated annotators of one kind at one noise level."""
    if kind == "uniform":  # error rates spread from 0.5x to 1.5x the level
        return uniform_noise(
            N_ANNOTATORS, noise * np.linspace(0.5, 1.5, N_ANNOTATORS), n_classes=n_classes
        )
    if kind == "class_dependent":
        return class_dependent(N_ANNOTATORS, noise, n_classes=n_classes)
    if kind == "one_careless":  # four at the level, one wrong 60 % of the time
        return one_careless(N_ANNOTATORS, n_classes=n_classes, noise=noise, careless_noise=0.6)
    raise ValueError(f"Unknown panel {kind!r}; use uniform, class_dependent or one_careless.")


def difficulty_cost(X: np.ndarray, y: np.ndarray, spread: float = 5.0) -> np.ndarray:
    """Seconds per item from 1 to ``spread``: the rank of a cross-validated model's error."""
    p = cross_val_predict(LogisticRegression(max_iter=1000), X, y, cv=5, method="predict_proba")
    err = 1.0 - p[np.arange(y.shape[0]), y]
    rank = np.argsort(np.argsort(err, kind="stable"), kind="stable") / max(y.shape[0] - 1, 1)
    return 1.0 + (spread - 1.0) * rank


def cost_to_reach(cost: np.ndarray, acc: np.ndarray, target: float) -> float | None:
    """First cumulative cost at which the mean curve reaches ``target`` (linear between steps)."""
    hit = np.flatnonzero(acc >= target)
    if hit.size == 0:
        return None
    i = int(hit[0])
    if i == 0:
        return float(cost[0])
    f = (target - acc[i - 1]) / (acc[i] - acc[i - 1])
    return float(cost[i - 1] + f * (cost[i] - cost[i - 1]))


def ceiling(sets: list[str], seeds: range, budget: int, out: str) -> None:
    """What clean labels would give on the same splits: the whole pool, and ``budget`` random items.

    The upper bound of every policy (no answer is wrong, every pool item labelled) and what
    (a) would reach with perfect annotators.
    """
    t0 = time.perf_counter()
    doc: dict = {"benchmark": "annotators_ceiling", "budget_items": budget, "sets": {}}
    doc["command"] = "PYTHONPATH=src python3 benchmarks/annotators.py " + " ".join(sys.argv[1:])
    for name in sets:
        X, y = load(name)
        whole, some = [], []
        for seed in seeds:
            Xp, Xt, yp, yt = split_pool_test(X, y, seed=seed)
            clf = LogisticRegression(max_iter=1000)
            whole.append(float(clf.fit(Xp, yp).score(Xt, yt)))
            pick = np.random.default_rng(seed).choice(yp.shape[0], budget, replace=False)
            some.append(float(clf.fit(Xp[pick], yp[pick]).score(Xt, yt)))
        doc["sets"][name] = {
            "pool_items": int(Xp.shape[0]),
            "whole_pool_clean": {"mean": float(np.mean(whole)), "runs": whole},
            f"random_{budget}_clean": {"mean": float(np.mean(some)), "runs": some},
        }
        print(
            f"{name}: clean labels, whole pool ({Xp.shape[0]} items) {np.mean(whole):.3f}, "
            f"{budget} random items {np.mean(some):.3f}",
            flush=True,
        )
    doc["seconds"] = time.perf_counter() - t0
    Path(out).write_text(json.dumps(doc, indent=1))
    print(f"wrote {out} in {doc['seconds']:.0f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=0, help="Seeds first-seed .. + seeds - 1.")
    ap.add_argument(
        "--model-weight",
        default="1",
        help="(c): the model's weight in the belief about a labelled item, or 'auto' "
        "(fitted to the aggregated labels at every step).",
    )
    ap.add_argument(
        "--confusion",
        default="full",
        choices=["full", "one_coin", "shrunk", "auto"],
        help="Dawid-Skene's annotator model (activelab.annotators.aggregate.dawid_skene).",
    )
    ap.add_argument(
        "--sets",
        default="digits,image_segments,movie_reviews",
        type=name_list(SETS, none=True),
        help="Sets of the three-policy comparison ('' for none: the cost experiment alone).",
    )
    ap.add_argument("--budget", type=int, default=600)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--initial", type=int, default=20)
    ap.add_argument(
        "--cost-sets",
        default="digits,image_segments",
        type=name_list(SETS, none=True),
        help="Sets of the cost experiment ('' for none).",
    )
    ap.add_argument(
        "--panel", default="uniform", choices=["uniform", "class_dependent", "one_careless"]
    )
    ap.add_argument("--noises", default=",".join(str(x) for x in NOISES))
    ap.add_argument(
        "--cost-exponents",
        default="1",
        help="Cost-aware arms: rank by value / seconds ** e (seconds learnt from answers).",
    )
    ap.add_argument(
        "--known-cost-exponents",
        default="1,0.5",
        help="Cost-aware arms: rank by value / seconds ** e (seconds known per item).",
    )
    ap.add_argument("--out", default="benchmarks/results/annotators.json")
    ap.add_argument(
        "--ceiling",
        action="store_true",
        help="Only the clean-label bounds on the same splits (whole pool; --budget random "
        "items), written to benchmarks/results/annotators_ceiling.json.",
    )
    args = ap.parse_args()
    if args.ceiling:
        ceiling(
            [s for s in args.sets.split(",") if s],
            range(args.first_seed, args.first_seed + args.seeds),
            args.budget,
            "benchmarks/results/annotators_ceiling.json",
        )
        return
    t_start = time.perf_counter()
    model_weight = args.model_weight if args.model_weight == "auto" else float(args.model_weight)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    exponents = [float(e) for e in args.cost_exponents.split(",") if e]
    known_exponents = [float(e) for e in args.known_cost_exponents.split(",") if e]
    out: dict = {
        "benchmark": "annotators",
        "command": "PYTHONPATH=src nice -n 10 python3 benchmarks/annotators.py "
        + " ".join(sys.argv[1:]),
        "config": {
            "seeds": args.seeds,
            "first_seed": args.first_seed,
            "model_weight": model_weight,
            "confusion": args.confusion,
            "budget_answers": args.budget,
            "batch": args.batch,
            "initial": args.initial,
            "annotators": N_ANNOTATORS,
            "panel": args.panel,
            "noise": {
                "uniform": "annotator error rates spread linearly from 0.5x to 1.5x the level",
                "class_dependent": "mean error = the level, classes 0.5x-1.5x, annotators "
                "0.8x-1.2x, 3/4 of errors to one confusable class",
                "one_careless": "four annotators at the level, one with 60 % errors",
            }[args.panel],
            "model": "LogisticRegression(max_iter=1000) on Dawid-Skene soft labels",
            "test_size": 0.25,
        },
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "policies": {},
        "cost": {},
    }
    for name in [s for s in args.sets.split(",") if s]:
        X, y = load(name)
        n_classes = int(y.max()) + 1
        print(f"== {name}: {X.shape[0]} items, {X.shape[1]} features, {n_classes} classes")
        for noise in [float(x) for x in args.noises.split(",")]:
            sim = panel(args.panel, noise, n_classes)
            runs: dict[str, list[dict]] = {p: [] for p in POLICIES}
            for seed in seeds:
                Xp, Xt, yp, yt = split_pool_test(X, y, seed=seed)
                for policy in POLICIES:
                    r = run_annotated_campaign(
                        Xp,
                        yp,
                        Xt,
                        yt,
                        sim,
                        policy=policy,
                        budget=args.budget,
                        batch=args.batch,
                        initial=args.initial,
                        model_weight=model_weight,
                        confusion=args.confusion,
                        seed=seed,
                    )
                    runs[policy].append(r.to_dict())
            final = {p: np.array([r["accuracy"][-1] for r in runs[p]]) for p in POLICIES}
            corr = {
                p: float(
                    np.mean(
                        [
                            np.corrcoef(r["annotator_accuracy_true"], r["annotator_accuracy_est"])[
                                0, 1
                            ]
                            for r in runs[p]
                        ]
                    )
                )
                for p in POLICIES
            }
            summary = {
                "final_accuracy_mean": {p: float(v.mean()) for p, v in final.items()},
                "final_accuracy_std": {p: float(v.std()) for p, v in final.items()},
                "active_minus_new_points": float(100 * (final["active"] - final["new"]).mean()),
                "active_minus_double_points": float(
                    100 * (final["active"] - final["double"]).mean()
                ),
                "active_wins_vs_new": int(np.sum(final["active"] > final["new"])),
                "active_wins_vs_double": int(np.sum(final["active"] > final["double"])),
                "label_accuracy_mean": {
                    p: float(np.mean([r["label_accuracy"][-1] for r in runs[p]])) for p in POLICIES
                },
                "items_mean": {
                    p: float(np.mean([r["items"][-1] for r in runs[p]])) for p in POLICIES
                },
                "annotator_accuracy_corr_mean": corr,
            }
            out["policies"].setdefault(name, {})[str(noise)] = {"summary": summary, "runs": runs}
            fa = summary["final_accuracy_mean"]
            print(
                f"noise {noise:.1f}: new {fa['new']:.3f}  double {fa['double']:.3f}  "
                f"active {fa['active']:.3f}  (active-new {summary['active_minus_new_points']:+.1f}"
                f" pts, active-double {summary['active_minus_double_points']:+.1f} pts; "
                f"wins {summary['active_wins_vs_new']}/{args.seeds}, "
                f"{summary['active_wins_vs_double']}/{args.seeds}); corr(est, true accuracy) "
                f"active {corr['active']:.2f} double {corr['double']:.2f}",
                flush=True,
            )
    for name in [s for s in args.cost_sets.split(",") if s]:
        X, y = load(name)
        n_classes = int(y.max()) + 1
        sim = panel(args.panel, 0.2, n_classes)
        arms: list[tuple[str, tuple[float, bool] | None]] = [("by_value", None)]
        arms += [(f"per_learnt_second^{e:g}", (e, False)) for e in exponents]
        arms += [(f"per_known_second^{e:g}", (e, True)) for e in known_exponents]
        curves: dict[str, list[dict]] = {a: [] for a, _ in arms}
        for seed in seeds:
            Xp, Xt, yp, yt = split_pool_test(X, y, seed=seed)
            cost = difficulty_cost(Xp, yp)
            for arm, how in arms:
                # value per second spends fewer seconds per answer: give it more answers
                # so that its curve spans the same seconds
                budget = int(args.budget * (1.0 if how is None else 1.5))
                r = run_annotated_campaign(
                    Xp,
                    yp,
                    Xt,
                    yt,
                    sim,
                    policy="active",
                    budget=budget,
                    batch=args.batch,
                    initial=args.initial,
                    seed=seed,
                    cost=cost,
                    cost_aware=how is not None,
                    cost_exponent=1.0 if how is None else how[0],
                    cost_known=how is not None and how[1],
                    model_weight=model_weight,
                )
                curves[arm].append(r.to_dict())
        # mean accuracy on a common grid of cumulative seconds (up to the shorter arm's end)
        end = min(min(r["cost"][-1] for r in curves[a]) for a in curves)
        start = max(max(r["cost"][0] for r in curves[a]) for a in curves)
        grid = np.linspace(start, end, 200)
        mean = {
            a: np.mean([np.interp(grid, r["cost"], r["accuracy"]) for r in curves[a]], axis=0)
            for a in curves
        }
        # targets: the by-value accuracy after 25, 50, 75 and 100 % of the common seconds
        targets = {}
        for share in (0.25, 0.5, 0.75, 1.0):
            at = round(share * (grid.shape[0] - 1))
            target = float(mean["by_value"][at])
            t_value = cost_to_reach(grid, mean["by_value"], target)
            row = {"target_accuracy": target, "seconds": {"by_value": t_value}, "saving": {}}
            for arm, _ in arms[1:]:
                t = cost_to_reach(grid, mean[arm], target)
                row["seconds"][arm] = t
                row["saving"][arm] = None if t is None or not t_value else 1.0 - t / t_value
            targets[f"{share:.0%}"] = row
            parts = []
            for arm, _ in arms[1:]:
                t, sv = row["seconds"][arm], row["saving"][arm]
                parts.append(
                    f"{arm} "
                    + ("never" if t is None else f"{t:.0f} s")
                    + (f" (saving {sv:.1%})" if sv is not None else "")
                )
            print(
                f"cost {name}: by-value accuracy {target:.3f} after {grid[at]:.0f} s; reached "
                f"at {t_value:.0f} s by value, " + ", ".join(parts),
                flush=True,
            )
        out["cost"][name] = {
            "cost": "1 + 4 * rank of a 5-fold model's error on the item (1 to 5 seconds), "
            "observed with a log-normal factor of spread 0.2",
            "noise": 0.2,
            "arms": {
                a: None if h is None else {"exponent": h[0], "cost": "known" if h[1] else "learnt"}
                for a, h in arms
            },
            "grid_seconds": grid.tolist(),
            "mean_accuracy": {a: v.tolist() for a, v in mean.items()},
            "targets": targets,
            "seconds_per_answer_mean": {
                a: float(np.mean([r["cost"][-1] / r["answers"][-1] for r in curves[a]]))
                for a in curves
            },
            "runs": curves,
        }
    out["seconds"] = time.perf_counter() - t_start
    Path(args.out).write_text(json.dumps(out))
    print(f"wrote {args.out} in {out['seconds']:.0f} s")


if __name__ == "__main__":
    main()
