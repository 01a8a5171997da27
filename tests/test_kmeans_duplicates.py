"""The clustering strategies on pools with repeated rows: no k-means warning, valid picks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from activelab import ActiveLearner
from activelab.strategies import ProbCover
from activelab.strategies._kmeans import cap_clusters, distinct_rows

_ROWS = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0], [0.0, 3.0]])


@pytest.mark.parametrize(
    "strategy",
    ["density", lambda: ProbCover(n_clusters=10), "typicality"],
    ids=["density", "probcover", "typicality"],
)
@pytest.mark.parametrize("sparse", [False, True])
def test_clustering_strategies_on_four_distinct_rows_warn_nothing(strategy, sparse) -> None:
    X = np.repeat(_ROWS, 50, axis=0)
    pool = sp.csr_matrix(X) if sparse else X
    strategy = strategy if isinstance(strategy, str) else strategy()
    learner = ActiveLearner(LogisticRegression(), strategy=strategy, random_state=0)
    learner.fit(pool, labelled=[0, 50], labels=[0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        picks = learner.query(12)
    assert len(set(picks.tolist())) == 12
    assert not set(picks.tolist()) & {0, 50}


def test_distinct_rows_counts_equal_rows_once_in_any_layout() -> None:
    X = np.vstack([np.repeat(_ROWS, 3, axis=0), [[-0.0, 3.0]]])  # -0.0 is 0.0
    assert distinct_rows(X) == 4
    assert distinct_rows(X.astype(np.float32)) == 4
    assert distinct_rows(np.asfortranarray(X)) == 4
    assert distinct_rows(sp.csr_matrix(X)) == 4
    assert distinct_rows(sp.csc_matrix(X)) == 4
    assert distinct_rows(np.random.default_rng(0).normal(size=(500, 3))) == 500


def test_cap_clusters_keeps_the_count_of_a_pool_without_repeats() -> None:
    X = np.random.default_rng(0).normal(size=(30, 2))
    assert cap_clusters(7, X) == 7
    assert cap_clusters(40, X) == 30
    assert cap_clusters(7, np.repeat(X[:3], 10, axis=0)) == 3
