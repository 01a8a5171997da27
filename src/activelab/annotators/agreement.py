"""Agreement between annotators: Cohen's kappa per pair, Krippendorff's alpha, raw agreement.

Answers are in long form (``items``, ``annotators``, ``labels``: integer arrays,
one entry per answer; see :mod:`activelab.annotators`). Only items answered by
more than one annotator carry information on agreement.

Examples
--------
>>> import numpy as np
>>> items = np.array([0, 0, 1, 1, 2, 2, 3, 3])
>>> annotators = np.array([0, 1, 0, 1, 0, 1, 0, 1])
>>> labels = np.array([0, 0, 1, 1, 0, 1, 1, 1])
>>> round(percent_agreement(items, labels), 3)
0.75
>>> round(krippendorff_alpha(items, labels), 3)
0.533
>>> k = pairwise_kappa(items, annotators, labels)
>>> round(float(k[0, 1]), 3)
0.5
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import cohen_kappa_score

from activelab.annotators.aggregate import _n_annotators

__all__ = ["krippendorff_alpha", "pairwise_kappa", "percent_agreement", "shared_items"]


def _counts(items: np.ndarray, labels: np.ndarray, n_classes: int | None) -> np.ndarray:
    """Item × class answer counts (dense; items numbered 0..max)."""
    items = np.asarray(items, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    if items.shape != labels.shape:
        raise ValueError(
            f"items and labels must have the same length, got {items.shape} and {labels.shape}."
        )
    if items.size == 0:
        return np.zeros((0, n_classes or 0))
    if items.min() < 0:
        raise ValueError(f"item indices must be 0 or more, got {int(items.min())}.")
    if labels.min() < 0 or (n_classes is not None and labels.max() >= n_classes):
        bad = int(labels.min()) if labels.min() < 0 else int(labels.max())
        within = "0 or more" if n_classes is None else f"in [0, {n_classes})"
        raise ValueError(
            f"labels must be class indices {within}, got {bad}; encode them first "
            "(e.g. with numpy.unique(..., return_inverse=True))."
        )
    k = int(labels.max()) + 1 if n_classes is None else int(n_classes)
    n = int(items.max()) + 1
    return sp.coo_matrix((np.ones(items.size), (items, labels)), shape=(n, k)).toarray()


def krippendorff_alpha(
    items: np.ndarray, labels: np.ndarray, n_classes: int | None = None
) -> float:
    """Krippendorff's alpha for nominal labels (any number of annotators, missing answers).

    Built from the coincidence matrix: every item answered ``m >= 2`` times
    adds each ordered pair of its answers with weight ``1 / (m - 1)``. Then
    ``alpha = 1 - (n - 1) (n - trace(o)) / (n^2 - sum_c n_c^2)``.

    Parameters
    ----------
    items, labels : array of int
        One entry per answer: the item and the class given.
    n_classes : int, optional
        Number of classes (default: the largest label + 1).

    Returns
    -------
    float
        1 for perfect agreement, 0 for agreement at chance, below 0 for
        systematic disagreement; ``nan`` when no item has two answers or every
        answer is the same class.

    Examples
    --------
    >>> import numpy as np
    >>> krippendorff_alpha(np.array([0, 0, 1, 1]), np.array([1, 1, 0, 0]))
    1.0
    """
    counts = _counts(items, labels, n_classes)
    m = counts.sum(axis=1)
    keep = m >= 2
    counts, m = counts[keep], m[keep]
    if counts.shape[0] == 0:
        return float("nan")
    w = 1.0 / (m - 1.0)
    # o = sum_u (n_u n_u^T - diag(n_u)) / (m_u - 1)
    o = (counts * w[:, None]).T @ counts - np.diag((counts * w[:, None]).sum(axis=0))
    n_c = o.sum(axis=1)
    n = n_c.sum()
    expected = n * n - float(np.sum(n_c * n_c))
    if expected <= 0:
        return float("nan")
    return float(1.0 - (n - 1.0) * (n - np.trace(o)) / expected)


def percent_agreement(items: np.ndarray, labels: np.ndarray) -> float:
    """Share of agreeing pairs of answers on the same item, averaged over items.

    Examples
    --------
    >>> import numpy as np
    >>> percent_agreement(np.array([0, 0, 0]), np.array([1, 1, 2]))
    0.3333333333333333
    """
    counts = _counts(items, labels, None)
    m = counts.sum(axis=1)
    keep = m >= 2
    if not keep.any():
        return float("nan")
    pairs = (counts[keep] * (counts[keep] - 1)).sum(axis=1) / (m[keep] * (m[keep] - 1))
    return float(pairs.mean())


def shared_items(
    items: np.ndarray, annotators: np.ndarray, labels: np.ndarray, a: int, b: int
) -> tuple[np.ndarray, np.ndarray]:
    """The labels annotators ``a`` and ``b`` gave to the items both answered.

    When an annotator answered an item more than once, the last answer counts.

    Examples
    --------
    >>> import numpy as np
    >>> shared_items(np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([2, 2, 1]), 0, 1)
    (array([2]), array([2]))
    """
    items = np.asarray(items, dtype=np.int64)
    annotators = np.asarray(annotators, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    n = int(items.max()) + 1 if items.size else 0
    la = np.full(n, -1, dtype=np.int64)
    lb = np.full(n, -1, dtype=np.int64)
    sel_a, sel_b = annotators == a, annotators == b
    la[items[sel_a]] = labels[sel_a]
    lb[items[sel_b]] = labels[sel_b]
    both = (la >= 0) & (lb >= 0)
    return la[both], lb[both]


def pairwise_kappa(
    items: np.ndarray,
    annotators: np.ndarray,
    labels: np.ndarray,
    n_annotators: int | None = None,
    min_shared: int = 2,
) -> np.ndarray:
    """Cohen's kappa of every pair of annotators on the items both answered.

    Parameters
    ----------
    items, annotators, labels : array of int
        One entry per answer.
    n_annotators : int, optional
        Size of the result (default: the largest annotator index + 1).
    min_shared : int, default=2
        Pairs with fewer shared items get ``nan``.

    Returns
    -------
    ndarray of shape (n_annotators, n_annotators)
        Symmetric; ``nan`` on the diagonal and for pairs without enough shared
        items. Computed by :func:`sklearn.metrics.cohen_kappa_score`; a pair
        that agrees on every shared item but used one class only gets 1.

    Examples
    --------
    >>> import numpy as np
    >>> k = pairwise_kappa(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]),
    ...                    np.array([0, 0, 1, 0]))
    >>> float(k[0, 1])
    0.0
    """
    annotators = np.asarray(annotators, dtype=np.int64)
    items = np.asarray(items, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    if not items.shape == annotators.shape == labels.shape:
        raise ValueError(
            "items, annotators and labels must have one entry per answer each, got lengths "
            f"{items.shape[0]}, {annotators.shape[0]} and {labels.shape[0]}."
        )
    a_n = _n_annotators(annotators, items, n_annotators)
    out = np.full((a_n, a_n), np.nan)
    present = np.unique(annotators)
    for i, a in enumerate(present):  # a loop over pairs of annotators, not over items
        for b in present[i + 1 :]:
            la, lb = shared_items(items, annotators, labels, int(a), int(b))
            if la.size < min_shared:
                continue
            k = 1.0 if np.array_equal(la, lb) else float(cohen_kappa_score(la, lb))
            out[a, b] = out[b, a] = k
    return out
