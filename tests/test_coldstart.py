"""Typicality on the pools it meets in practice: float32 features and embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from activelab.shared_graph import build_count, shared_graph
from activelab.strategies import Typicality
from activelab.strategies._base import QueryContext


def _blobs(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0, 0.0], [6.0, 0.0, 0.0, 0.0], [0.0, 6.0, 0.0, 0.0]])
    y = rng.integers(0, 3, size=n)
    return centres[y] + rng.normal(scale=0.7, size=(n, 4)), y


def _ctx(X, embed=None, labelled=()) -> QueryContext:
    labelled = np.asarray(labelled, dtype=np.int64)
    return QueryContext(
        X=X,
        candidates=np.setdiff1d(np.arange(X.shape[0]), labelled),
        labelled=labelled,
        y_labelled=np.zeros(labelled.shape[0]),
        rng=np.random.default_rng(0),
        chunk_size=64,  # several chunks
        embed=embed,
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_typicality_takes_one_point_per_blob_in_any_dtype(dtype) -> None:
    X, y = _blobs()
    X = (X * 10).astype(dtype) if dtype == np.int64 else X.astype(dtype)
    picks = Typicality().select(_ctx(X), 3)
    assert sorted(y[picks].tolist()) == [0, 1, 2]


def test_typicality_on_few_distinct_rows_asks_on_without_warnings() -> None:
    # a table of a few repeated values (time x diet) has fewer distinct rows than clusters
    import warnings

    X = np.repeat(np.arange(12.0).reshape(6, 2), 40, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        picks = Typicality().select(_ctx(X, labelled=np.arange(0, 240, 40)), 20)
    assert len(set(picks.tolist())) == 20


def test_typicality_clusters_in_the_embedding_space() -> None:
    # the embedding has another width than the features: the clusters must come from it
    X, y = _blobs()
    proj = np.eye(4, 2, dtype=np.float32)  # the first two features: the blobs stay apart
    picks = Typicality().select(_ctx(X.astype(np.float32), embed=lambda Xc: Xc @ proj), 3)
    assert sorted(y[picks].tolist()) == [0, 1, 2]
    # labelled points count: the next pick opens the blob nobody labelled yet
    first = [int(np.flatnonzero(y == 0)[0]), int(np.flatnonzero(y == 1)[0])]
    pick = Typicality().select(_ctx(X.astype(np.float32), labelled=first), 1)
    assert y[pick].tolist() == [2]


def test_typicality_on_the_shared_graph_takes_the_most_typical_item_of_each_blob() -> None:
    X, y = _blobs()
    ctx = _ctx(X)
    graph = shared_graph(X, n_neighbors=20)[1]  # built first (say, by the hybrid fit)
    before = build_count()
    picks = Typicality(graph=True).select(ctx, 3)
    assert build_count() == before  # no search of its own
    assert sorted(y[picks].tolist()) == [0, 1, 2]
    typ = graph.typicality()
    for p in picks:  # the graph's most typical item of the blob it opened
        blob = np.flatnonzero(y == y[p])
        assert typ[p] >= np.quantile(typ[blob], 0.9)
