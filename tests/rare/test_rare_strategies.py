"""The rare-class strategies find positives; active anomaly discovery learns from answers."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import LogisticRegression

from activelab import ActiveLearner
from activelab.simulation.runner import simulate
from activelab.strategies import QueryContext, get_strategy
from activelab.strategies.rare import (
    ActiveAnomalyDiscovery,
    AnomalyColdStart,
    ClassBalanced,
    PositiveSeeking,
    RareAuto,
    RareDiscovery,
    known_positive,
    leaf_features,
)


def _pool(seed=0, n=1500, share=0.03):
    """Common points in a blob; rare positives in a small off-centre cluster."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < share).astype(int)
    X = rng.normal(size=(n, 5))
    X[y == 1] = rng.normal(loc=3.0, scale=0.5, size=(int(y.sum()), 5))
    return X, y


def _campaign(strategy, X, y, budget=60, seed=0):
    learner = ActiveLearner(
        LogisticRegression(max_iter=500, class_weight="balanced"),
        strategy,
        random_state=seed,
        cold_start="random",
        classes=[0, 1],
    )
    init = np.random.default_rng(seed).choice(len(y), 10, replace=False)
    learner.fit(X, init, y[init])
    while learner.n_labelled_ < budget:
        idx = learner.query(10)
        learner.teach(idx, y[idx])
    return int(y[learner.labelled_].sum())


def test_leaf_features_reproduce_the_isolation_forest_ranking():
    X, _ = _pool(n=400)
    forest = IsolationForest(n_estimators=30, random_state=0).fit(X)
    mine = leaf_features(forest, X).sum(axis=1).A1
    theirs = -forest.score_samples(X)  # scikit-learn: lower is more abnormal
    assert np.corrcoef(np.argsort(np.argsort(mine)), np.argsort(np.argsort(theirs)))[0, 1] > 0.999


@pytest.mark.parametrize("name", ["positive_seeking", "aad", "anomaly"])
def test_discovery_finds_several_times_more_positives_than_random(name):
    X, y = _pool()
    found = _campaign(name, X, y)
    rand = np.mean([_campaign("random", X, y, seed=s) for s in range(3)])
    assert found >= 3 * max(rand, 1.0), (found, rand)


def test_positive_seeking_starts_from_anomalies_without_a_model():
    X, y = _pool()
    ctx = QueryContext(
        X=X, candidates=np.arange(len(y)), labelled=np.array([], int), y_labelled=np.array([])
    )
    odd = AnomalyColdStart().select(ctx, 20)
    assert PositiveSeeking(cold_explore=0.0).select(ctx, 20).tolist() == odd.tolist()
    assert y[odd].mean() > 0.3
    # by default half of a batch is random: the ten most anomalous first, then ten others
    picks = PositiveSeeking().select(replace(ctx, rng=np.random.default_rng(0)), 20)
    assert picks[:10].tolist() == odd[:10].tolist()
    assert np.intersect1d(picks[10:], picks[:10]).size == 0 and np.unique(picks).size == 20
    other = PositiveSeeking().select(replace(ctx, rng=np.random.default_rng(1)), 20)
    assert other[:10].tolist() == picks[:10].tolist() and other[10:].tolist() != picks[10:].tolist()


def test_positive_seeking_finds_a_rare_class_that_is_not_anomalous():
    """Positives in a tight cluster at the bulk's edge, dull outliers on the other side,
    no positive among the initial labels: the anomaly ranking alone asks about outliers
    round after round; the random share meets a positive and the model takes over."""
    rng = np.random.default_rng(2)
    n = 1500
    y = (rng.random(n) < 0.06).astype(int)
    X = rng.normal(size=(n, 4))
    X[y == 1] = rng.normal(loc=1.2, scale=0.2, size=(int(y.sum()), 4))
    dull = np.flatnonzero(y == 0)[:150]
    X[dull] = -6.0 * np.abs(X[dull])  # outliers that are not the class sought
    assert y[np.random.default_rng(0).choice(n, 10, replace=False)].sum() == 0  # _campaign's
    assert _campaign(PositiveSeeking(cold_explore=0.0), X, y, budget=100) == 0
    assert _campaign(PositiveSeeking(), X, y, budget=100) >= 30


