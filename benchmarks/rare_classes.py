"""Rare classes: do the discovery strategies find the few positives, and does the model see them?

Imbalanced versions of bundled data (the positive class subsampled, a fixed subsample
per set), positive label 1:

- ``digits5_2pct`` / ``digits5_5pct``: digit 5 against the other nine digits, 2 % / 5 %;
- ``segments_3pct``: ImageSegments, ``brickface`` against the other six classes, 3 %;
- ``fashion_3pct``: Fashion-MNIST (3,000 training images, 50 principal components),
  ``bag`` against the rest, 3 %;
- ``phishing_5pct``: Phishing, the phishing sites subsampled to 5 %.

Parts (``--part``):

``pool``
    Pool-based campaigns through :func:`activelab.simulation.runner.simulate` with
    ``positive_label=1`` (balanced accuracy scores the curves): 10 random labels,
    batches of 10, up to ``--budget`` labels, ``--seeds`` seeds (one stratified 75/25
    split each), a standardised logistic regression with ``class_weight="balanced"``.
    Per strategy: positives per 100 labels over the first 100, labels until the
    first positive, balanced-accuracy AULC, average precision at the budget. With
    ``--no-positive-label`` the curves are still scored on class 1, but the
    strategies are not told which class is rare and pick their target themselves,
    as a Python user's ``ActiveLearner(model, "positive_seeking")`` does (the
    campaigns then run in threads, one process).
``models``
    The imbalance-aware model defaults: random and positive seeking with a plain,
    a balanced and a balanced + threshold-tuned (:class:`ThresholdClassifier`)
    logistic regression; balanced-accuracy AULC and AP at the budget.
``stream``
    Fraud triage (:func:`activelab.stream.triage.triage_replay`): the items of each set
    arrive in a seeded random order in batches of 50; an analyst may review 5 % of
    them. Random review, pure top-risk review and triage (top risk plus a share of
    uncertain items): positives caught and the model's average precision over time.

Results: ``benchmarks/results/rare_classes_<part>.json`` (settings, per-run records, summary).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from _cli import strategy_name
from activelab.data.datasets import load
from activelab.simulation import runner
from activelab.simulation.rare_metrics import rare_summary
from activelab.simulation.runner import make_model, simulate

SETS = ("digits5_2pct", "digits5_5pct", "segments_3pct", "fashion_3pct", "phishing_5pct")
STRATEGIES = (
    "random",
    "margin",
    "class_balanced",
    "positive_seeking",
    "rare_discovery",
    "aad",
    "auto_rare",
)


def _subsample(X: np.ndarray, positive: np.ndarray, share: float) -> tuple[np.ndarray, np.ndarray]:
    """Keep every negative and as many positives as make ``share`` of the items (fixed seed)."""
    rng = np.random.default_rng(12345)
    neg = np.flatnonzero(~positive)
    n_pos = round(share * neg.shape[0] / (1.0 - share))
    pos = rng.choice(np.flatnonzero(positive), n_pos, replace=False)
    idx = np.sort(np.concatenate([neg, pos]))
    return np.asarray(X[idx], dtype=float), positive[idx].astype(int)


def make_set(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The imbalanced data set ``name``: features and 0/1 labels (1: the rare class)."""
    if name.startswith("digits5"):
        ds = load("digits")
        return _subsample(ds.X, ds.y == 5, 0.02 if name.endswith("2pct") else 0.05)
    if name == "segments_3pct":
        ds = load("image_segments")
        return _subsample(ds.X, ds.y == "brickface", 0.03)
    if name == "phishing_5pct":
        ds = load("phishing")
        return _subsample(ds.X, ds.y == 1, 0.05)
    if name == "fashion_3pct":
        from sklearn.decomposition import PCA

        from activelab.data.bundled import load_fashion_mnist, stratified_subset

        X, y = load_fashion_mnist("train")
        keep = stratified_subset(y, 3000, seed=0)
        Z = PCA(50, random_state=0).fit_transform(X[keep])
        return _subsample(Z, y[keep] == 8, 0.03)
    raise ValueError(f"unknown set {name!r}; choose from {SETS}")


