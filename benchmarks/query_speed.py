"""Selection time and peak memory against pool size, activelab vs its lower bound and the peers.

    PYTHONPATH=src python3 benchmarks/query_speed.py                  # 10k, 100k, 1M
    PYTHONPATH=src python3 benchmarks/query_speed.py --sizes 10000    # a quick run

Pool: ``n`` × 20 Gaussian blobs, 10 classes; 1,000 labelled items; the model is a
LogisticRegression fitted on them. For every pool size and batch size (1, 100),
each method selects from the unlabelled rest; one BLAS thread (threadpoolctl);
methods are timed in interleaved repetitions (median reported). Peak memory is
measured apart, in one untimed repetition, with tracemalloc (numpy reports its
buffers to it): the peak of what the selection allocates beyond the pool.

The lower bound is ``model.predict_proba(pool)`` + a row maximum +
:func:`numpy.argpartition` of the batch. scikit-activeml runs in this process
(its own environment is put on ``sys.path``); modAL needs scikit-learn < 1.8 and
runs in its own virtual environment through ``_peer_speed.py``, which times its
own lower bound in that process so that its ratios are comparable. A method
whose single selection took longer than ``--cutoff`` seconds is not run at larger
pools (stated in the table); modAL's information density builds an n × n matrix
and is run only while that matrix fits in ``--max-matrix-gb``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from activelab.strategies import QueryContext, available, get_strategy

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
VENVS = Path(os.environ.get("ACTIVELAB_PEER_VENVS", "/work/.venvs"))
SKAL_SITE = next((VENVS / "skactiveml" / "lib").glob("python3*/site-packages"), None)
MODAL_PY = VENVS / "modal" / "bin" / "python"
N_LABELLED = 1000
D, K = 20, 10
#: activelab strategies not timed here, with the reason
SKIP = {
    "eer": "refits the model per candidate and class: cost set by n_candidates, not the pool",
    "auto": "a bandit over strategies timed here: its cost is that of the arm it draws",
    "stochastic": "samples from a strategy timed here (margin by default) at the same cost",
    "explore": "mixes random picks into a strategy timed here at the same cost",
}
#: requirements that a LogisticRegression cannot meet (deep strategies: see fashion_mnist_deep.py)
DEEP = {"mc_dropout", "model_embedding"}


def timed_strategies() -> list[str]:
    """Registered classification strategies timed here (multi-label, regression and deep ones
    have their own benchmarks)."""
    names = []
    for name in available():
        strat = get_strategy(name)
        needs = {o for r in strat.requires for o in (r if isinstance(r, tuple) else (r,))}
        if name in SKIP or strat.task not in ("classification", "any") or needs & DEEP:
            continue
        names.append(name)
    return names


def make_pool(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.0, size=(K, D))
    y = rng.integers(0, K, size=n)
    X = centres[y] + rng.normal(size=(n, D))
    return X, y


def lower_bound(model, Xc, cand, b):
    """``predict_proba`` on the (pre-gathered) candidates, a row max, ``argpartition``."""
    s = model.predict_proba(Xc).max(axis=1)
    return cand[np.argpartition(s, b - 1)[:b]]


def _activelab(name, model, X, y, lab, cand):
    strat = get_strategy(name)
    ctx = QueryContext(
        X=X,
        candidates=cand,
        labelled=lab,
        y_labelled=y[lab],
        model=model,
        estimator=LogisticRegression(max_iter=200),
        classes=np.arange(K),
        rng=np.random.default_rng(0),
    )
    return lambda b: strat.select(ctx, b)


def _skactiveml_methods(model, X, y, lab):
    if SKAL_SITE is None:
        return {}
    sys.path.append(str(SKAL_SITE))
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.pool import CoreSet, TypiClust, UncertaintySampling

    yy = np.full(len(y), np.nan)
    yy[lab] = y[lab]
    clf = SklearnClassifier(LogisticRegression(max_iter=200), classes=np.arange(K))
    clf.fit(X[lab], y[lab])
    out = {}
    for ours, method in (
        ("margin", "margin_sampling"),
        ("entropy", "entropy"),
        ("least_confident", "least_confident"),
    ):
        qs = UncertaintySampling(method=method, random_state=0)
        out[f"skactiveml:{ours}"] = lambda b, qs=qs: qs.query(
            X, yy, clf=clf, fit_clf=False, batch_size=b
        )
    out["skactiveml:kcenter"] = lambda b: CoreSet(random_state=0).query(X, yy, batch_size=b)
    out["skactiveml:typiclust"] = lambda b: TypiClust(random_state=0).query(X, yy, batch_size=b)
    return out


class _StoppedError(Exception):
    pass


def _alarm(signum, frame):
    raise _StoppedError


def _measure(fn, b, limit):
    """Seconds for one selection; ``inf`` when stopped after ``limit`` seconds (SIGALRM)."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    t0 = time.perf_counter()
    try:
        fn(b)
    except _StoppedError:
        return float("inf")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return time.perf_counter() - t0


