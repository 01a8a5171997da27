"""The project owner's view of label quality: what ``GET /api/quality`` and ``/owner`` show.

Examples
--------
>>> from activelab.app.store import Store
>>> store = Store.create("sqlite://", {"labels": ["no", "yes"], "overlap": 2})
>>> store.add_items([{"external_id": f"x{i}", "kind": "text", "content": {"text": str(i)}}
...                  for i in range(2)])
>>> ada, _ = store.add_annotator("ada")
>>> bob, _ = store.add_annotator("bob")
>>> for item, a, b in [(0, "yes", "no"), (1, "no", "no")]:
...     _ = store.append_event(item, ada.id, "label", label=a)
...     _ = store.append_event(item, bob.id, "label", label=b)
>>> rep = owner_report(store)
>>> rep["task"], rep["answers"], rep["review"][0]["id"]
('classification', 4, 'x0')
"""

from __future__ import annotations

from typing import Any

from activelab.app.multilabel_quality import (
    aggregate_label_sets,
    disputed_label_sets,
    multilabel_answer_table,
    multilabel_quality_report,
)
from activelab.app.quality import (
    aggregate_answers,
    answer_table,
    disputed_items,
    quality_report,
    short_of_annotators,
)

__all__ = ["owner_report"]


def owner_report(store: Any, *, limit: int = 50, min_confidence: float = 0.9) -> dict[str, Any]:
    """What the owner's project page shows: the quality report and the review queue.

    :func:`~activelab.app.quality.quality_report` (or, for a multi-label project,
    :func:`~activelab.app.multilabel_quality.multilabel_quality_report`) with
    ``task`` and ``review``: the first ``limit`` disputed items, least sure first,
    each with its ``id`` (the item's id in the data; items with one answer are
    doubtful, counted under ``doubtful``, never disputed; multi-label:
    :func:`~activelab.app.multilabel_quality.disputed_label_sets`), and
    ``short_of_annotators``: the items that ask for more answers than the active annotators
    can give (:func:`~activelab.app.quality.short_of_annotators`; ``None`` when none do).
    The settings are read afresh, so gold items and decisions added from the command line
    count.
    """
    settings = store.refresh_settings()
    ids = store.external_ids()
    short = short_of_annotators(store)
    if settings.get("task") == "multilabel":
        rep = multilabel_quality_report(store)
        t = multilabel_answer_table(store)
        queue = disputed_label_sets(
            t, aggregate_label_sets(t, rep["aggregate"]), min_confidence=min_confidence
        )
        review = [{**q, "id": ids[q["item"]]} for q in queue[:limit]]
        return {"task": "multilabel", **rep, "review": review, "short_of_annotators": short}
    rep = quality_report(store)
    table = answer_table(store)
    queue = disputed_items(
        table, aggregate_answers(table, rep["aggregate"]), min_confidence=min_confidence
    )
    review = [{**q, "id": ids[q["item"]]} for q in queue[:limit]]
    return {"task": "classification", **rep, "review": review, "short_of_annotators": short}