def _model(kind: str) -> Any:
    from activelab.models.imbalance import ThresholdClassifier, balanced

    base = make_model("logreg")
    if kind == "plain":
        return base
    if kind == "balanced":
        return balanced(base)
    if kind == "threshold":
        return ThresholdClassifier(balanced(base))
    raise ValueError(kind)


def _blind(run: Callable[..., Any]) -> Callable[..., Any]:
    """``run_campaign`` with the strategy's ``positive_label`` unset: it picks its target."""

    def run_blind(estimator: Any, strategy: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(strategy, "positive_label", None) is not None:
            strategy.positive_label = None
        return run(estimator, strategy, *args, **kwargs)

    return run_blind


@contextlib.contextmanager
def _strategies_blind(blind: bool) -> Iterator[None]:
    """While open and ``blind``: campaigns in threads of this process, strategies not told
    the positive label (the simulator still scores the curves on it)."""
    if not blind:
        yield
        return
    from joblib import parallel_backend

    run = runner.run_campaign
    runner.run_campaign = _blind(run)
    try:
        with parallel_backend("threading"):
            yield
    finally:
        runner.run_campaign = run


def _pool(name: str, args: argparse.Namespace, model: str, strategies: list[str]) -> dict:
    X, y = make_set(name)
    with _strategies_blind(args.no_positive_label):
        doc = _simulate(name, X, y, args, model, strategies)
    return {"n": len(y), "positives": int(y.sum()), "doc": doc}


def _simulate(
    name: str, X: np.ndarray, y: np.ndarray, args: argparse.Namespace, model: str, strategies: list
) -> dict:
    return simulate(
        (X, y),
        _model(model),
        strategies,
        n_initial=10,
        batch_size=10,
        budget=args.budget,
        seeds=args.seeds,
        positive_label=1,
        progress=False,
        n_jobs=args.n_jobs,
        dataset_name=name,
        semi_supervised=None if args.semi_supervised == "off" else args.semi_supervised,
    )


def _mean(stat: dict) -> float | None:
    return stat["mean"]


def run_pool(args: argparse.Namespace) -> dict:
    out: dict[str, Any] = {"sets": {}}
    for name in args.sets:
        t0 = time.perf_counter()
        res = _pool(name, args, "balanced", list(args.strategies))
        summ = rare_summary(res["doc"]["runs"])
        rnd = summ["random"]
        # the same model on the whole pool's true labels, same splits: no campaign's balanced
        # accuracy can be expected above it at any step
        whole = [float(v) for v in res["doc"]["full_pool"].values()]
        print(
            f"\n{name}: {res['positives']} positives of {res['n']}; whole-pool balanced "
            f"accuracy {np.mean(whole):.3f}",
            flush=True,
        )
        print(
            f"{'strategy':>18} {'pos/100':>8} {'x rnd':>6} {'1st pos':>8} {'BA AULC':>8} "
            f"{'d rnd':>7} {'AP@end':>7}"
        )
        rows = {}
        for s, m in summ.items():
            ratio = _mean(m["per_100"]) / max(_mean(rnd["per_100"]), 1e-9)
            d_ba = _mean(m["ba_aulc"]) - _mean(rnd["ba_aulc"])
            first = _mean(m["until"]["1"])
            print(
                f"{s:>18} {_mean(m['per_100']):8.1f} {ratio:6.1f} "
                f"{first if first is not None else float('nan'):8.1f} "
                f"{_mean(m['ba_aulc']):8.3f} {d_ba:+7.3f} {_mean(m['ap_final']):7.3f}"
            )
            rows[s] = {
                **m,
                "per_100_vs_random": ratio,
                "ba_aulc_minus_random": d_ba,
                "ap_minus_random": _mean(m["ap_final"]) - _mean(rnd["ap_final"]),
            }
        out["sets"][name] = {
            "n": res["n"],
            "positives": res["positives"],
            "summary": rows,
            "whole_pool_balanced_accuracy": {"mean": float(np.mean(whole)), "runs": whole},
            "runs": res["doc"]["runs"],
            "seconds": time.perf_counter() - t0,
        }
    return out


def run_models(args: argparse.Namespace) -> dict:
    out: dict[str, Any] = {"sets": {}}
    for name in args.sets:
        per: dict[str, Any] = {}
        for kind in ("plain", "balanced", "threshold"):
            res = _pool(name, args, kind, ["random", "positive_seeking"])
            summ = rare_summary(res["doc"]["runs"])
            per[kind] = {
                s: {"ba_aulc": m["ba_aulc"], "ap_final": m["ap_final"], "ba_final": m["ba_final"]}
                for s, m in summ.items()
            }
            per[kind]["runs"] = res["doc"]["runs"]
            print(
                f"{name:>15} {kind:>10}: "
                + ", ".join(
                    f"{s} BA AULC {_mean(m['ba_aulc']):.3f} AP {_mean(m['ap_final']):.3f}"
                    for s, m in summ.items()
                ),
                flush=True,
            )
        out["sets"][name] = per
    return out


def _nanmean(values: list) -> float:
    v = np.array([np.nan if x is None else x for x in values], dtype=float)
    return float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")


def run_stream(args: argparse.Namespace) -> dict:
    from activelab.stream.triage import triage_replay

    out: dict[str, Any] = {"sets": {}}
    policies = ("random", "top_risk", "triage")
    for name in args.sets:
        X, y = make_set(name)
        runs = []
        for seed in range(args.seeds):
            order = np.random.default_rng([seed, 99]).permutation(len(y))
            for policy in policies:
                run = triage_replay(
                    _model("balanced"),
                    X[order],
                    y[order],
                    positive_label=1,
                    budget=args.stream_budget,
                    policy=policy,
                    batch_size=50,
                    seed=seed,
                )
                runs.append(run.to_dict())
        summ = {}
        for policy in policies:
            rs = [r for r in runs if r["policy"] == policy]
            summ[policy] = {
                "caught": float(np.mean([r["caught"][-1] for r in rs])),
                "caught_share": float(
                    np.mean([r["caught"][-1] / r["positives_seen"][-1] for r in rs])
                ),
                "ap_mean": _nanmean([r["ap_mean"] for r in rs]),
                "ap_final": _nanmean([r["ap"][-1] for r in rs]),
                "reviewed": float(np.mean([r["reviewed"][-1] for r in rs])),
            }
        base = summ["random"]
        print(
            f"\n{name}: {int(y.sum())} positives of {len(y)}, review budget "
            f"{args.stream_budget:.0%}"
        )
        for policy, m in summ.items():
            m["caught_vs_random"] = m["caught"] / max(base["caught"], 1e-9)
            m["ap_minus_random"] = m["ap_mean"] - base["ap_mean"]
            print(
                f"{policy:>10}: reviewed {m['reviewed']:.0f}, caught {m['caught']:.1f} "
                f"({m['caught_share']:.0%}, x{m['caught_vs_random']:.1f} random), "
                f"AP over time {m['ap_mean']:.3f} ({m['ap_minus_random']:+.3f}), "
                f"AP at end {m['ap_final']:.3f}",
                flush=True,
            )
        out["sets"][name] = {"summary": summ, "runs": runs}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--part", choices=("pool", "models", "stream"), default="pool")
    p.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    p.add_argument("--strategies", nargs="+", default=list(STRATEGIES), type=strategy_name)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--budget", type=int, default=150)
    p.add_argument("--stream-budget", type=float, default=0.05)
    p.add_argument("--n-jobs", type=int, default=1, help="parallel campaigns (joblib)")
    p.add_argument(
        "--semi-supervised",
        default="off",
        choices=("off", "auto", "spreading", "blend", "self-training"),
        help="pool part: every campaign's model also learns from the unlabelled pool "
        "(activelab.models.semi); off = the committed results",
    )
    p.add_argument(
        "--no-positive-label",
        action="store_true",
        help="pool and models parts: the strategies are not told the positive class and "
        "pick their target themselves (the curves are still scored on it)",
    )
    p.add_argument("--out", default=None)
    args = p.parse_args()
    t0 = time.perf_counter()
    result = {"pool": run_pool, "models": run_models, "stream": run_stream}[args.part](args)
    result["settings"] = {k: v for k, v in vars(args).items()}
    result["seconds"] = time.perf_counter() - t0
    out = Path(args.out or f"benchmarks/results/rare_classes_{args.part}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=float))
    print(f"\nwrote {out} in {result['seconds']:.0f} s")


if __name__ == "__main__":
    main()
