"""Gold items: items whose true label the project owner knows.

A gold file is a CSV file with a header row naming the columns ``id`` (an
item's id, as in the project's data) and ``label`` (one of the project's
labels). :func:`read_gold` checks it against the project and reports the first
bad row by its line number; :func:`save_gold` keeps the pairs in the project's
settings. Gold labels then

- count as the item's label (training, exports), overriding the answers;
- are given to Dawid–Skene as known classes, so they measure the annotators
  directly;
- score the annotators: each one's accuracy on the gold items they answered
  (:func:`gold_accuracy`), shown beside the Dawid–Skene estimate.

Gold items stay in the queue (mixed into its head by the service) so that
annotators answer them without knowing which they are. Single-label projects.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "gold.csv").write_text("id,label\\nb,yes\\nc,no\\n")
>>> read_gold(d / "gold.csv", ["a", "b", "c"], ["no", "yes"])
{1: 'yes', 2: 'no'}
>>> _ = (d / "bad.csv").write_text("id,label\\nb,maybe\\n")
>>> read_gold(d / "bad.csv", ["a", "b", "c"], ["no", "yes"])
Traceback (most recent call last):
...
activelab.app.gold.GoldError: ...bad.csv, line 2: unknown label 'maybe'; ... are no, yes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from activelab.data.csvfile import csv_format, past_header_refusal

__all__ = ["GOLD_SETTING", "GoldError", "gold_accuracy", "gold_arrays", "read_gold", "save_gold"]

#: the key of the project's settings holding the gold pairs (item index -> label)
GOLD_SETTING = "gold"


class GoldError(ValueError):
    """A gold file does not fit the project; the message names the file, the line and the fix."""


def read_gold(
    path: Path | str, external_ids: Sequence[str], labels: Sequence[str]
) -> dict[int, str]:
    """The gold pairs of a CSV file, as item index -> label.

    Parameters
    ----------
    path : path
        CSV file with a header row holding the columns ``id`` and ``label``, separated
        by commas, or by semicolons or tabs (as a spreadsheet saves them). Blank rows
        are skipped.
    external_ids : sequence of str
        The project's item ids, in item order.
    labels : sequence of str
        The project's labels.

    Returns
    -------
    dict of int to str

    Raises
    ------
    GoldError
        The file cannot be read, lacks a column, names an unknown item or label,
        or gives one item two different labels.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldError(f"Cannot read the gold file {path}: {exc}.") from exc
    # commas, or semicolons or tabs as a spreadsheet exports them, read as a project's data is
    reader = csv.DictReader(
        io.StringIO(text, newline=""),
        delimiter=csv_format(path, text.split("\n", 1)[0])[0],
        strict=True,
    )
    try:
        return _gold_rows(path, reader, external_ids, labels)
    except csv.Error as exc:
        raise GoldError(
            f"{path}: malformed CSV after line {reader.line_num} ({exc}); check its quotes, "
            "or save the sheet as CSV again."
        ) from exc


def _gold_rows(
    path: Path, reader: csv.DictReader, external_ids: Sequence[str], labels: Sequence[str]
) -> dict[int, str]:
    fields = [f.strip() for f in reader.fieldnames or []]
    missing = [c for c in ("id", "label") if c not in fields]
    if missing:
        raise GoldError(
            f"{path}: the gold file needs a header row with the columns id and label "
            f"(missing {', '.join(missing)}; found {', '.join(fields) or 'no header'})."
        )
    reader.fieldnames = fields

    index = {str(e): i for i, e in enumerate(external_ids)}
    known = set(map(str, labels))
    gold: dict[int, str] = {}
    for row in reader:
        line = reader.line_num
        ext, lab = (row.get("id") or "").strip(), (row.get("label") or "").strip()
        past = row.get(None) or []  # cells past the header: a sheet's are empty
        cells = [v for k, v in row.items() if k is not None and v] + past
        if not any(c.strip() for c in cells):
            continue  # a blank row, such as the "," a spreadsheet leaves at the end
        if past:
            refusal = past_header_refusal(
                len(fields), [*[""] * len(fields), *past], f"{path}, line {line}"
            )
            if refusal is not None:
                raise GoldError(refusal)
        if ext not in index:
            raise GoldError(f"{path}, line {line}: no item with id {ext!r} in the project.")
        if lab not in known:
            raise GoldError(
                f"{path}, line {line}: unknown label {lab!r}; the project's labels are "
                f"{', '.join(map(str, labels))}."
            )
        item = index[ext]
        if gold.get(item, lab) != lab:
            raise GoldError(
                f"{path}, line {line}: item {ext!r} is given two labels ({gold[item]!r} and "
                f"{lab!r}); keep one."
            )
        gold[item] = lab
    if not gold:
        raise GoldError(f"{path}: the gold file has no rows.")
    return gold


def save_gold(store: Any, gold: dict[int, str]) -> int:
    """Add gold pairs to a project (a later pair for the same item replaces the earlier one).

    Returns the number of gold items the project has now.
    """
    if store.settings.get("task") == "multilabel":
        raise GoldError("Gold items work in single-label projects only.")
    merged = {**store.settings.get(GOLD_SETTING, {}), **{str(i): v for i, v in gold.items()}}
    store.update_settings(**{GOLD_SETTING: merged})
    return len(merged)


def gold_arrays(settings: dict[str, Any], classes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The project's gold items and their class indices (into ``classes``), sorted by item.

    Examples
    --------
    >>> items, labels = gold_arrays({"gold": {"4": "yes", "1": "no"}}, ["no", "yes"])
    >>> items.tolist(), labels.tolist()
    ([1, 4], [0, 1])
    """
    pairs = settings.get(GOLD_SETTING) or {}
    cls = {str(c): i for i, c in enumerate(classes)}
    items = np.array(sorted(int(i) for i in pairs), dtype=np.int64)
    labels = np.array([cls[pairs[str(i)]] for i in items.tolist()], dtype=np.int64)
    return items, labels


def gold_accuracy(
    items: np.ndarray,
    annotators: np.ndarray,
    labels: np.ndarray,
    gold_items: np.ndarray,
    gold_labels: np.ndarray,
    *,
    n_items: int,
    n_annotators: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Each annotator's answers on gold items and the share of them that are right.

    Returns
    -------
    answers, accuracy : ndarray of shape (n_annotators,)
        Gold answers per annotator, and their accuracy (``nan`` without any).

    Examples
    --------
    >>> n, acc = gold_accuracy(np.array([0, 0, 1, 2]), np.array([0, 1, 0, 1]),
    ...                        np.array([1, 0, 1, 1]), np.array([0, 1]), np.array([1, 1]),
    ...                        n_items=3, n_annotators=2)
    >>> n.tolist(), acc.tolist()
    ([2, 1], [1.0, 0.0])
    """
    truth = np.full(n_items, -1, dtype=np.int64)
    truth[gold_items] = gold_labels
    on = truth[items] >= 0
    who = annotators[on]
    n = np.bincount(who, minlength=n_annotators)
    hits = np.bincount(who, weights=labels[on] == truth[items[on]], minlength=n_annotators)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.where(n > 0, hits / np.maximum(n, 1), np.nan)
    return n.astype(np.int64), acc
