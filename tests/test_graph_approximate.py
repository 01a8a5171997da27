"""The approximate neighbour search for large pools (pynndescent, the ``scale`` extra)."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest

from activelab import graph
from activelab.graph import PoolGraph, knn_graph


def _blobs(n: int = 3000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 4.0, (10, 8))
    return centres[rng.integers(0, 10, n)] + rng.normal(0.0, 1.0, (n, 8))


def test_the_approximate_graph_finds_most_true_neighbours_and_never_the_item_itself() -> None:
    Z = _blobs()
    exact, _ = knn_graph(Z, 10, method="exact")
    approx, dist = knn_graph(Z, 10, method="approximate")
    assert approx.shape == exact.shape == (3000, 10)
    assert not (approx == np.arange(3000)[:, None]).any()
    assert (np.diff(dist, axis=1) >= -1e-5).all()  # nearest first
    recall = np.mean([np.intersect1d(a, e).size / 10 for a, e in zip(approx, exact, strict=True)])
    assert recall > 0.9
    # the distances are the true ones of the pairs found
    rows = np.arange(3000)[:, None]
    np.testing.assert_allclose(dist, np.linalg.norm(Z[rows] - Z[approx], axis=2), rtol=1e-4)


def test_the_approximate_search_is_deterministic_under_its_seed() -> None:
    Z = _blobs(1500, seed=3)
    a = knn_graph(Z, 5, method="approximate", random_state=7, n_jobs=1)[0]
    b = knn_graph(Z, 5, method="approximate", random_state=7, n_jobs=1)[0]
    np.testing.assert_array_equal(a, b)


def test_auto_searches_large_pools_approximately(monkeypatch: pytest.MonkeyPatch) -> None:
    Z = _blobs(1200, seed=1)
    calls: list[int] = []
    real = graph._descent

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(graph, "_descent", counting)
    PoolGraph(Z, 5)  # below the threshold: exact
    assert calls == []
    monkeypatch.setattr(graph, "APPROXIMATE_FROM", 1000)
    g = PoolGraph(Z, 5)
    assert calls == [1] and g.indices.shape == (1200, 5)


def test_without_pynndescent_auto_falls_back_and_approximate_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pynndescent" else real(name)
    )
    monkeypatch.setattr(graph, "APPROXIMATE_FROM", 10)
    monkeypatch.setattr(graph, "_SLOW_EXACT", 100)
    Z = _blobs(300, seed=2)
    with pytest.warns(UserWarning, match=r'pip install "activelab\[scale\]"'):
        idx, _ = knn_graph(Z, 5)
    np.testing.assert_array_equal(idx, knn_graph(Z, 5, method="exact")[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        knn_graph(Z[:50], 5)  # under the warning size: silent
    with pytest.raises(ImportError, match=r'pip install "activelab\[scale\]"'):
        knn_graph(Z, 5, method="approximate")


def test_an_unknown_search_method_is_refused() -> None:
    with pytest.raises(ValueError, match="'auto', 'exact' or 'approximate'"):
        knn_graph(np.eye(4), 2, method="fast")
