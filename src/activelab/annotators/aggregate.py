"""Aggregate several answers per item: majority vote and Dawid–Skene EM.

Both return an :class:`Aggregate`: a posterior over classes per item (soft
labels), the hard label, and per-annotator estimated confusion matrices and
accuracies (for the majority vote: agreement with the majority). Items
without answers get the class prior and ``answered == False``.

:func:`soft_rows` turns soft labels into weighted training rows for an
estimator that takes ``sample_weight``.

Examples
--------
>>> import numpy as np
>>> items = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
>>> annotators = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2])
>>> labels = np.array([1, 1, 0, 0, 0, 0, 1, 1, 1])
>>> agg = majority_vote(items, labels, n_items=3, n_classes=2, annotators=annotators)
>>> agg.labels.tolist(), agg.accuracy.round(2).tolist()
([1, 0, 1], [1.0, 1.0, 0.67])
>>> ds = dawid_skene(items, annotators, labels, n_items=3, n_classes=2)
>>> ds.labels.tolist()
[1, 0, 1]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = [
    "SOFT_MIN_WEIGHT",
    "Aggregate",
    "dawid_skene",
    "label_counts",
    "majority_vote",
    "soft_rows",
]

#: the smallest soft-label weight kept as a training row by the simulator and the app
#: (chosen in a 2-seed check on ImageSegments and digits; 0.05 spread every single
#: answer over all classes)
SOFT_MIN_WEIGHT = 0.3


@dataclass(frozen=True)
class Aggregate:
    """Aggregated labels and what they say about the annotators.

    Attributes
    ----------
    posterior : ndarray of shape (n_items, n_classes)
        Probability of each class per item (soft labels).
    labels : ndarray of shape (n_items,)
        The most probable class (ties: the lowest class index).
    answered : ndarray of bool, shape (n_items,)
        Items with at least one answer.
    confusion : ndarray of shape (n_annotators, n_classes, n_classes)
        ``confusion[a, k, l]``: estimated probability that annotator ``a``
        answers ``l`` for an item of class ``k``.
    accuracy : ndarray of shape (n_annotators,)
        Estimated share of correct answers of each annotator
        (``nan`` for one without answers).
    prior : ndarray of shape (n_classes,)
        Estimated class shares.
    n_iter : int
        EM iterations run (0 for the majority vote).
    annotator_model : str
        The annotator model behind ``confusion``: ``"full"``, ``"one_coin"`` or
        ``"shrunk"`` for Dawid–Skene (``confusion="auto"`` resolved), ``"majority"``
        for the vote.
    """

    posterior: np.ndarray
    labels: np.ndarray
    answered: np.ndarray
    confusion: np.ndarray
    accuracy: np.ndarray
    prior: np.ndarray
    n_iter: int = 0
    annotator_model: str = "majority"

    @property
    def confidence(self) -> np.ndarray:
        """Probability of the aggregated label, per item."""
        return self.posterior.max(axis=1)


def _n_annotators(annotators: np.ndarray, items: np.ndarray, n_annotators: int | None) -> int:
    """The number of annotators, after checking ``annotators`` (one index per answer, each
    in ``[0, n_annotators)``)."""
    if annotators.shape != items.shape:
        raise ValueError("annotators must have one entry per answer, like items and labels.")
    if n_annotators is None:
        return int(annotators.max()) + 1 if annotators.size else 0
    if annotators.size and (annotators.min() < 0 or annotators.max() >= n_annotators):
        bad = int(annotators.min()) if annotators.min() < 0 else int(annotators.max())
        raise ValueError(
            f"annotator indices must lie in [0, {n_annotators}), got {bad}; pass "
            "n_annotators large enough."
        )
    return int(n_annotators)


def _check(items: np.ndarray, labels: np.ndarray, n_items: int, n_classes: int) -> None:
    if items.shape != labels.shape:
        raise ValueError(
            f"items and labels must have the same length, got {items.shape} and {labels.shape}."
        )
    if items.size and (items.min() < 0 or items.max() >= n_items):
        raise ValueError(f"item indices must lie in [0, {n_items}); pass n_items large enough.")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"labels must be class indices in [0, {n_classes}); encode them first "
            "(e.g. with numpy.unique(..., return_inverse=True))."
        )


def label_counts(items: np.ndarray, labels: np.ndarray, n_items: int, n_classes: int) -> np.ndarray:
    """Item × class matrix of answer counts.

    Examples
    --------
    >>> import numpy as np
    >>> label_counts(np.array([0, 0, 2]), np.array([1, 1, 0]), 3, 2).tolist()
    [[0.0, 2.0], [0.0, 0.0], [1.0, 0.0]]
    """
    items = np.asarray(items, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    _check(items, labels, n_items, n_classes)
    return sp.coo_matrix(
        (np.ones(items.size), (items, labels)), shape=(n_items, n_classes)
    ).toarray()


def _confusion(
    post_of_answer: np.ndarray,
    annotators: np.ndarray,
    labels: np.ndarray,
    n_annotators: int,
    n_classes: int,
    smoothing: float | np.ndarray,
) -> np.ndarray:
    """conf[a, k, l] ∝ sum over a's answers l of P(item is k), plus pseudo-counts, rows
    normalised."""
    conf = np.zeros((n_annotators, n_classes, n_classes)) + smoothing
    # conf[a, :, l] += post ; done through a (a, l, k) view
    np.add.at(conf.transpose(0, 2, 1), (annotators, labels), post_of_answer)
    return conf / conf.sum(axis=2, keepdims=True)


_CONFUSION_MODELS = ("full", "one_coin", "shrunk", "auto")


def _one_coin(
    right: np.ndarray,
    annotators: np.ndarray,
    n_annotators: int,
    n_classes: int,
    prior_accuracy: float,
    prior_strength: float,
) -> np.ndarray:
    """One-coin confusion matrices: accuracy on the diagonal, the rest spread evenly.

    ``right`` is the posterior probability that each answer is right; the
    accuracy has a Beta prior of ``prior_strength * n_classes`` pseudo-answers
    (the weight of the full model's Dirichlet prior), a share
    ``prior_accuracy`` of them right.
    """
    pseudo = prior_strength * n_classes
    hits = np.bincount(annotators, weights=right, minlength=n_annotators)
    total = np.bincount(annotators, minlength=n_annotators)
    acc = np.where(
        total + pseudo > 0,
        (hits + pseudo * prior_accuracy) / np.maximum(total + pseudo, 1e-12),
        prior_accuracy,
    )
    acc = np.clip(acc, 1e-6, 1 - 1e-6)
    off = (1.0 - acc) / max(n_classes - 1, 1)
    eye = np.eye(n_classes)
    return off[:, None, None] * (1 - eye) + acc[:, None, None] * eye


def _accuracy(conf: np.ndarray, prior: np.ndarray, seen: np.ndarray) -> np.ndarray:
    acc = np.einsum("akk,k->a", conf, prior)
    acc[~seen] = np.nan
    return acc


def majority_vote(
    items: np.ndarray,
    labels: np.ndarray,
    *,
    n_items: int,
    n_classes: int,
    annotators: np.ndarray | None = None,
    n_annotators: int | None = None,
) -> Aggregate:
    """Soft majority vote: the share of answers per class; ties go to the lower class.

    With ``annotators``, each annotator's accuracy is their agreement with the
    soft majority of the items they answered.

    Examples
    --------
    >>> import numpy as np
    >>> agg = majority_vote(np.array([0, 0]), np.array([0, 1]), n_items=2, n_classes=2)
    >>> agg.posterior.tolist(), agg.answered.tolist()
    ([[0.5, 0.5], [0.5, 0.5]], [True, False])
    """
    items = np.asarray(items, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    counts = label_counts(items, labels, n_items, n_classes)
    m = counts.sum(axis=1)
    answered = m > 0
    prior = counts.sum(axis=0) + 1.0
    prior /= prior.sum()
    post = np.where(answered[:, None], counts / np.maximum(m, 1)[:, None], prior[None, :])
    if annotators is None:
        conf = np.zeros((0, n_classes, n_classes))
        acc = np.zeros(0)
    else:
        annotators = np.asarray(annotators, dtype=np.int64)
        a_n = _n_annotators(annotators, items, n_annotators)
        seen = np.bincount(annotators, minlength=a_n) > 0
        conf = _confusion(post[items], annotators, labels, a_n, n_classes, 1e-9)
        hard = post.argmax(axis=1)
        hits = np.bincount(annotators, weights=hard[items] == labels, minlength=a_n)
        acc = hits / np.maximum(np.bincount(annotators, minlength=a_n), 1)
        acc[~seen] = np.nan
    return Aggregate(post, post.argmax(axis=1), answered, conf, acc, prior, 0)


def dawid_skene(
    items: np.ndarray,
    annotators: np.ndarray,
    labels: np.ndarray,
    *,
    n_items: int,
    n_classes: int,
    n_annotators: int | None = None,
    max_iter: int = 100,
    tol: float = 1e-6,
    smoothing: float = 0.01,
    prior_accuracy: float = 0.7,
    prior_strength: float = 2.0,
    model_prior: np.ndarray | None = None,
    gold_items: np.ndarray | None = None,
    gold_labels: np.ndarray | None = None,
    confusion: str = "full",
) -> Aggregate:
    """Dawid and Skene's EM: a confusion matrix per annotator, without gold labels.

    Starts from the soft majority vote, then alternates the M-step (class
    prior and confusion matrices from the current posteriors, smoothed by
    ``smoothing`` pseudo-answers per cell) and the E-step (posterior of each
    item given its answers) until the posteriors move less than ``tol``.

    Parameters
    ----------
    items, annotators, labels : array of int
        One entry per answer.
    n_items, n_classes : int
        Sizes of the pool and of the label set.
    n_annotators : int, optional
        Default: the largest annotator index + 1.
    max_iter : int, default=100
    tol : float, default=1e-6
    smoothing : float, default=0.01
        Pseudo-count added to every confusion cell.
    prior_accuracy, prior_strength : float, default=0.7 and 2.0
        A Dirichlet prior on each row of each confusion matrix: ``prior_strength``
        pseudo-answers per class, right with probability ``prior_accuracy``,
        wrong uniformly otherwise. It says annotators beat chance, which keeps
        EM from swapping classes when most items have a single answer, and
        keeps an annotator with few answers near the prior (0 switches it off).
    model_prior : ndarray of shape (n_items, n_classes), optional
        A per-item prior (e.g. a model's predicted probabilities) replacing the
        global class prior in the E-step.
    gold_items, gold_labels : array of int, optional
        Items whose true class is known (gold items, or an adjudicator's
        decisions): their posterior is fixed to it, so the annotators' answers on
        them measure their accuracy directly.
    confusion : {"full", "one_coin", "shrunk", "auto"}, default="full"
        The annotator model. ``"full"``: Dawid and Skene's, one free confusion
        matrix per annotator (``n_classes * (n_classes - 1)`` numbers each).
        ``"one_coin"``: one accuracy per annotator, errors spread evenly over the
        other classes; few numbers to fit, so it reads annotators well from a
        sparse overlap but cannot see that one class is mistaken for another.
        ``"shrunk"``: a full matrix whose Dirichlet prior is centred on the
        annotator's own one-coin accuracy instead of ``prior_accuracy``; with
        few answers it stays near the one-coin model, with many it becomes
        Dawid and Skene's. ``"auto"``: fits the one-coin and the full model
        and keeps the one with the lower Akaike information criterion (twice
        the free numbers minus twice the answers' log-likelihood).

    Returns
    -------
    Aggregate

    Examples
    --------
    >>> from activelab.annotators.simulated import uniform_noise
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 400)
    >>> sim = uniform_noise(3, [0.05, 0.2, 0.4], n_classes=3)
    >>> items = np.repeat(np.arange(400), 3)
    >>> who = np.tile(np.arange(3), 400)
    >>> ds = dawid_skene(items, who, sim.answer(items, who, y, rng), n_items=400, n_classes=3)
    >>> ds.accuracy.round(2).tolist(), sim.accuracy().round(2).tolist()
    ([0.95, 0.8, 0.7], [0.95, 0.8, 0.6])
    >>> float((ds.labels == y).mean()) > 0.9
    True
    """
    items = np.asarray(items, dtype=np.int64)
    annotators = np.asarray(annotators, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    _check(items, labels, n_items, n_classes)
    a_n = _n_annotators(annotators, items, n_annotators)
    if confusion not in _CONFUSION_MODELS:
        raise ValueError(
            f"Unknown confusion model {confusion!r}; use one of {list(_CONFUSION_MODELS)}."
        )
    seen = np.bincount(annotators, minlength=a_n) > 0
    off = (1.0 - prior_accuracy) / max(n_classes - 1, 1)
    pseudo = smoothing + prior_strength * (
        np.full((n_classes, n_classes), off) + (prior_accuracy - off) * np.eye(n_classes)
    )
    mv = majority_vote(items, labels, n_items=n_items, n_classes=n_classes)
    answered = mv.answered
    start = mv.posterior.copy()
    gold = None
    if gold_items is not None and gold_labels is not None:
        gold_items = np.asarray(gold_items, dtype=np.int64)
        gold = (gold_items, np.eye(n_classes)[np.asarray(gold_labels, dtype=np.int64)])
        start[gold[0]] = gold[1]
        answered = answered.copy()
        answered[gold_items] = True
    log_item_prior = None if model_prior is None else np.log(np.clip(model_prior, 1e-12, None))

    def em(model: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, float]:
        post = start.copy()
        prior, conf, log_lik = mv.prior, np.zeros((a_n, n_classes, n_classes)), 0.0
        n_iter = 0
        # EM iterations (each one vectorised over the answers); n_iter is reported after
        for n_iter in range(1, max_iter + 1):  # noqa: B007
            prior = post[answered].sum(axis=0) + 1.0
            prior /= prior.sum()
            conf = _m_step(
                model,
                post,
                items,
                annotators,
                labels,
                a_n,
                n_classes,
                pseudo,
                smoothing,
                prior_accuracy,
                prior_strength,
            )
            logp = np.zeros((n_items, n_classes))
            logp += np.log(prior) if log_item_prior is None else log_item_prior
            # log P(answers of item | class k) = sum over its answers of log conf[a, k, l]
            np.add.at(logp, items, np.log(conf)[annotators, :, labels])
            top = logp.max(axis=1, keepdims=True)
            new = np.exp(logp - top)
            total = new.sum(axis=1, keepdims=True)
            log_lik = float((np.log(total) + top).sum())  # log P(all answers)
            new /= total
            if gold is not None:
                new[gold[0]] = gold[1]
            delta = float(np.abs(new - post).max()) if n_items else 0.0
            post = new
            if delta < tol:
                break
        return post, conf, prior, n_iter, log_lik

    if confusion == "auto":
        # Akaike's criterion (asymptotically, how well each model predicts a held-out
        # answer): the full model must buy its n_classes * (n_classes - 1) numbers per
        # annotator with likelihood; the one-coin model has one each
        n_seen = int(seen.sum())
        aic, fits = {}, {}
        for model, n_par in (("one_coin", n_seen), ("full", n_seen * n_classes * (n_classes - 1))):
            fits[model] = em(model)
            aic[model] = 2.0 * n_par - 2.0 * fits[model][4]
        chosen = min(aic, key=aic.__getitem__)
    else:
        chosen, fits = confusion, {confusion: em(confusion)}
    post, conf, prior, n_iter, _ = fits[chosen]
    return Aggregate(
        post,
        post.argmax(axis=1),
        answered,
        conf,
        _accuracy(conf, prior, seen),
        prior,
        n_iter,
        chosen,
    )


def _m_step(
    model: str,
    post: np.ndarray,
    items: np.ndarray,
    annotators: np.ndarray,
    labels: np.ndarray,
    n_annotators: int,
    n_classes: int,
    pseudo: np.ndarray,
    smoothing: float,
    prior_accuracy: float,
    prior_strength: float,
) -> np.ndarray:
    """Confusion matrices from the current posteriors under one annotator model."""
    if model == "full":
        return _confusion(post[items], annotators, labels, n_annotators, n_classes, pseudo)
    coin = _one_coin(
        post[items, labels],
        annotators,
        n_annotators,
        n_classes,
        prior_accuracy,
        prior_strength,
    )
    if model == "one_coin":
        return coin
    return _confusion(
        post[items], annotators, labels, n_annotators, n_classes, smoothing + prior_strength * coin
    )


def soft_rows(
    indices: np.ndarray, posterior: np.ndarray, min_weight: float = 0.05
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Soft labels as weighted training rows: one row per (item, plausible class).

    Parameters
    ----------
    indices : array of int, shape (n,)
        Pool indices of the items.
    posterior : ndarray of shape (n, n_classes)
        Their soft labels.
    min_weight : float, default=0.05
        Classes below this probability get no row (the item's most probable
        class always gets one).

    Returns
    -------
    rows, classes, weights : ndarray
        Pool index, class index and ``sample_weight`` of each training row.

    Examples
    --------
    >>> import numpy as np
    >>> rows, cls, w = soft_rows(np.array([7, 9]), np.array([[0.9, 0.1], [0.5, 0.5]]))
    >>> rows.tolist(), cls.tolist(), w.tolist()
    ([7, 7, 9, 9], [0, 1, 0, 1], [0.9, 0.1, 0.5, 0.5])
    """
    posterior = np.asarray(posterior, dtype=float)
    keep = posterior >= min_weight
    keep[np.arange(posterior.shape[0]), posterior.argmax(axis=1)] = True
    r, c = np.nonzero(keep)
    w = posterior[r, c] / (posterior * keep).sum(axis=1)[r]
    return np.asarray(indices)[r], c, w
