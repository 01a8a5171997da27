"""Metrics that see a rare class: balanced accuracy, per-class recall, average precision, hits.

Accuracy hides a rare class: on data with 5 % fraud, a model that always says "no
fraud" scores 95 %. This module holds the measures that do not:

- :func:`balanced_accuracy` (mean per-class recall) and :func:`per_class_recall`;
- :func:`average_precision` (the area under the precision-recall curve of the
  scores of the positive class);
- on the *sequence of labels bought*, :func:`positives_per_100` (positives found
  per 100 labels) and :func:`labels_until` (labels spent until the ``k``-th positive).

:func:`default_scoring` picks balanced accuracy for data with a class under
:data:`RARE_SHARE` of the items and says why; :func:`check_positive_label` turns a
``--positive-label`` into a label of the data, or a one-line error naming the labels;
:func:`get_rare_scorer` gives a scorer ``(model, X, y) -> float`` by name;
:func:`rare_summary` reduces the per-step records that
:func:`activelab.simulation.runner.simulate` keeps with a positive label.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, get_scorer
from sklearn.utils import check_consistent_length

from activelab._text import did_you_mean
from activelab._validation import check_count

__all__ = [
    "RARE_SCORINGS",
    "RARE_SHARE",
    "average_precision",
    "balanced_accuracy",
    "check_positive_label",
    "class_shares",
    "default_scoring",
    "get_rare_scorer",
    "labels_until",
    "per_class_recall",
    "positive_scores",
    "positives_per_100",
    "rare_callback",
    "rare_class",
    "rare_limit",
    "rare_summary",
    "step_record",
]

#: A class holding fewer than this share of the items is rare (and fewer than half the
#: share an even split gives it: the smallest of ten balanced classes, 9.7 % of the
#: digits, is not).
RARE_SHARE = 0.10

#: The metric names :func:`get_rare_scorer` knows beyond scikit-learn's own scorers.
RARE_SCORINGS = ("balanced_accuracy", "average_precision", "recall_positive")


# --------------------------------------------------------------------------- the data


def class_shares(y: Any) -> dict[Any, float]:
    """The share of the items in each class, by class (sorted).

    Examples
    --------
    >>> class_shares([0, 0, 0, 1])
    {0: 0.75, 1: 0.25}
    """
    labels, counts = np.unique(np.asarray(y), return_counts=True)
    total = counts.sum()
    return {lab: float(c / total) for lab, c in zip(labels.tolist(), counts, strict=True)}


def rare_class(y: Any, share: float = RARE_SHARE) -> Any:
    """The rarest class when it is rare, else ``None``.

    A class is rare when it holds fewer than ``share`` of the items and fewer than
    half of ``1 / k``, the share each of ``k`` classes would have if they were
    even: 5 % positives are rare, while among ten balanced classes (each near
    10 %) none is. Ties go to the first class in sorted order.

    Examples
    --------
    >>> rare_class([0] * 95 + [1] * 5)
    1
    >>> rare_class([0, 1, 1]) is None
    True
    >>> rare_class(list(range(10)) * 10 + [0, 1, 2, 3]) is None  # ten even classes
    True
    """
    shares = class_shares(y)
    if len(shares) < 2:
        return None
    label = min(shares, key=lambda k: shares[k])
    return label if shares[label] < rare_limit(len(shares), share) else None


def rare_limit(n_classes: int, share: float = RARE_SHARE) -> float:
    """The share under which a class of ``n_classes`` is rare: ``min(share, 0.5 / n_classes)``.

    Examples
    --------
    >>> rare_limit(2), rare_limit(10)
    (0.1, 0.05)
    """
    return float(min(share, 0.5 / max(int(n_classes), 1)))


def default_scoring(y: Any, share: float = RARE_SHARE) -> tuple[str, str | None]:
    """The metric to score classification with, and the reason when it is not accuracy.

    Returns ``("balanced_accuracy", reason)`` when a class is rare (see
    :func:`rare_class`), else ``("accuracy", None)``.

    Examples
    --------
    >>> default_scoring([0] * 97 + [1] * 3)
    ('balanced_accuracy', 'class 1 is 3.0% of the items (under 10%): accuracy would hide it, ...')
    >>> default_scoring([0, 1])
    ('accuracy', None)
    """
    label = rare_class(y, share)
    if label is None:
        return "accuracy", None
    shares = class_shares(y)
    pct, limit = shares[label], rare_limit(len(shares), share)
    under = f"{limit:.1%}".replace(".0%", "%")
    return "balanced_accuracy", (
        f"class {label!r} is {pct:.1%} of the items (under {under}): accuracy would hide it, "
        "a model that never predicts it scoring "
        f"{1 - pct:.1%}; balanced accuracy (mean recall per class) does not"
    )


def check_positive_label(
    y: Any,
    label: Any,
    classes: Sequence[Any] | None = None,
    *,
    option: str = "positive_label=...",
) -> Any:
    """``label`` as a label of ``y`` (a string is matched to numeric labels too).

    Parameters
    ----------
    y : array-like
        The labels of the data.
    label : object
        The positive label, e.g. as typed on the command line (``"1"``).
    classes : sequence, optional
        Every class the data may hold (a stream's declared classes): a
        positive among them but absent from ``y`` is reported as such.
    option : str, default="positive_label=..."
        How the caller's user gives the label, named by the errors (the command
        line passes ``"--positive-label"``).

    Raises
    ------
    ValueError
        When ``label`` is not among the labels (the message names them), or
        when the data hold no item of it.

    Examples
    --------
    >>> check_positive_label(np.array([0, 1, 1]), "0")
    0
    >>> check_positive_label(np.array(["a", "b"]), "c")
    Traceback (most recent call last):
    ...
    ValueError: The positive label 'c' is not among the labels of the data: 'a', 'b'. ...
    """
    y = np.asarray(y)
    present = np.unique(y)
    known = np.unique(np.asarray(classes)) if classes is not None else present
    match = _match_label(label, known)
    if match is None and present.shape[0] == 1 and classes is None:
        raise ValueError(
            f"The data hold no positive: all {len(y)} items are labelled {present.tolist()[0]!r}, "
            f"none {label!r}. Active learning needs data that hold at least one positive."
        )
    if match is None:
        names = ", ".join(repr(v) for v in known.tolist())
        raise ValueError(
            f"The positive label {label!r} is not among the labels of the data: {names}."
            f"{close_label_hint(label, known)} Pass one of them as {option}."
        )
    if not np.isin(match, present):
        raise ValueError(
            f"The data hold no item of the positive class {match!r} ({len(y)} items, labels "
            f"{', '.join(repr(v) for v in present.tolist())}): there is nothing to find. "
            f"Use data that hold positives, or another {option}."
        )
    return match


def _match_label(label: Any, known: np.ndarray) -> Any:
    """The label of ``known`` that ``label`` names: itself or its text first, else the same
    number (``"1"`` names ``1`` and a file's ``"1.0"``; never a boolean)."""
    values = known.tolist()
    for v in values:
        if v == label or str(v) == str(label):
            return v
    target = _as_number(label)
    if target is None:
        return None
    return next((v for v in values if _as_number(v) == target), None)


def close_label_hint(label: Any, known: Any) -> str:
    """`` Did you mean 'x'?`` for the label of ``known`` that ``label`` nearly names, else ``""``.

    The same text but for case or surrounding spaces comes first (``"Yes"`` for
    ``"yes"``), then the closest spelling (:func:`difflib.get_close_matches`).

    Examples
    --------
    >>> close_label_hint("Fraud ", ["fraud", "ok"]), close_label_hint("frad", ["fraud", "ok"])
    (" Did you mean 'fraud'?", " Did you mean 'fraud'?")
    >>> close_label_hint("maybe", ["no", "yes"])
    ''
    """
    return did_you_mean(label, np.asarray(known).tolist())


def _as_number(value: Any) -> float | None:
    """``value`` as a float (a number, or a text holding one); ``None`` for anything else."""
    if isinstance(value, bool | np.bool_):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- a model's scores


def balanced_accuracy(y_true: Any, y_pred: Any) -> float:
    """Mean recall over the classes present in ``y_true``.

    A predicted class that ``y_true`` does not hold counts as a miss of the true
    class, quietly (scikit-learn's ``balanced_accuracy_score`` warns at every call,
    which at every step of a campaign on a test set without some class was a warning
    per step).

    Examples
    --------
    >>> balanced_accuracy([0, 0, 0, 1], [0, 0, 0, 0])   # accuracy would say 0.75
    0.5
    >>> balanced_accuracy([0, 0, 1, 1], [0, 2, 1, 1])   # class 2 is not in y_true
    0.75
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    check_consistent_length(y_true, y_pred)
    if y_true.shape[0] == 0:
        raise ValueError("balanced_accuracy needs at least one item; got none.")
    _, codes = np.unique(y_true, return_inverse=True)
    hits = np.bincount(codes, weights=y_true == y_pred)
    return float(np.mean(hits / np.bincount(codes)))


def per_class_recall(y_true: Any, y_pred: Any, labels: Any = None) -> dict[Any, float | None]:
    """Recall of each class (``None`` for a class absent from ``y_true``).

    Examples
    --------
    >>> per_class_recall([0, 0, 1, 1], [0, 0, 1, 0])
    {0: 1.0, 1: 0.5}
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = np.unique(y_true) if labels is None else np.asarray(labels)
    is_true = y_true[None, :] == labels[:, None]
    hits = np.sum(is_true & (y_pred[None, :] == labels[:, None]), axis=1)
    n = is_true.sum(axis=1)
    return {
        lab: (float(h / m) if m else None)
        for lab, h, m in zip(labels.tolist(), hits, n, strict=True)
    }


def positive_scores(model: Any, X: Any, positive_label: Any) -> np.ndarray:
    """A score per row that grows with the model's belief in the positive class.

    The positive column of ``predict_proba``, else (binary) the
    ``decision_function`` signed towards the positive class. A model that does
    not know the class yet scores every row 0.
    """
    classes = np.asarray(getattr(model, "classes_", []))
    where = np.flatnonzero(classes == positive_label)
    n = int(X.shape[0])
    if where.size == 0:
        return np.zeros(n)
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(X), dtype=float)[:, where[0]]
    if hasattr(model, "decision_function"):
        d = np.asarray(model.decision_function(X), dtype=float)
        if d.ndim == 1:
            return d if where[0] == 1 else -d
        return d[:, where[0]]
    return (np.asarray(model.predict(X)) == positive_label).astype(float)


