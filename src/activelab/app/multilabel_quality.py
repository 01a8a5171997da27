"""Several answers on a multi-label item: aggregation and agreement label by label.

Each answer of a multi-label project is a set of labels. Label by label it is a
yes/no answer ("does this label apply?"), so every label is a binary problem of
its own: :func:`aggregate_label_sets` aggregates each label's answers
(Dawid–Skene on the two classes, the majority, or the latest answer, as in
:mod:`activelab.app.quality`) and :func:`multilabel_quality_report` gives
Krippendorff's alpha and raw agreement per label, the same figures pooled over
every (item, label) decision, Cohen's kappa per pair of annotators on those
decisions, and per annotator the estimated accuracy (the mean over the labels
of Dawid–Skene's per-label estimate) and the agreement with the aggregate.

While no item has two answers every method keeps the answers as they are.
A majority tie leaves the label off.

Examples
--------
>>> from activelab.app.store import Store, encode_label_set
>>> store = Store.create("sqlite://", {"labels": ["red", "big"], "task": "multilabel",
...                                    "overlap": 2})
>>> store.add_items([{"external_id": str(i), "kind": "text", "content": {"text": str(i)}}
...                  for i in range(3)])
>>> ada, _ = store.add_annotator("ada")
>>> bob, _ = store.add_annotator("bob")
>>> for item, a, b in [(0, ["red"], ["red"]), (1, ["red", "big"], ["big"]), (2, [], [])]:
...     _ = store.append_event(item, ada.id, "label", label=encode_label_set(a))
...     _ = store.append_event(item, bob.id, "label", label=encode_label_set(b))
>>> rep = multilabel_quality_report(store, "majority")
>>> [(p["label"], p["percent_agreement"]) for p in rep["per_label"]]
[('red', 0.6666666666666666), ('big', 1.0)]
>>> rep["percent_agreement"]
0.8333333333333334
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from activelab.annotators.aggregate import dawid_skene, majority_vote
from activelab.annotators.agreement import krippendorff_alpha, pairwise_kappa, percent_agreement
from activelab.app.quality import AGGREGATES, annotator_rows, kappa_pairs, skip_counts

__all__ = [
    "LabelSetAggregate",
    "MultiAnswerTable",
    "aggregate_label_sets",
    "disputed_label_sets",
    "multilabel_answer_table",
    "multilabel_quality_report",
]


@dataclass(frozen=True)
class MultiAnswerTable:
    """Every live answer of a multi-label project, in long form.

    ``Y`` is the 0/1 indicator matrix of the answers (one row per answer, one
    column per label); ``items`` and ``annotators`` (positions into ``names``)
    have one entry per answer, oldest first.
    """

    items: np.ndarray
    annotators: np.ndarray
    Y: np.ndarray
    seconds: np.ndarray
    event_ids: np.ndarray
    names: list[str]
    classes: list[str]
    n_items: int


@dataclass(frozen=True)
class LabelSetAggregate:
    """Aggregated label sets.

    Attributes
    ----------
    proba : ndarray of shape (n_items, n_labels)
        Aggregated probability that each label applies.
    indicator : ndarray of int, shape (n_items, n_labels)
        The aggregated label sets (``proba > 0.5``).
    answered : ndarray of bool, shape (n_items,)
    accuracy : ndarray of shape (n_labels, n_annotators)
        Each annotator's estimated accuracy on each label (``nan``: no answers, or
        nothing to estimate it from: the latest answer, or no item with two answers).
    """

    proba: np.ndarray
    indicator: np.ndarray
    answered: np.ndarray
    accuracy: np.ndarray


def multilabel_answer_table(store: Any) -> MultiAnswerTable:
    """The live answers of a multi-label store, one indicator row per answer."""
    from activelab.app.store import decode_label_set

    classes = [str(x) for x in store.settings["labels"]]
    col = {c: j for j, c in enumerate(classes)}
    anns = store.annotators()
    pos = {a.id: i for i, a in enumerate(anns)}
    events = store.live_answers()
    Y = np.zeros((len(events), len(classes)), dtype=np.int64)
    for r, e in enumerate(events):  # one decode per answer (the sets are short strings)
        Y[r, [col[c] for c in decode_label_set(e.label) if c in col]] = 1
    return MultiAnswerTable(
        np.array([e.item_id for e in events], dtype=np.int64),
        np.array([pos[e.annotator_id] for e in events], dtype=np.int64),
        Y,
        np.array([np.nan if e.seconds is None else e.seconds for e in events], dtype=float),
        np.array([e.id for e in events], dtype=np.int64),
        [a.name for a in anns],
        classes,
        store.n_items(),
    )


def aggregate_label_sets(table: MultiAnswerTable, method: str = "dawid_skene") -> LabelSetAggregate:
    """One label set per item: each label's yes/no answers aggregated on their own.

    ``"dawid_skene"`` runs Dawid–Skene per label (two classes: the label applies
    or not), ``"majority"`` takes the majority per label (a tie leaves the label
    off), ``"latest"`` keeps the newest answer. While no item has two answers,
    every method keeps the answers as they are.
    """
    if method not in AGGREGATES:
        raise ValueError(f"Unknown aggregate {method!r}; use one of {list(AGGREGATES)}.")
    n, k, a_n = table.n_items, len(table.classes), len(table.names)
    overlap = np.bincount(table.items, minlength=n).max(initial=0) >= 2
    answered = np.bincount(table.items, minlength=n) > 0
    proba = np.zeros((n, k))
    accuracy = np.full((k, a_n), np.nan)
    if method == "latest" or not overlap:
        proba[table.items] = table.Y  # later answers overwrite earlier ones
    else:
        for j in range(k):
            y = table.Y[:, j]
            if method == "dawid_skene":
                agg = dawid_skene(
                    table.items, table.annotators, y, n_items=n, n_classes=2, n_annotators=a_n
                )
            else:
                agg = majority_vote(
                    table.items,
                    y,
                    n_items=n,
                    n_classes=2,
                    annotators=table.annotators,
                    n_annotators=a_n,
                )
            proba[:, j] = agg.posterior[:, 1]
            accuracy[j] = agg.accuracy
    proba[~answered] = 0.0
    return LabelSetAggregate(proba, (proba > 0.5).astype(np.int64), answered, accuracy)


def multilabel_quality_report(
    store: Any,
    method: str | None = None,
    *,
    table: MultiAnswerTable | None = None,
    agg: LabelSetAggregate | None = None,
) -> dict[str, Any]:
    """Agreement and per-annotator quality of a multi-label project (JSON-able).

    The keys of :func:`activelab.app.quality.quality_report` (figures pooled over
    every (item, label) decision: each is a yes/no answer), plus ``per_label``:
    for each label the items that carry it in the aggregate, raw agreement and
    Krippendorff's alpha on that label alone.

    A caller that already holds the store's :func:`multilabel_answer_table` and its
    :func:`aggregate_label_sets` by ``method`` passes them as ``table`` and ``agg``, so
    they are not built again.
    """
    method = method or store.settings.get("aggregate", "dawid_skene")
    t = multilabel_answer_table(store) if table is None else table
    agg = aggregate_label_sets(t, method) if agg is None else agg
    k, a_n = len(t.classes), len(t.names)
    per_item = np.bincount(t.items, minlength=t.n_items)
    several = per_item >= 2
    # every (item, label) pair is a unit with a yes/no answer
    units = (t.items[:, None] * k + np.arange(k)[None, :]).ravel()
    who = np.repeat(t.annotators, k)
    yes = t.Y.ravel()
    per_label = []
    for j, name in enumerate(t.classes):
        y = t.Y[:, j]
        per_label.append(
            {
                "label": name,
                "items": int(agg.indicator[:, j].sum()),
                "percent_agreement": _num(percent_agreement(t.items, y)) if several.any() else None,
                "krippendorff_alpha": _num(krippendorff_alpha(t.items, y, 2))
                if several.any()
                else None,
            }
        )
    kappa = pairwise_kappa(units, who, yes, n_annotators=a_n) if t.items.size else None
    pairs = kappa_pairs(t.names, kappa)
    agree = (agg.indicator[t.items] == t.Y).mean(axis=1)  # share of labels agreed, per answer
    known = ~np.isnan(agg.accuracy)  # (labels, annotators): the mean over the known labels
    est = np.where(
        known.any(axis=0),
        np.nansum(agg.accuracy, axis=0) / np.maximum(known.sum(axis=0), 1),
        np.nan,
    )
    shown = method != "latest" and bool(several.any())
    people = annotator_rows(t, agree, several, est, shown, skips=skip_counts(store, t))
    disputed, doubtful = _review_masks(t, agg, 0.9)
    return {
        "answers": int(t.items.shape[0]),
        "items_answered": int(np.count_nonzero(per_item)),
        "items_with_several_answers": int(np.count_nonzero(several)),
        "aggregate": method,
        "percent_agreement": _num(percent_agreement(units, yes)) if several.any() else None,
        "krippendorff_alpha": _num(krippendorff_alpha(units, yes, 2)) if several.any() else None,
        "kappa": pairs,
        "disputed": int(disputed.sum()),
        "doubtful": int(doubtful.sum()),
        "gold_items": 0,
        "annotators": people,
        "per_label": per_label,
    }


def _split(t: MultiAnswerTable) -> np.ndarray:
    """Per item: do its answers disagree on some label?"""
    k = len(t.classes)
    lo = np.full((t.n_items, k), 2)
    hi = np.full((t.n_items, k), -1)
    np.minimum.at(lo, t.items, t.Y)
    np.maximum.at(hi, t.items, t.Y)
    return (lo != hi).any(axis=1) & (hi >= 0).all(axis=1)


def _sure(table: MultiAnswerTable, agg: LabelSetAggregate) -> np.ndarray:
    """Per item, the confidence of its least sure label: ``min over labels of max(p, 1 - p)``."""
    if not table.classes:
        return np.ones(table.n_items)
    return np.maximum(agg.proba, 1 - agg.proba).min(axis=1)


def _review_masks(
    t: MultiAnswerTable, agg: LabelSetAggregate, min_confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per item, whether it is disputed and whether it is a doubtful single answer, on the
    grounds of single-label items (:func:`activelab.app.quality.disputed_items`).

    Disputed: an answered item whose answers differ on some label, or with at least two
    answers and a label less sure than ``min_confidence``. Doubtful: one answer and a
    label less sure than that (off the review queue, a second answer settles it).
    """
    n_answers = np.bincount(t.items, minlength=t.n_items)
    unsure = agg.answered & (_sure(t, agg) < min_confidence)
    disputed = agg.answered & (_split(t) | (unsure & (n_answers >= 2)))
    return disputed, unsure & (n_answers == 1)


