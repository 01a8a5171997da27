"""Label efficiency: every classification strategy against random, and against the peers.

    PYTHONPATH=src python3 benchmarks/label_efficiency.py            # full run (resumable)
    PYTHONPATH=src python3 benchmarks/label_efficiency.py --quick    # 2 seeds, 3 data sets

For every bundled classification data set and two models (standardised
logistic regression; extra trees, 50 trees), every registered activelab strategy
of task classification/any is replayed with :func:`activelab.simulation.simulate`
(10 seeds; each seed fixes one stratified 75/25 pool/test split and one random
initial set shared by all strategies). The same splits and initial sets are
written to ``.npz`` files and replayed through scikit-activeml and modAL (each in
its own virtual environment, see benchmarks/README.md) for the strategies they
share (``_peer_runner.STRATEGIES``); a peer's file keeps its runs, and a rerun
adds only the (strategy, seed) pairs it lacks. Results:
``benchmarks/results/label_efficiency.json`` (summary) and
``benchmarks/results/label_efficiency/*.json`` (every curve);
the Markdown table is printed and written to ``benchmarks/results/label_efficiency.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelEncoder, StandardScaler

from _peer_runner import STRATEGIES as PEER_STRATEGIES
from activelab.data import datasets
from activelab.simulation import initial_indices, simulate, split_pool_test
from activelab.simulation.metrics import paired_test, summarize
from activelab.strategies import available, get_strategy

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
RAW = RESULTS / "label_efficiency"
VENVS = Path(os.environ.get("ACTIVELAB_PEER_VENVS", "/work/.venvs"))
PEERS = {
    "skactiveml": VENVS / "skactiveml" / "bin" / "python",
    "modal": VENVS / "modal" / "bin" / "python",
}

#: activelab strategies whose peer columns repeat another strategy's peer runs:
#: ``qbc``'s default is vote entropy over 5 bagged members, i.e. ``vote_entropy``.
PEER_ALIASES = {"qbc": "vote_entropy"}
#: Footnotes of the Markdown tables on how a peer's run differs from activelab's.
PEER_NOTES = {
    ("modal", "kl_divergence"): "modAL's `max_disagreement_sampling`: the *largest* KL "
    "divergence of a member from the consensus (activelab and scikit-activeml average it)",
}

#: data set -> (initial labels, batch, budget, subsample of the whole data set or None)
SIZES = {
    "iris": (6, 3, 45, None),
    "digits": (10, 10, 150, None),
    "wine": (6, 3, 45, None),
    "breast_cancer": (10, 5, 80, None),
    "phishing": (10, 10, 100, None),
    "image_segments": (10, 10, 150, None),
    "bananas": (10, 10, 100, None),
    "mnist": (20, 20, 200, 2000),
}
MODELS = {
    "logreg": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
    "extra_trees": lambda: ExtraTreesClassifier(n_estimators=50, random_state=0, n_jobs=1),
}
#: Strategies too costly for the larger pools: run only where the data set has at most this
#: many rows and with these models (expected error reduction refits the model once per
#: candidate and class: 96 refits per step on iris).
EXPENSIVE = {"eer": (160, ("logreg",))}
#: Why a strategy loses to random where it does (filled in from the analysis of the curves).
#: (Our reading of the curves, not a measurement: see benchmarks/README.md.)
REASONS: dict[str | tuple[str, str], str] = {
    "entropy": "early lag: on many classes it ranks ambiguous, atypical items first and a "
    "top-k batch is redundant (margin, which looks only at the two likeliest classes, does not "
    "lag)",
    "least_confident": "same early lag as entropy on many classes",
    "kl_divergence": "KL of bootstrap committee members from their consensus keeps picking a "
    "few unstable items; stays below random at the budget",
    "kcenter": "distances on the raw features: it covers the space, not the classes, and "
    "picks the farthest, least typical items first",
    ("kcenter", "breast_cancer"): "distances on the raw features, where a few large-scale "
    "columns (areas in the hundreds to thousands) dominate: it picks extreme outliers first",
    ("kcenter", "image_segments"): "distances on the raw features, dominated by the region's "
    "pixel coordinates and colour intensities (tens to hundreds): it covers the image "
    "geometry, not the classes",
    ("kcenter", "mnist_2000"): "distances between raw 784-pixel images: the farthest images "
    "are atypical scribbles, and covering them first costs the common shapes",
    ("probcover", "bananas"): "two classes in two dimensions: covering the plane evenly spends "
    "labels far from the interleaved boundary that extra trees need (it wins with logistic "
    "regression there, and on the many-class sets)",
    "ranked_batch": "early in a campaign its weight is almost all on dissimilarity to the "
    "labelled set, which on raw 784-pixel images picks atypical images",
}


#: Registered classification strategies this table leaves out, and why.
LEFT_OUT = {
    "bald": "needs MC-dropout samples: measured with a torch MLP in fashion_mnist_deep.py",
    "batchbald": "needs MC-dropout samples: measured in fashion_mnist_deep.py",
    "badge": "needs the model's last-layer embedding: measured in fashion_mnist_deep.py",
    "deep_coreset": "needs the model's embedding: measured in fashion_mnist_deep.py",
    "explore": "margin mixed with random picks: measured in auto_selection.py",
    "stochastic": "margin sampled in proportion to its score: measured in auto_selection.py",
    **dict.fromkeys(
        ("aad", "anomaly", "auto_rare", "class_balanced", "positive_seeking", "rare_discovery"),
        "rare-class discovery: measured on imbalanced data in rare_classes.py",
    ),
}


def classification_strategies() -> list[str]:
    names = []
    for name in available():
        if name in LEFT_OUT:
            continue
        strat = get_strategy(name)
        if getattr(strat, "task", "classification") in ("classification", "any"):
            names.append(name)
    return ["random", *[n for n in names if n != "random"]]


def _dataset(name: str, subsample: int | None) -> datasets.Dataset:
    ds = datasets.load(name)
    if subsample is None or subsample >= len(ds.y):
        return ds
    keep, _ = train_test_split(
        np.arange(len(ds.y)), train_size=subsample, stratify=ds.y, random_state=12345
    )
    keep = np.sort(keep)
    return datasets.Dataset(
        name=f"{name}_{subsample}",
        X=ds.X[keep],
        y=ds.y[keep],
        description=f"{ds.description} Stratified subsample of {subsample} rows (seed 12345).",
        source=ds.source,
        task=ds.task,
        feature_names=ds.feature_names,
    )


def _peer_tasks(ds, model: str, seeds: list[int], sizes, tmp: Path) -> list[str]:
    n_init, batch, budget, _ = sizes
    enc = LabelEncoder().fit(ds.y)
    specs = []
    for seed in seeds:
        Xp, Xt, yp, yt = split_pool_test(ds.X, ds.y, test_size=0.25, seed=seed)
        init = initial_indices(yp, n_init, seed)
        path = tmp / f"{ds.name}_{model}_{seed}.npz"
        np.savez(
            path,
            Xp=Xp,
            Xt=Xt,
            yp=enc.transform(yp),
            yt=enc.transform(yt),
            init=init,
            batch=batch,
            budget=min(budget, len(yp)),
            estimator=model,
            classes=np.arange(len(enc.classes_)),
        )
        specs.append(f"{seed}={path}")
    return specs


def _run_peers(ds, model, seeds, sizes, strategies, n_jobs) -> dict[str, dict]:
    """Each peer's runs of ``strategies`` × ``seeds``, running only the pairs its file lacks."""
    out = {}
    for lib, python in PEERS.items():
        path = RAW / f"{ds.name}_{model}_{lib}.json"
        got = json.loads(path.read_text()) if path.exists() else None
        have = {(r["strategy"], r["seed"]) for r in got["runs"]} if got else set()
        # strategies grouped by the seeds they lack: one peer process per group
        groups: dict[tuple[int, ...], list[str]] = {}
        for s in strategies:
            if s in PEER_STRATEGIES[lib]:
                lacking = tuple(k for k in seeds if (s, k) not in have)
                if lacking:
                    groups.setdefault(lacking, []).append(s)
        if groups and not python.exists():
            print(f"  {lib}: no environment at {python} (see benchmarks/README.md); skipped")
            groups = {}
        for lacking, names in groups.items():
            with tempfile.TemporaryDirectory() as tmp:
                specs = _peer_tasks(ds, model, list(lacking), sizes, Path(tmp))
                new_path = Path(tmp) / f"{lib}.json"
                cmd = [
                    str(python),
                    str(HERE / "_peer_runner.py"),
                    "--library",
                    lib,
                    "--out",
                    str(new_path),
                    "--n-jobs",
                    str(n_jobs),
                    "--tasks",
                    *specs,
                    "--strategies",
                    *names,
                ]
                t0 = time.perf_counter()
                subprocess.run(
                    cmd,
                    check=True,
                    env={
                        **os.environ,
                        "OMP_NUM_THREADS": "1",
                        "PYTHONWARNINGS": "ignore",
                        "OPENBLAS_NUM_THREADS": "1",
                        "MKL_NUM_THREADS": "1",
                    },
                )
                got = _merge_peer_runs(path, got, json.loads(new_path.read_text()))
            # after every group, so that an interrupted run keeps what it finished
            path.write_text(json.dumps(got))
            print(
                f"  {lib}: {', '.join(names)} × {len(lacking)} seeds: "
                f"{time.perf_counter() - t0:.0f} s",
                flush=True,
            )
        if got is not None:
            out[lib] = got
    return out