def average_precision(y_true: Any, scores: Any, positive_label: Any) -> float | None:
    """Average precision (area under the precision-recall curve) of the positive class.

    ``None`` when ``y_true`` holds no positive. A random ranking scores about the
    positive share.

    Examples
    --------
    >>> average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], positive_label=1)
    0.8333333333333333
    """
    truth = np.asarray(y_true) == positive_label
    if not truth.any():
        return None
    return float(average_precision_score(truth, np.asarray(scores, dtype=float)))


def get_rare_scorer(scoring: str, positive_label: Any = None) -> Callable[[Any, Any, Any], float]:
    """A scorer ``(model, X, y) -> float`` by name.

    ``"balanced_accuracy"``, ``"average_precision"`` (of ``positive_label``, for
    any number of classes) and ``"recall_positive"`` (the positive class's
    recall) are computed here; any other name is scikit-learn's scorer.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> X, y = np.zeros((4, 1)), np.array([0, 0, 0, 1])
    >>> model = DummyClassifier(strategy="most_frequent").fit(X, y)
    >>> get_rare_scorer("accuracy")(model, X, y), get_rare_scorer("balanced_accuracy")(model, X, y)
    (0.75, 0.5)
    """
    if scoring in ("average_precision", "recall_positive") and positive_label is None:
        raise ValueError(
            f"scoring={scoring!r} needs a positive label: pass positive_label=... "
            "(--positive-label on the command line)."
        )
    if scoring == "balanced_accuracy":
        return lambda model, X, y: balanced_accuracy(y, model.predict(X))
    if scoring == "average_precision":

        def ap(model: Any, X: Any, y: Any) -> float:
            value = average_precision(y, positive_scores(model, X, positive_label), positive_label)
            return float("nan") if value is None else value

        return ap
    if scoring == "recall_positive":

        def recall(model: Any, X: Any, y: Any) -> float:
            value = per_class_recall(y, model.predict(X), [positive_label])[positive_label]
            return float("nan") if value is None else value

        return recall
    return get_scorer(scoring)


