"""Benchmark: does ``auto`` learn its arms, and what does it cost? (label-efficiency settings)

Reruns ``auto`` (and its coverage arm ``probcover``) on every (data set, model) pair of
``label_efficiency.py``, with the same sizes, models, seeds and therefore the same splits and
initial sets, and compares it with each of its arms' committed runs:

1. AULC of ``auto`` against each arm (``margin``, ``diverse_batch``, ``density``,
   ``probcover``) and random; ``auto − best arm`` per pair;
2. where the picks went: each arm's share of the picks in the first and in the second half
   of the campaign (the arm probabilities move toward the arm the data favour);
3. the cost of a query: mean selection time of ``auto`` against ``margin`` on the same runs.

The new runs replace the ``auto`` runs and add the ``probcover`` runs in
``benchmarks/results/label_efficiency/<set>_<model>.json``, so that
``label_efficiency.py --finished-only`` rebuilds its table with them; the ``auto`` runs found
there before are kept in this benchmark's result file (``auto_before``).

Run from the repository root::

    PYTHONPATH=src python3 benchmarks/auto_arms.py            # --seeds 10 --n-jobs 2

Options: ``--seeds N``, ``--sets a,b``, ``--models logreg,extra_trees``, ``--n-jobs N``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import label_efficiency as le
from _cli import name_list
from activelab.simulation import simulate
from activelab.simulation.metrics import aulc
from activelab.strategies.selection import DEFAULT_ARMS

NEW = ("auto", "probcover")
OUT = le.RESULTS / "auto_arms.json"
#: The commit whose committed ``auto`` runs are "before" (the bandit with the ALBL reward and
#: the arms margin, diverse_batch and density).
BEFORE_REF = "5af52b4"


def _before(path: Path, seeds: list[int]) -> tuple[dict[int, float], float]:
    """Per-seed AULC and mean query time of ``auto`` as committed at :data:`BEFORE_REF`."""
    rel = path.relative_to(le.HERE.parent).as_posix()
    try:
        text = subprocess.run(
            ["git", "show", f"{BEFORE_REF}:{rel}"],
            cwd=le.HERE.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}, float("nan")
    runs = json.loads(text)["runs"]
    return _aulcs(runs, "auto", seeds), _seconds(runs, "auto", seeds)


def _aulcs(runs: list[dict], strategy: str, seeds: list[int]) -> dict[int, float]:
    return {
        r["seed"]: aulc(r["n_labels"], r["scores"])
        for r in runs
        if r["strategy"] == strategy and r["seed"] in seeds
    }


def _shares(runs: list[dict], seeds: list[int]) -> dict[str, dict[str, float]]:
    """Share of ``auto``'s picks per arm in the first and second half of the queries."""
    halves: dict[str, list[str]] = {"first": [], "second": []}
    for r in runs:
        if r["strategy"] != "auto" or r["seed"] not in seeds:
            continue
        steps = [a for a in r["arms"] if a]
        mid = len(steps) // 2
        halves["first"] += [a for s in steps[:mid] for a in s]
        halves["second"] += [a for s in steps[mid:] for a in s]
    out = {}
    for half, arms in halves.items():
        names, counts = np.unique(arms, return_counts=True)
        out[half] = {
            str(n): float(c / max(len(arms), 1)) for n, c in zip(names, counts, strict=True)
        }
    return out


def _seconds(runs: list[dict], strategy: str, seeds: list[int]) -> float:
    t = [
        s
        for r in runs
        if r["strategy"] == strategy and r["seed"] in seeds
        for s in r["select_seconds"][1:]
    ]
    return float(np.mean(t)) if t else float("nan")


def run_pair(dname: str, model: str, seeds: list[int], n_jobs: int, run: bool = True) -> dict:
    sizes = le.SIZES[dname]
    ds = le._dataset(dname, sizes[3])
    path = le.RAW / f"{ds.name}_{model}.json"
    before, before_seconds = _before(path, seeds)
    if run:
        _rerun(ds, model, sizes, seeds, n_jobs, path)
    return _summary(ds, model, seeds, path, before, before_seconds)


