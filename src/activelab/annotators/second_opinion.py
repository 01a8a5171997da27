"""Second opinions, chosen actively: a new item, or one more answer on a doubtful one?

Both choices are priced on one scale: the expected fall in the probability
that the item's label is wrong after one more answer from a typical
annotator (the value of that answer). For an item already labelled, the
belief about its class combines the aggregated answers with the model's
prediction; for a new item it is the model's prediction alone. With a belief
``b`` over the classes and an annotator who answers ``l`` for class ``k``
with probability ``C[k, l]``, the error of the best guess falls on average by

    sum_l max_k b_k C[k, l]  -  max_k b_k.

This is zero when one answer cannot change the best guess (a confident
belief, or a very noisy annotator), and largest for items in doubt. A re-label
is worth more than a new item when an item's answers disagree or the model
confidently contradicts them; with careful annotators, new items win.

Examples
--------
>>> import numpy as np
>>> C = np.array([[0.8, 0.2], [0.2, 0.8]])
>>> new = new_item_value(np.array([[0.5, 0.5], [0.95, 0.05]]), C)
>>> new.round(2).tolist()
[0.3, 0.0]
>>> again = relabel_value(np.array([[0.5, 0.5]]), np.array([[0.6, 0.4]]), C)
>>> again.round(3).tolist()
[0.2]
>>> choose_requests(new, again, 2)
(array([0]), array([0]))
"""

from __future__ import annotations

import numpy as np

from activelab._validation import check_seconds
from activelab.annotators.aggregate import dawid_skene

__all__ = [
    "answer_value",
    "choose_requests",
    "combine",
    "fit_model_weight",
    "new_item_value",
    "next_requests",
    "relabel_value",
]


def answer_value(belief: np.ndarray, confusion: np.ndarray) -> np.ndarray:
    """Expected fall in the error of the best guess after one answer.

    Parameters
    ----------
    belief : ndarray of shape (n, n_classes)
        Probability of each class per item (rows sum to 1).
    confusion : ndarray of shape (n_classes, n_classes)
        ``confusion[k, l]``: probability that the annotator answers ``l`` for
        class ``k`` (e.g. the mean of the estimated confusion matrices).

    Returns
    -------
    ndarray of shape (n,)
        Non-negative.

    Examples
    --------
    >>> import numpy as np
    >>> answer_value(np.array([[0.5, 0.5]]), np.eye(2)).tolist()  # a perfect answer
    [0.5]
    """
    belief = np.asarray(belief, dtype=float)
    joint = belief[:, :, None] * np.asarray(confusion, dtype=float)[None]  # (n, K, L)
    return np.maximum(joint.max(axis=1).sum(axis=1) - belief.max(axis=1), 0.0)


def new_item_value(model_proba: np.ndarray, confusion: np.ndarray) -> np.ndarray:
    """Value of a first answer on unlabelled items: the model's prediction is the belief.

    Examples
    --------
    >>> import numpy as np
    >>> new_item_value(np.array([[0.7, 0.3]]), np.eye(2)).round(2).tolist()
    [0.3]
    """
    return answer_value(model_proba, confusion)


def combine(posterior: np.ndarray, model_proba: np.ndarray, model_weight: float) -> np.ndarray:
    """Belief about labelled items: aggregated answers × model prediction ** ``model_weight``.

    Examples
    --------
    >>> import numpy as np
    >>> combine(np.array([[0.5, 0.5]]), np.array([[0.8, 0.2]]), 1.0).round(2).tolist()
    [[0.8, 0.2]]
    """
    b = np.asarray(posterior, float) * np.clip(np.asarray(model_proba, float), 1e-9, 1) ** float(
        model_weight
    )
    return b / b.sum(axis=1, keepdims=True)


