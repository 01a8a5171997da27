"""Replays the label-efficiency protocol through a peer library (scikit-activeml or modAL).

Runs inside the peer's own virtual environment (modAL needs scikit-learn < 1.8),
so it imports nothing from activelab: the splits and initial sets come from an
``.npz`` file written by ``label_efficiency.py`` and the curves go back as JSON.

    python _peer_runner.py --library modal --tasks 0=task0.npz 1=task1.npz \
        --strategies margin vote_entropy --out curves.json

Committees (activelab ``vote_entropy`` / ``kl_divergence``: 5 members, each the
benchmark's model fitted on a bootstrap resample of the labelled set):

* scikit-activeml: ``QueryByCommittee(method="vote_entropy" | "KL_divergence")``
  with ``SklearnClassifier(BaggingClassifier(model, n_estimators=5))``; the
  members are the bagging's ``estimators_``, refitted (new bagging seed) at every
  query.
* modAL: ``Committee`` of 5 ``ActiveLearner(model, bootstrap_init=True)``, taught
  with ``bootstrap=True``; ``vote_entropy_sampling`` and
  ``max_disagreement_sampling`` (the *largest* KL divergence of a member from
  the consensus; activelab and scikit-activeml average it). modAL draws its
  resamples from the global ``np.random``, seeded with the run's seed.

Neither peer stratifies its resamples. A resample the model cannot be fitted on
(one class only, for a logistic regression) makes scikit-activeml fall back to
class counts for the whole committee (every member then votes alike) and makes
modAL raise; here it is redrawn instead, in both, and the redraws are counted
in the run's ``redraws``. The accuracy curve is always that of the single model
fitted on the whole labelled set, as in activelab's campaigns, never the
committee's consensus.
"""

from __future__ import annotations

import argparse
import json
import time
from multiprocessing import Pool

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import BaggingClassifier, ExtraTreesClassifier
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
    "vote_entropy": ("QueryByCommittee", {"method": "vote_entropy"}),
    "kl_divergence": ("QueryByCommittee", {"method": "KL_divergence"}),
}
MODAL = {
    "least_confident": "uncertainty_sampling",
    "margin": "margin_sampling",
    "entropy": "entropy_sampling",
    "ranked_batch": "uncertainty_batch_sampling",
    "vote_entropy": "vote_entropy_sampling",
    "kl_divergence": "max_disagreement_sampling",
}
#: activelab strategy names each peer replays (label_efficiency.py reads this).
STRATEGIES = {"skactiveml": SKACTIVEML, "modal": MODAL}
#: Committee size (activelab's default ``n_members``).
N_MEMBERS = 5
#: Redraws of an unfittable bootstrap resample before giving up.
MAX_REDRAWS = 100


def make_estimator(name: str):
    if name == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    if name == "extra_trees":
        return ExtraTreesClassifier(n_estimators=50, random_state=0, n_jobs=1)
    raise ValueError(name)


def _bagged_committee(est, Xp, y, classes, rng):
    """A fitted ``SklearnClassifier(BaggingClassifier(est, 5))`` and the redraws it took."""
    from skactiveml.classifier import SklearnClassifier

    for redraws in range(MAX_REDRAWS):
        bag_seed = int(rng.integers(2**31 - 1))
        bag = BaggingClassifier(clone(est), n_estimators=N_MEMBERS, random_state=bag_seed)
        ens = SklearnClassifier(bag, classes=classes, random_state=bag_seed).fit(Xp, y)
        # SklearnClassifier swallows a failed fit (then predicts class counts)
        if ens.is_fitted_:
            return ens, redraws
    raise RuntimeError(f"no fittable bootstrap committee in {MAX_REDRAWS} draws")


def _skactiveml(strategy, est, Xp, yp, Xt, yt, init, batch, budget, seed, classes):
    from skactiveml import pool
    from skactiveml.classifier import SklearnClassifier

    cls_name, kw = SKACTIVEML[strategy]
    qs = getattr(pool, cls_name)(random_state=seed, **kw)
    y = np.full(len(yp), np.nan)
    y[init] = yp[init]
    clf = SklearnClassifier(clone(est), classes=classes, random_state=seed)
    clf.fit(Xp, y)
    bag_rng = np.random.default_rng([seed, 11])
    redraws = 0
    n_labels, scores, sel = [len(init)], [float(clf.score(Xt, yt))], [0.0]
    while n_labels[-1] < budget:
        b = min(batch, budget - n_labels[-1])
        t0 = time.perf_counter()
        if cls_name == "UncertaintySampling":
            idx = qs.query(Xp, y, clf=clf, fit_clf=False, batch_size=b)
        elif cls_name == "QueryByCommittee":
            # fitted here (not by query's fit_ensemble) to see a failed fit; timed all the same
            ens, r = _bagged_committee(est, Xp, y, classes, bag_rng)
            redraws += r
            idx = qs.query(Xp, y, ensemble=ens, fit_ensemble=False, batch_size=b)
        else:
            idx = qs.query(Xp, y, batch_size=b)
        sel.append(time.perf_counter() - t0)
        y[idx] = yp[idx]
        clf.fit(Xp, y)
        n_labels.append(int(np.sum(~np.isnan(y))))
        scores.append(float(clf.score(Xt, yt)))
    return n_labels, scores, sel, redraws