def disputed_label_sets(
    table: MultiAnswerTable,
    agg: LabelSetAggregate,
    *,
    min_confidence: float = 0.9,
    doubtful: bool = False,
) -> list[dict[str, Any]]:
    """The owner's review queue of a multi-label project: items whose answers disagree on
    some label, or with several answers and a label less sure than ``min_confidence``,
    least sure first.

    An item with one answer is never disputed: with ``doubtful=True`` the list holds
    instead the items whose one answer leaves a label less sure than ``min_confidence``.

    Each entry: ``item``, ``label`` (the aggregated set, joined by ``", "``),
    ``confidence`` (of the least sure label: ``min over labels of max(p, 1 - p)``)
    and ``answers`` (annotator and their set, joined the same way).
    """
    sure = _sure(table, agg)
    disputed, single = _review_masks(table, agg, min_confidence)
    order = np.flatnonzero(single if doubtful else disputed)
    order = order[np.argsort(sure[order], kind="stable")]
    classes = np.asarray(table.classes, dtype=object)
    by_item: dict[int, list[dict[str, str]]] = {int(i): [] for i in order}
    for item, who, y in zip(table.items, table.annotators, table.Y, strict=True):
        if int(item) in by_item:
            by_item[int(item)].append(
                {"annotator": table.names[who], "label": ", ".join(classes[y.astype(bool)])}
            )
    return [
        {
            "item": int(i),
            "label": ", ".join(classes[agg.indicator[i].astype(bool)]),
            "confidence": float(sure[i]),
            "answers": by_item[int(i)],
        }
        for i in order
    ]


def _num(x: float) -> float | None:
    return None if np.isnan(x) else float(x)
