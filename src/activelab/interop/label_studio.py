"""Label Studio's task JSON and labelling configurations (classification with ``<Choices>``).

A Label Studio task file is a JSON list of tasks (or one task object). A task
is ``{"id": …, "data": {…}, "annotations": […], "predictions": […], …}``; a
bare object without ``"data"`` is the data itself. An annotation's or a
prediction's ``result`` is a list of regions; a classification region is
``{"from_name": "label", "to_name": "text", "type": "choices", "value":
{"choices": ["positive"]}}``.

Examples
--------
>>> tasks = [{"id": 1, "data": {"text": "good"}, "annotations": [{"result": [
...     {"from_name": "label", "to_name": "text", "type": "choices",
...      "value": {"choices": ["pos"]}}]}]}, {"data": {"text": "bad"}}]
>>> records = parse_tasks(tasks)
>>> [(r.id, r.data["text"], r.final_labels()) for r in records]
[('1', 'good', ['pos']), ('2', 'bad', None)]
>>> json.loads(write_label_studio(records)) == tasks
True
>>> cfg = parse_label_config(label_config("text", ["pos", "neg"], multilabel=True))
>>> cfg.from_name, cfg.to_name, cfg.data_key, cfg.choices, cfg.multiple
('label', 'text', 'text', ['pos', 'neg'], True)
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from activelab._jsonl import json_document, named_keys, unnamed_key
from activelab.interop.records import (
    Answer,
    FormatError,
    Prediction,
    Record,
    data_kind,
    name_by,
)

__all__ = [
    "LabelConfig",
    "choices_of",
    "choices_result",
    "label_config",
    "parse_label_config",
    "parse_tasks",
    "read_label_studio",
    "write_label_studio",
]

_OBJECT_TAGS = {
    "text": "text",
    "hypertext": "text",
    "paragraphs": "text",
    "image": "image",
}


#: fields that Label Studio's JSON-MIN export adds beside the data of an annotated task
_MIN_EXPORT_KEYS = frozenset({"annotator", "annotation_id"})


@dataclass(frozen=True)
class LabelConfig:
    """What a labelling configuration asks for (its first ``<Choices>`` control).

    Attributes
    ----------
    from_name : str
        The ``name`` of the ``<Choices>`` tag.
    to_name : str
        Its ``toName``: the object tag it labels.
    data_key : str
        The task data field the object shows (``value="$text"`` → ``"text"``).
    kind : {"text", "image"}
        The object's kind.
    choices : list of str
        The ``value`` of each ``<Choice>``, in order.
    multiple : bool
        ``choice="multiple"``: any number of the choices per item.
    """

    from_name: str
    to_name: str
    data_key: str
    kind: str
    choices: list[str]
    multiple: bool


def parse_label_config(xml: str) -> LabelConfig:
    """Read the classification control of a Label Studio labelling configuration.

    Raises :class:`~activelab.interop.records.FormatError` naming what is
    missing: no ``<Choices>``, fewer than two ``<Choice>`` values, or a
    ``toName`` that names no ``<Text>``/``<Image>`` tag.

    Examples
    --------
    >>> parse_label_config('<View><Image name="img" value="$image"/>'
    ...     '<Choices name="cls" toName="img"><Choice value="cat"/><Choice value="dog"/>'
    ...     '</Choices></View>').kind
    'image'
    >>> parse_label_config("<View><Text name='t' value='$text'/></View>")
    Traceback (most recent call last):
    ...
    activelab.interop.records.FormatError: label config: no <Choices> tag; activelab serves classification (<Choices name=... toName=...> with two or more <Choice value=.../>).
    """  # noqa: E501
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise FormatError(f"label config: not valid XML ({exc}).") from exc
    choices_tag = next((el for el in root.iter() if el.tag.lower() == "choices"), None)
    if choices_tag is None:
        raise FormatError(
            "label config: no <Choices> tag; activelab serves classification "
            "(<Choices name=... toName=...> with two or more <Choice value=.../>)."
        )
    from_name = choices_tag.get("name")
    to_name = choices_tag.get("toName")
    if not from_name or not to_name:
        raise FormatError("label config: <Choices> needs both name= and toName= attributes.")
    values = [
        el.get("value") or el.get("alias") or ""
        for el in choices_tag.iter()
        if el.tag.lower() == "choice"
    ]
    if len(values) < 2 or not all(values):
        raise FormatError(
            f"label config: <Choices name={from_name!r}> needs two or more <Choice value=.../>, "
            f"found {values}."
        )
    target = next(
        (el for el in root.iter() if el.get("name") == to_name and el is not choices_tag), None
    )
    if target is None or target.tag.lower() not in _OBJECT_TAGS:
        raise FormatError(
            f"label config: toName={to_name!r} must name a <Text>, <HyperText> or <Image> tag."
        )
    value = target.get("value") or ""
    if not value.startswith("$") or len(value) < 2:
        raise FormatError(
            f'label config: <{target.tag} name={to_name!r}> needs value="$field" naming a '
            "task data field."
        )
    multiple = (choices_tag.get("choice") or "single").lower() == "multiple"
    return LabelConfig(
        from_name, to_name, value[1:], _OBJECT_TAGS[target.tag.lower()], values, multiple
    )


def label_config(
    kind: str,
    labels: list[str],
    *,
    multilabel: bool = False,
    from_name: str = "label",
    data_key: str | None = None,
) -> str:
    """A Label Studio labelling configuration for classifying texts or images.

    Examples
    --------
    >>> print(label_config("image", ["cat", "dog"]))
    <View>
      <Image name="image" value="$image"/>
      <Choices name="label" toName="image" choice="single">
        <Choice value="cat"/>
        <Choice value="dog"/>
      </Choices>
    </View>
    """
    if kind not in ("text", "image"):
        raise ValueError(f"kind must be 'text' or 'image', got {kind!r}.")
    key = data_key or kind
    tag = "Text" if kind == "text" else "Image"
    lines = [
        "<View>",
        f"  <{tag} name={quoteattr(key)} value={quoteattr('$' + key)}/>",
        f"  <Choices name={quoteattr(from_name)} toName={quoteattr(key)} "
        f'choice="{"multiple" if multilabel else "single"}">',
        *(f"    <Choice value={quoteattr(lab)}/>" for lab in labels),
        "  </Choices>",
        "</View>",
    ]
    return "\n".join(lines)


def choices_of(
    result: Any, from_name: str | None = None, where: str = "result"
) -> list[str] | None:
    """The choices of the first ``choices`` region of a result (of ``from_name`` if given).

    Returns ``None`` when the result has no such region. Raises
    :class:`~activelab.interop.records.FormatError` naming the field when the
    result is malformed.

    Examples
    --------
    >>> choices_of([{"type": "choices", "from_name": "c", "value": {"choices": ["a", "b"]}}])
    ['a', 'b']
    >>> choices_of([{"type": "choices", "value": {"choices": "a"}}])
    Traceback (most recent call last):
    ...
    activelab.interop.records.FormatError: result[0].value.choices must be a list of strings, got 'a'.
    """  # noqa: E501
    if not isinstance(result, list):
        raise FormatError(f"{where} must be a list of regions, got {_short(result)}.")
    for i, region in enumerate(result):
        if not isinstance(region, dict):
            raise FormatError(f"{where}[{i}] must be an object, got {_short(region)}.")
        if region.get("type") != "choices":
            continue
        if from_name is not None and region.get("from_name") != from_name:
            continue
        value = region.get("value")
        if not isinstance(value, dict):
            raise FormatError(f"{where}[{i}].value must be an object, got {_short(value)}.")
        choices = value.get("choices")
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise FormatError(
                f"{where}[{i}].value.choices must be a list of strings, got {_short(choices)}."
            )
        return list(choices)
    return None


def choices_result(
    labels: list[str], from_name: str, to_name: str, score: float | None = None
) -> list[dict[str, Any]]:
    """A result with one ``choices`` region holding ``labels``.

    Examples
    --------
    >>> choices_result(["a"], "label", "text")
    [{'from_name': 'label', 'to_name': 'text', 'type': 'choices', 'value': {'choices': ['a']}}]
    """
    region: dict[str, Any] = {
        "from_name": from_name,
        "to_name": to_name,
        "type": "choices",
        "value": {"choices": list(labels)},
    }
    if score is not None:
        region["score"] = float(score)
    return [region]


def read_label_studio(path: str | Path, *, from_name: str | None = None) -> list[Record]:
    """Read a Label Studio task file (JSON) into records.

    JSON syntax errors, and an object naming a key twice (JSON would keep only the last
    value), are reported with their line and column, other problems with the task number,
    its id and the field.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path}: not UTF-8 text ({exc}); save the file as UTF-8.") from exc
    if not text.strip():  # else "line 1, column 1: invalid JSON (Expecting value)"
        raise FormatError(
            f'{path}: the file is empty; it needs a JSON list of tasks ({{"data": {{...}}}} '
            "objects)."
        )
    obj = json_document(path, text, FormatError)  # a key given twice refused, as in JSONL
    try:
        return parse_tasks(obj, from_name=from_name)
    except FormatError as exc:
        raise FormatError(f"{path}: {exc}") from exc