def _peak_mb(fn, b):
    tracemalloc.start()
    try:
        fn(b)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def run_size(n, batches, repeats, cutoff, dropped, out):
    X, y = make_pool(n)
    rng = np.random.default_rng(1)
    lab = np.sort(rng.choice(n, N_LABELLED, replace=False))
    cand = np.setdiff1d(np.arange(n), lab)
    model = LogisticRegression(max_iter=200).fit(X[lab], y[lab])
    Xc = X[cand]
    methods = {"lower_bound": lambda b: lower_bound(model, Xc, cand, b)}
    for name in timed_strategies():
        methods[name] = _activelab(name, model, X, y, lab, cand)
    methods.update(_skactiveml_methods(model, X, y, lab))
    for b in batches:
        live = {m: f for m, f in methods.items() if (m, b) not in dropped}
        times: dict[str, list[float]] = {m: [] for m in live}
        for _ in range(repeats):
            for m, f in live.items():
                # slow methods get fewer repetitions: about ``cutoff`` seconds each in all
                if (m, b) in dropped or sum(times[m]) > cutoff:
                    continue
                t = _measure(f, b, 4 * cutoff)
                times[m].append(t)
                if t > cutoff:
                    what = "was stopped after" if t == float("inf") else "took"
                    dropped[(m, b)] = (
                        f"one selection {what} {min(t, 4 * cutoff):.0f} s (limit {cutoff:.0f} s) "
                        f"at n={n:,}; not run at larger pools"
                    )
        for m, ts in times.items():
            med = statistics.median(ts)
            row = {
                "n": n,
                "batch": b,
                "method": m,
                "median_s": med if med != float("inf") else None,
                "stopped_after_s": 4 * cutoff if med == float("inf") else None,
                "runs": len(ts),
            }
            row["peak_mb"] = _peak_mb(live[m], b) if ts and ts[0] < cutoff / 4 else None
            out.append(row)
            print(
                f"n={n:>9,} b={b:>3} {m:<24} {med:.4f} s  "
                f"{row['peak_mb'] if row['peak_mb'] is not None else float('nan'):.1f} MB",
                flush=True,
            )
    return X, lab, y[lab]


def run_modal(X, lab, ylab, n, batches, repeats, cutoff, max_matrix_gb):
    if not MODAL_PY.exists():
        return [], "no modAL environment"
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "X.npy", X)
        np.save(Path(tmp) / "lab.npy", lab)
        np.save(Path(tmp) / "ylab.npy", ylab)
        res = Path(tmp) / "out.json"
        cmd = [
            str(MODAL_PY),
            str(HERE / "_peer_speed.py"),
            "--dir",
            tmp,
            "--out",
            str(res),
            "--batches",
            *map(str, batches),
            "--repeats",
            str(repeats),
            "--cutoff",
            str(cutoff),
            "--max-matrix-gb",
            str(max_matrix_gb),
        ]
        env = {
            **os.environ,
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "PYTHONWARNINGS": "ignore",
        }
        subprocess.run(cmd, check=True, env=env)
        got = json.loads(res.read_text())
    for row in got["rows"]:
        row["n"] = n
    return got["rows"], got