def fit_model_weight(
    model_proba: np.ndarray, posterior: np.ndarray, grid: np.ndarray | None = None
) -> float:
    """The model's weight in the belief, fitted to the aggregated labels (a temperature).

    Picks the exponent ``w`` for which the model's prediction raised to ``w``
    (and renormalised) gives the aggregated labels the highest likelihood,
    ``sum_i sum_k posterior[i, k] * log softmax(w * log model_proba[i])_k``.
    A model whose out-of-fold predictions often contradict the answers gets a
    small weight (0: ignore it), a reliable one a weight near 1 or above.
    This is the role of ActiveLab's model weight, set from the model's accuracy
    relative to the annotators' (Goh & Mueller 2023).

    Parameters
    ----------
    model_proba : ndarray of shape (n, n_classes)
        The model's out-of-fold predictions for labelled items.
    posterior : ndarray of shape (n, n_classes)
        Their aggregated labels (soft).
    grid : array of float, optional
        Weights to try; default ``0, 0.125, ..., 2``.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> post = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    >>> fit_model_weight(np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.3, 0.7]]), post)
    2.0
    >>> half_wrong = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.3, 0.7]])
    >>> fit_model_weight(half_wrong, post)
    0.25
    """
    grid = np.linspace(0.0, 2.0, 17) if grid is None else np.asarray(grid, dtype=float)
    if len(model_proba) == 0:
        return 1.0
    log_p = np.log(np.clip(np.asarray(model_proba, dtype=float), 1e-9, 1.0))
    z = grid[:, None, None] * log_p[None]  # (n_grid, n, K)
    z -= z.max(axis=2, keepdims=True)
    log_soft = z - np.log(np.exp(z).sum(axis=2, keepdims=True))
    fit = (np.asarray(posterior, dtype=float)[None] * log_soft).sum(axis=(1, 2))
    return float(grid[int(np.argmax(fit))])


def relabel_value(
    posterior: np.ndarray,
    model_proba: np.ndarray,
    confusion: np.ndarray,
    *,
    model_weight: float = 1.0,
) -> np.ndarray:
    """Value of one more answer on labelled items.

    Parameters
    ----------
    posterior : ndarray of shape (n, n_classes)
        Aggregated answers per item (e.g. :attr:`Aggregate.posterior` of
        :func:`~activelab.annotators.aggregate.dawid_skene`).
    model_proba : ndarray of shape (n, n_classes)
        The model's prediction for the same items; best out of fold (a model
        trained on an item's label agrees with it too readily).
    confusion : ndarray of shape (n_classes, n_classes)
        The expected annotator's confusion.
    model_weight : float, default=1.0
        Exponent of the model's prediction in the belief (0 ignores the model).

    Examples
    --------
    >>> import numpy as np
    >>> C = np.array([[0.9, 0.1], [0.1, 0.9]])
    >>> sure = relabel_value(np.array([[0.99, 0.01]]), np.array([[0.9, 0.1]]), C)
    >>> doubt = relabel_value(np.array([[0.9, 0.1]]), np.array([[0.2, 0.8]]), C)
    >>> bool(doubt[0] > sure[0])
    True
    """
    return answer_value(combine(posterior, model_proba, model_weight), confusion)