def parse_tasks(obj: Any, *, from_name: str | None = None) -> list[Record]:
    """Records from parsed Label Studio JSON (a list of tasks or one task)."""
    tasks = [obj] if isinstance(obj, dict) else obj
    if not isinstance(tasks, list) or not tasks:
        raise FormatError(
            'expected a non-empty JSON list of tasks ({"data": {...}} objects), got '
            f"{_short(obj)}."
        )
    if from_name is None:
        first = _first_choices_region(tasks)
        from_name = None if first is None else first["from_name"]
    records = []
    seen: dict[str, int] = {}
    for n, task in enumerate(tasks, start=1):
        rec = _parse_task(task, n, from_name)
        if rec.id in seen:
            raise FormatError(
                f"task {n}: duplicate id {rec.id!r} (first seen in task {seen[rec.id]})."
            )
        seen[rec.id] = n
        records.append(rec)
    _ids_from_data(records)
    return records


def _first_choices_region(tasks: list[Any]) -> dict[str, Any] | None:
    """The first ``choices`` region (with a ``from_name``) of the tasks' answers, or without
    answers of their predictions: its control is the one every task is read by, and the one
    new answers are written for.

    A labelling config with several ``<Choices>`` (a sentiment and a topic) gives
    each annotation several regions, in no fixed order; reading the first region
    of each would mix the controls' choices. Malformed parts are skipped here and
    reported by the parse.

    Examples
    --------
    >>> topic = {"type": "choices", "from_name": "topic", "value": {"choices": ["sport"]}}
    >>> mood = {"type": "choices", "from_name": "mood", "value": {"choices": ["pos"]}}
    >>> _first_choices_region([{"data": {}, "annotations": [{"result": [mood, topic]}]},
    ...                        {"data": {}, "annotations": [{"result": [topic, mood]}]}])
    {'type': 'choices', 'from_name': 'mood', 'value': {'choices': ['pos']}}
    """
    for key in ("annotations", "predictions"):
        for task in tasks:
            found = task.get(key) if isinstance(task, dict) else None
            for ann in found if isinstance(found, list) else []:
                result = ann.get("result") if isinstance(ann, dict) else None
                for region in result if isinstance(result, list) else []:
                    if (
                        isinstance(region, dict)
                        and region.get("type") == "choices"
                        and isinstance(region.get("from_name"), str)
                    ):
                        return region
    return None