def _merge_peer_runs(path: Path, old: dict | None, new: dict) -> dict:
    """``old``'s runs followed by ``new``'s, refusing to mix two versions of a peer."""
    if old is None:
        return new
    for key in ("library", "version", "scikit-learn"):
        if old.get(key) != new.get(key):
            raise SystemExit(
                f"{path} holds runs with {key} {old.get(key)!r}, but the peer environment now "
                f"has {new.get(key)!r}; delete the file to rerun every strategy in the new "
                "environment, or restore the old one."
            )
    return {**old, "runs": [*old["runs"], *new["runs"]]}


def _fmt(stat, digits=3) -> str:
    if stat is None or stat.get("mean") is None:
        return "–"
    return f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f}"


def run(
    quick: bool, n_jobs: int, with_peers: bool = True, on_result=None, dry: bool = False
) -> dict:
    seeds = list(range(2 if quick else 10))
    names = list(SIZES)[:3] if quick else list(SIZES)
    strategies = classification_strategies()
    summary = {"strategies": strategies, "seeds": seeds, "results": []}
    RAW.mkdir(parents=True, exist_ok=True)
    for dname in names:
        sizes = SIZES[dname]
        ds = _dataset(dname, sizes[3])
        for model in MODELS:
            todo = [
                n
                for n in strategies
                if n not in EXPENSIVE or (len(ds.y) <= EXPENSIVE[n][0] and model in EXPENSIVE[n][1])
            ]
            t0 = time.perf_counter()
            if dry:
                done = _finished(ds, model, todo, seeds)
                if done is None:
                    print(f"{ds.name} × {model}: not finished; left out", flush=True)
                    continue
                doc, peers = done
                summary["results"].append(_summarize(ds, model, sizes, doc, peers, todo))
                continue
            print(f"{ds.name} × {model}: {len(todo)} strategies × {len(seeds)} seeds", flush=True)
            doc = simulate(
                ds,
                MODELS[model](),
                todo,
                n_initial=sizes[0],
                batch_size=sizes[1],
                budget=sizes[2],
                seeds=seeds,
                test_size=0.25,
                n_jobs=n_jobs,
                out=RAW / f"{ds.name}_{model}.json",
                progress=False,
            )
            print(f"  activelab: {time.perf_counter() - t0:.0f} s", flush=True)
            peers = _run_peers(ds, model, seeds, sizes, todo, n_jobs) if with_peers else {}
            summary["results"].append(_summarize(ds, model, sizes, doc, peers, todo))
            if on_result is not None:
                on_result(summary)
    return summary