def choose_requests(
    new_value: np.ndarray,
    relabel_value: np.ndarray,
    k: int,
    *,
    new_cost: np.ndarray | None = None,
    relabel_cost: np.ndarray | None = None,
    new_weight: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best requests among new items and re-labels, by value (per second, with costs).

    Parameters
    ----------
    new_value, relabel_value : ndarray
        Values of the candidates (positions into the caller's candidate arrays).
    k : int
        Requests to make.
    new_cost, relabel_cost : ndarray, optional
        Predicted seconds per answer (finite, above 0); when given, candidates
        are ranked by value per second.
    new_weight : float, default=1.0
        Multiplies the value of new items (a new item also adds a training
        row, which a re-label does not).

    Returns
    -------
    new_positions, relabel_positions : ndarray of int
        Chosen candidates of each kind, best first.

    Examples
    --------
    >>> import numpy as np
    >>> choose_requests(np.array([0.1, 0.3]), np.array([0.2]), 2)
    (array([1]), array([0]))
    """
    nv = np.asarray(new_value, dtype=float) * float(new_weight)
    rv = np.asarray(relabel_value, dtype=float)
    if new_cost is not None:
        nv = nv / check_seconds(new_cost, nv.shape[0], name="new_cost")
    if relabel_cost is not None:
        rv = rv / check_seconds(relabel_cost, rv.shape[0], name="relabel_cost")
    both = np.concatenate([nv, rv])
    k = min(int(k), both.shape[0])
    if k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    top = np.argpartition(-both, k - 1)[:k]
    top = top[np.argsort(-both[top], kind="stable")]
    is_new = top < nv.shape[0]
    return top[is_new].astype(np.int64), (top[~is_new] - nv.shape[0]).astype(np.int64)


def next_requests(
    proba: np.ndarray,
    items: np.ndarray,
    annotators: np.ndarray,
    labels: np.ndarray,
    k: int,
    *,
    n_annotators: int,
    cost: np.ndarray | None = None,
    new_weight: float = 0.25,
    model_weight: float | str = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The next ``k`` requests of a campaign with several annotators, in one call.

    Aggregates the answers so far by Dawid–Skene, prices a first answer on every
    unanswered item and one more answer on every answered item that some
    annotator has not answered yet, and returns the best ``k``.

    Parameters
    ----------
    proba : ndarray of shape (n_items, n_classes)
        The model's predictions for the whole pool; for answered items best
        out of fold (e.g. ``cross_val_predict(..., method="predict_proba")``).
    items, annotators, labels : array of int
        The answers so far, one entry each.
    k : int
        Requests to make.
    n_annotators : int
        Annotators in the panel.
    cost : ndarray of shape (n_items,), optional
        Predicted seconds per item (finite, above 0): rank by value per second.
    new_weight : float, default=0.25
        As in :func:`choose_requests`; chosen with ``benchmarks/annotators.py``.
    model_weight : float or "auto", default=1.0
        As in :func:`relabel_value`; ``"auto"`` fits it to the answered items
        with :func:`fit_model_weight` (not the default: see docs/annotators.md).

    Returns
    -------
    new_items, relabel_items : ndarray of int
        Pool indices to ask a first answer on, and to ask one more answer on.

    Examples
    --------
    >>> import numpy as np
    >>> proba = np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> items, who, labels = np.array([1, 1, 2]), np.array([0, 1, 0]), np.array([0, 1, 0])
    >>> new, again = next_requests(proba, items, who, labels, 2, n_annotators=3)
    >>> new.tolist(), again.tolist()  # the two undecided new items first
    ([0, 3], [])
    >>> new, again = next_requests(proba, items, who, labels, 2, n_annotators=3,
    ...                            model_weight="auto")
    >>> new.tolist(), again.tolist()  # the model is not trusted: item 1's answers disagree
    ([0], [1])
    """
    if isinstance(model_weight, str) and model_weight != "auto":
        raise ValueError(f"model_weight must be a number or 'auto', got {model_weight!r}.")
    proba = np.asarray(proba, dtype=float)
    n, n_classes = proba.shape
    items = np.asarray(items, dtype=np.int64)
    agg = dawid_skene(
        items, annotators, labels, n_items=n, n_classes=n_classes, n_annotators=n_annotators
    )
    seen = ~np.isnan(agg.accuracy)
    conf = agg.confusion[seen].mean(axis=0) if seen.any() else np.eye(n_classes)
    fresh = np.flatnonzero(~agg.answered)
    open_items = np.flatnonzero(agg.answered & (np.bincount(items, minlength=n) < n_annotators))
    nv = new_item_value(proba[fresh], conf)
    if model_weight == "auto":
        answered = np.flatnonzero(agg.answered)
        model_weight = fit_model_weight(proba[answered], agg.posterior[answered])
    rv = relabel_value(
        agg.posterior[open_items], proba[open_items], conf, model_weight=model_weight
    )
    c = None if cost is None else check_seconds(cost, n)
    pick_new, pick_old = choose_requests(
        nv,
        rv,
        k,
        new_cost=None if c is None else c[fresh],
        relabel_cost=None if c is None else c[open_items],
        new_weight=new_weight,
    )
    return fresh[pick_new], open_items[pick_old]
