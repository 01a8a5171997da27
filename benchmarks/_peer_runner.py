"""Replays the label-efficiency protocol through a peer library (scikit-activeml or modAL).

Runs inside the peer's own virtual environment (modAL needs scikit-learn < 1.8),
so it imports nothing from activelab: the splits and initial sets come from an
``.npz`` file written by ``label_efficiency.py`` and the curves go back as JSON.

    python _peer_runner.py --library modal --task task.npz --out curves.json
"""

from __future__ import annotations

import argparse
import json
import time
from multiprocessing import Pool

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SKACTIVEML = {
    "random": ("RandomSampling", {}),
    "least_confident": ("UncertaintySampling", {"method": "least_confident"}),
    "margin": ("UncertaintySampling", {"method": "margin_sampling"}),
    "entropy": ("UncertaintySampling", {"method": "entropy"}),
    "kcenter": ("CoreSet", {}),
    "typicality": ("TypiClust", {}),
}
MODAL = {
    "least_confident": "uncertainty_sampling",
    "margin": "margin_sampling",
    "entropy": "entropy_sampling",
    "ranked_batch": "uncertainty_batch_sampling",
}


def make_estimator(name: str):
    if name == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    if name == "extra_trees":
        return ExtraTreesClassifier(n_estimators=50, random_state=0, n_jobs=1)
    raise ValueError(name)


def _skactiveml(strategy, est, Xp, yp, Xt, yt, init, batch, budget, seed, classes):
    from skactiveml import pool
    from skactiveml.classifier import SklearnClassifier

    cls_name, kw = SKACTIVEML[strategy]
    qs = getattr(pool, cls_name)(random_state=seed, **kw)
    y = np.full(len(yp), np.nan)
    y[init] = yp[init]
    clf = SklearnClassifier(clone(est), classes=classes, random_state=seed)
    clf.fit(Xp, y)
    n_labels, scores, sel = [len(init)], [float(clf.score(Xt, yt))], [0.0]
    while n_labels[-1] < budget:
        b = min(batch, budget - n_labels[-1])
        t0 = time.perf_counter()
        if cls_name == "UncertaintySampling":
            idx = qs.query(Xp, y, clf=clf, fit_clf=False, batch_size=b)
        else:
            idx = qs.query(Xp, y, batch_size=b)
        sel.append(time.perf_counter() - t0)
        y[idx] = yp[idx]
        clf.fit(Xp, y)
        n_labels.append(int(np.sum(~np.isnan(y))))
        scores.append(float(clf.score(Xt, yt)))
    return n_labels, scores, sel


def _modal(strategy, est, Xp, yp, Xt, yt, init, batch, budget, seed, classes):
    import modAL.batch
    import modAL.uncertainty
    from modAL.models import ActiveLearner

    fn_name = MODAL[strategy]
    fn = getattr(modAL.batch if fn_name.endswith("batch_sampling") else modAL.uncertainty, fn_name)
    mask = np.zeros(len(yp), bool)
    mask[init] = True
    learner = ActiveLearner(clone(est), query_strategy=fn, X_training=Xp[init], y_training=yp[init])
    n_labels, scores, sel = [len(init)], [float(learner.score(Xt, yt))], [0.0]
    while n_labels[-1] < budget:
        b = min(batch, budget - n_labels[-1])
        rest = np.flatnonzero(~mask)
        t0 = time.perf_counter()
        q = learner.query(Xp[rest], n_instances=b)
        sel.append(time.perf_counter() - t0)
        q = np.asarray(q[0] if isinstance(q, tuple) else q).ravel()
        idx = rest[q]
        mask[idx] = True
        learner.teach(Xp[idx], yp[idx])
        n_labels.append(int(mask.sum()))
        scores.append(float(learner.score(Xt, yt)))
    return n_labels, scores, sel


def _job(args):
    library, strategy, seed, task = args
    d = np.load(task)
    run = _skactiveml if library == "skactiveml" else _modal
    t0 = time.perf_counter()
    n_labels, scores, sel = run(
        strategy,
        make_estimator(str(d["estimator"])),
        d["Xp"],
        d["yp"],
        d["Xt"],
        d["yt"],
        d["init"],
        int(d["batch"]),
        int(d["budget"]),
        seed,
        d["classes"],
    )
    return {
        "strategy": strategy,
        "seed": seed,
        "n_labels": n_labels,
        "scores": scores,
        "select_seconds": sel,
        "seconds": time.perf_counter() - t0,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--library", choices=["skactiveml", "modal"], required=True)
    ap.add_argument("--tasks", nargs="+", required=True, help="seed=path.npz pairs")
    ap.add_argument("--strategies", nargs="+", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n-jobs", type=int, default=2)
    a = ap.parse_args()
    known = SKACTIVEML if a.library == "skactiveml" else MODAL
    jobs = []
    for spec in a.tasks:
        seed, path = spec.split("=", 1)
        jobs += [(a.library, s, int(seed), path) for s in a.strategies if s in known]
    with Pool(a.n_jobs) as pool:
        runs = pool.map(_job, jobs)
    import sklearn

    lib_version = "unknown"
    try:
        from importlib.metadata import version

        lib_version = version("scikit-activeml" if a.library == "skactiveml" else "modAL-python")
    except Exception:
        pass
    with open(a.out, "w") as fh:
        json.dump(
            {
                "library": a.library,
                "version": lib_version,
                "scikit-learn": sklearn.__version__,
                "runs": runs,
            },
            fh,
        )


if __name__ == "__main__":
    main()