def growth(rows):
    """Log-log slope of median time against pool size, per (method, batch)."""
    out = {}
    keys = {(r["method"], r["batch"]) for r in rows}
    for m, b in sorted(keys):
        pts = sorted(
            (r["n"], r["median_s"])
            for r in rows
            if r["method"] == m and r["batch"] == b and r["median_s"] is not None
        )
        if len(pts) >= 2:
            x, t = np.log([p[0] for p in pts]), np.log([max(p[1], 1e-9) for p in pts])
            out[f"{m}@{b}"] = float(np.polyfit(x, t, 1)[0])
    return out


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 100])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cutoff", type=float, default=30.0)
    ap.add_argument("--max-matrix-gb", type=float, default=2.0)
    ap.add_argument("--out", default=str(RESULTS / "query_speed.json"))
    ap.add_argument("--render", action="store_true", help="only print the tables of --out")
    a = ap.parse_args()
    if a.render:
        if not Path(a.out).is_file():
            ap.error(f"--render prints the tables of --out, and {a.out} does not exist")
        doc = json.loads(Path(a.out).read_text())
        print(targets(doc) + "\n\n" + markdown(doc))
        return
    rows, modal_rows, dropped, modal_meta = [], [], {}, {}
    with threadpool_limits(1):
        for n in a.sizes:
            reps = a.repeats if n < 1_000_000 else max(3, a.repeats // 2)
            X, lab, ylab = run_size(n, a.batches, reps, a.cutoff, dropped, rows)
            mrows, meta = run_modal(X, lab, ylab, n, a.batches, reps, a.cutoff, a.max_matrix_gb)
            modal_rows += mrows
            modal_meta[str(n)] = meta.get("cut", {}) if isinstance(meta, dict) else meta
            for r in mrows:
                print(
                    f"n={n:>9,} b={r['batch']:>3} modal:{r['method']:<18} {_t(r)}",
                    flush=True,
                )
            del X
    from importlib.metadata import version

    doc = {
        "command": "PYTHONPATH=src python3 benchmarks/query_speed.py " + " ".join(sys.argv[1:]),
        "pool": f"n × {D} Gaussian blobs, {K} classes, {N_LABELLED} labelled",
        "model": "LogisticRegression(max_iter=200) fitted on the labelled items",
        "blas_threads": 1,
        "rows": rows,
        "modal_rows": modal_rows,
        "modal_cut": modal_meta,
        "dropped": {f"{m}@{b}": why for (m, b), why in dropped.items()},
        "skipped": SKIP,
        "growth": growth(rows),
        "modal_growth": growth([{**r, "method": "modal:" + r["method"]} for r in modal_rows]),
        "versions": {p: version(p) for p in ("numpy", "scikit-learn", "scipy")},
        "machine": _machine(),
    }
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(doc, indent=1))
    print(targets(doc) + "\n\n" + markdown(doc))


def _machine():
    from activelab.simulation.runner import _machine as m

    info = m()
    with contextlib.suppress(StopIteration):
        info["lscpu"] = next(
            line.split(":", 1)[1].strip()
            for line in subprocess.run(
                ["lscpu"], capture_output=True, text=True
            ).stdout.splitlines()
            if line.startswith("Model name")
        )
    return info


def _t(r):
    if r["median_s"] is None:
        return f"stopped after {r.get('stopped_after_s') or 0:.0f} s"
    return f"{r['median_s']:.4f}"


def _ratio(r, lb):
    base = lb.get((r["n"], r["batch"]))
    if r["median_s"] is None or not base:
        return "–"
    return f"{r['median_s'] / base:.2f}"


def _get(rows, n, b, m):
    return next((r for r in rows if r["n"] == n and r["batch"] == b and r["method"] == m), None)


def _speed(rows, n, b, m):
    r = _get(rows, n, b, m)
    if r is None:
        return None, "not run"
    if r["median_s"] is None:
        return float("inf"), f"stopped after {r['stopped_after_s']:.0f} s"
    return r["median_s"], f"{r['median_s']:.3f} s"


