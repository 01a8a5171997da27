"""Shared fixtures: small real data sets and the strategy factory of the conformance suite."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris


@pytest.fixture(scope="session")
def iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return X, y


@pytest.fixture(scope="session")
def digits() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    return X, y
