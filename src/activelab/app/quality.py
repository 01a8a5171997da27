"""Label quality of a project with several annotators: raw answers, aggregate, agreement.

Every live answer (a label event not undone) is kept; :func:`answer_table` reads
them in long form, :func:`aggregate_answers` turns them into one label per item
(Dawid–Skene by default, or the majority, or the latest answer as before), and
:func:`quality_report` adds the agreement figures (Cohen's kappa per pair of
annotators, Krippendorff's alpha, raw agreement) and each annotator's estimated
accuracy, without gold labels. :func:`doubtful_items` picks the items whose
aggregate is worth a second (third ...) opinion, and :func:`double_share_items`
the fixed sample of items every project double-annotates to measure agreement.

Single-label projects; multi-label ones are aggregated label by label in
:mod:`activelab.app.multilabel_quality`.

Examples
--------
>>> import numpy as np
>>> from activelab.app.store import Store
>>> store = Store.create("sqlite://", {"labels": ["no", "yes"], "overlap": 2})
>>> store.add_items([{"external_id": str(i), "kind": "text", "content": {"text": str(i)}}
...                  for i in range(3)])
>>> ada, _ = store.add_annotator("ada")
>>> bob, _ = store.add_annotator("bob")
>>> for item, a, b in [(0, "yes", "yes"), (1, "no", "yes"), (2, "no", "no")]:
...     _ = store.append_event(item, ada.id, "label", label=a)
...     _ = store.append_event(item, bob.id, "label", label=b)
>>> rep = quality_report(store)
>>> rep["answers"], rep["items_with_several_answers"], rep["percent_agreement"]
(6, 3, 0.6666666666666666)
>>> rep["kappa"][0]["annotators"], round(rep["kappa"][0]["kappa"], 3)
(['ada', 'bob'], 0.4)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from activelab._text import count
from activelab.annotators.aggregate import Aggregate, dawid_skene, majority_vote
from activelab.annotators.agreement import (
    krippendorff_alpha,
    pairwise_kappa,
    percent_agreement,
)
from activelab.annotators.cost import CostModel, value_per_second
from activelab.annotators.second_opinion import choose_requests, new_item_value, relabel_value
from activelab.app.gold import gold_accuracy, gold_arrays

__all__ = [
    "AGGREGATES",
    "DECISION",
    "AnswerTable",
    "aggregate_answers",
    "annotator_rows",
    "answer_table",
    "answer_targets",
    "cost_aware_head",
    "disputed_items",
    "double_share_items",
    "doubtful_items",
    "doubtful_text",
    "is_decision",
    "kappa_pairs",
    "quality_report",
    "short_of_annotators",
    "skip_counts",
]

#: how answers become one label per item
AGGREGATES = ("dawid_skene", "majority", "latest")
#: the ``strategy`` of a label event that is a decision (``activelab review --decide``)
DECISION = "review --decide"


@dataclass(frozen=True)
class AnswerTable:
    """Every live answer of a single-label project, in long form.

    ``items``, ``annotators`` (positions into ``names``) and ``labels`` (positions
    into the project's labels) have one entry per answer, oldest first;
    ``seconds`` is ``nan`` where the time is unknown. ``gold_items`` and
    ``gold_labels`` are the owner's known labels (:mod:`activelab.app.gold`).
    """

    items: np.ndarray
    annotators: np.ndarray
    labels: np.ndarray
    seconds: np.ndarray
    event_ids: np.ndarray
    names: list[str]
    classes: list[str]
    n_items: int
    #: items whose label the owner knows, and those labels (class positions)
    gold_items: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    gold_labels: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    #: per answer, whether it is a decision that settles its item (``None``: none is)
    decisions: np.ndarray | None = None

    def decided(self) -> np.ndarray:
        """Per answer, whether it is a decision (``activelab review --decide``) rather
        than a peer's answer."""
        if self.decisions is not None:
            return self.decisions
        return np.zeros(len(self.annotators), dtype=bool)

    def settled(self) -> np.ndarray:
        """Per item, the class the owner settled it with (gold, overridden by an
        adjudicator's latest decision), or -1."""
        out = np.full(self.n_items, -1, dtype=np.int64)
        out[self.gold_items] = self.gold_labels
        judge = self.decided()
        out[self.items[judge]] = self.labels[judge]  # the latest decision counts
        return out


def answer_table(store: Any) -> AnswerTable:
    """The live answers of a store (see :meth:`activelab.app.store.Store.live_answers`)."""
    classes = [str(x) for x in store.settings["labels"]]
    anns = store.annotators()
    pos = {a.id: i for i, a in enumerate(anns)}
    cls = {c: i for i, c in enumerate(classes)}
    events = [e for e in store.live_answers() if e.label in cls]
    gold_items, gold_labels = gold_arrays(store.settings, classes)
    judges = {a.id for a in anns if a.name in store.settings.get("adjudicators", [])}
    return AnswerTable(
        np.array([e.item_id for e in events], dtype=np.int64),
        np.array([pos[e.annotator_id] for e in events], dtype=np.int64),
        np.array([cls[e.label] for e in events], dtype=np.int64),
        np.array([np.nan if e.seconds is None else e.seconds for e in events], dtype=float),
        np.array([e.id for e in events], dtype=np.int64),
        [a.name for a in anns],
        classes,
        store.n_items(),
        gold_items,
        gold_labels,
        np.array([is_decision(e, judges) for e in events], dtype=bool),
    )


def is_decision(event: Any, judges: set[int]) -> bool:
    """Whether a live answer is a decision: recorded as one, or (as decisions were before
    they were marked) an adjudicator's answer that no queue handed out.

    Parameters
    ----------
    event : Event
        A label event of the store.
    judges : set of int
        The ids of the project's adjudicators.

    Examples
    --------
    >>> from types import SimpleNamespace as E
    >>> is_decision(E(strategy=DECISION, annotator_id=1), set())
    True
    >>> is_decision(E(strategy="margin", annotator_id=1), {1})
    False
    """
    if event.strategy == DECISION:
        return True
    return event.annotator_id in judges and event.strategy is None


def aggregate_answers(table: AnswerTable, method: str = "dawid_skene") -> Aggregate:
    """One label per item from all its answers (gold or an adjudicator's answer settles it).

    ``"latest"`` keeps the newest answer (how a project with one answer per item
    has always worked); ``"majority"`` the most frequent; ``"dawid_skene"``
    weighs each answer by its annotator's estimated confusion. While no item has
    two answers, every method keeps the answers as they are (the training labels
    of a project with one answer per item never change). A gold item counts as
    answered, with its gold label, even before anyone answers it.
    """
    settled = table.settled()
    done = settled >= 0
    # gold and decisions are known classes for Dawid-Skene: they measure the annotators
    agg = _aggregate(table, method, np.flatnonzero(done), settled[done])
    if not done.any():
        return agg
    post = agg.posterior.copy()
    post[done] = np.eye(len(table.classes))[settled[done]]
    return Aggregate(
        post,
        post.argmax(axis=1),
        agg.answered | done,
        agg.confusion,
        agg.accuracy,
        agg.prior,
        agg.n_iter,
        agg.annotator_model,
    )


def _aggregate(
    table: AnswerTable, method: str, gold_items: np.ndarray, gold_labels: np.ndarray
) -> Aggregate:
    if method not in AGGREGATES:
        raise ValueError(f"Unknown aggregate {method!r}; use one of {list(AGGREGATES)}.")
    k, n, a_n = len(table.classes), table.n_items, len(table.names)
    overlap = np.bincount(table.items, minlength=n).max(initial=0) >= 2
    if method == "dawid_skene" and overlap:
        return dawid_skene(
            table.items,
            table.annotators,
            table.labels,
            n_items=n,
            n_classes=k,
            n_annotators=a_n,
            gold_items=gold_items,
            gold_labels=gold_labels,
        )
    agg = majority_vote(
        table.items,
        table.labels,
        n_items=n,
        n_classes=k,
        annotators=table.annotators,
        n_annotators=a_n,
    )
    if method == "majority" or (method == "dawid_skene" and not overlap):
        return agg
    latest = np.full(n, -1, dtype=np.int64)
    latest[table.items] = table.labels  # later answers overwrite earlier ones
    post = agg.posterior.copy()
    post[agg.answered] = np.eye(k)[latest[agg.answered]]
    return Aggregate(
        post, post.argmax(axis=1), agg.answered, agg.confusion, agg.accuracy, agg.prior, 0, "latest"
    )


def quality_report(
    store: Any,
    method: str | None = None,
    *,
    table: AnswerTable | None = None,
    agg: Aggregate | None = None,
) -> dict[str, Any]:
    """Agreement and per-annotator quality of a project, as plain data (JSON-able).

    Keys: ``answers``, ``items_answered``, ``items_with_several_answers``,
    ``aggregate`` (the method), ``annotator_model`` (Dawid–Skene's model of the
    annotators, ``"one_coin"`` or ``"full"``, or the method without it),
    ``percent_agreement``, ``krippendorff_alpha``,
    ``class_shares`` (each class's share of the raw answers and of the aggregated
    labels: where they part, the aggregate moved labels between classes, as a
    drifting annotator model does; see docs/annotators.md),
    ``kappa`` (one entry per pair with shared items), ``disputed`` (the length of
    the review queue, :func:`disputed_items`), ``doubtful`` (the items whose one answer
    leaves the aggregate less sure than 0.9: off the queue, a second answer settles
    them), ``gold_items`` and ``annotators``
    (answers, estimated accuracy, answers on gold items and accuracy on them,
    agreement with the aggregate, median seconds per answer). Figures that need
    items with two answers (or gold answers) are ``None`` without them. The agreement
    figures (raw, alpha, kappa) leave out the adjudicators' decisions (``activelab
    review --decide``): like gold labels, they settle items rather than answer them, so
    an adjudicator has no estimated accuracy either.

    A caller that already holds the store's :func:`answer_table` and its
    :func:`aggregate_answers` by ``method`` passes them as ``table`` and ``agg``, so they
    are not built again.
    """
    method = method or store.settings.get("aggregate", "dawid_skene")
    t = answer_table(store) if table is None else table
    agg = aggregate_answers(t, method) if agg is None else agg
    per_item = np.bincount(t.items, minlength=t.n_items)
    # agreement is between annotators: a decision settling an item (an adjudicator's answer,
    # as gold) is no peer's answer to agree with
    peer = ~t.decided()
    p_items, p_labels = t.items[peer], t.labels[peer]
    shared = np.bincount(p_items, minlength=t.n_items) >= 2
    kappa = pairwise_kappa(p_items, t.annotators[peer], p_labels, n_annotators=len(t.names))
    pairs = kappa_pairs(t.names, kappa)
    agree = agg.labels[t.items] == t.labels
    several = per_item >= 2
    # a decision is scored on gold no more than it is estimated: it is the owner's reference
    # (a gold label that comes after it would otherwise mark it right or wrong)
    n_gold, acc_gold = gold_accuracy(
        p_items,
        t.annotators[peer],
        p_labels,
        t.gold_items,
        t.gold_labels,
        n_items=t.n_items,
        n_annotators=len(t.names),
    )
    # without shared items there is nothing to estimate an annotator's accuracy from
    shown = method != "latest" and bool(several.any())
    people = annotator_rows(
        t, agree, several, agg.accuracy, shown, gold=(n_gold, acc_gold), skips=skip_counts(store, t)
    )
    disputed, doubtful = _review_masks(t, agg, 0.9)
    return {
        "answers": int(t.items.shape[0]),
        "items_answered": int(np.count_nonzero(per_item)),
        "items_with_several_answers": int(np.count_nonzero(several)),
        "aggregate": method,
        "annotator_model": agg.annotator_model,
        "percent_agreement": _num(percent_agreement(p_items, p_labels)) if shared.any() else None,
        "krippendorff_alpha": _num(krippendorff_alpha(p_items, p_labels, len(t.classes)))
        if shared.any()
        else None,
        "class_shares": {
            "answers": _shares(t.labels, t.classes),
            "aggregate": _shares(agg.labels[agg.answered], t.classes),
        },
        "kappa": pairs,
        "disputed": int(disputed.sum()),
        "doubtful": int(doubtful.sum()),
        "gold_items": int(t.gold_items.shape[0]),
        "annotators": people,
    }


def _shares(codes: np.ndarray, classes: list[str]) -> dict[str, float | None]:
    """Each class's share of ``codes`` (class indices); ``None`` for every class when empty."""
    counts = np.bincount(np.asarray(codes, dtype=np.int64), minlength=len(classes))
    total = int(counts.sum())
    return {
        c: (round(float(k / total), 4) if total else None)
        for c, k in zip(classes, counts, strict=True)
    }


def kappa_pairs(names: list[str], kappa: np.ndarray | None) -> list[dict[str, Any]]:
    """Cohen's kappa of each pair of annotators that shares items (a NaN pair is left out).

    Examples
    --------
    >>> kappa_pairs(["ada", "bob", "cy"], np.array([[1, 0.5, np.nan], [0.5, 1, 0.2], [0, 0, 1]]))
    [{'annotators': ['ada', 'bob'], 'kappa': 0.5}, {'annotators': ['bob', 'cy'], 'kappa': 0.2}]
    """
    if kappa is None:
        return []
    return [
        {"annotators": [names[a], names[b]], "kappa": float(kappa[a, b])}
        for a in range(len(names))
        for b in range(a + 1, len(names))
        if not np.isnan(kappa[a, b])
    ]


def skip_counts(store: Any, t: Any) -> np.ndarray:
    """Each annotator's live skips, in the order of ``t.names`` (the store's annotators)."""
    by_id = store.skips_by_annotator()
    by_name = {a.name: by_id.get(a.id, 0) for a in store.annotators()}
    return np.array([by_name.get(name, 0) for name in t.names], dtype=np.int64)


def annotator_rows(
    t: Any,
    agree: np.ndarray,
    several: np.ndarray,
    estimated: np.ndarray,
    show_estimate: bool,
    gold: tuple[np.ndarray, np.ndarray] | None = None,
    skips: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """One row per annotator with answers or skips: counts, estimated accuracy, gold,
    agreement, time.

    Parameters
    ----------
    t : AnswerTable or the multi-label answer table
        ``names``, and per answer ``items``, ``annotators`` and ``seconds``.
    agree : ndarray of shape (n_answers,)
        How far each answer agrees with the aggregate (0/1, or a share of labels).
    several : ndarray of bool, shape (n_items,)
        Items with two answers or more.
    estimated : ndarray of shape (n_annotators,)
        Estimated accuracy of each annotator (NaN: unknown).
    show_estimate : bool
        Whether the estimate means anything (items shared, an aggregate that estimates).
    gold : (answers on gold items, accuracy on them) per annotator, optional
    skips : ndarray of int, shape (n_annotators,), optional
        Live skips per annotator: someone who only skips gets a row too (no answers, so
        no agreement), rather than vanishing from the table.

    Examples
    --------
    >>> t = AnswerTable(items=np.array([0, 0, 1]), annotators=np.array([0, 1, 0]),
    ...                 labels=np.array([0, 0, 1]), seconds=np.array([1.0, 2.0, np.nan]),
    ...                 event_ids=np.array([1, 2, 3]), names=["ada", "bob"],
    ...                 classes=["neg", "pos"], n_items=2)
    >>> rows = annotator_rows(t, np.array([1.0, 1.0, 0.0]), np.array([True, False]),
    ...                       np.array([0.9, 0.8]), True)
    >>> [(r["name"], r["answers"], r["agreement_with_aggregate"]) for r in rows]
    [('ada', 2, 0.5), ('bob', 1, 1.0)]
    """
    n = len(t.names)
    # decisions settle items (as gold does): no estimate of the accuracy of someone who
    # only decided
    # (a multi-label table has no decisions: --decide is single-label only)
    decided = t.decided() if hasattr(t, "decided") else np.zeros(len(t.annotators), bool)
    judges = set(np.unique(t.annotators[decided]).tolist()) - set(
        np.unique(t.annotators[~decided]).tolist()
    )
    n_by = np.bincount(t.annotators, minlength=n)
    agree_by = np.bincount(t.annotators, weights=agree, minlength=n)
    skipped = np.zeros(n, dtype=np.int64) if skips is None else np.asarray(skips, dtype=np.int64)
    people = []
    for i, name in enumerate(t.names):  # one row per annotator, not per item
        if n_by[i] == 0 and skipped[i] == 0:
            continue
        secs = t.seconds[(t.annotators == i) & ~np.isnan(t.seconds)]
        people.append(
            {
                "name": name,
                "answers": int(n_by[i]),
                "skips": int(skipped[i]),
                "estimated_accuracy": _num(estimated[i])
                if show_estimate and i not in judges and n_by[i]
                else None,
                "gold_answers": 0 if gold is None else int(gold[0][i]),
                "gold_accuracy": None if gold is None else _num(gold[1][i]),
                "agreement_with_aggregate": float(agree_by[i] / n_by[i]) if n_by[i] else None,
                "shared_items": int(np.sum(several[t.items[t.annotators == i]])),
                "median_seconds": float(np.median(secs)) if secs.size else None,
            }
        )
    return people


def _num(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def double_share_items(n_items: int, share: float, seed: int = 0) -> np.ndarray:
    """The fixed random sample of items answered twice to measure agreement.

    Examples
    --------
    >>> double_share_items(10, 0.3).tolist()
    [2, 4, 6]
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"double_share must lie in [0, 1], got {share}.")
    k = round(share * n_items)
    rng = np.random.default_rng(seed)
    return np.sort(rng.permutation(n_items)[:k]).astype(np.int64)


def answer_targets(settings: dict[str, Any], n_items: int) -> np.ndarray:
    """How many answers each item is asked for before any second opinion: the project's
    ``overlap``, and two for the double share's items (one sample per batch of items, so
    that an ``activelab add`` leaves the earlier batches' sample as it was).

    Examples
    --------
    >>> answer_targets({"overlap": 1, "double_share": 0.3}, 10).tolist()
    [1, 1, 2, 1, 2, 1, 2, 1, 1, 1]
    """
    target = np.full(n_items, int(settings.get("overlap", 1)), dtype=np.int32)
    share = float(settings.get("double_share", 0.0))
    if share > 0:
        seed, offset = int(settings.get("double_share_seed", 0)), 0
        for b, size in enumerate(settings.get("item_batches") or [n_items]):
            extra = offset + double_share_items(int(size), share, seed + b)
            extra = extra[extra < n_items]
            target[extra] = np.maximum(target[extra], 2)
            offset += int(size)
    return target


def short_of_annotators(
    store: Any, project: str | None = None, *, metrics: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """The items that ask for more answers than the active annotators can still give, or
    ``None`` when there are none.

    An annotator answers an item once, and is not handed an item again once they skipped
    it; a revoked annotator is handed nothing, and the annotators that stand for a file's
    labels (``imported:…``) answer nothing. An item whose answers, with one from each
    active annotator who has neither answered nor skipped it, stay below its target
    (``overlap``, the double share's two, a second opinion the latest model asked) is never
    done: it stays "in the queue" for good. Items asking for one answer are left out (with no
    annotator yet, the list of annotators says so).

    Parameters
    ----------
    store : Store
        The project's store.
    project : str, optional
        The project as the commands to run name it (its folder); default its name.
    metrics : dict, optional
        The latest model version's metrics (its ``second_opinions``), when the caller has
        them; read from the store otherwise.

    Returns
    -------
    dict or None
        ``items`` (how many), ``answers`` (the most answers one of them asks for),
        ``overlap``, ``active_annotators`` and ``text``: one line saying so and what to do.

    Examples
    --------
    >>> from activelab.app.store import Store
    >>> store = Store.create("sqlite://", {"labels": ["no", "yes"], "overlap": 3, "name": "p"})
    >>> store.add_items([{"external_id": str(i), "kind": "text", "content": {"text": "a"}}
    ...                  for i in range(4)])
    >>> ada, _ = store.add_annotator("ada")
    >>> _ = store.append_event(0, ada.id, "label", label="no")
    >>> print(short_of_annotators(store)["text"])  # doctest: +NORMALIZE_WHITESPACE
    overlap 3 but 1 active annotator: 4 items can never get all their answers (they stay in
    the queue); add annotators (activelab annotator add p NAME)
    >>> _ = store.add_annotator("bob")
    >>> _ = store.revoke_annotator("bob")
    >>> print(short_of_annotators(store)["text"])  # doctest: +NORMALIZE_WHITESPACE
    overlap 3 but 1 active annotator: 4 items can never get all their answers (they stay in
    the queue); add annotators (activelab annotator add p NAME), or give a revoked one a new
    token (activelab annotator token p NAME)
    """
    from activelab.app.store import IMPORTED_PREFIX

    settings = store.settings
    n = store.n_items()
    target = answer_targets(settings, n)
    if metrics is None:
        versions = store.model_versions()
        metrics = versions[-1].metrics if versions else {}
    asked = metrics.get("second_opinions") or {}
    items = np.asarray(asked.get("items", []), dtype=np.int64)
    if items.size:
        target[items] = np.maximum(target[items], np.asarray(asked["target"], dtype=np.int32))
    if n == 0 or target.max() < 2:
        return None
    people = [a for a in store.annotators() if not a.name.startswith(IMPORTED_PREFIX)]
    active = {a.id for a in people if a.may_answer}
    events = store.live_answers(("label", "skip"))
    item = np.fromiter((e.item_id for e in events), np.int64, len(events))
    who = np.fromiter((e.annotator_id for e in events), np.int64, len(events))
    label = np.fromiter((e.kind == "label" for e in events), bool, len(events))
    answers = np.bincount(item[label], minlength=n)
    mine = np.isin(who, np.fromiter(active, np.int64, len(active)))
    pairs = np.unique(np.stack([item[mine], who[mine]]), axis=1)  # one per annotator and item
    done_by_active = np.bincount(pairs[0], minlength=n)
    can_get = answers + (len(active) - done_by_active)
    short = (target >= 2) & (answers < target) & (can_get < target)
    if not short.any():
        return None
    overlap, wanted, n_active = (
        int(settings.get("overlap", 1)),
        int(target[short].max()),
        len(active),
    )
    cause = f"overlap {overlap}" if wanted == overlap else f"{wanted} answers asked of an item"
    project = project or settings.get("name") or "PROJECT"
    n_short = int(short.sum())
    text = (
        f"{cause} but {count(n_active, 'active annotator')}: {count(n_short, 'item')} can "
        "never get all their answers (they stay in the queue); add annotators (activelab "
        f"annotator add {project} NAME)"
    )
    if any(a.revoked for a in people):
        text += f", or give a revoked one a new token (activelab annotator token {project} NAME)"
    return {
        "items": n_short,
        "answers": wanted,
        "overlap": overlap,
        "active_annotators": n_active,
        "text": text,
    }


def doubtful_items(
    agg: Aggregate,
    answered_by: np.ndarray,
    model_proba: np.ndarray | None,
    head_proba: np.ndarray | None,
    *,
    n_annotators: int,
    limit: int,
    new_weight: float = 0.25,
    model_weight: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Labelled items whose aggregate is worth one more answer than a new item is.

    Parameters
    ----------
    agg : Aggregate
        The current aggregate of all answers.
    answered_by : ndarray of int, shape (n_items,)
        Live answers per item of the annotators counted in ``n_annotators``.
    model_proba : ndarray of shape (n_items, n_classes), optional
        The model's predictions for every item (classes in the project's order).
        Without a model, only the answers count.
    head_proba : ndarray of shape (n_head, n_classes), optional
        Predictions for the head of the queue of new items: the re-labels kept
        are those among the ``limit`` most valuable requests of both kinds.
    n_annotators : int
        Active annotators (not revoked): an item answered by all of them cannot get more.
    limit : int
        At most this many items.
    new_weight, model_weight : float
        As in :func:`activelab.simulation.annotated.run_annotated_campaign`.

    Returns
    -------
    items, values : ndarray
        The items to ask again, best first, and their values.
    """
    k = agg.posterior.shape[1]
    cand = np.flatnonzero(agg.answered & (answered_by < n_annotators))
    if cand.size == 0 or limit <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    seen = ~np.isnan(agg.accuracy)
    conf = agg.confusion[seen].mean(axis=0) if seen.any() else np.eye(k)
    proba = np.full((cand.size, k), 1.0 / k) if model_proba is None else model_proba[cand]
    weight = 0.0 if model_proba is None else model_weight
    again = relabel_value(agg.posterior[cand], proba, conf, model_weight=weight)
    new = (
        np.zeros(0)
        if head_proba is None or head_proba.shape[0] == 0
        else new_item_value(head_proba, conf)
    )
    # the best ``limit`` requests among the head's new items and the re-labels
    _, pick = choose_requests(new, again, limit, new_weight=new_weight)
    pick = pick[again[pick] > 0]
    return cand[pick], again[pick]


def _review_masks(
    table: AnswerTable, agg: Aggregate, min_confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per item, whether it is disputed and whether it is a doubtful single answer.

    Disputed: an open item (answered, not settled by gold or a decision) whose answers
    disagree, or with at least two answers and an aggregate less sure than
    ``min_confidence``: the owner's review queue. Doubtful: an open item with one answer
    less sure than that; a second answer, not the owner, settles it, so it stays off the
    review queue.
    """
    n = table.n_items
    lo = np.full(n, np.iinfo(np.int64).max)
    hi = np.full(n, -1)
    np.minimum.at(lo, table.items, table.labels)
    np.maximum.at(hi, table.items, table.labels)
    n_answers = np.bincount(table.items, minlength=n)
    open_ = agg.answered & (table.settled() < 0)
    unsure = open_ & (agg.confidence < min_confidence)
    return (open_ & (lo != hi)) | (unsure & (n_answers >= 2)), unsure & (n_answers == 1)


def disputed_items(
    table: AnswerTable, agg: Aggregate, *, min_confidence: float = 0.9, doubtful: bool = False
) -> list[dict[str, Any]]:
    """The review queue of the owner: items whose answers disagree, or with several
    answers whose aggregate is less sure than ``min_confidence``, least sure first, not
    yet settled by an adjudicator or a gold label.

    An item with one answer is never disputed: with ``doubtful=True`` the list holds
    instead the items whose one answer leaves the aggregate less sure than
    ``min_confidence`` (what a second opinion settles).

    Each entry: ``item`` (pool index), ``label`` (the aggregate), ``confidence`` and
    ``answers`` (annotator, label).
    """
    disputed, single = _review_masks(table, agg, min_confidence)
    order = np.flatnonzero(single if doubtful else disputed)
    order = order[np.argsort(agg.confidence[order], kind="stable")]
    by_item: dict[int, list[dict[str, str]]] = {int(i): [] for i in order}
    for item, who, lab in zip(table.items, table.annotators, table.labels, strict=True):
        if int(item) in by_item:
            by_item[int(item)].append({"annotator": table.names[who], "label": table.classes[lab]})
    return [
        {
            "item": int(i),
            "label": table.classes[int(agg.labels[i])],
            "confidence": float(agg.confidence[i]),
            "answers": by_item[int(i)],
        }
        for i in order
    ]


def cost_aware_head(
    X: Any,
    head: np.ndarray,
    head_proba: np.ndarray,
    table: AnswerTable,
    confusion: np.ndarray | None = None,
    *,
    min_answers: int = 10,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Re-rank the head of the queue by value per predicted second.

    The value of an item is what one answer is expected to fix
    (:func:`~activelab.annotators.second_opinion.new_item_value` under the
    model's prediction); the seconds come from a
    :class:`~activelab.annotators.cost.CostModel` fitted on the recorded times of
    the answers so far (features of the answered items). With fewer than
    ``min_answers`` timed answers the head keeps its order.

    Returns
    -------
    permutation, info : ndarray, dict
        Positions into ``head`` (new order) and what the cost model saw.
    """
    timed = ~np.isnan(table.seconds)
    info: dict[str, Any] = {"timed_answers": int(timed.sum())}
    if timed.sum() < min_answers or head.size == 0:
        return np.arange(head.size), info
    from activelab.scoring import take_rows

    cm = CostModel(min_answers=min_answers).fit(
        take_rows(X, table.items[timed]), table.seconds[timed]
    )
    k = head_proba.shape[1]
    value = new_item_value(head_proba, np.eye(k) if confusion is None else confusion)
    secs = cm.predict(take_rows(X, head))
    perm = np.argsort(-value_per_second(value, secs), kind="stable")
    info.update(
        median_seconds=cm.median_,
        predicted_head_seconds=round(float(np.mean(secs[perm][: max(1, head.size // 4)])), 3),
    )
    return perm, info


def doubtful_text(n: int, settings: dict[str, Any], project: Path | str) -> str:
    """The line of ``status`` and ``review`` on a project's ``n`` doubtful single answers:
    what settles them (second opinions, on or off) and how to list them.

    Examples
    --------
    >>> doubtful_text(1, {}, "p")  # doctest: +NORMALIZE_WHITESPACE
    '1 doubtful single answer: second opinions would settle it, but they are off (init
    --second-opinions); activelab review p --doubtful lists it'
    """
    return (
        f"{count(n, 'doubtful single answer')}: {_settled_by(settings, n)}; "
        f"activelab review {project} --doubtful lists {'it' if n == 1 else 'them'}"
    )


def _settled_by(settings: dict[str, Any], n: int = 2) -> str:
    """What settles ``n`` items with one doubtful answer each, in this project."""
    them = "it" if n == 1 else "them"
    if settings.get("second_opinions"):
        return "second opinions ask for one more answer where it is worth more than a new item"
    if settings.get("task") == "multilabel":
        return f"a second answer would settle {them}"
    return f"second opinions would settle {them}, but they are off (init --second-opinions)"
