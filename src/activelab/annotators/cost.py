"""The cost of a label: time per item, predicted from item features and answer history.

:class:`CostModel` learns ``log(seconds)`` from the items answered so far (a
ridge regression on the item features), so that a cost-aware queue can rank
by :func:`value_per_second`. Until it has seen ``min_answers`` timed answers
it predicts their median (and 1 second before any).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 3))
>>> seconds = np.exp(1.0 + X[:, 0])
>>> cm = CostModel().fit(X[:100], seconds[:100])
>>> r = np.corrcoef(np.log(cm.predict(X[100:])), np.log(seconds[100:]))[0, 1]
>>> bool(r > 0.95)
True
>>> value_per_second(np.array([1.0, 1.0]), np.array([2.0, 4.0])).tolist()
[0.5, 0.25]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["CostModel", "value_per_second"]


class CostModel:
    """Predict seconds per answer from item features.

    Parameters
    ----------
    alpha : float, default=1.0
        Ridge penalty.
    min_answers : int, default=10
        Below this many timed answers, predict their median.
    max_seconds : float, default=3600.0
        Longer recorded times (an annotator who left the page open) are clipped.
    """

    def __init__(
        self, alpha: float = 1.0, min_answers: int = 10, max_seconds: float = 3600.0
    ) -> None:
        self.alpha = alpha
        self.min_answers = min_answers
        self.max_seconds = max_seconds

    def fit(self, X: Any, seconds: np.ndarray) -> CostModel:
        """Fit on the features of answered items and the seconds each answer took (finite;
        leave out answers whose time is unknown)."""
        from sklearn.linear_model import Ridge
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        s = np.asarray(seconds, dtype=float)
        if X.shape[0] != s.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} rows but seconds has {s.shape[0]} values; one per answer."
            )
        unknown = ~np.isfinite(s)
        if unknown.any():  # NaN would make every prediction NaN, and the ranking with it
            i = int(np.argmax(unknown))
            raise ValueError(
                f"seconds must be finite; answer {i} has {float(s[i])!r}: leave out the "
                "answers whose time is unknown."
            )
        s = np.clip(s, 0.05, self.max_seconds)
        self.median_ = float(np.median(s)) if s.size else 1.0
        self.range_ = (float(s.min()), float(s.max())) if s.size else (1.0, 1.0)
        self.model_: Any = None
        if s.size >= self.min_answers:
            scaler = StandardScaler(with_mean=not sp.issparse(X))
            self.model_ = make_pipeline(scaler, Ridge(alpha=self.alpha)).fit(X, np.log(s))
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted seconds per item (within the range of the recorded times)."""
        if not hasattr(self, "median_"):
            return np.ones(X.shape[0])
        if self.model_ is None:
            return np.full(X.shape[0], self.median_)
        return np.clip(np.exp(self.model_.predict(X)), *self.range_)


def value_per_second(value: np.ndarray, seconds: np.ndarray, exponent: float = 1.0) -> np.ndarray:
    """Rank key of a cost-aware queue: ``value / seconds ** exponent``.

    ``exponent`` between 0 (ignore cost) and 1 (plain value per second) trades
    value against time.
    """
    return np.asarray(value, dtype=float) / np.maximum(
        np.asarray(seconds, dtype=float), 1e-9
    ) ** float(exponent)
