"""ProbCover on the pool graph: coverage, the purity radius, the finer radius, the cache."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from activelab import ActiveLearner, shared_graph
from activelab.graph import PoolGraph
from activelab.strategies import ProbCover, _pool_graph, get_strategy
from activelab.strategies._base import QueryContext
from activelab.strategies.coverage import purity_radius


def _blobs(n: int = 300, seed: int = 0, sizes=(0.5, 0.3, 0.2)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0], [8.0, 0.0, 0.0], [0.0, 8.0, 0.0]])
    y = rng.choice(3, size=n, p=sizes)
    return centres[y] + rng.normal(scale=0.7, size=(n, 3)), y


def _ctx(X, labelled=(), classes=3) -> QueryContext:
    labelled = np.asarray(labelled, dtype=np.int64)
    return QueryContext(
        X=X,
        candidates=np.setdiff1d(np.arange(X.shape[0]), labelled),
        labelled=labelled,
        y_labelled=np.zeros(labelled.shape[0]),
        classes=np.arange(classes),
        rng=np.random.default_rng(0),
    )


def test_first_picks_cover_every_blob_and_skip_covered_ones() -> None:
    X, y = _blobs()
    picks = ProbCover(n_neighbors=30).select(_ctx(X), 3)
    assert sorted(y[picks].tolist()) == [0, 1, 2]
    # the next picks lie outside the balls of the labelled items (they cover new items)
    ctx = _ctx(X, labelled=picks)
    strat = ProbCover(n_neighbors=30)
    nxt = strat.select(ctx, 5)
    g = _pool_graph.pool_graph(ctx, 30)
    r = strat.radius_for(ctx, g)
    in_balls = set(g.indices[picks][g.distances[picks] <= r].tolist())
    assert not in_balls & set(nxt.tolist())


def test_greedy_takes_the_largest_uncovered_ball() -> None:
    # a dense group of 5 and a pair: with a fixed radius the first pick is in the group
    X = np.array([[0.0], [0.1], [0.2], [0.3], [0.4], [10.0], [10.1]])
    picks = ProbCover(n_neighbors=4, radius=0.25).select(_ctx(X, classes=2), 2)
    assert picks[0] == 2 and picks[1] in (5, 6)


def test_purity_radius_stops_before_a_foreign_neighbour() -> None:
    Z = np.array([[0.0], [0.5], [1.0], [4.0], [4.5], [5.0]])
    g = PoolGraph(Z, n_neighbors=3)
    r = purity_radius(g, np.array([0, 0, 0, 1, 1, 1]), purity=1.0)
    assert 2.9 < r < 3.0  # the closest pair across the clusters is 3.0 apart
    # no foreign neighbour in reach: the radius is the graph's reach
    assert purity_radius(g, np.zeros(6, int), purity=1.0) == pytest.approx(g.distances.max())


def test_more_picks_than_balls_go_on_at_a_finer_radius() -> None:
    X, _ = _blobs(n=60)
    picks = ProbCover(n_neighbors=10).select(_ctx(X), 50)
    assert len(set(picks.tolist())) == 50
    dup = np.repeat(X[:3], 4, axis=0)  # only exact duplicates left once each row is labelled
    out = ProbCover(n_neighbors=3).select(_ctx(dup, labelled=[0, 4, 8]), 6)
    assert len(set(out.tolist())) == 6 and not np.isin(out, [0, 4, 8]).any()


def test_the_graph_is_built_once_per_pool(monkeypatch) -> None:
    built = []
    real = shared_graph.PoolGraph

    def counting(*args, **kwargs):
        built.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(shared_graph, "PoolGraph", counting)
    X, y = _blobs(n=200, seed=1)
    learner = ActiveLearner(LogisticRegression(), "probcover", random_state=0)
    learner.fit(X, np.arange(6), y[:6])
    for _ in range(3):
        idx = learner.query(4)
        learner.teach(idx, y[idx])
    assert len(built) == 1
    ActiveLearner(LogisticRegression(), "probcover").fit(X.copy()).query(2)
    assert len(built) == 2  # another pool array: another graph


@pytest.mark.parametrize("name", ["probcover", "typicality_graph"])
def test_a_query_looks_the_shared_graph_up_once(monkeypatch, name) -> None:
    from activelab.strategies import Typicality

    reads = []
    real = shared_graph._fingerprint

    def counting(X):
        reads.append(1)
        return real(X)

    monkeypatch.setattr(shared_graph, "_fingerprint", counting)
    strategy = Typicality(graph=True) if name == "typicality_graph" else ProbCover()
    X, _ = _blobs(n=120, seed=2)
    for query in (1, 2):  # the first query builds the graph, the second finds it
        strategy.select(_ctx(X, labelled=range(query)), 3)
        assert len(reads) == query  # each look-up reads the whole pool


def test_registered_and_validated() -> None:
    assert isinstance(get_strategy("probcover"), ProbCover)
    with pytest.raises(ValueError, match="purity"):
        ProbCover(purity=0.0)
    with pytest.raises(ValueError, match="radius"):
        ProbCover(radius=-1.0)


@pytest.mark.parametrize("name", ["probcover", "typicality_graph"])
def test_graph_strategies_take_the_one_item_of_a_one_item_pool(name):
    from activelab.strategies import Typicality

    strategy = Typicality(graph=True) if name == "typicality_graph" else get_strategy(name)
    learner = ActiveLearner(LogisticRegression(), strategy, cold_start=strategy)
    assert learner.fit(np.array([[0.0, 1.0]])).query(1).tolist() == [0]


def test_the_graph_reads_boolean_dataframe_columns_as_the_other_strategies_do():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    flags = pd.DataFrame(rng.normal(size=(40, 8)) > 0).add_prefix("f")
    picks = ActiveLearner(LogisticRegression(), "probcover", random_state=0).fit(flags).query(3)
    assert picks.shape == (3,)  # was: "The pool has no numeric column to build a graph on"
    space = shared_graph.GraphSpace(flags.assign(d=rng.normal(size=40)))
    assert space.Z.shape == (40, 9)  # the flags count, as they do for kcenter or typicality
    gaps = pd.DataFrame({"a": pd.array([None] + [True] * 39, dtype="boolean"), "b": 1.0})
    with pytest.raises(ValueError, match=r"non-finite value \(nan\) at row 0, column 'a'"):
        ActiveLearner(LogisticRegression()).fit(gaps)
