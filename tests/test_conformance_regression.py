"""The conformance suite for regression strategies: the same checks as tests/test_conformance.py.

Every registered strategy of task "regression" is picked up automatically.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.ensemble import RandomForestRegressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from activelab import ActiveLearner, StrategyRequirementError
from activelab.strategies import available, get_strategy
from activelab.strategies.regression import spread_source

REGRESSION = [s for s in available() if get_strategy(s).task == "regression"]
NEEDS_MODEL = [s for s in REGRESSION if get_strategy(s).needs_model]
SPREAD = [s for s in REGRESSION if getattr(get_strategy(s), "uses_spread", False)]
BELIEVER = ["greedy", "ucb", "expected_improvement"]


def test_every_regression_strategy_is_in_the_suite():
    expected = {
        "variance",
        "committee_variance",
        "gsx",
        "gsy",
        "igs",
        "emcm",
        "greedy",
        "ucb",
        "expected_improvement",
        "thompson",
    }
    assert expected <= set(REGRESSION)
    assert {"variance", "ucb", "expected_improvement", "thompson"} <= set(SPREAD)


def _data(seed: int = 0, n: int = 120):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 3))
    y = np.sin(2 * X[:, 0]) + 0.5 * X[:, 1] + 0.1 * rng.normal(size=n)
    return X, y


def _forest():
    return RandomForestRegressor(n_estimators=10, random_state=0)


def _learner(name, X, y, n_init=12, seed=0, estimator=None, **params):
    est = estimator if estimator is not None else _forest()
    strategy = get_strategy(name, **params)
    learner = ActiveLearner(est, strategy, random_state=seed, cold_start="random")
    init = np.random.default_rng(seed).choice(len(y), n_init, replace=False)
    return learner.fit(X, init, y[init])


def _check_picks(learner, idx, n):
    assert idx.dtype == np.int64 and idx.shape == (n,)
    assert len(set(idx.tolist())) == n
    assert np.isin(idx, learner.unlabelled_).all()


@pytest.mark.parametrize("name", REGRESSION)
@pytest.mark.parametrize("n", [1, 7])
def test_returns_n_unique_unlabelled_indices(name, n):
    X, y = _data()
    learner = _learner(name, X, y)
    idx = learner.query(n)
    _check_picks(learner, idx, n)
    assert not learner.history_[-1].cold_start


@pytest.mark.parametrize("name", REGRESSION)
def test_repeats_exactly_under_a_seed(name):
    X, y = _data()
    runs = []
    for _ in range(2):
        learner = _learner(name, X, y, seed=3)
        picks = []
        for _ in range(3):
            idx = learner.query(4)
            learner.teach(idx, y[idx])
            picks.append(idx.tolist())
        runs.append(picks)
    assert runs[0] == runs[1]


@pytest.mark.parametrize("name", REGRESSION)
def test_n_larger_than_candidates_is_a_clear_error(name):
    X, y = _data(n=30)
    learner = _learner(name, X, y, n_init=25)
    with pytest.raises(ValueError, match="only 5 unlabelled candidates remain"):
        learner.query(6)
    assert learner.n_labelled_ == 25


@pytest.mark.parametrize("name", REGRESSION)
def test_n_zero_is_empty(name):
    X, y = _data()
    assert _learner(name, X, y).query(0).shape == (0,)


@pytest.mark.parametrize("name", NEEDS_MODEL)
def test_one_label_means_cold_start(name):
    X, y = _data()
    learner = ActiveLearner(_forest(), name, random_state=0).fit(X, [0], y[:1])
    idx = learner.query(3)
    assert len(set(idx.tolist())) == 3 and 0 not in idx
    assert learner.history_[-1].cold_start


@pytest.mark.parametrize("name", REGRESSION)
def test_sparse_pool(name):
    X, y = _data()
    Xs = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
    learner = _learner(name, Xs, y)
    idx = learner.query(5)
    _check_picks(learner, idx, 5)


@pytest.mark.parametrize("name", REGRESSION)
def test_pipeline_estimator(name):
    X, y = _data()
    pipe = make_pipeline(StandardScaler(), _forest())
    learner = _learner(name, X, y, estimator=pipe)
    _check_picks(learner, learner.query(5), 5)


@pytest.mark.parametrize("name", REGRESSION)
def test_gaussian_process_pipeline(name):
    X, y = _data()
    gp = make_pipeline(StandardScaler(), GaussianProcessRegressor(RBF(1.0), optimizer=None))
    params = {"sample": "gaussian"} if name == "thompson" else {}
    learner = _learner(name, X, y, estimator=gp, **params)
    _check_picks(learner, learner.query(5), 5)


@pytest.mark.parametrize("name", REGRESSION)
def test_chunk_size_does_not_change_the_picks(name):
    X, y = _data()
    picks = []
    for chunk in (16384, 7):
        est = _forest()
        learner = ActiveLearner(est, name, random_state=1, cold_start="random", chunk_size=chunk)
        learner.fit(X, np.arange(12), y[:12])
        picks.append(learner.query(6).tolist())
    assert picks[0] == picks[1]


@pytest.mark.parametrize("name", SPREAD)
def test_model_without_spread_is_refused_before_work(name):
    X, _y = _data()
    with pytest.raises(StrategyRequirementError, match=r"Ridge has none.*bootstrap"):
        ActiveLearner(Ridge(), name).fit(X)
    with pytest.raises(StrategyRequirementError, match="Ridge has none"):
        ActiveLearner(make_pipeline(StandardScaler(), Ridge()), name).fit(X)


@pytest.mark.parametrize("name", SPREAD)
def test_bootstrap_committee_gives_any_regressor_a_spread(name):
    X, y = _data()
    learner = _learner(name, X, y, estimator=Ridge(), uncertainty="bootstrap")
    assert get_strategy(name, uncertainty="bootstrap").fits_models
    _check_picks(learner, learner.query(5), 5)


@pytest.mark.parametrize("name", NEEDS_MODEL)
def test_classifier_is_refused(name):
    X, _y = _data()
    with pytest.raises(StrategyRequirementError, match="LogisticRegression is a classifier"):
        ActiveLearner(LogisticRegression(), name).fit(X)


def _gp_line():
    # Labelled points at 0..3; candidates near them and far away.
    X = np.array([[0.0], [1.0], [2.0], [3.0], [1.5], [2.5], [7.0], [4.0], [5.5]])
    y = np.array([0.0, 1.0, 0.5, 1.5, 0, 0, 0, 0, 0])
    return X, y


def test_variance_picks_the_known_most_uncertain_point():
    X, y = _gp_line()
    gp = GaussianProcessRegressor(RBF(1.0), optimizer=None)
    learner = ActiveLearner(gp, "variance").fit(X, [0, 1, 2, 3], y[:4])
    assert learner.query(1).tolist() == [6]
    assert learner.query(3).tolist() == [6, 8, 7]


def test_variance_with_a_bootstrap_committee_picks_the_extrapolation():
    X, y = _gp_line()
    learner = ActiveLearner(Ridge(alpha=1e-3), get_strategy("variance", uncertainty="bootstrap"))
    learner.fit(X, [0, 1, 2, 3], y[:4])
    assert learner.query(1).tolist() == [6]


def test_variance_of_a_forest_is_the_spread_of_its_trees():
    X, y = _data()
    forest = _forest().fit(X[:30], y[:30])
    learner = ActiveLearner(_forest(), "variance").fit(X, np.arange(30), y[:30])
    trees = np.stack([t.predict(X[30:]) for t in forest.estimators_])
    expected = 30 + np.lexsort((np.arange(90), -trees.std(axis=0)))[:4]
    assert learner.query(4).tolist() == expected.tolist()
    assert spread_source(forest) == "ensemble"


@pytest.mark.parametrize("name", BELIEVER)
def test_kriging_believer_batches(name):
    X, y = _data()
    learner = _learner(name, X, y, batch="believer", max_refits=2)
    assert learner._strategy.fits_models
    idx = learner.query(6)
    _check_picks(learner, idx, 6)


def test_thompson_member_draws_need_an_ensemble():
    X, y = _data()
    learner = _learner("thompson", X, y, sample="member")
    _check_picks(learner, learner.query(5), 5)
    gp = GaussianProcessRegressor(optimizer=None)
    with pytest.raises(StrategyRequirementError, match="sample='member' needs an ensemble"):
        ActiveLearner(gp, get_strategy("thompson", sample="member")).fit(X)
    boot = _learner("thompson", X, y, estimator=Ridge(), sample="member", uncertainty="bootstrap")
    _check_picks(boot, boot.query(3), 3)


def test_gsx_is_k_center_greedy():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(60, 4))
    labelled = np.array([0, 1, 2])
    learner = ActiveLearner(_forest(), "gsx").fit(X, labelled, np.zeros(3))
    picks = learner.query(8).tolist()
    # Brute force: repeatedly take the candidate farthest from everything chosen so far.
    chosen, expected = list(labelled), []
    for _ in range(8):
        d = np.min(np.linalg.norm(X[:, None, :] - X[None, chosen, :], axis=2), axis=1)
        d[chosen] = -1
        best = int(np.argmax(d))
        expected.append(best)
        chosen.append(best)
    assert picks == expected


def test_gsx_without_labels_starts_at_the_centre():
    X = np.array([[-4.0], [-1.0], [0.2], [3.0], [5.0]])
    learner = ActiveLearner(_forest(), "gsx").fit(X)
    assert learner.query(3).tolist() == [2, 4, 0]


def test_greedy_and_ucb_find_the_top_of_a_known_function():
    X = np.linspace(0, 1, 50).reshape(-1, 1)
    y = -((X[:, 0] - 0.8) ** 2)
    gp = GaussianProcessRegressor(RBF(0.2), optimizer=None)
    learner = ActiveLearner(gp, "greedy").fit(X, [0, 10, 20, 30, 49], y[[0, 10, 20, 30, 49]])
    assert abs(X[learner.query(1)[0], 0] - 0.8) < 0.05
    ucb = get_strategy("ucb", kappa=100.0)
    learner = ActiveLearner(gp, ucb).fit(X, [0, 10, 20, 30, 49], y[[0, 10, 20, 30, 49]])
    # with a huge kappa UCB explores: the midpoint of the widest gap
    assert learner.query(1)[0] in (40, 39)


def test_minimize_flips_the_direction():
    X = np.linspace(0, 1, 30).reshape(-1, 1)
    y = X[:, 0]
    learner = ActiveLearner(Ridge(alpha=1e-6), get_strategy("greedy", maximize=False))
    learner.fit(X, [10, 20], y[[10, 20]])
    assert learner.query(2).tolist() == [0, 1]


def test_unknown_options_are_refused():
    with pytest.raises(ValueError, match="uncertainty must be"):
        get_strategy("variance", uncertainty="dropout")
    with pytest.raises(ValueError, match="batch must be"):
        get_strategy("ucb", batch="kb")
    with pytest.raises(ValueError, match="sample must be"):
        get_strategy("thompson", sample="posterior")
    with pytest.raises(ValueError, match="kappa must be"):
        get_strategy("ucb", kappa=-1)
    with pytest.raises(ValueError, match="n_members must be >= 2"):
        get_strategy("committee_variance", n_members=1)
    with pytest.raises(ValueError, match="committee must be"):
        get_strategy("committee_variance", committee="boosting")


def test_spread_sources_match_their_definitions():
    from sklearn.ensemble import BaggingRegressor, ExtraTreesRegressor
    from sklearn.linear_model import BayesianRidge
    from sklearn.tree import DecisionTreeRegressor

    from activelab.strategies.regression import predictive_mean_std

    X, y = _data()
    Xq = X[40:]
    bag = BaggingRegressor(
        DecisionTreeRegressor(), n_estimators=6, max_features=0.67, random_state=0
    ).fit(X[:40], y[:40])
    members = np.stack(
        [
            m.predict(Xq[:, f])
            for m, f in zip(bag.estimators_, bag.estimators_features_, strict=True)
        ]
    )
    mean, std = predictive_mean_std(bag, Xq)
    assert np.allclose(mean, bag.predict(Xq)) and np.allclose(std, members.std(axis=0))
    trees = ExtraTreesRegressor(8, random_state=0).fit(X[:40], y[:40])
    mean, std = predictive_mean_std(make_pipeline(StandardScaler(), trees).fit(X[:40], y[:40]), Xq)
    assert np.allclose(mean, make_pipeline(StandardScaler(), trees).fit(X[:40], y[:40]).predict(Xq))
    br = BayesianRidge().fit(X[:40], y[:40])
    mean, std = predictive_mean_std(br, Xq)
    assert np.allclose(std, br.predict(Xq, return_std=True)[1])
    assert spread_source(br) == "return_std" and spread_source(bag) == "ensemble"


def test_believer_batch_spreads_where_top_n_crowds():
    # Far from the labels, two tight groups: top-n takes both points of the first group,
    # the believer batch (refit after each pick) moves on to the other group.
    X = np.array([[0.0], [1.0], [2.0], [3.0], [9.0], [9.01], [-6.0]])
    y = np.array([0.0, 0.5, 0.2, 0.4, 0, 0, 0])
    gp = GaussianProcessRegressor(RBF(1.0), optimizer=None)
    top = ActiveLearner(gp, get_strategy("ucb", kappa=3.0)).fit(X, [0, 1, 2, 3], y[:4])
    believer = ActiveLearner(gp, get_strategy("ucb", kappa=3.0, batch="believer"))
    believer.fit(X, [0, 1, 2, 3], y[:4])
    assert sorted(top.query(2).tolist()) == [4, 5]
    picks = believer.query(2).tolist()
    assert picks[0] in (4, 5) and picks[1] == 6


@pytest.mark.parametrize("name", REGRESSION)
def test_float32_pool(name):
    """A dense float32 pool works, from the cold start on."""
    X, y = _data()
    X32 = X.astype(np.float32)
    cold = ActiveLearner(_forest(), name, random_state=0).fit(X32)
    assert len(set(cold.query(4).tolist())) == 4
    learner = _learner(name, X32, y)
    _check_picks(learner, learner.query(5), 5)
