"""The pool-aware (hybrid) fit: spreading, self-training, the automatic choice, the learner."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_moons
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from activelab import ActiveLearner
from activelab.graph import PoolGraph
from activelab.models.selftraining import SelfTraining
from activelab.models.semi import HybridClassifier
from activelab.models.spreading import GraphPool, GraphSpreading
from activelab.shared_graph import build_count, shared_graph
from activelab.simulation.campaign import run_campaign, split_pool_test
from activelab.simulation.runner import simulate


def _moons(n=400, seed=0):
    X, y = make_moons(n, noise=0.08, random_state=seed)
    return X, y


def _few(y, per_class=3, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)]
    )


def _lr():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))


# --- label spreading ----------------------------------------------------------------------------


def test_spreading_learns_the_moons_where_a_linear_model_cannot():
    X, y = _moons()
    lab = _few(y)
    spread = GraphSpreading(n_neighbors=8).fit_pool(X, lab, y[lab])
    linear = _lr().fit(X[lab], y[lab])
    assert spread.score(X, y) > 0.97
    assert spread.score(X, y) > linear.score(X, y) + 0.1


def test_pool_rows_get_their_spread_distribution_and_new_rows_their_neighbours():
    X, y = _moons()
    lab = _few(y)
    m = GraphSpreading(n_neighbors=8).fit_pool(X, lab, y[lab])
    rows = np.array([5, 17, 300])
    np.testing.assert_array_equal(m.predict_proba(X[rows]), m.label_distributions_[rows])
    P = m.predict_proba(X[rows] + 1e-3)  # off the pool: from its neighbours
    assert not np.array_equal(P, m.label_distributions_[rows])
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    Xt, yt = _moons(200, seed=1)
    assert m.score(Xt, yt) > 0.95


def test_new_rows_of_the_wrong_width_or_with_nan_are_refused():
    X, y = _moons()
    lab = _few(y)
    m = GraphSpreading(n_neighbors=8).fit_pool(X, lab, y[lab])
    # was numpy's "operands could not be broadcast together"
    with pytest.raises(ValueError, match="Rows have 3 features, but the pool's graph was built"):
        m.predict_proba(np.ones((2, 3)))
    with pytest.raises(ValueError, match="Row 1 has a NaN or infinite feature"):
        m.predict_proba(np.array([[0.0, 0.0], [np.nan, 1.0]]))
    learner = ActiveLearner(_lr(), "margin", semi_supervised="blend").fit(X, lab, y[lab])
    with pytest.raises(ValueError, match="Rows have 1 features"):
        learner.predict_proba(X[:2, :1])


def test_rows_are_found_in_sparse_and_dataframe_pools():
    X, _ = _moons(60)
    Xs = sp.csr_matrix(np.abs(X))
    pool = GraphPool(Xs, n_neighbors=5)
    assert pool.metric == "cosine"
    np.testing.assert_array_equal(pool.locate(Xs[[3, 40, 7]]), [3, 40, 7])
    df = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "name": ["x"] * 60})
    pool = GraphPool(df, n_neighbors=5)
    np.testing.assert_array_equal(pool.locate(df.iloc[[9, 2]]), [9, 2])
    with pytest.raises(ValueError, match="no numeric column"):
        GraphPool(df[["name"]])


def test_the_graph_is_built_once_and_reused():
    X, y = _moons()
    m = HybridClassifier(_lr(), "spreading").fit_pool(X, _few(y), y[_few(y)])
    pool = m.pool_
    m2 = HybridClassifier(_lr(), "spreading").fit_pool(X, _few(y, 5), y[_few(y, 5)], pool=pool)
    assert m2.pool_ is pool


# --- self-training ------------------------------------------------------------------------------


def test_self_training_caps_pseudo_labels_per_class_and_keeps_them_apart():
    rng = np.random.default_rng(0)
    # an imbalanced pool: 90 % of one class
    X = np.r_[rng.normal(0, 1, (450, 2)), rng.normal(5, 1, (50, 2))]
    lab = np.array([0, 1, 2, 450, 451, 452])
    y = np.array([0, 0, 0, 1, 1, 1])
    m = SelfTraining(LogisticRegression(), threshold=0.8, max_iter=2, cap=4).fit_pool(X, lab, y)
    counts = np.bincount(m.pseudo_labels_, minlength=2)
    assert counts.max() <= 2 * 4  # at most cap per class and round
    assert counts[1] > 0  # the minority class gets its share
    assert not np.isin(m.pseudo_indices_, lab).any()
    assert np.unique(m.pseudo_indices_).size == m.pseudo_indices_.size


# --- the automatic choice -----------------------------------------------------------------------


def test_auto_picks_spreading_on_clustered_data_and_not_where_the_graph_misleads():
    X, y = _moons()
    lab = _few(y, 10)
    m = HybridClassifier(_lr(), "auto").fit_pool(X, lab, y[lab])
    assert m.chosen_ == "spreading", m.cv_scores_
    # the label is one feature; 30 noisy features (standardised alike) decide the graph
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=(400, 1)), rng.normal(size=(400, 30))]
    y = (X[:, 0] > 0).astype(int)
    lab = _few(y, 30)
    m = HybridClassifier(LogisticRegression(), "auto").fit_pool(X, lab, y[lab])
    assert m.chosen_ != "spreading", m.cv_scores_
    assert m.cv_scores_["supervised"] > m.cv_scores_["spreading"] + 0.1


def test_unknown_method_is_refused():
    X, y = _moons(40)
    with pytest.raises(ValueError, match="method must be one of"):
        HybridClassifier(_lr(), "graph").fit_pool(X, [0, 1], y[:2])


# --- the learner --------------------------------------------------------------------------------


def _campaign(semi, strategy="margin", seed=0, rounds=3):
    X, y = _moons()
    learner = ActiveLearner(_lr(), strategy, random_state=seed, semi_supervised=semi)
    learner.fit(X, _few(y, 2), y[_few(y, 2)])
    for _ in range(rounds):
        idx = learner.query(5)
        learner.teach(idx, y[idx])
    return learner, X, y


@pytest.mark.parametrize("semi", ["auto", "spreading", "blend", "self-training"])
def test_pseudo_labels_are_never_labels(semi):
    learner, _, y = _campaign(semi)
    assert learner.n_labelled_ == 4 + 15
    np.testing.assert_array_equal(learner.labels_, y[learner.labelled_])
    assert learner.unlabelled_.size == len(y) - 19
    assert isinstance(learner.model_, HybridClassifier)
    assert learner.model_.chosen_ in ("supervised", "spreading", "blend", "self-training")


def test_hybrid_learner_beats_supervised_on_the_moons_and_repeats_under_a_seed():
    runs = [_campaign("spreading", seed=3)[0] for _ in range(2)]
    sup, X, y = _campaign(None, seed=3)
    picks = [np.concatenate([r.indices for r in L.history_]) for L in runs]
    np.testing.assert_array_equal(*picks)
    np.testing.assert_array_equal(runs[0].predict_proba(X), runs[1].predict_proba(X))
    assert runs[0].score(X, y) > sup.score(X, y) + 0.05
    # one graph for the whole campaign
    assert runs[0].model_.pool_ is runs[0].graph_pool_


@pytest.mark.parametrize("strategy", ["auto", "probcover"])
def test_one_graph_serves_the_cold_start_the_hybrid_fit_and_the_strategy(strategy):
    X, y = _moons(300, seed=5)
    before = build_count()
    learner = ActiveLearner(_lr(), strategy, random_state=0, semi_supervised="auto").fit(X)
    for _ in range(4):  # the cold start, then the strategy on the hybrid model
        idx = learner.query(6)
        learner.teach(idx, y[idx])
    assert learner.history_[0].cold_start == (strategy == "auto")
    assert not learner.history_[-1].cold_start
    assert build_count() - before == 1
    graph = shared_graph(X, n_neighbors=20)[1]
    assert learner.graph_pool_.graph.indices.shape[1] == 10
    np.testing.assert_array_equal(learner.graph_pool_.graph.indices, graph.indices[:, :10])
    assert build_count() - before == 1
    shared_graph(X, n_neighbors=30)  # more neighbours than the graph holds: a new search
    assert build_count() - before == 2


def test_a_restricted_graph_is_the_smaller_graph():
    X, _ = _moons(200, seed=2)
    big = PoolGraph(X, n_neighbors=12)
    small = PoolGraph(X, n_neighbors=5)
    np.testing.assert_array_equal(big.restrict(5).indices, small.indices)
    np.testing.assert_allclose(
        big.restrict(5).affinity().toarray(), small.affinity().toarray(), rtol=1e-12
    )
    np.testing.assert_allclose(big.restrict(5).typicality(), small.typicality())


def test_auto_falls_back_and_explicit_methods_refuse_where_the_hybrid_cannot_apply():
    X, y = _moons(80)
    reg = ActiveLearner(RandomForestRegressor(n_estimators=5), "variance", semi_supervised="auto")
    reg.fit(X, np.arange(10), y[:10].astype(float))
    assert not isinstance(reg.model_, HybridClassifier)
    with pytest.raises(ValueError, match="is a regressor"):
        ActiveLearner(
            RandomForestRegressor(n_estimators=5), "variance", semi_supervised="spreading"
        ).fit(X)
    with pytest.raises(ValueError, match="semi_supervised must be"):
        ActiveLearner(_lr(), semi_supervised="graph").fit(X)


def test_strategies_needing_mc_dropout_stay_supervised_under_auto():
    pytest.importorskip("torch")
    from activelab.models.deep import TorchMLPClassifier

    X, y = _moons(80)
    est = TorchMLPClassifier(hidden_layer_sizes=(4,), epochs=2, min_steps=2, random_state=0)
    with pytest.raises(ValueError, match="needs the estimator's own internals"):
        ActiveLearner(est, "bald", semi_supervised="blend").fit(X)
    learner = ActiveLearner(est, "bald", semi_supervised="auto").fit(X, _few(y), y[_few(y)])
    assert not isinstance(learner.model_, HybridClassifier)


def test_embed_callable_builds_the_graph_in_the_embedding():
    X, y = _moons()
    noisy = np.c_[X, np.random.default_rng(0).normal(scale=5, size=(len(y), 20))]
    lab = _few(y)
    learner = ActiveLearner(
        _lr(), "margin", semi_supervised="spreading", embed=lambda Z: np.asarray(Z)[:, :2]
    ).fit(noisy, lab, y[lab])
    assert learner.model_.score(noisy, y) > 0.95


# --- the simulator ------------------------------------------------------------------------------


def test_run_campaign_and_simulate_take_the_hybrid_fit():
    X, y = _moons(300)
    Xp, Xt, yp, yt = split_pool_test(X, y, seed=0)
    kw = dict(initial=4, batch_size=4, budget=16, seed=0)
    hyb = run_campaign(_lr(), "margin", Xp, yp, Xt, yt, semi_supervised="spreading", **kw)
    sup = run_campaign(_lr(), "margin", Xp, yp, Xt, yt, **kw)
    assert hyb.n_labels == sup.n_labels == [4, 8, 12, 16]
    assert np.mean(hyb.scores) > np.mean(sup.scores)
    doc = simulate(
        (X, y), _lr(), ["margin"], n_initial=4, batch_size=4, budget=12, seeds=1,
        progress=False, semi_supervised="auto",
    )  # fmt: skip
    assert doc["settings"]["semi_supervised"] == "auto"
    with pytest.raises(ValueError, match="semi_supervised must be"):
        simulate((X, y), _lr(), ["margin"], seeds=1, progress=False, semi_supervised="yes")


# --- the app's trainer --------------------------------------------------------------------------


def test_app_trainer_fits_the_hybrid_keeps_the_graph_and_counts_human_labels_only():
    from activelab.app.training import train

    X, y = _moons()
    names = np.array(["a", "b"])
    lab = _few(y, 4)
    first = train(X, lab, names[y[lab]], classes=["a", "b"], strategy="margin", seed=0)
    assert isinstance(first.model, HybridClassifier)
    assert first.metrics["accuracy"]["n"] == lab.size == first.n_labels
    more = np.r_[lab, first.order[:4]]
    second = train(X, more, names[y[more]], classes=["a", "b"], strategy="margin", seed=1)
    assert second.model.pool_ is first.model.pool_  # built once for this feature matrix
    off = train(X, lab, names[y[lab]], classes=["a", "b"], strategy="margin", seed=0,
                semi_supervised=None)  # fmt: skip
    assert not isinstance(off.model, HybridClassifier)


def test_a_saved_hybrid_model_leaves_out_what_it_can_rebuild() -> None:
    """Pickling drops the affinities (rebuilt from the graph) and, when the chosen fit is
    supervised, the whole pool; the unpickled model predicts the same."""
    import pickle

    from activelab.models.semi import HybridClassifier

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-2, 0.5, (300, 2)), rng.normal(2, 0.5, (300, 2))])
    y = np.repeat([0, 1], 300)
    labelled = np.array([0, 1, 2, 300, 301, 302])
    for method in ("spreading", "supervised"):
        model = HybridClassifier(LogisticRegression(), method=method)
        model.fit_pool(X, labelled, y[labelled])
        blob = pickle.dumps(model)
        back = pickle.loads(blob)
        np.testing.assert_allclose(back.predict_proba(X[:50]), model.predict_proba(X[:50]))
        if method == "supervised":
            assert back.pool_ is None and len(blob) < 5_000
        else:
            assert back.pool_._S is None  # dropped, and rebuilt on use:
            np.testing.assert_allclose(back.pool_.S.toarray(), model.pool_.S.toarray())
            assert len(blob) < len(pickle.dumps(model.pool_.__dict__))  # which holds S


def test_balanced_spreading_keeps_a_rare_class_and_follows_the_model() -> None:
    """With class_weight="balanced" every class injects the same mass: three labels of a
    5 % class reach more of it than sixty of the common class let through unweighted; a
    hybrid over a balanced model spreads balanced and checks by balanced accuracy."""
    from activelab.models.semi import HybridClassifier
    from activelab.models.spreading import GraphSpreading

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (950, 2)), rng.normal(2.2, 0.6, (50, 2))])
    y = np.r_[np.zeros(950, int), np.ones(50, int)]
    labelled = np.r_[rng.choice(950, 60, replace=False), 950 + rng.choice(50, 3, replace=False)]
    recall = {}
    for weight in (None, "balanced"):
        model = GraphSpreading(class_weight=weight).fit_pool(X, labelled, y[labelled])
        recall[weight] = float(np.mean(model.predict(X[y == 1]) == 1))
    assert recall["balanced"] > recall[None] + 0.1
    balanced_lr = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced"))
    hybrid = HybridClassifier(balanced_lr).fit_pool(X, labelled, y[labelled])
    assert hybrid.spreading_.class_weight == "balanced"
    assert HybridClassifier(LogisticRegression())._spreader().class_weight is None
    with pytest.raises(ValueError, match="class_weight"):
        HybridClassifier(LogisticRegression(), class_weight="rare")._spreader()


def test_the_app_stores_the_compact_form_of_a_hybrid_model() -> None:
    """model_bytes keeps the pool's predictions, not its graph: pool rows are predicted as
    the full model does, rows off the pool by the supervised part of the blend."""
    import io

    import joblib

    from activelab.app.training import train

    X, y = make_moons(400, noise=0.08, random_state=0)
    labels = np.where(y == 1, "up", "down")
    idx = np.r_[np.flatnonzero(y == 0)[:5], np.flatnonzero(y == 1)[:5]]
    r = train(
        X,
        idx,
        labels[idx],
        classes=["down", "up"],
        strategy="margin",
        seed=0,
        semi_supervised="spreading",
    )
    stored = joblib.load(io.BytesIO(r.model_bytes()))
    assert stored.pool_ is None and not hasattr(stored.spreading_, "pool_")
    np.testing.assert_allclose(stored.predict_proba(X), r.model.predict_proba(X), atol=1e-6)
    off = X[:3] + 0.0123  # not rows of the pool
    np.testing.assert_allclose(stored.predict_proba(off), stored.supervised_.predict_proba(off))


# --- keeping the last refit's method ------------------------------------------------------------


def test_the_last_method_is_kept_unless_another_clearly_beats_it(monkeypatch) -> None:
    import activelab.models.semi as semi

    X, y = _moons()
    lab = np.r_[_few(y, 15)]
    fresh = HybridClassifier(_lr(), "auto").fit_pool(X, lab, y[lab])
    assert fresh.chosen_ != "supervised"  # the moons: the graph wins clearly
    clear = HybridClassifier(_lr(), "auto", previous="supervised").fit_pool(X, lab, y[lab])
    assert clear.chosen_ == fresh.chosen_  # a clear win replaces the incumbent

    # a challenger within one standard error does not
    monkeypatch.setattr(semi, "_beats", lambda hits, challenger, incumbent: False)
    kept = HybridClassifier(_lr(), "auto", previous="supervised").fit_pool(X, lab, y[lab])
    assert kept.chosen_ == "supervised"
    assert kept.cv_scores_ == fresh.cv_scores_  # the check itself is unchanged


def test_one_standard_error_of_the_paired_difference_decides() -> None:
    from activelab.models.semi import _beats

    one = np.full(30, 1 / 30)
    # one held-out item more: within the noise; ten more (of 30): a clear win
    assert not _beats({"a": one, "b": np.r_[one[:29], 0.0]}, "a", "b")
    assert _beats({"a": one, "b": np.r_[one[:20], np.zeros(10)]}, "a", "b")
    assert not _beats({"a": np.r_[one[:20], np.zeros(10)], "b": one}, "a", "b")


def test_the_learner_and_the_app_carry_the_method_from_refit_to_refit() -> None:
    from activelab.app.training import train

    X, y = _moons()
    learner = ActiveLearner(_lr(), "margin", random_state=0, semi_supervised="auto")
    lab = _few(y, 5)
    learner.fit(X, lab, y[lab])
    assert learner.hybrid_method_ == learner.model_.chosen_
    learner.hybrid_method_ = "supervised"  # as if an earlier round had chosen it
    q = learner.query(1)
    learner.teach(q, y[q])
    assert learner.model_.previous == "supervised"
    learner.fit(X)
    assert learner.hybrid_method_ is None  # a new pool starts afresh

    names = np.array(["a", "b"])
    r = train(X, lab, names[y[lab]], classes=["a", "b"], strategy="margin", seed=0)
    assert r.metrics["hybrid_method"] == r.model.chosen_
    again = train(X, lab, names[y[lab]], classes=["a", "b"], strategy="margin", seed=0,
                  previous_hybrid_method="supervised")  # fmt: skip
    assert again.model.previous == "supervised"


def test_scaled_on_pool_freezes_the_leading_scalers_on_the_pool() -> None:
    from sklearn.decomposition import PCA
    from sklearn.frozen import FrozenEstimator
    from sklearn.preprocessing import RobustScaler

    from activelab.models.semi import scaled_on_pool

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)) * [1.0, 5.0, 0.1] + [0.0, 10.0, -3.0]
    pipe = make_pipeline(StandardScaler(with_mean=False), LogisticRegression())
    out = scaled_on_pool(pipe, X)
    assert out is not pipe and not hasattr(pipe[0], "scale_")  # the original is untouched
    assert isinstance(out[0], FrozenEstimator)
    assert out[0].estimator.with_mean is False  # the scaler's own settings are kept
    fitted = out.fit(X[:6], [0, 1, 0, 1, 0, 1])
    np.testing.assert_allclose(fitted[0].estimator.scale_, X.std(axis=0))
    # only the leading run of scalers: one after another transformer is left alone
    later = scaled_on_pool(make_pipeline(PCA(2), RobustScaler(), LogisticRegression()), X)
    assert not any(isinstance(s, FrozenEstimator) for _, s in later.steps)
    plain = LogisticRegression()
    assert scaled_on_pool(plain, X) is plain


def test_hybrid_scales_on_the_pool_unless_told_not_to() -> None:
    X, y = _moons(300)
    X = np.c_[X, np.zeros(300)]
    X[::7, 2] = 5.0  # a column that the labelled items below never vary
    lab = np.array([1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13])
    lab = lab[np.isin(lab, np.flatnonzero(X[:, 2] == 0))]
    on = HybridClassifier(_lr(), "supervised").fit_pool(X, lab, y[lab])
    off = HybridClassifier(_lr(), "supervised", scale_on_pool=False).fit_pool(X, lab, y[lab])
    np.testing.assert_allclose(on.supervised_[0].estimator.mean_, X.mean(axis=0))
    np.testing.assert_allclose(off.supervised_[0].mean_, X[lab].mean(axis=0))
    # among the labelled items the third column does not vary (scikit-learn divides it by 1);
    # over the pool it does
    assert off.supervised_[0].scale_[2] == 1.0 and on.supervised_[0].estimator.scale_[2] > 1.0
    assert np.isfinite(on.predict_proba(X)).all()
    auto = HybridClassifier(_lr(), "auto").fit_pool(X, lab, y[lab])
    assert set(auto.cv_scores_) == {"blend", "supervised", "spreading"}


@pytest.mark.parametrize("semi", ["auto", "spreading", "self-training"])
def test_embed_model_reads_the_pipeline_inside_the_hybrid_fit(semi):
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA

    X, y = load_digits(return_X_y=True)
    X, y = X[:200], y[:200]
    pipe = make_pipeline(StandardScaler(), PCA(4, random_state=0), LogisticRegression(max_iter=300))
    learner = ActiveLearner(pipe, "kcenter", random_state=0, embed="model", semi_supervised=semi)
    learner.fit(X)
    idx = learner.query(20)
    learner.teach(idx, y[idx])
    embed = learner.context().embed
    assert embed is not None and embed(X[:3]).shape == (3, 4)  # not the 64 raw pixels


def test_decision_function_of_a_hybrid_fit_names_predict_proba():
    X, y = make_moons(120, noise=0.1, random_state=0)
    learner = ActiveLearner(LogisticRegression(), semi_supervised="spreading", random_state=0)
    learner.fit(X, [0, 1, 2, 3], y[:4])
    with pytest.raises(
        AttributeError, match=r"no decision_function \(the hybrid fit.*predict_proba"
    ):
        learner.decision_function(X[:2])
    assert learner.model_.supervised_.decision_function(X[:2]).shape == (2,)


def test_lure_weights_self_training_cannot_take_are_said_to_be_ignored():
    # self-training refitted on pseudo-labels and dropped the weights without a word; the
    # warnings of the weighted hybrid fit pointed into activelab instead of at the caller
    X, y = _moons(200)
    lab = _few(y, 3)
    q = np.full(lab.size, 1.0 / len(y))
    for semi, says in (("self-training", "'self-training' refits on pseudo-labels"),
                       ("spreading", None)):  # fmt: skip
        learner = ActiveLearner(_lr(), "random", weighting="lure", semi_supervised=semi).fit(X)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            learner.teach(lab, y[lab], probabilities=q)
        said = [w for w in caught if "weighting='lure' ignored" in str(w.message)]
        assert [says in str(w.message) for w in said] == ([True] if says else [])
        assert all(w.filename == __file__ for w in said)
    learner = ActiveLearner(_lr(), "margin", weighting="lure", semi_supervised="blend").fit(X)
    with pytest.warns(UserWarning, match="no recorded selection probability") as caught:
        learner.teach(lab, y[lab])
    assert caught[0].filename == __file__


def test_a_pool_changed_in_place_gets_a_new_graph_and_fit_starts_over():
    # the shared graph was keyed by the pool's identity alone: a pool rescaled in place and
    # fitted again got the graph of its old content, though fit "starts over"
    X, y = _moons(200)
    X = np.c_[X, np.random.default_rng(0).normal(size=(200, 1))]
    lab = _few(y, 3)
    first = ActiveLearner(_lr(), "margin", semi_supervised="spreading").fit(X, lab, y[lab])
    before = build_count()
    again = ActiveLearner(_lr(), "margin", semi_supervised="spreading").fit(X, lab, y[lab])
    assert build_count() == before  # unchanged: the same graph
    np.testing.assert_array_equal(again.graph_pool_.graph.indices, first.graph_pool_.graph.indices)
    X[:, 2] *= 1e-3  # the noise column muted, in place
    changed = ActiveLearner(_lr(), "margin", semi_supervised="spreading").fit(X, lab, y[lab])
    assert build_count() == before + 1
    fresh = ActiveLearner(_lr(), "margin", semi_supervised="spreading").fit(X.copy(), lab, y[lab])
    np.testing.assert_array_equal(
        changed.graph_pool_.graph.indices, fresh.graph_pool_.graph.indices
    )
    assert not np.array_equal(changed.graph_pool_.graph.indices, first.graph_pool_.graph.indices)


def test_a_supervised_hybrid_fit_predicts_with_the_classifiers_own_rule():
    # the hybrid fit predicted the argmax of the probabilities even when it chose the
    # classifier alone, so a ThresholdClassifier's tuned threshold was silently dropped
    from activelab.models.imbalance import ThresholdClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = (X[:, 0] + 0.5 * rng.normal(size=300) > 1.3).astype(int)
    lab = np.r_[np.flatnonzero(y == 0)[:30], np.flatnonzero(y == 1)[:10]]
    model = ThresholdClassifier(_lr(), scoring="balanced_accuracy")
    for method in ("supervised", "self-training"):
        hybrid = HybridClassifier(model, method).fit_pool(X, lab, y[lab])
        inner = hybrid.supervised_
        np.testing.assert_array_equal(hybrid.predict(X), inner.predict(X))
        assert (
            hybrid.predict(X).tolist() != inner.classes_[inner.predict_proba(X).argmax(1)].tolist()
        )
        np.testing.assert_array_equal(hybrid.compact().predict(X), inner.predict(X))


def test_the_automatic_check_scores_the_classifier_by_its_own_predictions():
    # the check scored the supervised candidate by the argmax of its probabilities, not by
    # the predictions it then makes (a ThresholdClassifier's tuned threshold)
    from sklearn.base import BaseEstimator, ClassifierMixin

    class _SaysZero(ClassifierMixin, BaseEstimator):
        """Probabilities that favour class 1, predictions that are always class 0."""

        def fit(self, X, y):
            self.classes_ = np.unique(y)
            return self

        def predict_proba(self, X):
            return np.tile([0.2, 0.8], (len(X), 1))

        def predict(self, X):
            return np.full(len(X), self.classes_[0])

    X, y = _moons(200)
    lab = np.r_[np.flatnonzero(y == 0)[:14], np.flatnonzero(y == 1)[:6]]
    model = HybridClassifier(_SaysZero(), "auto").fit_pool(X, lab, y[lab])
    assert model.cv_scores_["supervised"] == pytest.approx(0.7)  # class 0: 14 of 20 labels


@pytest.mark.parametrize("strategy", ["probcover", "auto"])
def test_a_pool_of_categories_is_searched_once_over_a_campaign(strategy):
    # the pipeline's encoder was handed to the strategies as a bound method taken anew at
    # every query; the shared graph, keyed by the function's identity, searched again each time
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import OneHotEncoder

    X, y = _moons(200)
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "side": np.where(X[:, 0] > 0.5, "r", "l")})
    pipe = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["side"]), remainder=StandardScaler()),
        LogisticRegression(max_iter=500),
    )
    before = build_count()
    learner = ActiveLearner(pipe, strategy, random_state=0, semi_supervised="auto").fit(frame)
    for _ in range(4):
        idx = learner.query(5)
        learner.teach(idx, y[idx])
    assert build_count() - before == 1


def test_auto_hybrid_with_knn_and_fewer_labels_per_fold_than_neighbours():
    from sklearn.datasets import load_iris
    from sklearn.neighbors import KNeighborsClassifier

    from activelab import ActiveLearner

    X, y = load_iris(return_X_y=True)
    idx = np.arange(0, 150, 25)  # 6 labels: each cross-validation fold trains on 4 < 5
    learner = ActiveLearner(KNeighborsClassifier(), "margin", semi_supervised="auto")
    learner.fit(X, idx, y[idx])
    assert learner.query(3).shape == (3,)
