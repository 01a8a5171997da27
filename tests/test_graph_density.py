"""Information density on the pool's shared graph: density, local coverage, one search."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from activelab import ActiveLearner
from activelab.shared_graph import build_count, shared_graph
from activelab.strategies import InformationDensity
from activelab.strategies._base import QueryContext


def _pool(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.r_[rng.normal(0, 1, (150, 2)), rng.normal(0, 0.2, (60, 2)) + np.array([0.0, 1.5])]
    y = (X[:, 0] > 0).astype(int)
    return np.r_[X, [[0.0, 9.0], [0.05, -9.0]]], np.r_[y, 1, 0]  # two far outliers


def _ctx(X, y, labelled, model) -> QueryContext:
    return QueryContext(
        X=X,
        candidates=np.setdiff1d(np.arange(len(X)), labelled),
        labelled=labelled,
        y_labelled=y[labelled],
        model=model,
        rng=np.random.default_rng(0),
    )


def test_graph_density_comes_from_the_shared_graph_and_outliers_lose() -> None:
    X, y = _pool()
    lab = np.array([0, 1, 2, 3, 100, 101])
    model = LogisticRegression().fit(X[lab], y[lab])
    strat = InformationDensity(similarity="graph")
    before = build_count()
    dens = strat.density(_ctx(X, y, lab, model))
    assert build_count() - before == 1
    assert (dens[-2:] < np.quantile(dens[:-2], 0.05)).all()  # the outliers are not dense
    assert dens[150:210].mean() > dens[:150].mean()  # the tight group is the densest
    strat.select(_ctx(X, y, lab, model), 5)
    assert build_count() - before == 1  # the same graph serves the selection


def test_a_graph_density_batch_spreads_over_neighbourhoods() -> None:
    X, y = _pool(1)
    lab = np.array([0, 1, 2, 3, 100, 101])
    model = LogisticRegression().fit(X[lab], y[lab])
    ctx = _ctx(X, y, lab, model)
    picks = InformationDensity(similarity="graph", n_neighbors=10).select(ctx, 6)
    assert len(set(picks.tolist())) == 6 and not np.isin(picks, lab).any()
    near = shared_graph(X, n_neighbors=10)[1].affinity("connectivity")
    strat = InformationDensity(similarity="graph", n_neighbors=10)
    top = ctx.candidates[np.argsort(-strat.scores(ctx), kind="stable")[:6]]

    def pairs(idx):  # neighbour pairs inside a batch
        return near[idx][:, idx].nnz

    assert pairs(picks) < pairs(top)  # each pick discounts its neighbours for the next


def test_graph_density_runs_in_a_hybrid_campaign_on_one_graph() -> None:
    X, y = _pool(2)
    before = build_count()
    learner = ActiveLearner(
        LogisticRegression(),
        InformationDensity(similarity="graph"),
        random_state=0,
        semi_supervised="auto",
    ).fit(X, np.array([0, 1, 2, 3, 100, 101]), y[[0, 1, 2, 3, 100, 101]])
    for _ in range(3):
        idx = learner.query(4)
        learner.teach(idx, y[idx])
    assert learner.n_labelled_ == 18
    assert build_count() - before == 1


def test_bad_neighbour_count_is_refused() -> None:
    with pytest.raises(ValueError, match="n_neighbors"):
        InformationDensity(similarity="graph", n_neighbors=0)
