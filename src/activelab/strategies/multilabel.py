"""Query strategies for multi-label targets (items carrying any number of labels).

Each scores candidates from the ``(n, n_labels)`` matrix ``P`` of
``P(label = 1)`` (:func:`activelab.multilabel.multilabel_proba`, so one-vs-rest,
``MultiOutputClassifier`` and native multi-output estimators all work), in
chunks, and takes the top ``n`` with :func:`~activelab.strategies.top_k`.
Where the papers use SVM outputs ``f_j(x)``, these use ``f_j = 2 p_j - 1``,
which has the same sign and order.

- :class:`BinMin` (Brinker 2006): the least certain single label.
- :class:`MeanEntropy`, :class:`MaxEntropy`: binary entropy per label, averaged
  or maximised over labels.
- :class:`MMC` (Yang et al. 2009): maximum loss reduction with maximal
  confidence, with a label-cardinality predictor trained on the labelled set.
- :class:`AdaptiveMultilabel` (Li & Guo 2013): max-margin uncertainty and
  label-cardinality inconsistency mixed by ``beta``, chosen adaptively.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.linear_model import LogisticRegression

from activelab.multilabel._model import fit_multilabel, multilabel_proba
from activelab.scoring import take_rows
from activelab.strategies._base import PREDICT_PROBA, QueryContext, ScoringStrategy, Strategy, top_k
from activelab.strategies.uncertainty import entropy

__all__ = [
    "MMC",
    "AdaptiveMultilabel",
    "BinMin",
    "MaxEntropy",
    "MeanEntropy",
    "binary_entropy",
    "cardinality_inconsistency",
    "separation_margin",
]

_TINY = 1e-12
#: The grid of AdaptiveMultilabel(beta="auto"), as in Li & Guo (2013).
_BETAS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def binary_entropy(P: np.ndarray) -> np.ndarray:
    """Entropy (nats) of each label's Bernoulli ``P(label = 1)``, same shape as ``P``.

    Examples
    --------
    >>> np.round(binary_entropy(np.array([[0.5, 1.0], [0.1, 0.9]])), 4)
    array([[0.6931, 0.    ],
           [0.3251, 0.3251]])
    """
    P = np.asarray(P, dtype=float)
    flat = P.reshape(-1)
    return entropy(np.column_stack([flat, 1.0 - flat])).reshape(P.shape)


def separation_margin(P: np.ndarray) -> np.ndarray:
    """Gap between the least confident predicted-positive and the highest negative label.

    With ``f = 2p - 1``: ``min_{f_j > 0} f_j - max_{f_k <= 0} f_k``. An empty
    side sits at the threshold (0), so an item predicted with no labels has
    margin ``-max_k f_k``. Small means the predicted label set is uncertain.

    Examples
    --------
    >>> separation_margin(np.array([[0.9, 0.6, 0.2], [0.9, 0.1, 0.1], [0.45, 0.1, 0.1]]))
    array([0.8, 1.6, 0.1])
    """
    F = 2.0 * np.asarray(P, dtype=float) - 1.0
    positive = F > 0
    lowest_pos = np.where(positive, F, np.inf).min(axis=1)
    highest_neg = np.where(positive, -np.inf, F).max(axis=1)
    lowest_pos[~np.isfinite(lowest_pos)] = 0.0
    highest_neg[~np.isfinite(highest_neg)] = 0.0
    return lowest_pos - highest_neg


def cardinality_inconsistency(P: np.ndarray, mean_cardinality: float) -> np.ndarray:
    """``|number of labels predicted - mean number of labels in the labelled set|``.

    Examples
    --------
    >>> cardinality_inconsistency(np.array([[0.9, 0.6, 0.2], [0.1, 0.1, 0.1]]), 1.5)
    array([0.5, 1.5])
    """
    return np.abs((np.asarray(P) > 0.5).sum(axis=1) - float(mean_cardinality))


def _labelled_indicator(ctx: QueryContext, name: str) -> np.ndarray:
    Y = np.asarray(ctx.y_labelled)
    if Y.ndim != 2:
        raise ValueError(
            f"Strategy {name!r} is for multi-label targets: the labelled set must be a 0/1 "
            f"indicator matrix (n, n_labels), got labels of shape {Y.shape}."
        )
    return Y


class _MultilabelScoring(ScoringStrategy):
    requires: ClassVar[tuple[Any, ...]] = (PREDICT_PROBA,)
    task = "multilabel"

    @staticmethod
    def _rows(P: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def score_chunk(self, model: Any, X_chunk: Any) -> np.ndarray:
        return self._rows(multilabel_proba(model, X_chunk))


class BinMin(_MultilabelScoring):
    """Query the items whose least certain label is closest to the threshold (Brinker 2006).

    Score ``-min_j |p_j - 0.5|``.

    Examples
    --------
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [1.5]])
    >>> Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [1, 1]])
    >>> model = KNeighborsClassifier(n_neighbors=2).fit(X[:4], Y[:4])
    >>> ctx = QueryContext(X=X, candidates=np.array([4]), labelled=np.arange(4),
    ...                    y_labelled=Y[:4], model=model)
    >>> BinMin().select(ctx, 1)
    array([4])
    """

    name = "binmin"

    @staticmethod
    def _rows(P: np.ndarray) -> np.ndarray:
        return -np.min(np.abs(P - 0.5), axis=1)


class MeanEntropy(_MultilabelScoring):
    """Query the items with the highest binary entropy averaged over labels.

    Examples
    --------
    >>> MeanEntropy._rows(np.array([[0.5, 0.5], [0.5, 1.0]])).round(4)
    array([0.6931, 0.3466])
    """

    name = "mean_entropy"

    @staticmethod
    def _rows(P: np.ndarray) -> np.ndarray:
        return binary_entropy(P).mean(axis=1)


class MaxEntropy(_MultilabelScoring):
    """Query the items whose most uncertain label has the highest binary entropy.

    Ranks like :class:`BinMin` (entropy falls with ``|p - 0.5|``); kept for
    its scores on a comparable scale to :class:`MeanEntropy`.

    Examples
    --------
    >>> MaxEntropy._rows(np.array([[0.5, 1.0], [0.9, 0.8]])).round(4)
    array([0.6931, 0.5004])
    """

    name = "max_entropy"

    @staticmethod
    def _rows(P: np.ndarray) -> np.ndarray:
        return binary_entropy(P).max(axis=1)


def _sorted_features(P: np.ndarray) -> np.ndarray:
    """Probabilities normalised to sum 1 per row, sorted in decreasing order."""
    total = P.sum(axis=1, keepdims=True)
    Q = np.where(total > 0, P / np.where(total > 0, total, 1.0), 1.0 / max(P.shape[1], 1))
    return -np.sort(-Q, axis=1)


class MMC(Strategy):
    """Maximum loss reduction with maximal confidence (Yang et al. 2009).

    A logistic regression learns the number of labels of an item from its
    sorted, normalised probability vector on the labelled set. For each
    candidate, the predicted label vector ``y*`` switches on its ``m`` most
    probable labels (``m`` the predicted cardinality) and the expected loss
    reduction is ``sum_j (1 - y*_j f_j) / 2`` with ``f_j = 2 p_j - 1``: large
    when the model is unsure of the label set it would most plausibly assign.

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularisation of the cardinality model.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.multiclass import OneVsRestClassifier
    >>> from sklearn.datasets import make_multilabel_classification
    >>> X, Y = make_multilabel_classification(80, 5, n_classes=3, random_state=0)
    >>> model = OneVsRestClassifier(LogisticRegression()).fit(X[:30], Y[:30])
    >>> ctx = QueryContext(X=X, candidates=np.arange(30, 80), labelled=np.arange(30),
    ...                    y_labelled=Y[:30], model=model)
    >>> MMC().select(ctx, 3).shape
    (3,)
    """

    name = "mmc"
    requires: ClassVar[tuple[Any, ...]] = (PREDICT_PROBA,)
    fits_models = True
    task = "multilabel"

    def __init__(self, C: float = 1.0) -> None:
        self.C = C

    def cardinality_model(self, ctx: QueryContext) -> Any:
        """Fit the cardinality predictor on the labelled set; returns ``predict(P) -> m``."""
        Y = _labelled_indicator(ctx, self.name)
        counts = Y.sum(axis=1)
        values = np.unique(counts)
        if values.shape[0] < 2:
            m = int(values[0]) if values.size else 1
            return lambda P: np.full(P.shape[0], m)
        P_lab = ctx.map_chunks(lambda c: multilabel_proba(ctx.model, c), rows=ctx.labelled)
        lr = LogisticRegression(C=self.C, max_iter=1000).fit(_sorted_features(P_lab), counts)
        return lambda P: lr.predict(_sorted_features(P))

    @staticmethod
    def loss_reduction(P: np.ndarray, m: np.ndarray) -> np.ndarray:
        """``sum_j (1 - y*_j f_j) / 2`` with ``y*`` the top-``m`` labels of each row.

        Examples
        --------
        >>> MMC.loss_reduction(np.array([[0.9, 0.6, 0.1], [0.5, 0.5, 0.5]]), np.array([1, 1]))
        array([0.8, 1.5])
        """
        P = np.asarray(P, dtype=float)
        order = np.argsort(-P, axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(P.shape[1])[None, :], axis=1)
        ystar = np.where(rank < np.asarray(m)[:, None], 1.0, -1.0)
        return (1.0 - ystar * (2.0 * P - 1.0)).sum(axis=1) / 2.0

    def scores(self, ctx: QueryContext) -> np.ndarray:
        """Expected loss reduction of every candidate, aligned with ``ctx.candidates``."""
        predict_m = self.cardinality_model(ctx)

        def chunk(X_chunk: Any) -> np.ndarray:
            P = multilabel_proba(ctx.model, X_chunk)
            return self.loss_reduction(P, predict_m(P))

        return ctx.map_chunks(chunk)

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        return ctx.candidates[top_k(self.scores(ctx), n, ctx.candidates)]


class AdaptiveMultilabel(Strategy):
    """Max-margin uncertainty and label-cardinality inconsistency, mixed (Li & Guo 2013).

    The score is ``u(x)^beta * c(x)^(1 - beta)`` with ``u = 1 /``
    :func:`separation_margin` and ``c`` the :func:`cardinality_inconsistency`
    against the labelled set's mean number of labels (computed in logs).

    With ``beta="auto"`` (the paper's adaptive rule) each ``beta`` of the grid
    nominates its best candidate; the model is refitted with that candidate
    added under its predicted labels, and the ``beta`` whose refit is most
    confident on the candidates (the smallest summed hinge error of its own
    predictions, ``max_{j in y+} (1 - f_j) + max_{k in y-} (1 + f_k)``, on at
    most ``max_eval`` candidates drawn with the context's generator) is used
    for the whole batch. A float ``beta`` fixes it and refits nothing.

    Parameters
    ----------
    beta : float or "auto", default="auto"
    betas : sequence of float, default=(0, 0.1, ..., 1)
        The grid searched by ``beta="auto"``.
    max_eval : int, default=2000
        Candidates on which the refits are compared.

    Attributes
    ----------
    beta_ : float
        The ``beta`` used by the last query.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.multiclass import OneVsRestClassifier
    >>> from sklearn.datasets import make_multilabel_classification
    >>> X, Y = make_multilabel_classification(80, 5, n_classes=3, random_state=0)
    >>> est = OneVsRestClassifier(LogisticRegression())
    >>> ctx = QueryContext(X=X, candidates=np.arange(30, 80), labelled=np.arange(30),
    ...                    y_labelled=Y[:30], model=est.fit(X[:30], Y[:30]), estimator=est)
    >>> strategy = AdaptiveMultilabel()
    >>> strategy.select(ctx, 2).shape, 0.0 <= strategy.beta_ <= 1.0
    ((2,), True)
    """

    name = "adaptive_ml"
    requires: ClassVar[tuple[Any, ...]] = (PREDICT_PROBA,)
    fits_models = True
    task = "multilabel"

    def __init__(
        self,
        beta: float | str = "auto",
        betas: Any = _BETAS,
        max_eval: int = 2000,
    ) -> None:
        if beta != "auto" and not (isinstance(beta, int | float) and 0.0 <= beta <= 1.0):
            raise ValueError(f"beta must be a number in [0, 1] or 'auto', got {beta!r}.")
        grid = np.asarray(betas, dtype=float)
        if grid.ndim != 1 or grid.size == 0 or ((grid < 0) | (grid > 1)).any():
            raise ValueError(f"betas must be a non-empty list of numbers in [0, 1], got {betas!r}.")
        if max_eval < 1:
            raise ValueError(f"max_eval must be >= 1, got {max_eval}.")
        self.beta = beta
        self.betas = betas
        self.max_eval = max_eval

    @staticmethod
    def _parts(P: np.ndarray, mean_card: float) -> np.ndarray:
        """``(log u, log c)`` per row, shape (n, 2)."""
        log_u = -np.log(separation_margin(P) + _TINY)
        log_c = np.log(cardinality_inconsistency(P, mean_card) + _TINY)
        return np.column_stack([log_u, log_c])

    @staticmethod
    def _hinge_error(P: np.ndarray) -> np.ndarray:
        """Hinge error of each row's own predicted label set (0 when fully confident)."""
        F = 2.0 * P - 1.0
        positive = F > 0
        pos = np.where(positive, 1.0 - F, 0.0).max(axis=1)
        neg = np.where(positive, 0.0, 1.0 + F).max(axis=1)
        return pos + neg

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        Y = _labelled_indicator(ctx, self.name)
        mean_card = float(Y.sum(axis=1).mean()) if Y.shape[0] else 0.0
        parts = ctx.map_chunks(lambda c: self._parts(multilabel_proba(ctx.model, c), mean_card))
        self.beta_ = float(self.beta) if self.beta != "auto" else self._choose_beta(ctx, parts, Y)
        scores = self.beta_ * parts[:, 0] + (1.0 - self.beta_) * parts[:, 1]
        return ctx.candidates[top_k(scores, n, ctx.candidates)]

    def _choose_beta(self, ctx: QueryContext, parts: np.ndarray, Y: np.ndarray) -> float:
        if ctx.estimator is None:
            raise ValueError(
                f"Strategy {self.name!r} with beta='auto' refits the model and needs the "
                "unfitted estimator in the query context; pass a fixed beta instead."
            )
        grid = np.asarray(self.betas, dtype=float)
        picks = [
            int(top_k(b * parts[:, 0] + (1 - b) * parts[:, 1], 1, ctx.candidates)[0]) for b in grid
        ]
        n_cand = ctx.candidates.shape[0]
        if n_cand > self.max_eval:
            evaluate = np.sort(ctx.rng.choice(n_cand, self.max_eval, replace=False))
        else:
            evaluate = np.arange(n_cand)
        X_lab = take_rows(ctx.X, ctx.labelled)
        errors: dict[int, float] = {}
        for pos in dict.fromkeys(picks):  # unique picks, in grid order
            row = ctx.candidates[pos : pos + 1]
            x_new = take_rows(ctx.X, row)
            y_new = (multilabel_proba(ctx.model, x_new) > 0.5).astype(np.int64)
            X_aug = _stack_rows(X_lab, x_new)
            model = fit_multilabel(ctx.estimator, X_aug, np.vstack([Y, y_new]))
            errors[pos] = float(
                ctx.map_chunks(
                    lambda c, m=model: self._hinge_error(multilabel_proba(m, c)),
                    rows=ctx.candidates[evaluate],
                ).sum()
            )
        best = min(range(len(grid)), key=lambda i: (errors[picks[i]], i))
        return float(grid[best])


def _stack_rows(A: Any, B: Any) -> Any:
    import scipy.sparse as sp

    if sp.issparse(A):
        return sp.vstack([A, B], format="csr")
    if hasattr(A, "iloc"):
        import pandas as pd

        return pd.concat([A, B])
    return np.vstack([A, B])
