"""A self-contained HTML report of a simulation: curves, metrics table, settings.

:func:`write_report` reads a results file written by
:func:`activelab.simulation.runner.simulate` and writes one HTML page with the
learning curves and the savings chart embedded (PNG, with the SVG alongside as a
download), the metrics table (mean ± std over seeds, paired Wilcoxon test
against random), with stopping records a "When to stop" table, with accuracy
estimates a LURE vs naive vs test score table and plot, and the settings that
produced them. Every piece of text that
comes from the file is HTML-escaped. The plots are also written next to the
page as ``<stem>_curves.{png,svg}`` and, when some strategy has a saving
against random to draw, ``<stem>_savings.{png,svg}``.

When the results hold optimisation curves (``simulate(..., top_k=k)``), the page
also has a "true top-k found" section: the share of the pool's ``k`` largest
(``minimize``: smallest) values found against labels tested (mean ± std band
over seeds, also written as ``<stem>_topk.{png,svg}``) and a table of the share
found at 10 % of the pool and at the budget, with the paired Wilcoxon test
against random.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from activelab._text import count
from activelab.simulation.metrics import (
    estimate_summary,
    lower_is_better,
    seed_counts,
    stopping_summary,
    summarize,
    summarize_top_k,
)
from activelab.simulation.rare_report import rare_section
from activelab.simulation.runner import load_results

__all__ = ["render", "write_report"]

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
thead th{background:#f3f3f3}
.worse{color:#b23a1e}.better{color:#1d7a5f}
figure{margin:1.5em 0}img{max-width:100%;height:auto}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px}
dt{font-weight:600}dd{margin:0}
.muted{color:#666;font-size:13px}
.warning{color:#8a4b00;background:#fff4e0;padding:6px 10px}
"""


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fig_bytes(fig: Any) -> tuple[bytes, bytes]:
    import matplotlib.pyplot as plt

    png, svg = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png")
    fig.savefig(svg, format="svg")
    plt.close(fig)
    return png.getvalue(), svg.getvalue()


def _figure(title: str, png: bytes, svg: bytes, css_id: str) -> str:
    p = base64.b64encode(png).decode()
    s = base64.b64encode(svg).decode()
    return (
        f'<figure id="{css_id}"><img alt="{_esc(title)}" src="data:image/png;base64,{p}">'
        f'<figcaption>{_esc(title)} · <a download="{css_id}.svg" '
        f'href="data:image/svg+xml;base64,{s}">SVG</a></figcaption></figure>'
    )


def _ms(stat: Mapping[str, Any] | None, digits: int = 3, scale: float = 1.0) -> str:
    if not stat or stat.get("mean") is None or not math.isfinite(stat["mean"]):
        return "–"  # nothing to show: no seed has a value (a step before any model)
    if stat.get("n") == 1:  # one value has no spread to show: "± 0" would claim one
        return f"{stat['mean'] * scale:.{digits}f}"
    return f"{stat['mean'] * scale:.{digits}f} ± {stat['std'] * scale:.{digits}f}"


def _reach(stat: Mapping[str, Any]) -> str:
    if not stat.get("of"):
        return "–"
    mean = "–" if stat["mean"] is None else f"{stat['mean']:.0f}"
    return f"{mean} ({stat['reached']}/{count(stat['of'], 'seed')})"