def _modal(strategy, est, Xp, yp, Xt, yt, init, batch, budget, seed, classes):
    import modAL.batch
    import modAL.uncertainty
    from modAL.models import ActiveLearner

    fn_name = MODAL[strategy]
    if fn_name in ("vote_entropy_sampling", "max_disagreement_sampling"):
        return _modal_committee(strategy, est, Xp, yp, Xt, yt, init, batch, budget, seed)
    fn = getattr(modAL.batch if fn_name.endswith("batch_sampling") else modAL.uncertainty, fn_name)
    learner = ActiveLearner(clone(est), query_strategy=fn, X_training=Xp[init], y_training=yp[init])

    def learn(idx, mask):
        learner.teach(Xp[idx], yp[idx])
        return float(learner.score(Xt, yt)), 0.0

    start = float(learner.score(Xt, yt))
    return (*_modal_replay(learner.query, learn, Xp, init, batch, budget, start), 0)


def _modal_replay(query, learn, Xp, init, batch, budget, start_score):
    """modAL's loop: ``query`` picks among the unlabelled rows; ``learn(idx, mask)`` takes the
    answers and returns the new test score and the seconds to add to the selection time."""
    mask = np.zeros(len(Xp), bool)
    mask[init] = True
    n_labels, scores, sel = [len(init)], [start_score], [0.0]
    while n_labels[-1] < budget:
        b = min(batch, budget - n_labels[-1])
        rest = np.flatnonzero(~mask)
        t0 = time.perf_counter()
        q = query(Xp[rest], n_instances=b)
        sel.append(time.perf_counter() - t0)
        q = np.asarray(q[0] if isinstance(q, tuple) else q).ravel()
        idx = rest[q]
        mask[idx] = True
        score, extra_seconds = learn(idx, mask)
        sel[-1] += extra_seconds
        n_labels.append(int(mask.sum()))
        scores.append(score)
    return n_labels, scores, sel


def _refit_until_fitted(fit) -> int:
    """Call ``fit`` (which draws new bootstrap resamples) until it succeeds; the redraws."""
    for redraws in range(MAX_REDRAWS):
        try:
            fit()
            return redraws
        except ValueError:  # e.g. a one-class resample for a logistic regression
            continue
    raise RuntimeError(f"no fittable bootstrap resample in {MAX_REDRAWS} draws")


def _modal_committee(strategy, est, Xp, yp, Xt, yt, init, batch, budget, seed):
    import modAL.disagreement
    from modAL.models import ActiveLearner, Committee

    np.random.seed(seed)  # noqa: NPY002 (modAL draws its resamples from np.random)
    fn = getattr(modAL.disagreement, MODAL[strategy])
    learners: list = []
    redraws = 0
    for _ in range(N_MEMBERS):
        redraws += _refit_until_fitted(
            lambda: learners.append(
                ActiveLearner(
                    clone(est), X_training=Xp[init], y_training=yp[init], bootstrap_init=True
                )
            )
        )
    committee = Committee(learners, query_strategy=fn)

    def learn(idx, mask):
        nonlocal redraws
        t0 = time.perf_counter()
        try:
            committee.teach(Xp[idx], yp[idx], bootstrap=True)
        except ValueError:
            # the new items were added to every member before the failed refit
            redraws += 1 + _refit_until_fitted(committee.rebag)
            committee._set_classes()
        # modAL refits its committee when taught; count that towards the selection
        seconds = time.perf_counter() - t0
        model = clone(est).fit(Xp[mask], yp[mask])  # the scored model, as in activelab
        return float(model.score(Xt, yt)), seconds

    start = float(clone(est).fit(Xp[init], yp[init]).score(Xt, yt))
    n_labels, scores, sel = _modal_replay(committee.query, learn, Xp, init, batch, budget, start)
    return n_labels, scores, sel, redraws


def _job(args):
    library, strategy, seed, task = args
    d = np.load(task)
    run = _skactiveml if library == "skactiveml" else _modal
    t0 = time.perf_counter()
    n_labels, scores, sel, redraws = run(
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
    out = {
        "strategy": strategy,
        "seed": seed,
        "n_labels": n_labels,
        "scores": scores,
        "select_seconds": sel,
        "seconds": time.perf_counter() - t0,
    }
    if strategy in ("vote_entropy", "kl_divergence"):
        out["redraws"] = redraws
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--library", choices=["skactiveml", "modal"], required=True)
    ap.add_argument("--tasks", nargs="+", required=True, help="seed=path.npz pairs")
    ap.add_argument("--strategies", nargs="+", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n-jobs", type=int, default=2)
    a = ap.parse_args()
    known = STRATEGIES[a.library]
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
