"""The rare-class section of the simulation report: why the metric, positives found, AP, recall.

:func:`rare_section` renders, for a results document of
:func:`activelab.simulation.runner.simulate` with a positive label, the reason the
curves are scored by balanced accuracy (when it was chosen for a rare class) and one
row per strategy of :func:`activelab.simulation.rare_metrics.rare_summary`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from activelab.simulation.rare_metrics import rare_summary

__all__ = ["rare_section"]


def _cell(stat: Mapping[str, Any] | None, fmt: str) -> str:
    if not stat or stat.get("mean") is None:
        return "–"
    if stat.get("n") == 1:  # one value has no spread to show
        return f"{stat['mean']:{fmt}}"
    return f"{stat['mean']:{fmt}} ± {stat['std']:{fmt}}"


def _over(doc: Mapping[str, Any]) -> str:
    """The labels the positives-per-100 rate is counted over: the first 100, or all of them."""
    ends = [int(r["n_labels"][-1]) for r in doc["runs"] if r.get("rare") and r.get("n_labels")]
    if ends and max(ends) < 100:
        return f"over all {max(ends)} labels bought (initial set included; the budget is under 100)"
    return "over the first 100 labels bought (initial set included)"


def rare_section(doc: Mapping[str, Any]) -> str:
    """HTML for the rare class of ``doc`` (an empty string when there is none).

    Examples
    --------
    >>> run = {"strategy": "random", "seed": 0, "n_labels": [2, 4],
    ...        "rare": {"positive_label": "fraud", "hits": [0, 1, 0, 0],
    ...                 "balanced_accuracy": [None, 0.6], "average_precision": [0.1, 0.3],
    ...                 "recall": {"fraud": [None, 0.4], "ok": [None, 0.8]}}}
    >>> doc = {"settings": {"scoring_reason": "class 'fraud' is 3% <of> the items"},
    ...        "runs": [run]}
    >>> page = rare_section(doc)
    >>> "&lt;of&gt;" in page and "25.0" in page
    True
    >>> rare_section({"settings": {}, "runs": []})
    ''
    """
    summary = rare_summary(doc["runs"])
    reason = doc["settings"].get("scoring_reason")
    if not summary and not reason:
        return ""
    out = ["<h2>The rare class</h2>"]
    if reason:
        out.append(f"<p>Curves scored by balanced accuracy: {html.escape(str(reason))}.</p>")
    if summary:
        pos = html.escape(repr(next(iter(summary.values()))["positive_label"]))
        out.append(
            f'<p class="muted">Positive class {pos}. Mean ± std over seeds. Positives per 100 '
            f"labels: {_over(doc)}. Labels "
            "until the "
            "k-th positive: over the seeds that found k (found / runs). BA AULC: normalised area "
            "under the balanced-accuracy curve (1/K before a model can be fitted). At the budget: "
            "balanced accuracy, average precision of the positive class and its recall on the "
            "test set.</p>"
        )
        head = (
            "<tr><th>strategy</th><th>positives / 100 labels</th><th>labels to 1st</th>"
            "<th>labels to 5th</th><th>BA AULC</th><th>BA at budget</th><th>AP at budget</th>"
            "<th>recall at budget</th></tr>"
        )
        rows = []
        for name, m in sorted(summary.items()):
            until = [
                f"{_cell(m['until'][k], '.0f')} ({m['until'][k]['found']}/{m['runs']})"
                for k in ("1", "5")
            ]
            rows.append(
                f"<tr><td>{html.escape(name)}</td><td>{_cell(m['per_100'], '.1f')}</td>"
                f"<td>{until[0]}</td><td>{until[1]}</td><td>{_cell(m['ba_aulc'], '.3f')}</td>"
                f"<td>{_cell(m['ba_final'], '.3f')}</td><td>{_cell(m['ap_final'], '.3f')}</td>"
                f"<td>{_cell(m['recall_final'], '.2f')}</td></tr>"
            )
        out.append(f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>")
    return "\n".join(out)