def _ids_from_data(records: list[Record]) -> None:
    """Name each task by its data's ``id``, else by its task id, when every task has one
    of the two and the names are distinct.

    Label Studio gives a task an id of its own in each project (a new one at every
    import), but keeps its data as it was: the item's own name, where the file gives
    one (as activelab's export does), is its data's ``id``, as a Prodigy example's is
    its ``meta`` id. A file of tasks with data ids beside tasks with task ids only (an
    export of a project made from a Label Studio file, with a CSV's items added) keeps
    both. Otherwise the task ids stand, else the tasks' numbers.

    Examples
    --------
    >>> records = parse_tasks([{"data": {"text": "a", "id": "x7"}}, {"text": "b", "id": 8}])
    >>> [r.id for r in records]
    ['x7', '8']
    >>> [r.id for r in parse_tasks([{"id": 1, "data": {"text": "a", "id": "x7"}},
    ...                             {"id": 2, "data": {"text": "b"}}])]
    ['x7', '2']
    >>> [r.id for r in parse_tasks([{"text": "a", "id": "x"}, {"text": "b", "id": "x"}])]
    ['1', '2']
    """
    name_by(
        records,
        [rec.data["id"] if "id" in rec.data else rec.extra.get("id") for rec in records],
    )


def _parse_task(task: Any, n: int, from_name: str | None) -> Record:
    where = f"task {n}"
    if not isinstance(task, dict):
        raise FormatError(f"{where}: expected an object, got {_short(task)}.")
    if "data" in task:
        data = task["data"]
        if not isinstance(data, dict):
            raise FormatError(f"{where}: field 'data' must be an object, got {_short(data)}.")
        # an empty (or null) list of annotations or predictions is kept as it was written
        extra = {
            k: v
            for k, v in task.items()
            if k != "data" and not (k in ("annotations", "predictions") and v)
        }
    else:
        data, extra = task, {}
        if "annotations" in task or "predictions" in task:
            raise FormatError(f"{where}: has annotations or predictions but no 'data' field.")
        if task.keys() >= _MIN_EXPORT_KEYS:
            raise FormatError(
                f"{where}: this is Label Studio's JSON-MIN export (fields 'annotator', "
                "'annotation_id'), where answers cannot be told from data; export the project "
                "as JSON instead (Export → JSON)."
            )
    data, held = named_keys(data)  # a key without a name, as in JSON Lines and CSV headers
    if held is not None:
        raise FormatError(f"{where}: field 'data' has {unnamed_key(*held)}.")
    if not data:
        raise FormatError(f"{where}: field 'data' is empty; a task needs e.g. {{'text': ...}}.")
    raw_id = task.get("id") if "data" in task else None
    task_id = str(raw_id) if raw_id is not None else str(n)
    if raw_id is not None:
        where = f"task {n} (id {raw_id})"
    answers = []
    for i, ann in enumerate(_list(task, "annotations", where)):
        field = f"{where}: annotations[{i}]"
        if not isinstance(ann, dict):
            raise FormatError(f"{field} must be an object, got {_short(ann)}.")
        labels = choices_of(ann.get("result", []), from_name, f"{field}.result")
        answers.append(
            Answer(
                labels or [],
                "ignore" if ann.get("was_cancelled") else "accept",
                _annotator(ann),
                ann.get("updated_at") or ann.get("created_at"),  # when last changed
                ann,
            )
        )
    predictions = []
    for i, pred in enumerate(_list(task, "predictions", where)):
        field = f"{where}: predictions[{i}]"
        if not isinstance(pred, dict):
            raise FormatError(f"{field} must be an object, got {_short(pred)}.")
        labels = choices_of(pred.get("result", []), from_name, f"{field}.result")
        score = pred.get("score")
        if score is not None and (
            isinstance(score, bool)
            or not isinstance(score, int | float)
            or not math.isfinite(score)
        ):
            raise FormatError(f"{field}.score must be a finite number, got {_short(score)}.")
        version = pred.get("model_version")
        predictions.append(
            Prediction(
                labels or [],
                None if score is None else float(score),
                None if version is None else str(version),
                pred,
            )
        )
    return Record(task_id, data, answers, predictions, extra, n)