def _rerun(ds, model, sizes, seeds, n_jobs, path) -> None:
    doc = json.loads(path.read_text())
    t0 = time.perf_counter()
    new = simulate(
        ds,
        le.MODELS[model](),
        list(NEW),
        n_initial=sizes[0],
        batch_size=sizes[1],
        budget=sizes[2],
        seeds=seeds,
        test_size=0.25,
        n_jobs=n_jobs,
        progress=False,
    )
    wall = time.perf_counter() - t0
    keep = [r for r in doc["runs"] if not (r["strategy"] in NEW and r["seed"] in seeds)]
    doc["runs"] = keep + new["runs"]
    listed = doc["settings"]["strategies"]
    doc["settings"]["strategies"] = listed + [s for s in NEW if s not in listed]
    doc.setdefault("wall_seconds", {})["auto_arms"] = wall
    path.write_text(json.dumps(doc, indent=1))


def _summary(ds, model, seeds, path, before, before_seconds) -> dict:
    doc = json.loads(path.read_text())
    runs = doc["runs"]
    arms = list(DEFAULT_ARMS)
    wall = doc.get("wall_seconds", {}).get("auto_arms")
    if wall is None and OUT.exists():  # a summary written before the raw files kept it
        old = json.loads(OUT.read_text())["results"]
        match = [r for r in old if (r["dataset"], r["model"]) == (ds.name, model)]
        wall = match[0].get("wall_seconds") if match else None
    rows = {s: _aulcs(runs, s, seeds) for s in ["random", "margin", *arms, "auto"]}
    mean = {s: float(np.mean([v[k] for k in seeds])) for s, v in rows.items()}
    best = max(arms, key=lambda s: mean[s])
    return {
        "dataset": ds.name,
        "model": model,
        "seeds": seeds,
        "aulc": mean,
        "auto_before": float(np.mean([before[k] for k in seeds])) if before else None,
        "best_arm": best,
        "auto_minus_best_arm": mean["auto"] - mean[best],
        "auto_minus_random": mean["auto"] - mean["random"],
        "shares": _shares(runs, seeds),
        "select_seconds": {s: _seconds(runs, s, seeds) for s in ("margin", *arms, "auto")},
        "auto_before_select_seconds": before_seconds,
        "wall_seconds": wall,
    }


def query_cost(dname: str, model: str, queries: int = 12, batch: int = 10) -> dict:
    """Mean query time (ms) of margin, each arm and ``auto`` (both rewards), in one process.

    Every strategy replays the same campaign state: 20 labels, then ``queries`` rounds of
    ``batch`` picks (``auto``'s one-time costs, such as the graph and the density cache, are
    spread over the rounds as in a campaign).
    """
    from activelab import ActiveLearner
    from activelab.simulation import split_pool_test
    from activelab.strategies import AutoStrategy

    ds = le._dataset(dname, le.SIZES[dname][3])
    Xp, _, yp, _ = split_pool_test(ds.X, ds.y, seed=0)
    out = {}
    todo = [("margin", "margin"), *[(a, a) for a in DEFAULT_ARMS]]
    todo += [("auto", AutoStrategy()), ("auto (reward='albl')", AutoStrategy(reward="albl"))]
    for name, strategy in todo:
        learner = ActiveLearner(le.MODELS[model](), strategy, random_state=0)
        learner.fit(Xp, np.arange(20), yp[:20])
        spent = 0.0
        for _ in range(queries):
            t = time.perf_counter()
            idx = learner.query(batch)
            spent += time.perf_counter() - t
            learner.teach(idx, yp[idx])
        out[name] = 1000.0 * spent / queries
    return {"dataset": ds.name, "model": model, "ms_per_query": out}


