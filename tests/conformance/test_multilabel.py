"""Multi-label checks beyond the shared ones of ``test_every_strategy.py``."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from activelab import ActiveLearner
from activelab.strategies import available, get_strategy

ML_ONLY = [s for s in available() if get_strategy(s).task == "multilabel"]


@pytest.mark.parametrize("name", ML_ONLY)
def test_refused_for_single_label_targets(name, multilabel):
    X, Y = multilabel.data()
    learner = ActiveLearner(LogisticRegression(), name, random_state=0).fit(X)
    with pytest.raises(ValueError, match="is for multilabel targets but this learner has single"):
        learner.teach(np.arange(10), Y[:10, 0]).query(2)