def _list(task: dict[str, Any], key: str, where: str) -> list[Any]:
    value = task.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise FormatError(f"{where}: field {key!r} must be a list, got {_short(value)}.")
    return value


def _annotator(ann: dict[str, Any]) -> str | None:
    who = ann.get("created_username") or ann.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("username") or who.get("id")
    return None if who is None else str(who)


def write_label_studio(
    records: list[Record], *, from_name: str | None = None, to_name: str | None = None
) -> str:
    """Label Studio task JSON for ``records``.

    Answers and predictions read from Label Studio are written back verbatim
    (an annotation without a time gets the answer's ``created_at``, when it has
    one: a project's export gives the time it recorded the answer at). New ones
    become a ``choices`` region from ``from_name`` to ``to_name``: by default
    the control of the answers read (so that the file's labelling config shows
    the new ones too), else ``label`` to the data field (``text`` or
    ``image``). Rejected answers have no Label Studio form and are left out;
    ignored ones become cancelled annotations.

    Examples
    --------
    >>> read = parse_tasks([{"data": {"text": "a"}, "annotations": [{"result": [
    ...     {"type": "choices", "from_name": "mood", "to_name": "review",
    ...      "value": {"choices": ["pos"]}}]}]}])
    >>> read[0].answers.append(Answer(["neg"], annotator="ada"))
    >>> new = json.loads(write_label_studio(read))[0]["annotations"][1]["result"][0]
    >>> new["from_name"], new["to_name"], new["value"]
    ('mood', 'review', {'choices': ['neg']})
    """
    known = _first_choices_region(
        [
            {
                "annotations": [a.raw for a in rec.answers if a.raw is not None],
                "predictions": [p.raw for p in rec.predictions if p.raw is not None],
            }
            for rec in records
        ]
    )
    if known is not None:
        from_name = from_name or known["from_name"]
        if isinstance(known.get("to_name"), str):
            to_name = to_name or known["to_name"]
    from_name = from_name or "label"
    out = []
    for rec in records:
        target = to_name or ("image" if data_kind(rec.data) == "image" else "text")
        annotations = [
            _timed(a.raw, a.created_at)
            if a.raw is not None
            else {
                "result": []
                if a.status == "ignore" and not a.labels
                else choices_result(a.labels, from_name, target),
                "was_cancelled": a.status == "ignore",
                **({"created_username": a.annotator} if a.annotator else {}),
                **({"created_at": a.created_at} if a.created_at else {}),
            }
            for a in rec.answers
            if a.raw is not None or a.status != "reject"
        ]
        predictions = [
            p.raw
            if p.raw is not None
            else {
                "result": choices_result(p.labels, from_name, target),
                **({"score": p.score} if p.score is not None else {}),
                **({"model_version": p.model_version} if p.model_version else {}),
            }
            for p in rec.predictions
        ]
        task: dict[str, Any] = {**rec.extra, "data": rec.data}
        if annotations:
            task["annotations"] = annotations
        if predictions:
            task["predictions"] = predictions
        out.append(task)
    return json.dumps(out, indent=2, ensure_ascii=False) + "\n"


def _timed(annotation: dict[str, Any], created_at: str | None) -> dict[str, Any]:
    """``annotation`` as read, with ``created_at`` when it says no time of its own.

    Examples
    --------
    >>> _timed({"result": []}, "2024-05-01T12:00:00Z")
    {'result': [], 'created_at': '2024-05-01T12:00:00Z'}
    >>> _timed({"created_at": "2024-01-01T00:00:00Z"}, "2024-05-01T12:00:00Z")
    {'created_at': '2024-01-01T00:00:00Z'}
    """
    if created_at is None or annotation.get("updated_at") or annotation.get("created_at"):
        return annotation
    return {**annotation, "created_at": created_at}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