def _table(metrics: Mapping[str, Mapping[str, Any]], budgets: list[int]) -> str:
    head = ["strategy", "AULC", *[f"score at {b}" for b in budgets]]
    head += ["labels to 95 %", "labels to 99 %", "savings vs random", "Wilcoxon p vs random"]
    rows = []
    base = metrics.get("random", {}).get("aulc", {}).get("mean")
    for name in sorted(metrics, key=lambda n: (n != "random", n)):
        m = metrics[name]
        test = m.get("test") or {}
        p = test.get("p_value")
        cls = ""
        if base is not None and name != "random" and p is not None and p < 0.05:
            higher = m["aulc"]["mean"] > base
            cls = "better" if higher != bool(m.get("lower_is_better")) else "worse"
        sav = "–" if name == "random" else _pct(m["savings"])
        if m.get("savings_censored"):
            sav += f" ({m['savings_censored']} censored)"
        cells = [name, _ms(m["aulc"])]
        cells += [_ms(m["score_at"].get(str(b))) for b in budgets]
        cells += [_reach(m["labels_to_95"]), _reach(m["labels_to_99"]), sav]
        cells.append("–" if p is None else f"{p:.3g}")
        tds = "".join(f"<td>{_esc(c)}</td>" for c in cells)
        rows.append(f'<tr class="{cls}" data-strategy="{_esc(name)}">{tds}</tr>')
    ths = "".join(f"<th>{_esc(h)}</th>" for h in head)
    return (
        f'<table id="metrics"><thead><tr>{ths}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _stopping_table(stops: Mapping[str, Mapping[str, Any]]) -> str:
    head = ["strategy", "criterion", "fired", "labels when fired", "labels saved", "accuracy cost"]
    rows = []
    for name in sorted(stops, key=lambda n: (n != "random", n)):
        for crit, m in sorted(stops[name].items()):
            cells = [
                name,
                crit.replace("_", " "),
                f"{m['fired']}/{count(m['runs'], 'run')}",
                _ms(m["labels"], 0),
                _ms(m["saved"], 0)
                + ("" if m["fired"] == 0 else f" ({_ms(m['saved_share'], 0, 100.0)} %)"),
                _ms(m["cost"]),
            ]
            tds = "".join(f"<td>{_esc(c)}</td>" for c in cells)
            rows.append(
                f'<tr data-strategy="{_esc(name)}" data-criterion="{_esc(crit)}">{tds}</tr>'
            )
    ths = "".join(f"<th>{_esc(h)}</th>" for h in head)
    return (
        f'<table id="stopping"><thead><tr>{ths}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _stopping_section(runs: Any) -> str:
    stops = stopping_summary(runs)
    if not stops:
        return ""
    return f"""<h2>When to stop</h2>
<p class="muted">Each campaign ran to the budget while the stopping criteria watched it.
Fired: runs in which the criterion fired within the budget. Labels when fired, labels saved
(against the campaign's last label count) and accuracy cost (final test score minus the test
score when it fired; positive means stopping there loses accuracy): mean ± std over the runs in
which it fired.</p>
{_stopping_table(stops)}"""


def _estimate_section(runs: Any, plot_stem: str | Path | None) -> str:
    # a deterministic strategy has a probability only for its random initial set: leave it out
    est = {k: v for k, v in estimate_summary(runs).items() if len(v["n_labels"]) > 1}
    if not est:
        return ""
    from activelab.simulation.plots import estimate_chart

    png, svg = _fig_bytes(estimate_chart(est))
    if plot_stem is not None:
        Path(f"{plot_stem}_estimates.png").write_bytes(png)
        Path(f"{plot_stem}_estimates.svg").write_bytes(svg)
    head = ["strategy", "steps", "90 % interval covers test", "LURE bias", "naive bias"]
    head += ["LURE mean abs. error", "naive mean abs. error"]
    rows = []
    for name, e in sorted(est.items()):
        cells = [name, str(e["steps"]), f"{e['coverage']:.0%}", f"{e['lure_bias']:+.3f}"]
        cells += [
            f"{e['naive_bias']:+.3f}",
            f"{e['lure_abs_error']:.3f}",
            f"{e['naive_abs_error']:.3f}",
        ]
        tds = "".join(f"<td>{_esc(c)}</td>" for c in cells)
        rows.append(f'<tr data-strategy="{_esc(name)}">{tds}</tr>')
    ths = "".join(f"<th>{_esc(h)}</th>" for h in head)
    return f"""<h2>Estimated accuracy: unbiased (LURE) vs naive</h2>
<p class="muted">For strategies that record the probability of each pick. LURE: the
importance-weighted accuracy on the labels with its 90 % interval (blended .632 losses,
5-fold cross-fitting); naive: the unweighted accuracy on the same labels; both against the
model's accuracy on the test set (whatever metric the curves are scored by). Strategies
that choose deterministically (no recorded probabilities after the random initial set) are
left out. Bias: mean of estimate minus test accuracy over every step of every seed.</p>
<table id="estimates"><thead><tr>{ths}</tr></thead><tbody>{"".join(rows)}</tbody></table>
{_figure("LURE vs naive vs test score", png, svg, "estimates")}"""


def _settings(settings: Mapping[str, Any]) -> str:
    items = []
    for key, value in settings.items():
        if isinstance(value, dict | list):
            value = json.dumps(value, sort_keys=True)
        items.append(f"<dt>{_esc(key)}</dt><dd>{_esc(value)}</dd>")
    return f'<dl id="settings">{"".join(items)}</dl>'


def _budgets(settings: Mapping[str, Any], runs: Any) -> list[int]:
    """A quarter, half and all of the budget, each moved to the first step at or past it.

    The score at ``n`` labels is read at the first step with at least ``n`` (see
    :func:`~activelab.simulation.metrics.score_at`), so the column is named by the label
    count it was read at, never by one no campaign stopped at.
    """
    budget = int(settings["budget"])
    n0 = int(settings["n_initial"])
    marks = np.array(sorted({max(n0, budget // 4), max(n0, budget // 2), budget}))
    steps = np.unique(np.concatenate([np.asarray(r["n_labels"], dtype=np.int64) for r in runs]))
    at = np.searchsorted(steps, marks)
    return sorted(
        {int(steps[i]) if i < steps.size else int(m) for i, m in zip(at, marks, strict=True)}
    )


def _savings_section(
    metrics: Mapping[str, Mapping[str, Any]], full_pool: Mapping[str, Any] | None
) -> tuple[str, dict[str, bytes]]:
    """The savings chart and its plot files, or a line saying why there is none."""
    from activelab.simulation.plots import savings_chart

    if not any(m["savings"]["mean"] is not None for n, m in metrics.items() if n != "random"):
        if "random" not in metrics:
            why = "random sampling is not among the strategies (add --strategy random)"
        elif len(metrics) == 1:
            why = "random sampling is the only strategy"
        elif not full_pool:
            why = "the results hold no whole-pool score to set the target"
        else:
            why = (
                "random sampling never reached 95 % of the whole-pool model's score within "
                "the budget"
            )
        return f'<p class="muted" id="savings">{_esc(f"No label savings to draw: {why}.")}</p>', {}
    png, svg = _fig_bytes(savings_chart(metrics))
    return _figure("Label savings against random", png, svg, "savings"), {
        "_savings.png": png,
        "_savings.svg": svg,
    }


def _top_k_marks(settings: Mapping[str, Any], steps: list[int]) -> list[tuple[str, int]]:
    """(caption, label count): the first step at 10 % of the pool or more, and the budget.

    When that step is the budget (a budget under 10 % of the pool), the budget alone.
    """
    n = int(settings.get("dataset", {}).get("n_samples", 0))
    n_pool = n - math.ceil(float(settings.get("test_size", 0.25)) * n)
    tenth = next((s for s in steps if s >= 0.1 * n_pool), steps[-1])
    budget = [(f"found at the budget ({steps[-1]} tested)", steps[-1])]
    if tenth == steps[-1]:
        return budget
    return [(f"found at 10 % of the pool ({tenth} tested)", tenth), *budget]


def _pct(stat: Mapping[str, Any] | None) -> str:
    text = _ms(stat, 1, 100.0)
    return text if text == "–" else f"{text} %"


def _top_k_table(metrics: Mapping[str, Mapping[str, Any]], marks: list[tuple[str, int]]) -> str:
    head = ["strategy", *[caption for caption, _ in marks]]
    head += ["mean share over the campaign", "Wilcoxon p vs random"]
    base = metrics.get("random", {}).get("area", {}).get("mean")
    rows = []
    for name in sorted(metrics, key=lambda n: (n != "random", n)):
        m = metrics[name]
        p = (m.get("test") or {}).get("p_value")
        cls = ""
        if base is not None and name != "random" and p is not None and p < 0.05:
            cls = "better" if m["area"]["mean"] > base else "worse"
        cells = [name, *[_pct(m["found_at"].get(str(n))) for _, n in marks]]
        cells += [_pct(m["area"]), "–" if p is None else f"{p:.3g}"]
        tds = "".join(f"<td>{_esc(c)}</td>" for c in cells)
        rows.append(f'<tr class="{cls}" data-strategy="{_esc(name)}">{tds}</tr>')
    ths = "".join(f"<th>{_esc(h)}</th>" for h in head)
    return (
        f'<table id="topk-metrics"><thead><tr>{ths}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _top_k_section(doc: Mapping[str, Any], name: str) -> tuple[str, dict[str, bytes]]:
    """The "true top-k found" section and its plot files (empty without top-k curves)."""
    from activelab.simulation.plots import top_k_curves

    settings = doc["settings"]
    k = settings.get("top_k")
    if not k or not any(r.get("top_k_found") for r in doc["runs"]):
        return "", {}
    steps = next(list(r["n_labels"]) for r in doc["runs"] if r.get("top_k_found"))
    marks = _top_k_marks(settings, steps)
    best = "smallest" if settings.get("minimize") else "largest"
    metrics = summarize_top_k(doc["runs"], at=sorted({n for _, n in marks}))
    png, svg = _fig_bytes(
        top_k_curves(doc["runs"], k=int(k), title=f"{name}: true top {k} found (mean ± std)")
    )
    html_ = f"""<h2 id="top-k">True top-{_esc(k)} found</h2>
<p class="muted">{
        _esc(
            f"Share of the pool's {k} items with the {best} values that have been tested, "
            "against the labels used (mean ± std over seeds). p: two-sided Wilcoxon signed-rank "
            "test of the per-seed mean share over the campaign against random."
        )
    }</p>
{_figure(f"True top-{k} found", png, svg, "topk")}
{_top_k_table(metrics, marks)}
"""
    return html_, {"_topk.png": png, "_topk.svg": svg}


def render(doc: Mapping[str, Any], *, plot_stem: str | Path | None = None) -> str:
    """The HTML page for a results document (see :func:`write_report`).

    Examples
    --------
    >>> doc = {"settings": {"dataset": {"name": "<toy>"}, "budget": 10, "n_initial": 5,
    ...        "scoring": "accuracy", "estimator": "M()"}, "full_pool": {"0": 0.9},
    ...        "runs": [{"strategy": s, "seed": 0, "n_labels": [5, 10], "scores": [0.5, 0.8]}
    ...                 for s in ("random", "margin")]}
    >>> page = render(doc)
    >>> "&lt;toy&gt;" in page and "<toy>" not in page
    True
    """
    from activelab.simulation.plots import learning_curves

    settings = doc["settings"]
    budgets = _budgets(settings, doc["runs"])
    scoring = settings.get("scoring")
    metrics = summarize(doc["runs"], doc.get("full_pool"), budgets=budgets, scoring=scoring)
    name = settings.get("dataset", {}).get("name", "data")
    curves = learning_curves(
        doc["runs"],
        full_pool=doc.get("full_pool"),
        scoring=str(settings.get("scoring", "score")),
        title=f"{name}: learning curves (mean ± std over seeds)",
    )
    cpng, csvg = _fig_bytes(curves)
    savings_html, savings_files = _savings_section(metrics, doc.get("full_pool"))
    top_k_html, top_k_files = _top_k_section(doc, name)
    if plot_stem is not None:
        stem = Path(plot_stem)
        for suffix, data in (
            ("_curves.png", cpng),
            ("_curves.svg", csvg),
            *savings_files.items(),
            *top_k_files.items(),
        ):
            Path(f"{stem}{suffix}").write_bytes(data)
    n_seeds = len({r["seed"] for r in doc["runs"]})
    counts = seed_counts(doc["runs"])
    uneven = ""
    if len(set(counts.values())) > 1:
        per = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
        note = (
            f"Strategies ran on different seeds ({per}); savings and tests use only the seeds "
            "both ran, means and AULC each strategy's own."
        )
        uneven = f'<p class="warning">{_esc(note)}</p>'
    direction = (
        f"The score is an error ({_esc(str(scoring)[4:])}): lower is better, and AULC is the "
        "mean error. "
        if lower_is_better(scoring)
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{_esc(f"activelab simulation: {name}")}</title><style>{_CSS}</style></head>
<body>
<h1>{_esc(f"Active learning simulation: {name}")}</h1>
<p>{_esc(settings.get("dataset", {}).get("description", ""))}</p>
<p class="muted">{
        _esc(
            f"Model: {settings.get('estimator')}. {count(n_seeds, 'seed')}; "
            f"{count(len(doc['runs']), 'campaign')}."
        )
    }</p>
{uneven}
{_figure("Learning curves", cpng, csvg, "curves")}
<h2>Metrics</h2>
<p class="muted">{direction}Mean ± std over seeds. AULC: area under the learning curve divided
by the label range. Labels to 95 %/99 %: labels needed to reach that share of the whole-pool
model's score (for an error: at most 5 %/1 % above the whole-pool model's error; mean over the
seeds that reached it). Savings: share of labels not needed, against random sampling, to reach
95 % of the whole-pool model's score (censored: the strategy did not reach it within the
budget). p: two-sided Wilcoxon signed-rank test of the per-seed AULCs against random.</p>
{_table(metrics, budgets)}
{rare_section(doc)}
{savings_html}
{top_k_html}{_stopping_section(doc["runs"])}
{_estimate_section(doc["runs"], plot_stem)}
<h2>Settings</h2>
{_settings(settings)}
</body></html>
"""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_score(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _broken_part(doc: Mapping[str, Any]) -> str | None:
    """What in a loaded results document the page cannot be drawn from (None: nothing)."""
    settings = doc.get("settings")
    if not isinstance(settings, dict):
        return "its settings are missing or not a mapping"
    for key in ("budget", "n_initial"):
        if key not in settings:
            return f"settings has no {key}"
        if not _is_int(settings[key]):
            return f"settings.{key} is {settings[key]!r}, not a whole number"
    if not isinstance(settings.get("dataset", {}), dict):
        return "settings.dataset is not a mapping"
    full = doc.get("full_pool")
    if full is not None and (
        not isinstance(full, dict) or not all(_is_score(v) and v is not None for v in full.values())
    ):
        return "full_pool is not a mapping of seeds to scores"
    runs = doc.get("runs")
    if not isinstance(runs, list):
        return "runs is not a list of campaigns"
    for i, run in enumerate(runs, start=1):
        if not isinstance(run, dict):
            return f"run {i} is not a mapping"
        missing = [k for k in ("strategy", "seed", "n_labels", "scores") if k not in run]
        if missing:
            return f"run {i} has no {', '.join(missing)}"
        what = f"run {i} ({run['strategy']}, seed {run['seed']})"
        if not isinstance(run["strategy"], str) or not _is_int(run["seed"]):
            return f"run {i} needs a strategy name and a whole-number seed"
        n, scores = run["n_labels"], run["scores"]
        if not isinstance(n, list) or not n or not all(_is_int(v) for v in n):
            return f"{what} has no label counts"
        if not isinstance(scores, list) or not all(_is_score(v) for v in scores):
            return f"{what} has scores that are not numbers"
        if len(scores) != len(n):
            return f"{what} has {len(n)} label counts but {len(scores)} scores"
    return None


def write_report(results: str | Path, out: str | Path | None = None) -> Path:
    """Write the HTML report of a results file; returns the page's path.

    Parameters
    ----------
    results : path
        A JSON file written by :func:`activelab.simulation.runner.simulate`.
    out : path, optional
        The page (default: the results file with ``.html``; never the results
        file itself). The plots are also written next to it as
        ``<stem>_curves.{png,svg}`` and, when drawn, ``<stem>_savings.{png,svg}``,
        ``<stem>_topk.{png,svg}`` and ``<stem>_estimates.{png,svg}``.

    Raises
    ------
    ValueError
        When the file is not a results file, holds no finished campaign, or a part
        the page is drawn from is missing or malformed (the message names it).
    """
    results = Path(results)
    doc = load_results(results)
    broken = _broken_part(doc)
    if broken is not None:
        raise ValueError(
            f"{results} is not a complete simulation results file: {broken}; run "
            "`activelab simulate` again to write it."
        )
    if not doc["runs"]:
        raise ValueError(f"{results} holds no finished campaign yet.")
    out = Path(out) if out is not None else results.with_suffix(".html")
    if out.resolve() == results.resolve():
        raise ValueError(
            f"The page would overwrite the results file {results}; give --out another name, "
            f"e.g. {results.with_suffix('.html')}."
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    page = render(doc, plot_stem=out.with_suffix(""))
    out.write_text(page, encoding="utf-8")
    return out