def step_record(model: Any, X: Any, y: Any, positive_label: Any, classes: Any) -> dict[str, Any]:
    """The rare-class view of one model on test data: BA, AP and recall per class.

    Without a model (the labels hold one class), every item is predicted as that
    class and ranked the same: balanced accuracy ``1 / K`` for ``K`` classes,
    average precision the positive share, recall unknown.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.arange(8.0)[:, None]; y = np.array([0] * 6 + [1] * 2)
    >>> rec = step_record(LogisticRegression().fit(X, y), X, y, 1, [0, 1])
    >>> sorted(rec), rec["recall"]["0"]
    (['average_precision', 'balanced_accuracy', 'recall'], 1.0)
    """
    if model is None:  # one class seen: every item gets that class, and one same score
        return {
            "balanced_accuracy": 1.0 / len(classes),
            "average_precision": average_precision(y, np.zeros(len(y)), positive_label),
            "recall": {},
        }
    pred = model.predict(X)
    recall = per_class_recall(y, pred, classes)
    return {
        "balanced_accuracy": balanced_accuracy(y, pred),
        "average_precision": average_precision(
            y, positive_scores(model, X, positive_label), positive_label
        ),
        "recall": {str(k): v for k, v in recall.items()},
    }


def rare_callback(
    record: dict[str, Any], X_test: Any, y_test: Any, y_pool: Any, positive_label: Any, classes: Any
) -> Callable[[Any, Any], None]:
    """A :func:`~activelab.simulation.campaign.run_campaign` callback filling ``record``.

    After every step it appends the model's balanced accuracy, average precision
    and per-class recall on the test data, and keeps ``hits``: one flag per label
    bought, in order, true for a positive.
    """
    y_pool = np.asarray(y_pool)
    record.update(
        positive_label=positive_label,
        hits=[],
        balanced_accuracy=[],
        average_precision=[],
        recall={str(c): [] for c in np.asarray(classes).tolist()},
    )

    def callback(learner: Any, _result: Any) -> None:
        step = step_record(learner.model_, X_test, y_test, positive_label, classes)
        record["balanced_accuracy"].append(step["balanced_accuracy"])
        record["average_precision"].append(step["average_precision"])
        for c, values in record["recall"].items():
            values.append(step["recall"].get(c))
        record["hits"] = (y_pool[learner.labelled_] == positive_label).astype(int).tolist()

    return callback


