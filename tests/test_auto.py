"""AutoStrategy, Explore and Stochastic: valid, recorded, reproducible probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from activelab import ActiveLearner
from activelab.simulation.campaign import run_campaign, split_pool_test
from activelab.strategies import AutoStrategy, Explore, Stochastic, get_strategy
from activelab.strategies.selection import DEFAULT_ARMS


def _data(seed: int = 0, n: int = 200):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [2.5, 0.0], [0.0, 2.5]])
    y = rng.integers(0, 3, size=n)
    return centres[y] + rng.normal(size=(n, 2)), y


def _run(strategy, seed=0, steps=4, batch=5):
    X, y = _data()
    init = np.random.default_rng(1).choice(len(y), 9, replace=False)
    learner = ActiveLearner(LogisticRegression(), strategy, random_state=seed)
    learner.fit(X, init, y[init])
    for _ in range(steps):
        idx = learner.query(batch)
        learner.teach(idx, y[idx])
    return learner


def test_auto_by_name_without_arguments():
    auto = get_strategy("auto")
    assert isinstance(auto, AutoStrategy) and auto.arms is None


def test_auto_probabilities_valid_recorded_and_reproducible():
    a, b = _run("auto", seed=4), _run("auto", seed=4)
    for ra, rb in zip(a.history_, b.history_, strict=True):
        assert ra.indices.tolist() == rb.indices.tolist()
        assert np.array_equal(ra.probabilities, rb.probabilities)
        assert ra.arms == rb.arms
        assert ((ra.probabilities > 0) & (ra.probabilities <= 1)).all()
        assert set(ra.arms) <= {"random", *DEFAULT_ARMS}
    q = a.selection_probabilities_
    assert np.isnan(q[:9]).all() and np.isfinite(q[9:]).all()  # taught labels: unknown
    auto = a._strategy
    # the newest batch is never scored (the newest model was fitted on it): no reward at the
    # first two queries
    assert len(auto.weight_history_) == 4 and len(auto.reward_history_) == 2
    for pi in auto.weight_history_:
        assert pi.shape == (len(auto.arm_names_),) and np.isclose(pi.sum(), 1.0)
    assert all(-1.0 <= r <= 1.0 for r in auto.reward_history_)
    assert not np.allclose(auto.weight_history_[0], auto.weight_history_[-1])
    assert auto.arm_history_ == [arm for rec in a.history_ for arm in rec.arms]


def test_albl_reward_still_available():
    learner = _run(AutoStrategy(reward="albl", cv=None), seed=4)
    auto = learner._strategy
    assert len(auto.reward_history_) == 3 and all(0 <= r <= 1 for r in auto.reward_history_)
    assert auto.gain_estimates_.size == 0
    with pytest.raises(ValueError, match="reward"):
        AutoStrategy(reward="accuracy")


def test_auto_recorded_probability_matches_frequency():
    # One pick from a fixed state: the recorded probability of the most likely
    # item must match how often it is drawn.
    X, y = _data(n=120)
    init = np.arange(12)
    learner = ActiveLearner(LogisticRegression(), "auto", random_state=0).fit(X, init, y[init])
    ctx = learner.context()
    draws, recorded = [], {}
    for s in range(400):
        auto = AutoStrategy(cv=None, reward="albl")
        idx, p = auto.select_proba(
            ctx.__class__(**{**ctx.__dict__, "rng": np.random.default_rng(s)}), 1
        )
        draws.append(int(idx[0]))
        recorded[int(idx[0])] = float(p[0])
    values, counts = np.unique(draws, return_counts=True)
    top = int(values[np.argmax(counts)])
    p = recorded[top]
    freq = counts.max() / len(draws)
    assert abs(freq - p) < 4 * np.sqrt(p * (1 - p) / len(draws)) + 1e-9


def test_auto_resets_on_a_new_pool_and_validates():
    auto = AutoStrategy(["margin"])
    X, y = _data()
    for _ in range(2):
        learner = ActiveLearner(LogisticRegression(), auto, random_state=0)
        learner.fit(X, np.arange(10), y[:10])
        idx = learner.query(3)
        learner.teach(idx, y[idx])
        learner.query(3)
        assert len(learner.strategy_.weight_history_) == 2  # each learner starts afresh
    assert auto.weight_history_ == []  # the instance given is cloned, never used itself
    with pytest.raises(ValueError, match="gamma"):
        AutoStrategy(gamma=1.5)
    with pytest.raises(ValueError, match="at least one"):
        AutoStrategy([])


def test_explore_share_is_respected_and_probabilities_are_right():
    X, y = _data(n=400)
    init = np.arange(15)
    learner = ActiveLearner(LogisticRegression(), Explore("margin", share=0.3), random_state=0).fit(
        X, init, y[init]
    )
    arms = []
    for _ in range(20):
        idx = learner.query(10)
        rec = learner.history_[-1]
        remaining = len(learner.unlabelled_) - np.arange(10)
        margin_pick = np.array([a == "margin" for a in rec.arms])
        # a base pick: share/R + (1 - share); a random pick: share/R (unless it hit the top)
        assert np.all(rec.probabilities[margin_pick] >= 0.7)
        assert np.allclose(
            rec.probabilities[~margin_pick] % 0.7, (0.3 / remaining)[~margin_pick] % 0.7
        )
        arms += list(rec.arms)
        learner.teach(idx, y[idx])
    share = np.mean([a == "random" for a in arms])
    assert abs(share - 0.3) < 4 * np.sqrt(0.3 * 0.7 / len(arms))


def test_explore_zero_share_is_the_base_and_schedule_decays():
    a = _run(Explore("margin", share=0.0))
    b = _run("margin")
    assert [r.indices.tolist() for r in a.history_] == [r.indices.tolist() for r in b.history_]
    sched = Explore.decay(0.4, half_life=10)
    assert Explore("margin", schedule=sched).current_share(10) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="share"):
        Explore("margin", share=1.5)


def _explore_by_scanning(strat, ctx, n):
    """Explore as it was written first: the free candidates found afresh per random pick."""
    share = strat.current_share(ctx.labelled.shape[0])
    explore = ctx.rng.random(n) < share
    ranked = strat.base.select(ctx, n)
    taken = np.zeros(ctx.candidates.shape[0], dtype=bool)
    picks, proba = np.empty(n, dtype=np.int64), np.empty(n)
    for j in range(n):
        nxt = next(int(r) for r in ranked if not taken[np.searchsorted(ctx.candidates, r)])
        if explore[j]:
            free = np.flatnonzero(~taken)
            pos = int(free[ctx.rng.integers(free.shape[0])])
        else:
            pos = int(np.searchsorted(ctx.candidates, nxt))
        taken[pos] = True
        picks[j] = ctx.candidates[pos]
        proba[j] = share / (ctx.candidates.shape[0] - j) + (1.0 - share) * (picks[j] == nxt)
    return picks, proba


@pytest.mark.parametrize("share", [0.0, 0.3, 0.8, 1.0])
def test_explore_picks_are_those_of_the_scan_over_the_pool_under_a_seed(share):
    from activelab.strategies.stochastic import _nth_free

    X, y = _data(n=400)
    init = np.arange(15)
    learner = ActiveLearner(LogisticRegression(), "margin", random_state=0).fit(X, init, y[init])
    ctx = learner.context()
    strat = Explore("margin", share=share)
    for seed in range(5):
        got = strat._select_proba(
            ctx.__class__(**{**ctx.__dict__, "rng": np.random.default_rng(seed)}), 60
        )
        ref = _explore_by_scanning(
            strat, ctx.__class__(**{**ctx.__dict__, "rng": np.random.default_rng(seed)}), 60
        )
        assert np.array_equal(got[0], ref[0]) and np.allclose(got[1], ref[1])
    taken = np.zeros(50, dtype=bool)
    taken[[0, 1, 7, 8, 30]] = True
    free = np.flatnonzero(~taken)
    assert [_nth_free(np.flatnonzero(taken), k) for k in range(45)] == free.tolist()


def test_stochastic_first_pick_frequency_matches_weights():
    X, y = _data(n=60)
    init = np.arange(9)
    learner = ActiveLearner(LogisticRegression(), "margin", random_state=0).fit(X, init, y[init])
    ctx = learner.context()
    strat = Stochastic("margin", temperature=0.5)
    w = strat.weights(strat.base.scores(ctx))
    w = w / w.sum()
    firsts = []
    for s in range(1500):
        c = ctx.__class__(**{**ctx.__dict__, "rng": np.random.default_rng(s)})
        idx, p = strat.select_proba(c, 3)
        pos = np.searchsorted(ctx.candidates, idx)
        assert p[0] == pytest.approx(w[pos[0]])
        assert p[1] == pytest.approx(w[pos[1]] / (1 - w[pos[0]]))
        firsts.append(pos[0])
    top = int(np.argmax(w))
    freq = np.mean(np.array(firsts) == top)
    assert abs(freq - w[top]) < 4 * np.sqrt(w[top] * (1 - w[top]) / 1500)


def test_stochastic_refuses_non_scoring_base():
    with pytest.raises(TypeError, match="ScoringStrategy"):
        Stochastic("random")
    with pytest.raises(ValueError, match="not both"):
        Stochastic("margin", temperature=1.0, power=2.0)


def test_campaign_records_arms_and_initial_probabilities():
    X, y = _data(n=150)
    Xp, Xt, yp, yt = split_pool_test(X, y, seed=0)
    seen = {}

    def grab(learner, result):
        seen["q"] = learner.selection_probabilities_.copy()

    r = run_campaign(
        LogisticRegression(),
        "auto",
        Xp,
        yp,
        Xt,
        yt,
        initial=6,
        batch_size=4,
        budget=18,
        callback=grab,
    )
    assert r.arms[0] == [] and all(len(a) == 4 for a in r.arms[1:])
    n = len(yp)
    assert np.allclose(seen["q"][:6], 1 / (n - np.arange(6)))
    assert np.isfinite(seen["q"]).all()


def test_plot_arm_choices_draws_a_figure():
    import matplotlib

    matplotlib.use("Agg")
    from activelab.simulation.selection_plots import plot_arm_choices

    learner = _run("auto")
    fig = plot_arm_choices(learner)
    assert len(fig.axes) == 2  # bars + arm probabilities
    assert fig.axes[1].get_ylabel() == "arm probability"


def test_plot_arm_choices_takes_a_run_of_a_results_file():
    import matplotlib

    matplotlib.use("Agg")
    from activelab.simulation.selection_plots import plot_arm_choices

    run = {"strategy": "auto", "seed": 0, "n_labels": [10, 12, 14]}
    run["arms"] = [[], ["density", "random"], ["density", "density"]]
    fig = plot_arm_choices(run)
    assert fig.axes[0].get_ylabel() == "picks per step"
    # the legend sits above the tallest bar (2 picks), not over it
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    tallest = max(p.get_window_extent().y1 for p in ax.patches)
    assert legend.y0 >= tallest
    with pytest.raises(ValueError, match=r"This run records no arms"):
        plot_arm_choices({"strategy": "auto", "seed": 0, "n_labels": [10, 12]})


@pytest.mark.parametrize("reward", ["gain", "albl"])
def test_auto_keeps_learning_when_some_picks_are_skipped(reward):
    # Picks left unlabelled (skipped) do not end the campaign: the bandit keeps its history
    # and only the picks that were taught are scored.
    X, y = _data()
    init = np.random.default_rng(1).choice(len(y), 9, replace=False)
    auto = AutoStrategy(reward=reward, cv=None)
    learner = ActiveLearner(LogisticRegression(), auto, random_state=0).fit(X, init, y[init])
    for _ in range(5):
        idx = learner.query(4)
        learner.teach(idx[:2], y[idx[:2]])  # the other two are skipped
    auto = learner.strategy_  # the learner's own copy holds the bandit's state
    assert len(auto.weight_history_) == 5 and len(auto.arm_history_) == 20
    assert len(auto.reward_history_) == (3 if reward == "gain" else 4)
    if reward == "gain":
        assert auto._book._rows[0].shape == (2 * 3,)  # two taught picks of each scored batch
    learner.fit(X, init, y[init])  # a fresh campaign on the same pool starts afresh
    learner.query(4)
    assert len(learner.strategy_.weight_history_) == 1


def test_gain_reward_probability_is_given_the_arm_drawn():
    # One pick from a fixed state with a single deterministic arm: the arm's top item is drawn
    # with probability (1 - gamma) + gamma / R, recorded as such, and its frequency matches.
    X, y = _data(n=120)
    init = np.arange(12)
    learner = ActiveLearner(LogisticRegression(), "margin", random_state=0).fit(X, init, y[init])
    ctx = learner.context()
    top = int(get_strategy("margin").select(ctx, 1)[0])
    R = ctx.candidates.shape[0]
    hits, n = 0, 300
    for s in range(n):
        auto = AutoStrategy(["margin"], random_prior=0.01, gamma=0.2)
        idx, p = auto.select_proba(
            ctx.__class__(**{**ctx.__dict__, "rng": np.random.default_rng(s)}), 1
        )
        if int(idx[0]) == top and auto.last_arms_ == ("margin",):
            assert p[0] == pytest.approx(0.8 + 0.2 / R)
            hits += 1
    expected = 0.99 * 0.8  # the margin arm drawn, then not the uniform share
    assert abs(hits / n - expected) < 4 * np.sqrt(expected * (1 - expected) / n)


def test_gain_reward_moves_the_weights_toward_the_better_arm():
    # Two arms on a pool where one class is hidden in a far cluster: an arm that always picks
    # the items the model is most sure of teaches nothing, margin teaches; the weights move.
    from activelab.strategies._base import ScoringStrategy

    class Surest(ScoringStrategy):
        name = "surest"
        requires = ("predict_proba",)

        def score_chunk(self, model, X_chunk):
            return model.predict_proba(X_chunk).max(axis=1)

    X, y = _data(seed=3, n=600)
    init = np.random.default_rng(0).choice(len(y), 10, replace=False)
    auto = AutoStrategy([get_strategy("margin"), Surest()], random_prior=0.02)
    learner = ActiveLearner(LogisticRegression(), auto, random_state=0).fit(X, init, y[init])
    for _ in range(15):
        idx = learner.query(8)
        learner.teach(idx, y[idx])
    auto = learner.strategy_  # the learner's copy records the campaign
    pi = auto.weight_history_[-1]
    names = auto.arm_names_
    assert pi[names.index("margin")] > 0.6 > pi[names.index("surest")]
    assert auto.gain_estimates_[names.index("margin")] > auto.gain_estimates_[names.index("surest")]
    assert np.array_equal(auto.probabilities_, pi)


def test_arms_are_checked_when_auto_is_made():
    from activelab.strategies import get_strategy

    with pytest.raises(TypeError, match=r"single strategy 'margin'; pass arms=\['margin'\]"):
        get_strategy("auto", arms="margin")
    with pytest.raises(ValueError, match=r"Unknown strategy 'margn'\. Did you mean 'margin'"):
        get_strategy("auto", arms=["margn", "density"])  # before any query, not mid-campaign
    assert get_strategy("auto", arms=("margin", "density")).arms == ["margin", "density"]


@pytest.mark.parametrize(
    ("arms", "message"),
    [
        (["margin", "density", "margin"], r"arms names 'margin' twice; give each strategy once"),
        (["margin", "auto"], r"arms cannot hold 'auto': auto already chooses among its arms"),
        (["margin", "auto_rare"], r"arms cannot hold 'auto_rare'"),
        (["margin", "gsx"], r"arm 'gsx' is a regression strategy, but auto chooses among class"),
        (["binmin"], r"arm 'binmin' is a multilabel strategy"),
    ],
)
def test_auto_refuses_duplicate_nested_and_other_task_arms(arms, message):
    from activelab.strategies import get_strategy

    with pytest.raises(ValueError, match=message):
        get_strategy("auto", arms=arms)
    with pytest.raises(ValueError, match=message):
        get_strategy("auto_rare", arms=arms)