def table(results: list[dict]) -> str:
    arms = list(DEFAULT_ARMS)
    head = [
        "pair",
        "random",
        "margin (not an arm)",
        *arms,
        "auto (before)",
        "auto",
        "auto − best arm",
        "auto − random",
        "top arm, 2nd half",
        "best arm's share, 1st → 2nd half",
        "query time auto / margin",
        "auto / mean arm",
        "auto before / margin",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        a = r["aulc"]
        second = r["shares"]["second"]
        top = max(second, key=second.get) if second else "–"
        t = r["select_seconds"]
        before = "–" if r["auto_before"] is None else f"{r['auto_before']:.4f}"
        cells = [f"{r['dataset']} × {r['model']}", f"{a['random']:.4f}", f"{a['margin']:.4f}"]
        cells += [f"{a[s]:.4f}" for s in arms]
        cells += [
            before,
            f"{a['auto']:.4f}",
            f"{r['auto_minus_best_arm']:+.4f} ({r['best_arm']})",
            f"{r['auto_minus_random']:+.4f}",
            f"{top} {second.get(top, 0):.2f}",
            f"{r['shares']['first'].get(r['best_arm'], 0):.2f} → "
            f"{second.get(r['best_arm'], 0):.2f}",
            f"{t['auto'] / t['margin']:.1f}×",
            f"{t['auto'] / np.mean([t[s] for s in arms]):.1f}×",
            f"{r['auto_before_select_seconds'] / t['margin']:.1f}×",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--sets", default=",".join(le.SIZES), type=name_list(le.SIZES))
    ap.add_argument("--models", default=",".join(le.MODELS), type=name_list(le.MODELS, "model"))
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument(
        "--table-only", action="store_true", help="run nothing: summarise the runs on file"
    )
    ap.add_argument(
        "--cost", action="store_true", help="only time the queries (digits × LR, MNIST × ET)"
    )
    a = ap.parse_args()
    if a.cost:
        with threadpool_limits(1):
            rows = [query_cost("digits", "logreg"), query_cost("mnist", "extra_trees")]
        for r in rows:
            ms = r["ms_per_query"]
            cells = ", ".join(f"{k} {v:.1f} ms ({v / ms['margin']:.1f}×)" for k, v in ms.items())
            print(f"{r['dataset']} × {r['model']}: {cells}")
        cost = {"command": "PYTHONPATH=src python3 benchmarks/auto_arms.py --cost", "rows": rows}
        (le.RESULTS / "auto_cost.json").write_text(json.dumps(cost, indent=1))
        return
    seeds = list(range(a.seeds))
    results = []
    t0 = time.perf_counter()
    with threadpool_limits(1):
        for dname in a.sets.split(","):
            for model in a.models.split(","):
                r = run_pair(dname, model, seeds, a.n_jobs, run=not a.table_only)
                results.append(r)
                print(table([r]).splitlines()[-1], flush=True)
    within = sum(r["auto_minus_best_arm"] >= -0.01 for r in results)
    below_random = sum(r["auto_minus_random"] < 0 for r in results)
    doc = {
        "command": "PYTHONPATH=src python3 benchmarks/auto_arms.py"
        + (f" --seeds {a.seeds}" if a.seeds != 10 else ""),
        "seconds": sum(r["wall_seconds"] or 0.0 for r in results)
        if a.table_only
        else time.perf_counter() - t0,
        "arms": list(DEFAULT_ARMS),
        "within_0.01_of_best_arm": within,
        "below_random": below_random,
        "results": results,
    }
    print(table(results))
    print(
        f"auto within 0.01 of its best arm on {within} / {len(results)} pairs; "
        f"below random on {below_random}; {doc['seconds']:.0f} s"
    )
    every = len(results) == len(le.SIZES) * len(le.MODELS)
    if not every:  # a subset would replace the committed table of every pair
        print(
            f"Not written over {OUT.name}: it holds every (data set, model) pair, and this run "
            f"has {len(results)}.",
            file=sys.stderr,
        )
        return
    OUT.write_text(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