def test_positive_seeking_rejects_a_bad_cold_explore():
    with pytest.raises(ValueError, match="cold_explore must be in"):
        PositiveSeeking(cold_explore=1.5)


def test_class_balanced_weights_the_rare_class_up():
    X, y = _pool(n=800, share=0.1)
    lab = np.r_[np.flatnonzero(y == 0)[:40], np.flatnonzero(y == 1)[:2]]
    model = LogisticRegression(max_iter=500).fit(X[lab], y[lab])
    ctx = QueryContext(
        X=X,
        candidates=np.setdiff1d(np.arange(len(y)), lab),
        labelled=lab,
        y_labelled=y[lab],
        model=model,
        classes=np.array([0, 1]),
    )
    plain = get_strategy("margin").select(ctx, 30)
    weighted = ClassBalanced(power=2.0).select(ctx, 30)
    p = model.predict_proba(X)[:, 1]
    assert p[weighted].mean() > p[plain].mean()
    assert ClassBalanced(power=0.0).select(ctx, 30).tolist() == plain.tolist()


def test_aad_raises_items_near_confirmed_positives_and_sinks_those_near_negatives():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 2))
    X[:15] += 4.0  # the true anomalies
    X[15:60] *= 4.0  # scattered dull outliers
    y = np.r_[np.ones(15, int), np.zeros(585, int)]
    lab = np.r_[0, 15, 16, 17, 18]
    ctx = QueryContext(
        X=X, candidates=np.setdiff1d(np.arange(600), lab), labelled=lab, y_labelled=y[lab]
    )
    plain = AnomalyColdStart().select(ctx, 10)
    aad = ActiveAnomalyDiscovery(positive_label=1).select(ctx, 10)
    assert y[aad].sum() >= y[plain].sum() + 5
    hinge = ActiveAnomalyDiscovery(positive_label=1, loss="hinge").select(ctx, 10)
    assert hinge.shape == (10,)
    # with no answer at all, the weights are the plain forest's
    empty = ctx.__class__(
        X=X, candidates=np.arange(600), labelled=np.array([], int), y_labelled=np.array([])
    )
    assert (ActiveAnomalyDiscovery().weights(empty) == 1 / 100).all()


def test_known_positive_is_deprecated_and_still_works():
    with pytest.warns(DeprecationWarning, match=r"goes in activelab 0\.3; .*estimated_shares"):
        assert known_positive(["a", "b", "b"]) == "a"
    with pytest.warns(DeprecationWarning):
        assert known_positive(["a", "a"]) is None
    with pytest.warns(DeprecationWarning):
        assert known_positive(["a", "a"], positive_label="b") == "b"


def test_bad_parameters():
    with pytest.raises(ValueError, match="loss must be"):
        ActiveAnomalyDiscovery(loss="l2")
    with pytest.raises(ValueError, match="tau must be"):
        ActiveAnomalyDiscovery(tau=1.5)


def test_auto_rare_has_a_positive_seeking_arm_the_bandit_can_pick():
    X, y = _pool(n=600, share=0.08)
    auto = RareAuto(cv=None)
    assert "positive_seeking" in auto.arms and get_strategy("auto_rare").name == "auto_rare"
    learner = ActiveLearner(LogisticRegression(max_iter=500), auto, random_state=0)
    init = np.r_[np.flatnonzero(y == 0)[:8], np.flatnonzero(y == 1)[:2]]
    learner.fit(X, init, y[init])
    for _ in range(6):
        idx = learner.query(5)
        learner.teach(idx, y[idx])
    assert "positive_seeking" in learner.strategy_.arm_names_
    assert "positive_seeking" in learner.strategy_.arm_history_


