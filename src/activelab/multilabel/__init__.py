"""Multi-label targets: validation, probabilities, metrics and the Yeast data set.

Items may carry any number of labels from a fixed set; targets are 0/1
indicator matrices of shape ``(n_items, n_labels)``. The query strategies live
in :mod:`activelab.strategies.multilabel`.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from sklearn.multiclass import OneVsRestClassifier
>>> from sklearn.datasets import make_multilabel_classification
>>> from activelab import ActiveLearner
>>> X, Y = make_multilabel_classification(200, 8, n_classes=4, random_state=0)
>>> learner = ActiveLearner(OneVsRestClassifier(LogisticRegression()), "binmin",
...                         classes=4, random_state=0).fit(X)
>>> for _ in range(4):
...     idx = learner.query(5)
...     learner = learner.teach(idx, Y[idx])
>>> multilabel_proba(learner.model_, X[:2]).shape
(2, 4)
>>> 0.0 <= f1_micro(Y, learner.predict(X)) <= 1.0
True
"""

from __future__ import annotations

from activelab.multilabel._model import (
    EMPTY_LABEL_SET,
    LABEL_SEPARATOR,
    ConstantLabelsClassifier,
    check_indicator,
    fit_multilabel,
    joined_label_set,
    multilabel_proba,
    split_label_set,
    to_indicator,
)
from activelab.multilabel.data import YEAST_LABELS, load_yeast
from activelab.multilabel.metrics import (
    SCORERS,
    f1_macro,
    f1_micro,
    get_scorer,
    hamming_loss,
    multilabel_metrics,
    subset_accuracy,
)

__all__ = [
    "EMPTY_LABEL_SET",
    "LABEL_SEPARATOR",
    "SCORERS",
    "YEAST_LABELS",
    "ConstantLabelsClassifier",
    "check_indicator",
    "f1_macro",
    "f1_micro",
    "fit_multilabel",
    "get_scorer",
    "hamming_loss",
    "joined_label_set",
    "load_yeast",
    "multilabel_metrics",
    "multilabel_proba",
    "split_label_set",
    "subset_accuracy",
    "to_indicator",
]
