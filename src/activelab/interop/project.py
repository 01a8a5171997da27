"""A project's items and labels as :class:`~activelab.interop.records.Record` s, for export.

Items read from a labelling tool's file keep what that file said
(``content["_source"]``: their other fields, earlier answers and
predictions); the label an item carries in the project now is added as one
more answer, by the annotator who gave it. An export in the item's own format
thus gives back the file it came from, plus the new labels.
"""

from __future__ import annotations

import time
from typing import Any

from activelab.app.store import Store, decode_label_set
from activelab.interop.records import Answer, Prediction, Record

__all__ = ["project_records"]


def project_records(store: Store) -> list[Record]:
    """Every item of the project, with its source's answers and its current label.

    Examples
    --------
    >>> store = Store.create("sqlite://", {"labels": ["pos", "neg"], "kind": "text"})
    >>> store.add_items([{"external_id": "a", "kind": "text", "content": {"text": "nice"}},
    ...                  {"external_id": "b", "kind": "text", "content": {"text": "awful"}}])
    >>> ada, _ = store.add_annotator("ada", with_token=False)
    >>> _ = store.append_event(1, ada.id, "label", label="neg")
    >>> [(r.id, r.data, r.final_labels()) for r in project_records(store)]
    [('a', {'text': 'nice'}, None), ('b', {'text': 'awful'}, ['neg'])]
    """
    settings = store.settings
    multi = settings.get("task") == "multilabel"
    text_column = settings.get("text_column", "text")
    current = store.current_labels()
    records = []
    for item_id, ext in enumerate(store.external_ids()):
        item = store.item(item_id)
        content = item["content"]
        src = content.get("_source") or {}
        rec = Record(
            str(src.get("id", ext)),
            _data(item["kind"], content, src, text_column),
            [_answer(a) for a in src.get("answers", [])],
            [_prediction(p) for p in src.get("predictions", [])],
            dict(src.get("extra", {})),
            item_id + 1,
        )
        now = current.get(item_id)
        if now is not None:
            labels = decode_label_set(now.label) if multi else [now.label]
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now.created_at))
            rec.answers.append(Answer(labels, "accept", now.annotator, stamp))
        records.append(rec)
    return records


def _data(kind: str, content: dict[str, Any], src: dict[str, Any], text_column: str) -> dict:
    if "data" in src:  # images keep their whole data
        return dict(src["data"])
    fields = content.get("fields", content) if kind == "table" else content
    fields = {k: v for k, v in fields.items() if k != "_source"}
    if kind == "text" and text_column != "text":
        fields[text_column] = fields.pop("text")
    keys = src.get("keys")
    if keys is None:  # an item of activelab's own CSV/JSONL
        if kind == "table":
            fields.pop("id", None)
        return fields
    data = {k: fields[k] for k in keys if k in fields}
    if "data_id" in src:
        data["id"] = src["data_id"]
    return {k: data[k] for k in keys if k in data}


def _answer(obj: dict[str, Any]) -> Answer:
    return Answer(**{k: obj.get(k) for k in ("labels", "status", "annotator", "created_at", "raw")})


def _prediction(obj: dict[str, Any]) -> Prediction:
    return Prediction(**{k: obj.get(k) for k in ("labels", "score", "model_version", "raw")})