# --------------------------------------------------------------------------- labels bought


def positives_per_100(hits: Any, n: int = 100) -> float:
    """Positives among the first ``n`` labels, per 100 labels.

    ``hits`` is one flag per label, in the order bought (``True``: a positive).

    Examples
    --------
    >>> positives_per_100([0, 1, 0, 1] * 50)
    50.0
    >>> positives_per_100([1, 0, 0, 0], n=100)   # fewer labels than n: per label bought
    25.0
    """
    n = check_count(n, "n")  # a negative n sliced from the end: all but the last labels
    h = np.asarray(hits, dtype=bool)[:n]
    return float(100.0 * h.sum() / max(h.shape[0], 1))


def labels_until(hits: Any, k: int = 1) -> int | None:
    """Labels bought until the ``k``-th positive (``None``: fewer than ``k`` found).

    Examples
    --------
    >>> labels_until([0, 0, 1, 0, 1], k=1), labels_until([0, 0, 1, 0, 1], k=2)
    (3, 5)
    >>> labels_until([0, 0], k=1) is None
    True
    """
    k = check_count(k, "k")  # k=0 indexed found[-1]: the labels until the last positive
    found = np.flatnonzero(np.asarray(hits, dtype=bool))
    return int(found[k - 1] + 1) if found.shape[0] >= k else None