def test_auto_rare_seeks_the_positive_label_it_is_given(tmp_path):
    # auto_rare took no positive_label: its positive-seeking arm sought the rarest class
    # among the labels, which is the negative one once positives outnumber them (and
    # simulate's --positive-label never reached it)
    X, y = _pool(n=600, share=0.08)
    init = np.r_[np.flatnonzero(y == 0)[:3], np.flatnonzero(y == 1)[:6]]
    auto = get_strategy("auto_rare", positive_label=1, cv=None)
    learner = ActiveLearner(LogisticRegression(max_iter=500), auto, random_state=0)
    learner.fit(X, init, y[init]).query(5)
    seekers = [a for a in learner.strategy_._arms if a.name == "positive_seeking"]
    assert [a.positive_label for a in seekers] == [1]
    ctx = learner.context()
    assert y[seekers[0].select(ctx, 10)].mean() > 0.8  # positives, not the rarer negatives
    doc = simulate(
        (X, y), LogisticRegression(max_iter=500), ["auto_rare"], positive_label=1,
        strategy_params={"auto_rare": {"positive_label": "1"}}, seeds=1, budget=20,
        progress=False,
    )  # fmt: skip
    assert doc["settings"]["strategy_params"]["auto_rare"]["positive_label"] == 1


@pytest.mark.parametrize("name", ["positive_seeking", "rare_discovery", "aad"])
def test_class_seeking_strategies_refuse_a_regressor(name):
    from sklearn.linear_model import Ridge

    from activelab.strategies import StrategyRequirementError

    X = np.random.default_rng(0).normal(size=(40, 3))
    learner = ActiveLearner(Ridge(), name)
    with pytest.raises(StrategyRequirementError, match=r"seeks a rare class.*use 'greedy'"):
        learner.fit(X)  # it used to run, ranking numbers as if they were classes
    ActiveLearner(LogisticRegression(), name).fit(X)


@pytest.mark.parametrize("strategy", [PositiveSeeking, ActiveAnomalyDiscovery, RareDiscovery])
def test_a_positive_label_outside_the_learners_classes_is_refused(strategy):
    # PositiveSeeking(positive_label="Fraud") with classes ["ok", "fraud"] never met its
    # positive: the campaign stayed on the cold start (anomalies, random picks), silently
    X, _ = _pool(n=200)
    learner = ActiveLearner(LogisticRegression(), strategy(positive_label="Fraud"),
                            classes=["ok", "fraud"])  # fmt: skip
    with pytest.raises(
        ValueError,
        match=r"positive_label='Fraud' is not one of the classes \['fraud', 'ok'\]\. "
        r"Did you mean 'fraud'\? Pass one",
    ):
        learner.fit(X)
    ActiveLearner(
        LogisticRegression(), strategy(positive_label="fraud"), classes=["ok", "fraud"]
    ).fit(X)
    ActiveLearner(LogisticRegression(), strategy(positive_label="Fraud")).fit(X)  # classes unknown


def _outnumbered(n=600, share=0.08):
    """A pool and a context whose labels hold twice as many positives as negatives."""
    X, y = _pool(n=n, share=share)
    lab = np.r_[np.flatnonzero(y == 0)[:3], np.flatnonzero(y == 1)[:6]]
    model = LogisticRegression(max_iter=500, class_weight="balanced").fit(X[lab], y[lab])
    ctx = QueryContext(
        X=X, candidates=np.setdiff1d(np.arange(n), lab), labelled=lab, y_labelled=y[lab],
        model=model, classes=np.array([0, 1]), rng=np.random.default_rng(0),
    )  # fmt: skip
    return X, y, ctx


@pytest.mark.parametrize("name", ["positive_seeking", "rare_discovery", "aad", "auto_rare"])
def test_without_positive_label_the_rare_class_is_sought_when_positives_outnumber(name):
    # the target was the rarest class among the labels: once the positives found outnumbered
    # the negatives, these strategies sought the negatives (batches of 10, 0, 10, 0 positives)
    _, y, ctx = _outnumbered()
    params = {"cv": None} if name == "auto_rare" else {}
    strategy = get_strategy(name, **params)
    if name == "auto_rare":  # the positive-seeking arm itself
        strategy.select(ctx, 5)
        strategy = next(a for a in strategy._arms if a.name == "positive_seeking")
    picks = strategy.select(ctx, 10)
    wanted = 0.4 if name == "rare_discovery" else 0.8  # half of rare_discovery's is random
    assert y[picks].mean() >= wanted, y[picks]


