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


def test_scaling_the_pool_makes_one_copy_of_it_not_two() -> None:
    import tracemalloc

    X = np.random.default_rng(2).normal(size=(20_000, 20))
    tracemalloc.start()
    try:
        space = GraphSpace(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
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