def _finished(ds, model, strategies, seeds):
    """The raw results of a (data set, model) pair when every campaign and peer run is there."""
    path = RAW / f"{ds.name}_{model}.json"
    if not path.exists():
        return None
    doc = json.loads(path.read_text())
    have = {(r["strategy"], r["seed"]) for r in doc["runs"]}
    if any((s, k) not in have for s in strategies for k in seeds):
        return None
    peers = {}
    for lib in PEERS:
        p = RAW / f"{ds.name}_{model}_{lib}.json"
        if not p.exists():
            return None
        peers[lib] = json.loads(p.read_text())
    return doc, peers


def _summarize(ds, model, sizes, doc, peers, strategies) -> dict:
    runs = [r for r in doc["runs"] if r["strategy"] in strategies and r["seed"] in range(100)]
    metrics = summarize(runs, doc["full_pool"], budgets=[sizes[2]])
    rows = []
    rand = metrics["random"]
    for s in strategies:
        m = metrics[s]
        row = {
            "strategy": s,
            "aulc": m["aulc"],
            "aulc_per_seed": m["aulc_per_seed"],
            "savings": m["savings"],
            "savings_censored": m["savings_censored"],
            "test": m["test"],
            "final": m["score_at"][str(sizes[2])],
            "labels_to_95": m["labels_to_95"],
            "peers": {},
        }
        loses = (
            s != "random"
            and m["test"]
            and m["test"]["p_value"] is not None
            and m["test"]["p_value"] < 0.05
            and m["aulc"]["mean"] < rand["aulc"]["mean"]
        )
        row["loses_to_random"] = bool(loses)
        own = dict(zip(m["seeds"], m["aulc_per_seed"], strict=True))
        peer_name = PEER_ALIASES.get(s, s)
        for lib, got in peers.items():
            # the peer's runs on activelab's seeds only, so that the comparison is paired
            pr = [r for r in got["runs"] if r["strategy"] == peer_name and r["seed"] in own]
            if not pr:
                continue
            pm = summarize(pr, budgets=[])[peer_name]
            paired = [s_ for s_ in pm["seeds"] if s_ in own]
            row["peers"][lib] = {
                "strategy": peer_name,
                "version": got.get("version"),
                "scikit-learn": got.get("scikit-learn"),
                "aulc": pm["aulc"],
                "aulc_per_seed": pm["aulc_per_seed"],
                "test_vs_activelab": paired_test(
                    [own[x] for x in paired],
                    [pm["aulc_per_seed"][pm["seeds"].index(x)] for x in paired],
                ),
            }
        rows.append(row)
    return {
        "dataset": doc["settings"]["dataset"],
        "model": model,
        "estimator": doc["settings"]["estimator"],
        "n_initial": sizes[0],
        "batch_size": sizes[1],
        "budget": doc["settings"]["budget"],
        "full_pool": _full(doc),
        "rows": rows,
        "versions": doc["settings"]["versions"],
        "machine": doc["settings"]["machine"],
    }