def targets(doc):
    """The speed targets, checked against the measured medians."""
    rows, mrows = doc["rows"], doc["modal_rows"]
    big = max(r["n"] for r in rows)
    out = []
    for m in ("margin", "entropy"):
        for b in (1, 100):
            t, _ = _speed(rows, big, b, m)
            lb, _ = _speed(rows, big, b, "lower_bound")
            sk, _skt = _speed(rows, big, b, f"skactiveml:{m}")
            mo, _mot = _speed(mrows, big, b, m)
            mlb, _ = _speed(mrows, big, b, "lower_bound")
            ratio = t / lb
            mo_ratio = mo / mlb if mo is not None and mlb else None
            ok = ratio <= 1.1 and t <= sk and (mo_ratio is None or ratio <= mo_ratio)
            out.append(
                f"| {m} ≤ 1.1× lower bound at {big:,} × {b}, not slower than the peers | "
                f"{ratio:.2f}× (skactiveml {sk / lb:.2f}×, modAL {mo_ratio:.2f}× of its own "
                f"lower bound) | {'met' if ok else '**missed**'} |"
                if mo_ratio is not None
                else f"| {m} at {big:,} × {b} | {ratio:.2f}× | {'met' if ok else '**missed**'} |"
            )
    t, tt = _speed(rows, big, 100, "kcenter")
    c, ct = _speed(rows, big, 100, "skactiveml:kcenter")
    sp = "–" if t in (None, float("inf")) or c is None else f"{c / t:.1f}×"
    ok = t not in (None, float("inf")) and c is not None and c / t >= 4
    out.append(
        f"| kcenter ≥ 4× faster than scikit-activeml CoreSet at {big:,} × 100 | activelab {tt}, "
        f"CoreSet {ct}: {sp} | {'met' if ok else '**missed**'} |"
    )
    n = 100_000
    t, tt = _speed(rows, n, 100, "diverse_batch")
    parts, ok = [], t is not None
    for label, (v, vt) in (
        ("modAL ranked batch", _speed(mrows, n, 100, "ranked_batch")),
        ("skactiveml TypiClust", _speed(rows, n, 100, "skactiveml:typiclust")),
    ):
        parts.append(
            f"{label} {vt} ({'≥ ' if v == float('inf') else ''}"
            f"{(min(v, 120.0) / t) if t else 0:.0f}×)"
        )
        ok = ok and v is not None and v / t >= 10
    out.append(
        f"| diverse_batch ≥ 10× faster than modAL ranked batch and TypiClust at 100,000 × 100 | "
        f"activelab {tt}; {'; '.join(parts)} | {'met' if ok else '**missed**'} |"
    )
    r = _get(rows, big, 100, "density")
    pk = r and r.get("peak_mb")
    out.append(
        f"| density at {big:,} in bounded memory | peak {pk if pk is None else f'{pk:.0f} MB'}"
        f" beyond the pool; modAL's n × n matrix would need {big**2 * 8 / 2**30:,.0f} GiB | "
        f"{'met' if pk is not None and pk < 1024 else '**not shown**'} |"
    )
    return "| target | measured | |\n|---|---|---|\n" + "\n".join(out)


def markdown(doc):
    rows = doc["rows"]
    lb = {(r["n"], r["batch"]): r["median_s"] for r in rows if r["method"] == "lower_bound"}
    mlb = {
        (r["n"], r["batch"]): r["median_s"]
        for r in doc["modal_rows"]
        if r["method"] == "lower_bound"
    }
    lines = [
        "| n | batch | method | median s | × lower bound | peak MB |",
        "|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: (r["n"], r["batch"], r["method"])):
        ratio = _ratio(r, lb)
        pk = "–" if r["peak_mb"] is None else f"{r['peak_mb']:.0f}"
        lines.append(f"| {r['n']:,} | {r['batch']} | {r['method']} | {_t(r)} | {ratio} | {pk} |")
    for r in sorted(doc["modal_rows"], key=lambda r: (r["n"], r["batch"], r["method"])):
        ratio = _ratio(r, mlb)
        pk = "–" if r.get("peak_mb") is None else f"{r['peak_mb']:.0f}"
        lines.append(
            f"| {r['n']:,} | {r['batch']} | modal:{r['method']} | {_t(r)} | "
            f"{ratio} (own lower bound) | {pk} |"
        )
    lines.append("\nGrowth exponent (slope of log time against log pool size):\n")
    lines.append("| method@batch | exponent |\n|---|---|")
    for k, v in {**doc["growth"], **doc["modal_growth"]}.items():
        lines.append(f"| {k} | {v:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