def test_positive_seeking_keeps_its_target_over_a_campaign():
    X, y = _pool(n=800, share=0.05)
    learner = ActiveLearner(
        LogisticRegression(max_iter=500, class_weight="balanced"), "positive_seeking",
        random_state=0, classes=[0, 1],
    )  # fmt: skip
    init = np.r_[np.flatnonzero(y == 0)[:8], np.flatnonzero(y == 1)[:2]]
    learner.fit(X, init, y[init])
    found = []
    while len(found) < 5:
        idx = learner.query(10)
        learner.teach(idx, y[idx])
        found.append(int(y[idx].sum()))
    assert min(found[:3]) >= 8, found  # not 10, 0, 10, 0
    assert learner._strategy._target_ == 1


def test_the_target_changes_only_when_another_class_is_estimated_at_half_of_it():
    _, _, ctx = _outnumbered()
    strategy = PositiveSeeking()
    classes = np.array([0, 1])
    assert strategy._target(ctx, classes, np.array([0.55, 0.45])) == 1
    assert strategy._target(ctx, classes, np.array([0.45, 0.55])) == 1  # kept: not below half
    assert strategy._target(ctx, classes, np.array([0.27, 0.73])) == 0  # below half: changed
    assert strategy._target(ctx, np.array([1, 2]), np.array([0.45, 0.55])) == 1  # 0 unknown


def test_aad_without_a_model_keeps_the_first_rare_class_of_the_labels():
    _, _, ctx = _outnumbered()
    aad = ActiveAnomalyDiscovery()
    first = replace(ctx, model=None, labelled=ctx.labelled[:4], y_labelled=ctx.y_labelled[:4])
    aad.weights(first)  # 3 negatives, 1 positive: the positive is the rare class
    assert aad._target_ == 1
    aad.weights(replace(ctx, model=None))  # 3 against 6 now: 3 is not below half of 6
    assert aad._target_ == 1


@pytest.mark.parametrize("positive_label", [2, None])
def test_positive_seeking_ranks_by_a_multi_class_decision_function(positive_label):
    # a model with a decision function only (LinearSVC) and three classes was never usable:
    # positive seeking stayed on its cold start (anomalies and random picks) all campaign
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(0)
    X, y = _pool(n=900, share=0.05)
    y3 = np.where(y == 1, 2, (rng.random(len(y)) < 0.5).astype(int))
    X[y3 == 0, 0] -= 3.0
    lab = np.r_[
        np.flatnonzero(y3 == 0)[:8], np.flatnonzero(y3 == 1)[:8], np.flatnonzero(y3 == 2)[:2]
    ]
    model = LinearSVC().fit(X[lab], y3[lab])
    ctx = QueryContext(
        X=X, candidates=np.setdiff1d(np.arange(len(y)), lab), labelled=lab, y_labelled=y3[lab],
        model=model, classes=np.array([0, 1, 2]), rng=np.random.default_rng(0),
    )  # fmt: skip
    picks = PositiveSeeking(positive_label=positive_label).select(ctx, 10)
    assert (y3[picks] == 2).all(), y3[picks]
    from sklearn.svm import SVC

    pairs = replace(ctx, model=SVC(decision_function_shape="ovo").fit(X[lab], y3[lab]))
    with pytest.raises(ValueError, match=r"one per pair of classes.*decision_function_shape='ovr'"):
        PositiveSeeking(positive_label=positive_label).select(pairs, 10)


def _three_class_pool(seed, shares):
    """A bulk class 0 and two small clusters, classes 1 and 2, at ``shares`` of the pool."""
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=1200, p=[1 - sum(shares), *shares])
    X = rng.normal(size=(1200, 2))
    X[y == 1] += [6.0, 0.0]
    X[y == 2] += [0.0, 6.0]
    return X, y


def _seek(strategy, X, y):
    learner = ActiveLearner(LogisticRegression(max_iter=500), strategy, random_state=0)
    init = np.r_[np.flatnonzero(y == 0)[:2], np.flatnonzero(y == 1)[:1], np.flatnonzero(y == 2)[:1]]
    learner.fit(X, init, y[init])
    for _ in range(3):
        idx = learner.query(10)
        learner.teach(idx, y[idx])
    return learner