def _full(doc) -> dict:
    v = np.asarray(list(doc["full_pool"].values()), dtype=float)
    return {"mean": float(v.mean()), "std": float(v.std()), "n": int(v.size)}


def _note(notes: list[str], note: str) -> str:
    """The ``[n]`` mark of ``note`` in a table's footnotes, adding it if new."""
    if note not in notes:
        notes.append(note)
    return f"[{notes.index(note) + 1}]"


def overview(summary: dict) -> str:
    """One table: each strategy's AULC minus random's, per data set and model.

    ``+`` marks a win and ``−`` a loss with Wilcoxon p < 0.05 over the paired seeds.
    """
    results = summary["results"]
    if not results:
        return ""
    cols = [f"{r['dataset']['name']} {'LR' if r['model'] == 'logreg' else 'ET'}" for r in results]
    names = [s for s in summary["strategies"] if s != "random"]
    lines = [
        "| strategy | " + " | ".join(cols) + " | wins / losses |",
        "|---|" + "---|" * (len(cols) + 1),
    ]
    for name in names:
        cells, wins, losses = [], 0, 0
        for res in results:
            rows = {r["strategy"]: r for r in res["rows"]}
            row, rand = rows.get(name), rows.get("random")
            if row is None or rand is None:
                cells.append("–")
                continue
            diff = row["aulc"]["mean"] - rand["aulc"]["mean"]
            p = row["test"]["p_value"] if row["test"] else None
            mark = ""
            if p is not None and p < 0.05:
                mark = " +" if diff > 0 else " −"
                wins += diff > 0
                losses += diff < 0
            cells.append(f"{diff:+.3f}{mark}")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {wins} / {losses} |")
    return "\n".join(lines) + "\n"


