"""Hybrid learning: random, margin and ``auto`` with and without the pool-aware fit.

    nice -n 10 env PYTHONPATH=src python3 benchmarks/hybrid.py --seeds 5 --n-jobs 2

For every data set of the label-efficiency table (standardised logistic
regression, as there) plus movie reviews (all-MiniLM-L6-v2 sentence embeddings,
logistic regression) and Fashion-MNIST (a stratified 3,000-image subsample,
standardised logistic regression), each seed fixes one stratified 75/25
pool/test split and one random initial set shared by every arm. Arms: the
strategies ``random``, ``margin`` and ``auto`` (today's bandit), each fitted
supervised (``semi_supervised=None``) and with the hybrid fit
(``semi_supervised="auto"``: supervised, spreading or blend, chosen at every
refit by cross-validation on the labelled items).

Reported per arm: AULC, accuracy at 100 labels, and the labels needed to reach
95 % and 99 % of the whole-pool **supervised** model's test accuracy (the mean
over seeds of the seeds that reach it, with how many reach it; a seed that never
reaches it within the budget counts as ``budget+``).

Results: ``benchmarks/results/hybrid/<set>.json`` (every curve; a rerun adds only
the missing (arm, seed) pairs), ``benchmarks/results/hybrid.json`` (summary) and
``benchmarks/results/hybrid.md`` (the table).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from activelab.simulation.campaign import run_campaign, split_pool_test
from activelab.simulation.metrics import aulc, labels_to_reach, score_at
from label_efficiency import _dataset

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
RAW = RESULTS / "hybrid"
#: ``--whole-pool``: campaigns that label the whole pool, so that random reaches 99 %
RAW_WHOLE = RESULTS / "hybrid_whole_pool"

#: set -> (initial labels, batch, budget); budgets are larger than the label-efficiency
#: table's where random sampling needs more labels to reach 99 % of the whole pool.
SIZES = {
    "iris": (6, 3, 60),
    "wine": (6, 3, 60),
    "breast_cancer": (10, 5, 100),
    "digits": (10, 20, 400),
    "phishing": (10, 10, 200),
    "image_segments": (10, 20, 300),
    "bananas": (10, 10, 100),
    "mnist_2000": (20, 20, 400),
    "movie_reviews": (10, 10, 200),
    "fashion_mnist_3000": (20, 20, 400),
}
#: Sets on which the default was chosen; the others confirm it.
CHOSEN_ON = ("digits", "phishing", "image_segments", "breast_cancer")
STRATEGIES = ("random", "margin", "auto")
FITS = {"supervised": None, "hybrid": "auto"}


def model():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def load(name: str, cache_dir: str | None):
    if name == "movie_reviews":
        from activelab.data.bundled import load_movie_reviews
        from activelab.data.features import TextEmbedder

        texts, y = load_movie_reviews()
        Z = TextEmbedder(cache_dir=cache_dir, n_threads=1, batch_size=64).transform(texts)
        return np.asarray(Z, dtype=float), np.asarray(y)
    if name.startswith("fashion_mnist"):
        from activelab.data.bundled import load_fashion_mnist

        X, y = load_fashion_mnist("train")
        keep, _ = train_test_split(
            np.arange(len(y)), train_size=3000, stratify=y, random_state=12345
        )
        keep = np.sort(keep)
        return X[keep].astype(float), y[keep]
    sub = 2000 if name == "mnist_2000" else None
    ds = _dataset(name.removesuffix("_2000"), sub)
    return np.asarray(ds.X, dtype=float), np.asarray(ds.y)


def one(name, X, y, arm, seed, whole=False):
    n_init, batch, budget = SIZES[name]
    Xp, Xt, yp, yt = split_pool_test(X, y, seed=seed)
    if whole:  # label the whole pool in about 40 steps (batches no smaller than usual)
        batch, budget = max(batch, len(yp) // 40), len(yp)
    if arm == "__full__":
        return arm, seed, float(model().fit(Xp, yp).score(Xt, yt))
    strategy, fit = arm.split("+")
    strategy = strategy.split("@")[0]  # "auto@merged": the same strategy, rerun on newer code
    r = run_campaign(
        model(),
        strategy,
        Xp,
        yp,
        Xt,
        yt,
        initial=n_init,
        batch_size=batch,
        budget=min(budget, len(yp)),
        seed=seed,
        semi_supervised=FITS[fit],
    )
    return arm, seed, {"n_labels": r.n_labels, "scores": r.scores, "seconds": r.seconds}


def run_set(name, seeds, n_jobs, cache_dir, extra_arms=(), whole=False):
    raw = RAW_WHOLE if whole else RAW
    path = raw / f"{name}.json"
    doc = json.loads(path.read_text()) if path.exists() else {"full": {}, "runs": {}}
    X, y = load(name, cache_dir)
    if whole:  # the ratio of labels to 99 %: random (supervised) and the default only
        arms = ["random+supervised", *extra_arms]
    else:
        arms = [f"{s}+{f}" for s in STRATEGIES for f in FITS] + list(extra_arms)
    jobs = [("__full__", s) for s in seeds if str(s) not in doc["full"]]
    jobs += [(a, s) for a in arms for s in seeds if str(s) not in doc["runs"].get(a, {})]
    t0 = time.perf_counter()
    for arm, seed, res in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(one)(name, X, y, a, s, whole) for a, s in jobs
    ):
        if arm == "__full__":
            doc["full"][str(seed)] = res
        else:
            doc["runs"].setdefault(arm, {})[str(seed)] = res
        raw.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc))
    print(f"{name}: {len(jobs)} jobs in {time.perf_counter() - t0:.0f} s", flush=True)
    return doc


def summarize(name, doc, seeds):
    n_init, batch, budget = SIZES[name]
    full = np.mean([doc["full"][str(s)] for s in seeds])
    out = {"full_pool": float(full), "sizes": [n_init, batch, budget], "arms": {}}
    for arm, runs in doc["runs"].items():
        curves = [runs[str(s)] for s in seeds if str(s) in runs]
        if not curves:
            continue
        # a seed whose initial labels hold one class has no model at the first step (NaN):
        # its curves start at the first step with a model (the same step for every arm)
        curves = [_from_first_model(c) for c in curves]
        row = {"n_seeds": len(curves)}
        row["aulc"] = float(np.mean([aulc(c["n_labels"], c["scores"]) for c in curves]))
        row["aulc_std"] = float(np.std([aulc(c["n_labels"], c["scores"]) for c in curves]))
        at100 = [score_at(c["n_labels"], c["scores"], 100) for c in curves]
        row["acc_at_100"] = None if None in at100 else float(np.mean(at100))
        for q in (95, 99):
            hits = [
                labels_to_reach(c["n_labels"], c["scores"], q / 100 * doc["full"][str(s)])
                for c, s in zip(curves, seeds, strict=False)
            ]
            reached = [h for h in hits if h is not None]
            # a seed that never reaches the target counts as the budget (a lower bound)
            row[f"labels_to_{q}"] = float(
                np.mean(
                    [
                        h if h is not None else c["n_labels"][-1]
                        for h, c in zip(hits, curves, strict=True)
                    ]
                )
            )
            row[f"reached_{q}"] = len(reached)
        out["arms"][arm] = row
    return out


def _from_first_model(c):
    s = np.asarray([np.nan if v is None else v for v in c["scores"]], dtype=float)
    first = int(np.argmax(~np.isnan(s)))
    return {"n_labels": c["n_labels"][first:], "scores": s[first:].tolist()}


def table(summary) -> str:
    lines = [
        "| set | arm | AULC | acc@100 | labels to 95 % | labels to 99 % |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in summary["sets"].items():
        budget = s["sizes"][2]
        for arm, r in s["arms"].items():
            cells = []
            for q in (95, 99):
                v, k = r[f"labels_to_{q}"], r[f"reached_{q}"]
                more = "" if k == r["n_seeds"] else f" ({k}/{r['n_seeds']} reach; {budget}+)"
                cells.append(f"{v:.0f}{more}")
            acc = "–" if r["acc_at_100"] is None else f"{r['acc_at_100']:.3f}"
            lines.append(
                f"| {name} (whole pool {s['full_pool']:.3f}) | {arm} | "
                f"{r['aulc']:.3f} ± {r['aulc_std']:.3f} | {acc} | {cells[0]} | {cells[1]} |"
            )
    return "\n".join(lines)


def verdict(summary, default="auto+hybrid", baseline="auto+supervised") -> dict:
    """The issue's targets, computed from the summary."""
    ratios, gains = {}, {}
    for name, s in summary["sets"].items():
        a = s["arms"]
        if default not in a or "random+supervised" not in a:
            continue
        ratios[name] = a[default]["labels_to_99"] / a["random+supervised"]["labels_to_99"]
        if baseline in a:
            gains[name] = a[default]["aulc"] - a[baseline]["aulc"]
    return {
        "default": default,
        "ratio_labels_to_99_vs_random_supervised": ratios,
        "median_ratio": float(np.median(list(ratios.values()))) if ratios else None,
        "aulc_gain_vs_today_auto": gains,
        "sets_with_gain_ge_0.03": sum(g >= 0.03 for g in gains.values()),
        "worst_gain": min(gains.values()) if gains else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--sets", nargs="*", default=list(SIZES), choices=SIZES)
    ap.add_argument("--cache-dir", default=None, help="sentence-embedding cache")
    ap.add_argument(
        "--summary-only",
        action="store_true",
        help="run nothing: summarise the committed curves, each set over the seeds it has",
    )
    ap.add_argument(
        "--recheck",
        default=None,
        metavar="TAG",
        help="also run the default (auto + hybrid fit) on the current code as the arm "
        "'auto@TAG+hybrid', beside the committed arms, which are not rerun",
    )
    ap.add_argument(
        "--whole-pool",
        action="store_true",
        help="with --recheck: random (supervised) and the default label the whole pool "
        "(in about 40 batches), so that every seed reaches 99 %% of the whole-pool "
        "accuracy; results in hybrid_whole_pool.{json,md} and results/hybrid_whole_pool/",
    )
    args = ap.parse_args()
    if args.whole_pool and not args.recheck:
        ap.error("--whole-pool needs --recheck TAG (the default's arm name)")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    extra = [f"auto@{args.recheck}+hybrid"] if args.recheck else []
    seeds = list(range(args.seeds))
    summary = {
        "benchmark": "hybrid",
        "command": "PYTHONPATH=src python3 benchmarks/hybrid.py " + " ".join(sys.argv[1:]),
        "seeds": seeds,
        "model": "StandardScaler + LogisticRegression(max_iter=1000)",
        "chosen_on": list(CHOSEN_ON),
        "sets": {},
    }
    for name in args.sets:
        if args.summary_only:
            path = (RAW_WHOLE if args.whole_pool else RAW) / f"{name}.json"
            if not path.exists():
                continue
            doc = json.loads(path.read_text())
            have = sorted(int(s) for s in doc["full"])
            summary["sets"][name] = summarize(name, doc, have)
            summary["sets"][name]["seeds"] = have
        else:
            doc = run_set(name, seeds, args.n_jobs, args.cache_dir, extra, args.whole_pool)
            summary["sets"][name] = summarize(name, doc, seeds)
        print(table({"sets": {name: summary["sets"][name]}}), flush=True)
    if not args.whole_pool:
        summary["verdict"] = verdict(summary)
    rechecks = {a for s in summary["sets"].values() for a in s["arms"] if "@" in a}
    for arm in sorted(rechecks):  # the default rerun on newer code, against the same baselines
        summary[f"verdict {arm}"] = verdict(summary, default=arm)
    if args.summary_only:  # each set over the seeds it has, not --seeds
        summary["seeds"] = sorted({s for d in summary["sets"].values() for s in d["seeds"]})
    stem = "hybrid_whole_pool" if args.whole_pool else "hybrid"
    verdicts = {k: v for k, v in summary.items() if k.startswith("verdict")}
    md = f"{table(summary)}\n\n```\n{json.dumps(verdicts, indent=1)}\n```\n"
    print(md)
    if set(summary["sets"]) != set(SIZES):  # a subset would replace the whole summary
        print(
            f"Not written over results/{stem}.json: it summarises every set, and this run "
            f"has {len(summary['sets'])} of {len(SIZES)}.",
            file=sys.stderr,
        )
        return
    (RESULTS / f"{stem}.json").write_text(json.dumps(summary, indent=1))
    (RESULTS / f"{stem}.md").write_text(f"Command: `{summary['command']}`\n\n{md}")


if __name__ == "__main__":
    main()