@pytest.mark.parametrize("name", ["positive_seeking", "rare_discovery", "aad", "auto_rare"])
def test_a_strategy_reused_for_a_new_campaign_seeks_that_campaigns_rare_class(name):
    # the second campaign's rarest class is 2 (3 % against 5 %): the first campaign's target,
    # class 1, is not below half of it, so a strategy that kept it would have sought it on
    strategy = get_strategy(name, **({"cv": None} if name == "auto_rare" else {}))
    first = _seek(strategy, *_three_class_pool(0, (0.03, 0.05)))
    assert first.strategy_.target_ == 1
    X, y = _three_class_pool(1, (0.05, 0.03))
    learner = ActiveLearner(LogisticRegression(max_iter=500), strategy, random_state=0)
    learner.fit(X)
    assert learner.strategy_.target_ is None  # the new campaign has chosen nothing yet
    assert _seek(strategy, X, y).strategy_.target_ == 2
    first.fit(X)  # the first learner's next campaign forgets its old target too
    assert first.strategy_.target_ is None


def test_reset_takes_up_a_target_chosen_earlier_and_positive_label_comes_first():
    strategy = RareDiscovery()
    strategy.reset(2)
    assert strategy.target_ == 2
    assert RareDiscovery(positive_label=1).target_ == 1
    auto = RareAuto(cv=None)
    auto.reset(2)
    assert auto.target_ == 2
    X, y = _three_class_pool(0, (0.05, 0.03))
    auto.select(_seek("margin", X, y).context(), 5)  # builds the arms: they take it up
    assert next(a for a in auto._arms if a.name == "positive_seeking").target_ == 2


@pytest.mark.parametrize("typed", ["Fraud", "fraud "])
def test_a_positive_label_that_nearly_names_a_taught_label_warns_without_classes(typed):
    # without classes the learner could not refuse positive_label="Fraud" at fit, and the
    # campaign stayed on the cold start, silently
    X, y = _pool(n=200)
    labels = np.where(y == 1, "fraud", "ok")
    learner = ActiveLearner(LogisticRegression(), PositiveSeeking(positive_label=typed))
    learner.fit(X)
    init = np.r_[np.flatnonzero(y == 0)[:3], np.flatnonzero(y == 1)[:2]]
    with pytest.warns(UserWarning, match=rf"positive_label='{typed}' is not among the labels "
                      r"taught .*Did you mean 'fraud'\?"):  # fmt: skip
        learner.teach(init, labels[init])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per strategy; the right spelling never warns
        idx = learner.query(5)
        learner.teach(idx, labels[idx])
        right = ActiveLearner(
            LogisticRegression(), PositiveSeeking(positive_label=labels[init[-1]])
        )
        right.fit(X).teach(init, labels[init])


def test_rare_discovery_exploring_by_class_balanced_margin_refuses_a_model_without_proba():
    # accepted at fit, it failed at the first query with a model, labels already spent
    from sklearn.svm import LinearSVC

    from activelab.strategies import StrategyRequirementError

    X, _ = _pool(n=200)
    learner = ActiveLearner(LinearSVC(), RareDiscovery(explorer="class_balanced"))
    with pytest.raises(StrategyRequirementError, match=r"explorer='random' \(the default\)"):
        learner.fit(X)
    ActiveLearner(LinearSVC(), RareDiscovery()).fit(X)  # the random explorer needs no proba


def test_auto_forwards_a_new_campaign_to_the_arms_it_was_given_as_instances():
    arm = PositiveSeeking()
    arm.reset(2)  # as if an earlier campaign had chosen class 2
    auto = get_strategy("auto", arms=[arm], cv=None)
    auto.reset()  # a new campaign of the instance itself
    assert arm.target_ is None
    arm.reset(2)
    learner = ActiveLearner(LogisticRegression(), auto).fit(np.zeros((20, 2)))
    assert learner.strategy_.arms[0].target_ is None  # the learner's copy starts afresh