def markdown(summary: dict) -> str:
    lines = [
        "\nAULC of each strategy minus random's (mean over the seeds; `+` / `−`: better / worse "
        "with Wilcoxon p < 0.05; LR = logistic regression, ET = extra trees):\n",
        overview(summary),
    ]
    for res in summary["results"]:
        d = res["dataset"]
        lines.append(
            f"\n### {d['name']} ({d['n_samples']}×{d['n_features']}, "
            f"{d.get('n_classes')} classes) — "
            f"{res['model']}; initial {res['n_initial']}, batch {res['batch_size']}, budget "
            f"{res['budget']}; whole-pool accuracy {_fmt(res['full_pool'])}\n"
        )
        lines.append(
            "| strategy | AULC activelab | AULC scikit-activeml | AULC modAL | acc. at budget "
            "| savings vs random | Wilcoxon p vs random | loses to random |"
        )
        lines.append("|---|---|---|---|---|---|---|---|")
        notes: list[str] = []
        for r in res["rows"]:
            peers = []
            for lib in ("skactiveml", "modal"):
                p = r["peers"].get(lib)
                if p is None:
                    peers.append("–")
                    continue
                t = p["test_vs_activelab"]
                cell = (
                    f"{_fmt(p['aulc'])} (p={t['p_value']:.2g})"
                    if t["p_value"] is not None
                    else _fmt(p["aulc"])
                )
                peer_name = p.get("strategy", r["strategy"])
                if peer_name != r["strategy"]:
                    note = (
                        f"`{r['strategy']}` (activelab's default: vote entropy over 5 bagged "
                        f"members) is compared with the peers' `{peer_name}` runs"
                    )
                    cell += f" (= {peer_name}) {_note(notes, note)}"
                if (lib, peer_name) in PEER_NOTES:
                    cell += f" {_note(notes, PEER_NOTES[lib, peer_name])}"
                peers.append(cell)
            sav = _fmt(r["savings"], 2) if r["strategy"] != "random" else "–"
            if r["savings_censored"]:
                sav += f" ({r['savings_censored']} censored)"
            p = r["test"]["p_value"] if r["test"] else None
            lose = ""
            if r["loses_to_random"]:
                reason = REASONS.get((r["strategy"], d["name"])) or REASONS.get(r["strategy"])
                lose = "**yes**: " + (reason or "see the notes below the tables")
            lines.append(
                f"| {r['strategy']} | {_fmt(r['aulc'])} | {peers[0]} | {peers[1]} | "
                f"{_fmt(r['final'])} | "
                f"{sav} | {'–' if p is None else f'{p:.2g}'} | {lose} |"
            )
        if notes:
            lines.append("")
            lines.extend(f"[{i}] {note}." for i, note in enumerate(notes, 1))
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="2 seeds, 3 data sets (a smoke run)")
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--no-peers", action="store_true", help="only activelab (no peer environments)")
    ap.add_argument(
        "--finished-only",
        action="store_true",
        help="run nothing: summarise the (data set, model) pairs whose raw results are complete",
    )
    a = ap.parse_args()
    from threadpoolctl import threadpool_limits

    t0 = time.perf_counter()
    suffix = "_quick" if a.quick else ""

    def write(summary: dict) -> None:
        # after every (data set, model), so that a partial run still leaves its results
        summary["seconds"] = time.perf_counter() - t0
        summary["command"] = (
            "PYTHONPATH=src python3 benchmarks/label_efficiency.py"
            + (" --quick" if a.quick else "")
            + (" --finished-only" if a.finished_only else "")
        )
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"label_efficiency{suffix}.json").write_text(json.dumps(summary, indent=1))
        (RESULTS / f"label_efficiency{suffix}.md").write_text(markdown(summary))

    with threadpool_limits(1):
        summary = run(a.quick, a.n_jobs, not a.no_peers, on_result=write, dry=a.finished_only)
    write(summary)
    print(markdown(summary))
    print(f"total {summary['seconds']:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
