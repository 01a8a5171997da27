"""How the pool's shared graph scales the columns before the neighbour search."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from activelab.shared_graph import GraphSpace, shared_graph


def _two_blobs_and_a_quiet_column(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two classes apart in 30 columns; 20 more columns are near-constant noise."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], 100)
    signal = rng.normal(0.0, 1.0, (200, 30)) + 1.0 * y[:, None]
    quiet = rng.normal(0.0, 1e-3, (200, 20))  # 0 almost everywhere, like border pixels
    return np.c_[signal, quiet], y


def test_a_near_constant_column_does_not_decide_the_neighbours() -> None:
    X, y = _two_blobs_and_a_quiet_column()
    floor = shared_graph(X, n_neighbors=10)[1]
    plain = shared_graph(X, n_neighbors=10, scale="standard")[1]
    same_floor = float(np.mean(y[floor.indices] == y[:, None]))
    same_plain = float(np.mean(y[plain.indices] == y[:, None]))
    assert same_floor > 0.95
    # plain standardisation blows the noise columns up to the weight of the others
    assert same_plain < same_floor - 0.02


def test_columns_in_unlike_units_are_still_equalised() -> None:
    rng = np.random.default_rng(1)
    X = np.c_[rng.normal(0, 1, 300), rng.normal(0, 1000, 300), rng.normal(0, 1, 300)]
    Z = GraphSpace(X).Z
    # the large column is brought down to unit spread; the others are divided by the
    # median spread (never scaled up beyond the typical column)
    median = np.median(X.std(axis=0))
    np.testing.assert_allclose(Z.std(axis=0), [X[:, 0].std() / median, 1.0, 1.0])


def test_the_floor_is_the_median_spread_and_new_rows_map_alike() -> None:
    X = np.c_[np.linspace(0, 1, 11), np.linspace(0, 10, 11), np.linspace(0, 100, 11)]
    space = GraphSpace(X)
    std = X.std(axis=0)
    np.testing.assert_allclose(space.Z, (X - X.mean(axis=0)) / np.maximum(std, std[1]))
    np.testing.assert_allclose(space.transform(X[:3]), space.Z[:3])


def _space_and_peak(X: np.ndarray) -> tuple[GraphSpace, int]:
    """The :class:`GraphSpace` of ``X`` and the peak of the memory its building took."""
    import tracemalloc

    tracemalloc.start()
    try:
        space = GraphSpace(X)
        return space, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_scaling_the_pool_makes_one_copy_of_it_not_two() -> None:
    X = np.random.default_rng(2).normal(size=(20_000, 20))
    space, peak = _space_and_peak(X)
    assert peak < 1.5 * X.nbytes  # the scaled copy it keeps, no temporary beside it
    std = X.std(axis=0)
    np.testing.assert_array_equal(space.Z, (X - X.mean(axis=0)) / _floor(std))
    assert np.shares_memory(space._raw(X), X)  # the pool itself is left as it was


def _floor(std: np.ndarray) -> np.ndarray:
    return np.maximum(std, np.median(std))


def test_standard_scaling_is_plain_standardisation() -> None:
    X, _ = _two_blobs_and_a_quiet_column()
    np.testing.assert_allclose(
        GraphSpace(X, scale="standard").Z, StandardScaler().fit_transform(X), atol=1e-9
    )
    np.testing.assert_array_equal(GraphSpace(X, scale=False).Z, X)


def test_an_unknown_scaling_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="'floor', 'standard' or 'none'"):
        GraphSpace(np.eye(3), scale="minmax")


def test_each_scaling_has_its_own_shared_graph() -> None:
    X, _ = _two_blobs_and_a_quiet_column(2)
    a = shared_graph(X, n_neighbors=5)[1]
    assert shared_graph(X, n_neighbors=5, scale="floor")[1] is a
    assert shared_graph(X, n_neighbors=5, scale="standard")[1] is not a


def test_a_float32_pool_is_scaled_into_one_float32_copy(monkeypatch) -> None:
    from activelab import shared_graph as module

    monkeypatch.setattr(module, "_MOMENT_ROWS", 1_000)  # the pool is widened in 20 steps
    X = np.random.default_rng(2).normal(size=(20_000, 20)).astype(np.float32)
    space, peak = _space_and_peak(X)
    assert space.Z.dtype == np.float32
    assert peak < 1.5 * X.nbytes  # the float32 copy it keeps, no float64 one beside it
    assert np.shares_memory(space._raw(X), X)
    np.testing.assert_allclose(space._std, _floor(X.astype(np.float64).std(axis=0)), rtol=1e-6)


def test_a_float32_pool_stays_float32_and_finds_the_same_neighbours() -> None:
    X64, _ = _two_blobs_and_a_quiet_column(3)
    X32 = X64.astype(np.float32)
    space = GraphSpace(X32)
    assert space.Z.dtype == np.float32 and space.transform(X64[:3]).dtype == np.float32
    reference = GraphSpace(X64)
    np.testing.assert_allclose(space.Z, reference.Z, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(space._std, reference._std, rtol=1e-6)
    g32 = shared_graph(X32, n_neighbors=10)[1]
    g64 = shared_graph(X64, n_neighbors=10)[1]
    assert g32.distances.dtype == np.float64
    assert np.mean(g32.indices == g64.indices) > 0.99
    np.testing.assert_allclose(g32.distances, g64.distances, rtol=1e-4)
    # a frame of float32 columns too; one float64 column makes it float64
    import pandas as pd

    assert GraphSpace(pd.DataFrame(X32)).Z.dtype == np.float32
    assert GraphSpace(pd.DataFrame(X32).assign(z=X64[:, 0])).Z.dtype == np.float64


def test_a_hybrid_model_on_a_float32_pool_predicts_as_on_float64() -> None:
    from sklearn.linear_model import LogisticRegression

    from activelab.models.spreading import GraphPool

    X64, y = _two_blobs_and_a_quiet_column(4)
    X32 = X64.astype(np.float32)
    pool = GraphPool(X32)
    assert pool.Z.dtype == np.float32
    assert pool.locate(X32[[5, 150]]).tolist() == [5, 150]
    from activelab.models.semi import HybridClassifier

    labelled = np.r_[0:5, 100:105]
    kw = {"method": "spreading", "random_state": 0}
    p32 = HybridClassifier(LogisticRegression(), **kw).fit_pool(X32, labelled, y[labelled])
    p64 = HybridClassifier(LogisticRegression(), **kw).fit_pool(X64, labelled, y[labelled])
    np.testing.assert_allclose(p32.predict_proba(X32), p64.predict_proba(X64), atol=1e-4)
