"""The shared conformance checks: every registered strategy of every task passes them.

Each check runs once per (task, strategy) pair of the kits in ``conftest.py``; a check that only
makes sense for one task lives in that task's file beside this one.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from activelab import StrategyRequirementError
from activelab.scoring import DEFAULT_CHUNK_SIZE
from activelab.strategies import available, get_strategy


def test_every_registered_strategy_is_in_the_suite(kits):
    tasks = {"classification": ["classification"], "multilabel": ["multilabel"]}
    tasks |= {"regression": ["regression"], "any": ["classification", "multilabel", "regression"]}
    for name in available():
        task = get_strategy(name).task
        assert task in tasks, f"{name} declares the unknown task {task!r}"
        for kit_task in tasks[task]:
            assert name in kits[kit_task].strategies, f"{name} is missing from {kit_task}"


def test_the_kits_hold_the_known_strategies(kits):
    names = {task: {s for s in kit.strategies if isinstance(s, str)} for task, kit in kits.items()}
    classification = {"least_confident", "margin", "entropy", "random", "typicality"}
    assert classification <= names["classification"]
    multilabel = {"binmin", "mean_entropy", "max_entropy", "mmc", "adaptive_ml"}
    assert multilabel <= names["multilabel"] and "random" in names["multilabel"]
    assert all(get_strategy(s).task == "multilabel" for s in multilabel)
    regression = {"variance", "committee_variance", "gsx", "gsy", "igs", "emcm", "greedy", "ucb"}
    assert regression | {"expected_improvement", "thompson"} <= names["regression"]
    spread = {s for s in names["regression"] if getattr(get_strategy(s), "uses_spread", False)}
    assert {"variance", "ucb", "expected_improvement", "thompson"} <= spread


@pytest.mark.parametrize("n", [1, 7])
def test_returns_n_unique_unlabelled_indices(case, n):
    kit, strategy = case
    X, y = kit.data()
    learner = kit.learner(strategy, X, y)
    kit.assert_picks(learner, learner.query(n), n)
    name = strategy if isinstance(strategy, str) else strategy.name
    assert learner.history_[-1].strategy == name
    assert not learner.history_[-1].cold_start


def test_repeats_exactly_under_a_seed_whatever_the_chunk_size(case):
    # Three query-and-teach rounds, twice under one seed: once scoring the pool in one chunk, once
    # in chunks of 7 rows. The picks depend on the data and the seed only.
    kit, strategy = case
    X, y = kit.data()
    runs = []
    for chunk_size in (DEFAULT_CHUNK_SIZE, 7):
        learner = kit.learner(strategy, X, y, seed=3, chunk_size=chunk_size)
        picks = [learner.query(4)]
        for _ in range(2):
            learner.teach(picks[-1], y[picks[-1]])
            picks.append(learner.query(4))
        runs.append([idx.tolist() for idx in picks])
    assert runs[0] == runs[1], "other picks under the same seed (with chunks of 7 rows)"


def test_a_learner_pickled_mid_campaign_goes_on_alike(case):
    # Saving a campaign between rounds (joblib, pickle) keeps every strategy's state: the copy
    # asks for the same items as the learner it was made from. Caches are warm by then.
    kit, strategy = case
    X, y = kit.data()
    learner = kit.learner(strategy, X, y, seed=3)
    for _ in range(2):
        idx = learner.query(4)
        learner.teach(idx, y[idx])
    copy = pickle.loads(pickle.dumps(learner))
    assert copy.query(4).tolist() == learner.query(4).tolist()


def test_n_larger_than_candidates_is_a_clear_error(case):
    kit, strategy = case
    X, y = kit.data(n=30)
    learner = kit.learner(strategy, X, y, n_init=25)
    with pytest.raises(ValueError, match="only 5 unlabelled candidates remain"):
        learner.query(6)
    assert learner.n_labelled_ == 25


def test_n_zero_is_empty(case):
    kit, strategy = case
    X, y = kit.data()
    assert kit.learner(strategy, X, y).query(0).shape == (0,)


def test_labels_too_few_for_a_model_fall_back_to_the_cold_start(case):
    # one class seen so far, no label seen both ways, a single target value
    kit, strategy = case
    X, y = kit.data()
    labelled, labels = kit.cold(X, y)
    learner = kit.unfitted(strategy, random_state=0).fit(X, labelled, labels)
    assert learner.model_ is None
    idx = learner.query(5)
    assert len(set(idx.tolist())) == 5 and not np.isin(idx, labelled).any()
    if get_strategy(strategy).needs_model:
        assert learner.history_[-1].cold_start
        assert learner.history_[-1].strategy == "typicality"


def test_sparse_pool(case):
    kit, strategy = case
    X, y = kit.data()
    learner = kit.learner(strategy, kit.sparse(X), y)
    kit.assert_picks(learner, learner.query(5), 5)


def test_pipeline_estimator(case):
    kit, strategy = case
    X, y = kit.data()
    pipe = make_pipeline(StandardScaler(), kit.estimator(strategy))
    learner = kit.learner(strategy, X, y, estimator=pipe)
    kit.assert_picks(learner, learner.query(5), 5)


def test_float32_pool_picks_like_float64(case):
    """A dense float32 pool (embeddings, images) works from no labels on, and picks what the
    same pool in float64 picks (the scores agree to float32 precision)."""
    kit, strategy = case
    X, y = kit.data()
    X32 = X.astype(np.float32)
    assert len(set(kit.unfitted(strategy, random_state=0).fit(X32).query(4).tolist())) == 4
    labelled, labels = kit.cold(X, y)
    cold = kit.unfitted(strategy, random_state=0).fit(X32, labelled, labels)
    idx = cold.query(5)
    assert len(set(idx.tolist())) == 5 and not np.isin(idx, labelled).any()
    picks = {}
    for dtype in (np.float32, np.float64):
        learner = kit.learner(strategy, X32.astype(dtype), y)
        idx = learner.query(5)
        kit.assert_picks(learner, idx, 5)
        picks[dtype] = set(idx.tolist())
    assert len(picks[np.float32] & picks[np.float64]) >= 4


def test_select_proba_agrees_with_select(case):
    # Same picks as select under the same generator, and either None (deterministic) or one
    # selection probability in (0, 1] per pick.
    kit, strategy = case
    X, y = kit.data(n=120)
    ctx = kit.learner(strategy, X, y).context()

    def fresh():
        return ctx.__class__(**{**ctx.__dict__, "rng": np.random.default_rng(5)})

    a = get_strategy(strategy).select(fresh(), 6)
    b, p = get_strategy(strategy).select_proba(fresh(), 6)
    assert a.tolist() == b.tolist()
    assert p is None or (p.shape == (6,) and ((p > 0) & (p <= 1)).all())


def test_model_lacking_a_capability_is_refused_before_work(refusal_case):
    kit, refusal, strategy = refusal_case
    X, _y = kit.data()
    with pytest.raises(StrategyRequirementError, match=refusal.match):
        kit.unfitted(strategy, estimator=refusal.model()).fit(X)
