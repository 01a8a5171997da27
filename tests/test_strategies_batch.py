"""Checks of the committee, density, diversity and expected-error strategies.

The conformance suite runs them through the shared checks; here each one is
checked against what it promises: exact results against brute force, chunking
that does not change results, batches that are not near-duplicates.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from activelab import ActiveLearner, StrategyRequirementError
from activelab.strategies import (
    DiverseBatch,
    ExpectedErrorReduction,
    InformationDensity,
    KCenterGreedy,
    QueryByCommittee,
    QueryContext,
    available,
    get_strategy,
)
from activelab.strategies.committee import stratified_bootstrap

CLASSIFICATION = [s for s in available() if get_strategy(s).task in ("classification", "any")]


def _blobs(n=150, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 1.0], [0.0, 3.0, -1.0]])
    y = rng.integers(0, 3, size=n)
    return centres[y] + rng.normal(size=(n, 3)), y


def _ctx(X, labelled, y_lab, model=None, seed=0, chunk_size=16384, estimator=None):
    candidates = np.setdiff1d(np.arange(X.shape[0]), labelled)
    return QueryContext(
        X=X,
        candidates=candidates,
        labelled=np.asarray(labelled, dtype=np.int64),
        y_labelled=np.asarray(y_lab),
        model=model,
        estimator=estimator,
        classes=None if y_lab is None or len(y_lab) == 0 else np.unique(y_lab),
        rng=np.random.default_rng(seed),
        chunk_size=chunk_size,
    )


# --------------------------------------------------------------- chunking
def _estimator(name):
    # strategies that need MC dropout or a learned embedding get a tiny torch classifier
    reqs = {o for r in get_strategy(name).requires for o in (r if isinstance(r, tuple) else (r,))}
    if reqs & {"mc_dropout", "model_embedding"}:
        from activelab.models.deep import TorchMLPClassifier

        return TorchMLPClassifier(hidden_layer_sizes=(8,), epochs=5, min_steps=10, random_state=0)
    return LogisticRegression(max_iter=500)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_chunk_size_does_not_change_the_result(name):
    X, y = _blobs()
    init = np.random.default_rng(1).choice(len(y), 15, replace=False)
    # expected error reduction does not chunk; a small subsample keeps its check cheap
    params = {"n_candidates": 8} if name == "eer" else {}
    picks = []
    for chunk in (7, 100_000):
        learner = ActiveLearner(
            _estimator(name),
            get_strategy(name, **params),
            random_state=4,
            chunk_size=chunk,
        )
        learner.fit(X, init, y[init])
        picks.append(learner.query(6).tolist())
    assert picks[0] == picks[1]


# -------------------------------------------------------------- committee
def test_stratified_bootstrap_keeps_every_class():
    y = np.array(["a"] * 7 + ["b"] + ["c"] * 3)
    for seed in range(20):
        pos = stratified_bootstrap(y, np.random.default_rng(seed))
        assert pos.shape == y.shape
        assert sorted(set(y[pos])) == ["a", "b", "c"]


def test_committee_list_disagreement_on_a_constructed_case():
    # Member 1 sees only feature 0, member 2 only feature 1 (via fixed-column trees);
    # the single point where feature 0 says class 1 and feature 1 says class 0 is the
    # only one the two members disagree on.
    X = np.array([[0, 0], [1, 1], [0, 0.1], [1, 0.9], [0.1, 0], [0.9, 1], [1.0, 0.0], [0.05, 0.05]])
    y = np.array([0, 1, 0, 1, 0, 1, 0, 0])
    lab = np.arange(6)
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline

    def on(col):
        return make_pipeline(
            make_column_transformer(("passthrough", [col])),
            DecisionTreeClassifier(random_state=0),
        )

    qbc = QueryByCommittee("vote_entropy", committee=[on(0), on(1)])
    model = LogisticRegression().fit(X[lab], y[lab])
    ctx = _ctx(X, lab, y[lab], model=model)
    assert qbc.select(ctx, 1).tolist() == [6]


@pytest.mark.parametrize("method", ["vote_entropy", "consensus_entropy", "kl_divergence"])
def test_committee_given_as_a_list_runs_the_loop(method):
    X, y = _blobs()
    committee = [
        LogisticRegression(max_iter=500),
        GaussianNB(),
        DecisionTreeClassifier(max_depth=3),
    ]
    runs = []
    for _ in range(2):
        learner = ActiveLearner(
            LogisticRegression(max_iter=500),
            QueryByCommittee(method, committee=committee),
            random_state=2,
        ).fit(X, [0, 1, 2, 3, 4, 5], y[:6])
        picks = []
        for _ in range(3):
            idx = learner.query(4)
            assert len(set(idx.tolist())) == 4 and np.isin(idx, learner.unlabelled_).all()
            learner.teach(idx, y[idx])
            picks += idx.tolist()
        runs.append(picks)
    assert runs[0] == runs[1]
    assert not hasattr(committee[0], "coef_")  # the user's estimators are not fitted


def test_committee_refuses_bad_members_before_work():
    with pytest.raises(StrategyRequirementError, match="SVC has none"):
        QueryByCommittee("kl_divergence", committee=[LogisticRegression(), SVC()])
    with pytest.raises(ValueError, match="at least 2 estimators"):
        QueryByCommittee(committee=[LogisticRegression()])
    with pytest.raises(ValueError, match="method must be one of"):
        QueryByCommittee("entropy")
    X, _y = _blobs()
    with pytest.raises(StrategyRequirementError, match="Ridge is a regressor; use 'committee_var"):
        ActiveLearner(Ridge(), "qbc").fit(X)


def test_committee_members_cover_classes_unseen_by_a_member():
    # fixed classes include one never labelled: probabilities still map onto all of them
    X, y = _blobs()
    learner = ActiveLearner(
        LogisticRegression(max_iter=500), "kl_divergence", classes=[0, 1, 2, 3], random_state=0
    ).fit(X, np.arange(10), y[:10])
    assert learner.query(3).shape == (3,)


# ---------------------------------------------------------------- density
def test_cosine_density_equals_the_pairwise_mean():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    brute = (1.0 + (Xn @ Xn.T).mean(axis=1)) / 2.0
    ctx = _ctx(X, [], [], chunk_size=7)
    cosine = InformationDensity(similarity="cosine")
    np.testing.assert_allclose(cosine.density(ctx), brute, rtol=1e-12)
    ctx_sparse = _ctx(sp.csr_matrix(np.abs(X)), [], [], chunk_size=7)
    Xa = np.abs(Xn)
    np.testing.assert_allclose(
        InformationDensity(similarity="cosine").density(ctx_sparse),
        (1.0 + (Xa @ Xa.T).mean(axis=1)) / 2.0,
    )


def test_rbf_density_with_the_whole_pool_as_reference_is_exact():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    D2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=-1)
    brute = np.exp(-0.5 * D2).mean(axis=1)
    strat = InformationDensity(similarity="rbf", n_reference=1000, gamma=0.5)
    np.testing.assert_allclose(strat.density(_ctx(X, [], [], chunk_size=8)), brute)


def test_kmeans_density_is_the_kernel_of_the_distance_to_the_nearest_centre():
    # three tight blobs; with three centres every row's density is exp(-gamma d²) to its
    # own blob's centre, so rows near their centre score ~1 whichever blob they are in
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    X = np.vstack([c + rng.normal(scale=0.5, size=(40, 2)) for c in centres])
    strat = InformationDensity(n_clusters=3, gamma=0.7)
    dens = strat.density(_ctx(X, [], [], chunk_size=9))
    d2 = ((X[:, None, :] - centres[None]) ** 2).sum(axis=-1).min(axis=1)
    # the fitted centres are the blob means, within sampling noise of the true centres
    np.testing.assert_allclose(dens, np.exp(-0.7 * d2), atol=0.15)
    assert dens.shape == (120,) and np.all((dens > 0) & (dens <= 1))
    # a lone outlier gets almost no density, although it is as far from "the" centre
    # of the pool as the blobs are
    X2 = np.vstack([X, [[30.0, 30.0]]])
    dens2 = InformationDensity(n_clusters=3).density(_ctx(X2, [], []))
    assert dens2[-1] < 0.01 < np.median(dens2[:-1])


class _Unsure:
    """A fitted-looking model that is equally unsure of every row."""

    classes_ = np.array([0, 1])

    def predict_proba(self, X):
        return np.full((X.shape[0], 2), 0.5)


def _three_blobs(sizes=(60, 30, 30)):
    rng = np.random.default_rng(3)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    parts = [c + rng.normal(scale=0.3, size=(m, 2)) for c, m in zip(centres, sizes, strict=True)]
    X = np.vstack(parts)
    return X, np.repeat([0, 1, 2], sizes)


def test_kmeans_density_spreads_a_batch_over_the_clusters():
    # equal uncertainty everywhere: without the coverage discount all three picks would come
    # from the densest spots; with it, each pick counts as a label of its cluster
    X, blob = _three_blobs()
    strat = InformationDensity(n_clusters=3)
    picks = strat.select(_ctx(X, [], [], model=_Unsure()), 3)
    assert sorted(blob[picks].tolist()) == [0, 1, 2]
    # labels already held count too: two labels in blob 0 and one in blob 1 send the
    # first pick to blob 2, and the next one to blob 1
    ctx = _ctx(X, [0, 1, 60], [0, 0, 1], model=_Unsure())
    first = InformationDensity(n_clusters=3).select(ctx, 2)
    assert blob[first].tolist() == [2, 1]
    # the scores carry the same discount
    sc = InformationDensity(n_clusters=3).scores(ctx)
    by_blob = [sc[blob[ctx.candidates] == b].max() for b in (0, 1, 2)]
    assert by_blob[2] > by_blob[1] > by_blob[0]


@pytest.mark.parametrize("bad", [0, -2, 2.5, True])
def test_n_clusters_is_validated(bad):
    with pytest.raises(ValueError, match="n_clusters must be an integer"):
        InformationDensity(n_clusters=bad)


def test_density_is_cached_per_pool():
    X, _ = _blobs()
    strat = InformationDensity()
    first = strat.density(_ctx(X, [], []))
    assert strat.density(_ctx(X, [0, 1], [0, 1])) is first
    other = X + 1.0
    assert strat.density(_ctx(other, [], [])) is not first


def test_density_prefers_the_dense_region_among_equally_uncertain_points():
    # five candidates on the boundary x=0: four close together, one far away in y
    X = np.array([[-2.0, 0], [2.0, 0], [0, 1.0], [0, 1.05], [0, 0.95], [0, 1.1], [0, -9.0]])
    model = LogisticRegression().fit(X[:2], [0, 1])
    ctx = _ctx(X, [0, 1], [0, 1], model=model)
    rbf = InformationDensity(similarity="rbf").select(ctx, 4)
    assert 6 not in rbf.tolist()


# -------------------------------------------------------------- k-center
def _naive_kcenter(X, labelled, candidates, n, first=None):
    centres = list(labelled) if first is None else [first]
    chosen = [] if first is None else [first]
    cand = [c for c in candidates if c not in chosen]
    while len(chosen) < n:
        d = np.array([min(((X[c] - X[z]) ** 2).sum() for z in centres) for c in cand])
        j = cand[int(np.flatnonzero(d == d.max())[0])]
        chosen.append(j)
        centres.append(j)
        cand.remove(j)
    return chosen


@pytest.mark.parametrize("n_labelled", [0, 5])
def test_kcenter_equals_the_plain_greedy(n_labelled):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    labelled = np.arange(n_labelled)
    ctx = _ctx(X, labelled, np.zeros(n_labelled), chunk_size=16)
    got = KCenterGreedy().select(ctx, 12).tolist()
    first = got[0] if n_labelled == 0 else None
    assert got == _naive_kcenter(X, labelled, ctx.candidates.tolist(), 12, first)


def test_kcenter_lazy_greedy_is_exact_on_a_pool_larger_than_its_frontier():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 4))
    X[1500:1600] = X[1400]  # exact duplicates: ties resolved by lowest index
    labelled = np.arange(0, 3000, 97)
    ctx = _ctx(X, labelled, np.zeros(labelled.size), chunk_size=500)
    got = KCenterGreedy().select(ctx, 25)
    # vectorised plain greedy as reference
    cand = ctx.candidates
    d = ((X[cand][:, None, :] - X[labelled][None, :, :]) ** 2).sum(-1).min(1)
    want = []
    for _ in range(25):
        j = int(np.flatnonzero(d == d.max())[0])
        want.append(int(cand[j]))
        d = np.minimum(d, ((X[cand] - X[cand[j]]) ** 2).sum(1))
        d[j] = -np.inf
    assert got.tolist() == want


def test_kcenter_on_proba_embedding_needs_predict_proba():
    X, y = _blobs()
    with pytest.raises(StrategyRequirementError, match="predict_proba"):
        ActiveLearner(SVC(), KCenterGreedy(embedding="proba")).fit(X)
    learner = ActiveLearner(
        LogisticRegression(max_iter=500), KCenterGreedy(embedding="proba"), random_state=0
    ).fit(X, np.arange(12), y[:12])
    assert learner.query(5).shape == (5,)


def test_kcenter_needs_no_model_and_starts_from_the_generator():
    X, _ = _blobs()
    a = KCenterGreedy().select(_ctx(X, [], [], seed=1), 4)
    b = KCenterGreedy().select(_ctx(X, [], [], seed=1), 4)
    assert a.tolist() == b.tolist() and len(set(a.tolist())) == 4


# ------------------------------------------------- batches are not duplicates
@pytest.fixture(scope="module")
def digits_with_copies():
    X, y = load_digits(return_X_y=True)
    X, y = X[:600], y[:600]
    rng = np.random.default_rng(0)
    # every item five times, with tiny noise: near-duplicates everywhere
    Xd = np.repeat(X, 5, axis=0) + rng.normal(scale=0.01, size=(3000, 64))
    origin = np.repeat(np.arange(600), 5)
    yd = np.repeat(y, 5)
    init = rng.choice(3000, 30, replace=False)
    model = LogisticRegression(max_iter=2000).fit(Xd[init], yd[init])
    return Xd, yd, origin, init, model


@pytest.mark.parametrize("name", ["diverse_batch", "ranked_batch", "kcenter"])
def test_a_batch_is_not_near_duplicates(name, digits_with_copies):
    Xd, yd, origin, init, model = digits_with_copies
    ctx = _ctx(Xd, init, yd[init], model=model, estimator=LogisticRegression())
    margin = get_strategy("margin").select(ctx, 50)
    batch = get_strategy(name).select(ctx, 50)
    assert len(set(batch.tolist())) == 50
    # margin's batch is full of copies of the same items; this one is not
    assert len(set(origin[margin])) < 30
    assert len(set(origin[batch])) == 50

    def nearest_in_batch(idx):
        Z = Xd[idx]
        D = np.sqrt(((Z[:, None] - Z[None]) ** 2).sum(-1))
        np.fill_diagonal(D, np.inf)
        return np.median(D.min(axis=1))

    # copies differ by noise of about 0.01 * sqrt(2 * 64) = 0.11; distinct digits by ~20
    assert nearest_in_batch(margin) < 1.0
    assert nearest_in_batch(batch) > 5.0


def test_diverse_batch_takes_only_uncertain_candidates():
    X, y = _blobs(n=400)
    model = LogisticRegression().fit(X[:20], y[:20])
    ctx = _ctx(X, np.arange(20), y[:20], model=model)
    margin_scores = get_strategy("margin").scores(ctx)
    batch = DiverseBatch(beta=3).select(ctx, 10)
    top30 = ctx.candidates[np.argsort(-margin_scores, kind="stable")[:30]]
    assert np.isin(batch, top30).all()


# ---------------------------------------------------------- expected error
def test_eer_scores_match_a_direct_computation():
    X, y = _blobs(n=40)
    lab = np.arange(9)
    model = LogisticRegression(max_iter=500).fit(X[lab], y[lab])
    eer = ExpectedErrorReduction(n_candidates=100, n_eval=100, min_proba=0.0)
    ctx = _ctx(X, lab, y[lab], model=model, estimator=LogisticRegression(max_iter=500))
    rows = ctx.candidates[:3]
    got = eer.expected_losses(ctx, rows)
    cand = ctx.candidates
    want = []
    for r in rows:
        p = model.predict_proba(X[[r]])[0]
        total = 0.0
        for c, pc in zip(model.classes_, p, strict=True):
            m = LogisticRegression(max_iter=500).fit(
                np.vstack([X[lab], X[[r]]]), np.append(y[lab], c)
            )
            total += pc * (1 - m.predict_proba(X[cand]).max(axis=1)).sum()
        want.append(total)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_eer_refuses_an_estimator_without_predict_proba():
    X, _y = _blobs()
    with pytest.raises(StrategyRequirementError, match="predict_proba"):
        ActiveLearner(SVC(), "eer").fit(X)


def test_query_context_takes_lists_of_indices_and_a_list_pool():
    from activelab.strategies import QueryContext, get_strategy

    X, y = _blobs()
    lab = np.array([0, 1, 2, 3, 4, 5])
    model = LogisticRegression().fit(X[lab], y[lab])
    rest = np.setdiff1d(np.arange(X.shape[0]), lab)
    given = QueryContext(X=X, candidates=rest, labelled=lab, y_labelled=y[lab], model=model)
    as_lists = QueryContext(
        X=X.tolist(),
        candidates=rest[::-1].tolist(),
        labelled=lab.tolist(),
        y_labelled=y[lab].tolist(),
        model=model,
    )
    assert as_lists.candidates.dtype == np.int64 and as_lists.candidates[0] == rest[0]
    margin = get_strategy("margin")
    assert margin.select(as_lists, 5).tolist() == margin.select(given, 5).tolist()
    with pytest.raises(TypeError, match="QueryContext needs candidates as pool indices"):
        QueryContext(X=X, candidates=None, labelled=lab, y_labelled=y[lab])
