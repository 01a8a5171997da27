"""The latest model's predictions for every item of a project, kept apart from the labels.

A project's labels are the annotators' answers only. Its trained model (the latest version
in the store, possibly a pool-aware hybrid fit that learnt from the unlabelled items too)
can still say what it predicts for every item; :func:`latest_predictions` returns that,
with the version that made it, so that an export can add it in columns of its own
(``predicted_label``, ``predicted_proba``, ``prediction_source``) next to the human
``label``, never in it.

Examples
--------
>>> from activelab.app.store import Store
>>> store = Store.create("sqlite://", {"labels": ["a", "b"]})
>>> latest_predictions(store) is None   # no model trained yet
True
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ModelPredictions", "latest_predictions"]


@dataclass(frozen=True)
class ModelPredictions:
    """What one model version predicts for every item, in pool order.

    Attributes
    ----------
    version : int
        The model version in the store.
    n_labels : int
        Human labels the model was trained on.
    labels : list
        The predicted label of each item (a list of labels for a multi-label project).
    proba : ndarray
        Single-label: the probability of the predicted label, shape ``(n,)``;
        multi-label: ``P(label)`` of every label, shape ``(n, n_labels)``.
    classes : list of str
        The labels the probabilities refer to (multi-label: the columns of ``proba``).
    """

    version: int
    n_labels: int
    labels: list[Any]
    proba: np.ndarray
    classes: list[str]

    @property
    def source(self) -> str:
        """``"model vN"``: where the predictions come from (never a human answer)."""
        return f"model v{self.version}"


def latest_predictions(store: Any) -> ModelPredictions | None:
    """The latest stored model's predictions for every item, or ``None`` without a model.

    Parameters
    ----------
    store : activelab.app.store.Store
        The project's store (its features and latest model version are read).

    Returns
    -------
    ModelPredictions or None
    """
    latest = store.latest_model()
    if latest is None or latest.model is None:
        return None
    import joblib

    model = joblib.load(io.BytesIO(latest.model))
    X = store.load_features()
    if store.settings.get("task") == "multilabel":
        from activelab.multilabel import multilabel_proba

        names = [str(c) for c in store.settings["labels"]]
        P = np.asarray(multilabel_proba(model, X, len(names)), dtype=float)
        labels: list[Any] = [[names[j] for j in np.flatnonzero(row > 0.5)] for row in P]
        return ModelPredictions(latest.version, latest.n_labels, labels, P, names)
    P = np.asarray(model.predict_proba(X), dtype=float)
    classes = [str(c) for c in model.classes_]
    best = P.argmax(axis=1)
    return ModelPredictions(
        latest.version,
        latest.n_labels,
        [classes[j] for j in best],
        P[np.arange(P.shape[0]), best],
        classes,
    )
