"""Classification checks beyond the shared ones of ``test_every_strategy.py``."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from activelab import ActiveLearner


@pytest.mark.parametrize("name", ["least_confident", "margin", "entropy"])
def test_uncertainty_picks_the_known_most_uncertain_point(name):
    # Two well separated classes on a line; the boundary is at 0 by symmetry.
    X = np.array([[-3.0], [-2.0], [2.0], [3.0], [-1.0], [0.02], [1.2], [-2.5], [2.5]])
    y = np.array([0, 0, 1, 1, 0, 0, 1, 0, 1])
    learner = ActiveLearner(LogisticRegression(), name).fit(X, [0, 1, 2, 3], y[:4])
    assert learner.query(1).tolist() == [5]
    assert learner.query(2).tolist() == [5, 4]
