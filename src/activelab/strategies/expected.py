"""Expected error reduction (Roy & McCallum 2001), on a candidate subsample.

For a candidate ``x`` and each class ``c``, the model is refitted with ``(x, c)``
added to the labelled set; the refitted model's expected loss on the unlabelled
pool (its own posterior standing in for the unknown labels) is averaged over
``c`` weighted by the current model's ``P(c | x)``. The candidate whose label is
expected to reduce the loss most is queried.

This costs one model fit per candidate and class, so it is meant for **small
pools and cheap models**. Two approximations keep it tractable, and both are
documented parameters:

* only ``n_candidates`` candidates, drawn at random from the context's
  generator, are scored (the rest are not considered in this query);
* the loss is measured on ``n_eval`` unlabelled items drawn at random, not on
  the whole pool.

Classes with ``P(c | x) < min_proba`` are skipped for that candidate (their
term contributes at most ``min_proba`` × the maximal loss). All refits share one
random seed (common random numbers), so candidates are compared fairly.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone

from activelab.scoring import take_rows
from activelab.strategies._base import PREDICT_PROBA, QueryContext, Strategy, top_k
from activelab.strategies._models import (
    check_has,
    context_classes,
    proba_on_classes,
    seeded_clone,
)
from activelab.strategies.uncertainty import entropy, least_confident

__all__ = ["ExpectedErrorReduction"]

LOSSES = {"zero_one": least_confident, "log": entropy}


def _append_row(X_lab: Any, x: Any) -> Any:
    if sp.issparse(X_lab):
        return sp.vstack([X_lab, x], format="csr")
    if hasattr(X_lab, "iloc"):
        import pandas as pd

        return pd.concat([X_lab, x], ignore_index=True)
    return np.vstack([X_lab, x])


class ExpectedErrorReduction(Strategy):
    """Query the candidate whose label most reduces the expected future loss.

    Parameters
    ----------
    loss : {"zero_one", "log"}, default="zero_one"
        Expected 0/1 loss (``1 − max p``) or log loss (entropy) on the
        evaluation sample.
    n_candidates : int, default=32
        Candidates scored per query (at least the batch size).
    n_eval : int, default=256
        Unlabelled items the loss is measured on.
    min_proba : float, default=1e-3
        Classes less likely than this for a candidate are not refitted.

    Notes
    -----
    ``fits_models`` is True: a query fits up to ``n_candidates × classes``
    models. A batch is the top ``n`` of the scored subsample (no re-planning
    within the batch).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from activelab import ActiveLearner
    >>> X, y = load_iris(return_X_y=True)
    >>> first = [0, 50, 100]
    >>> learner = ActiveLearner(LogisticRegression(max_iter=500),
    ...                         ExpectedErrorReduction(n_candidates=8, n_eval=50),
    ...                         random_state=0).fit(X, first, y[first])
    >>> learner.query(2).shape
    (2,)
    """

    name = "eer"
    requires: ClassVar[tuple[Any, ...]] = (PREDICT_PROBA,)
    fits_models: ClassVar[bool] = True

    def __init__(
        self,
        loss: str = "zero_one",
        n_candidates: int = 32,
        n_eval: int = 256,
        min_proba: float = 1e-3,
    ) -> None:
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}; got {loss!r}.")
        for label, value in (("n_candidates", n_candidates), ("n_eval", n_eval)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{label} must be an integer >= 1, got {value!r}.")
        if not 0 <= min_proba < 1:
            raise ValueError(f"min_proba must be in [0, 1), got {min_proba!r}.")
        self.loss = loss
        self.n_candidates = int(n_candidates)
        self.n_eval = int(n_eval)
        self.min_proba = min_proba

    def expected_losses(self, ctx: QueryContext, rows: np.ndarray) -> np.ndarray:
        """Expected loss on the evaluation sample after labelling each of ``rows``."""
        check_has(ctx.estimator, "predict_proba", self.name)
        classes = context_classes(ctx)
        n_cand = ctx.candidates.shape[0]
        n_eval = min(self.n_eval, n_cand)
        eval_rows = np.sort(ctx.rng.choice(ctx.candidates, size=n_eval, replace=False))
        X_eval = take_rows(ctx.X, eval_rows)
        X_lab = take_rows(ctx.X, ctx.labelled)
        y_lab = np.asarray(ctx.y_labelled)
        template = seeded_clone(ctx.estimator, ctx.rng)
        loss = LOSSES[self.loss]
        P = proba_on_classes(ctx.model, take_rows(ctx.X, rows), classes)
        out = np.zeros(rows.shape[0])
        for i, row in enumerate(rows):
            X_new = _append_row(X_lab, take_rows(ctx.X, np.array([row])))
            keep = np.flatnonzero(P[i] >= self.min_proba)
            weights = P[i, keep] / P[i, keep].sum()
            for w, c in zip(weights, classes[keep], strict=True):
                y_new = np.concatenate([y_lab, np.asarray([c], dtype=y_lab.dtype)])
                model = clone(template).fit(X_new, y_new)
                out[i] += w * loss(proba_on_classes(model, X_eval, classes)).sum()
        return out

    def _select(self, ctx: QueryContext, n: int) -> np.ndarray:
        n_cand = ctx.candidates.shape[0]
        m = min(max(self.n_candidates, n), n_cand)
        if m < n_cand:
            rows = np.sort(ctx.rng.choice(ctx.candidates, size=m, replace=False))
        else:
            rows = ctx.candidates
        scores = -self.expected_losses(ctx, rows)
        return rows[top_k(scores, n, rows)]