def _ms(values: Sequence[float | None]) -> dict[str, Any]:
    v = np.array([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if v.size == 0:
        return {"mean": None, "std": None, "n": 0}
    return {"mean": float(v.mean()), "std": float(v.std()), "n": int(v.size)}


def _ba_curve(rec: Mapping[str, Any]) -> list[float]:
    """The balanced-accuracy curve, ``1 / K`` where no model could be fitted yet."""
    chance = 1.0 / max(len(rec.get("recall") or {}), 2)
    return [chance if v is None else float(v) for v in rec["balanced_accuracy"]]


def rare_summary(
    runs: Sequence[Mapping[str, Any]], *, first: int = 100, ks: Sequence[int] = (1, 5, 10)
) -> dict[str, dict[str, Any]]:
    """Per strategy, mean ± std over seeds of the rare-class measures.

    Reads the ``rare`` record of each run (``simulate(..., positive_label=...)``):
    positives per 100 labels over the first ``first`` labels, labels until the
    first ``k`` positives (over the seeds that found them; ``found`` counts them),
    the normalised area under the balanced-accuracy curve (``1 / K`` at the steps
    without a model: one class predicted for every item), and balanced accuracy,
    average precision and the positive class's recall at the budget.

    Examples
    --------
    >>> run = {"strategy": "s", "seed": 0, "n_labels": [2, 4],
    ...        "rare": {"positive_label": 1, "hits": [0, 1, 0, 1],
    ...                 "balanced_accuracy": [0.5, 0.7], "average_precision": [0.2, 0.4],
    ...                 "recall": {"0": [1.0, 0.9], "1": [0.0, 0.5]}}}
    >>> s = rare_summary([run])["s"]
    >>> s["per_100"]["mean"], s["until"]["1"]["mean"], s["ba_aulc"]["mean"]
    (50.0, 2.0, 0.6)
    """
    from activelab.simulation.metrics import aulc

    out: dict[str, dict[str, Any]] = {}
    by: dict[str, list[Mapping[str, Any]]] = {}
    for r in runs:
        if r.get("rare"):
            by.setdefault(r["strategy"], []).append(r)
    for name, rs in by.items():
        rec = [r["rare"] for r in rs]
        pos = str(rec[0]["positive_label"])
        ba = [aulc(r["n_labels"], _ba_curve(x)) for r, x in zip(rs, rec, strict=True)]
        until = {}
        for k in ks:
            got = [labels_until(x["hits"], k) for x in rec]
            until[str(k)] = {**_ms(got), "found": sum(g is not None for g in got)}
        out[name] = {
            "runs": len(rs),
            "positive_label": rec[0]["positive_label"],
            "per_100": _ms([positives_per_100(x["hits"], first) for x in rec]),
            "until": until,
            "ba_aulc": _ms(ba),
            "ba_final": _ms([_ba_curve(x)[-1] for x in rec]),
            "ap_final": _ms([x["average_precision"][-1] for x in rec]),
            "recall_final": _ms([x["recall"].get(pos, [None])[-1] for x in rec]),
        }
    return out
