"""Metrics on learning curves: how much a strategy saves against random sampling.

A learning curve is the test score after each step of a campaign against the
number of labels used. The per-curve metrics are:

- :func:`aulc`: normalised area under the curve (trapezoids divided by the
  width of the label range, so a flat curve at 0.9 scores 0.9);
- :func:`score_at`: the score once at least ``n`` labels were used;
- :func:`labels_to_reach`: the first label count at which the score reaches a
  target (e.g. 95 % of the score of a model trained on the whole pool);
- :func:`reach_target`: that target, in the direction of the scorer (for an
  error such as RMSE, "95 %" means an error at most 5 % above the whole-pool
  model's);
- :func:`label_savings`: the share of labels a strategy does not need, against
  random sampling, to reach the same target (by default 95 % of the whole-pool
  model's score).

Scores are stored as scikit-learn's scorers return them: greater is better, so
an error scorer (``neg_root_mean_squared_error``) stores the negated error.
:func:`summarize` reports the AULC of such a scorer as the error itself (lower
is better; ``lower_is_better`` in each row), never as a negative number.

:func:`summarize` turns the runs of a simulation into one row per strategy
(mean ± std over seeds) with a paired Wilcoxon signed-rank test of the per-seed
AULCs against random sampling. For optimisation campaigns (the share of the
true top ``k`` found against the number tested, recorded by
``simulate(..., top_k=k)``), :func:`summarize_top_k` does the same on that curve.
:func:`stopping_summary` says, per strategy and stopping criterion, when the
criterion fired and what stopping there costs; :func:`estimate_summary`
compares the unbiased (LURE) and the naive accuracy estimates with the true
test score.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "aulc",
    "estimate_summary",
    "label_savings",
    "labels_to_reach",
    "lower_is_better",
    "paired_test",
    "reach_target",
    "score_at",
    "seed_counts",
    "stopping_summary",
    "summarize",
    "summarize_top_k",
    "true_top_k",
]


def aulc(n_labels: Any, scores: Any, *, lo: float | None = None, hi: float | None = None) -> float:
    """Normalised area under a learning curve, in the score's units.

    The trapezoidal area under ``scores`` against ``n_labels``, divided by the
    width of the label range, so a flat curve at 0.9 has AULC 0.9. Curves are
    compared only on the same label range ``[lo, hi]`` (defaults: the curve's).
    Points without a score (``None``/NaN: no model yet, as at 0 labels of a
    cold start) are left out, and the default range starts at the first scored
    point; a curve with no score at all has AULC NaN.

    Examples
    --------
    >>> aulc([10, 20, 30], [0.5, 0.7, 0.9])
    0.7
    >>> aulc([0, 10, 20, 30], [None, 0.5, 0.7, 0.9])  # a cold start: no model at 0 labels
    0.7
    """
    x = np.asarray(n_labels, dtype=float)
    s = np.asarray(scores, dtype=float)  # None (no model yet) reads as NaN
    scored = np.isfinite(s)
    if not scored.any():
        return float("nan")
    x, s = x[scored], s[scored]
    lo = x[0] if lo is None else lo
    hi = x[-1] if hi is None else hi
    if hi <= lo:
        return float(s[-1])
    keep = (x >= lo) & (x <= hi)
    xs, ss = x[keep], s[keep]
    return float(np.trapezoid(ss, xs) / (hi - lo))


def labels_to_reach(n_labels: Any, scores: Any, target: float) -> int | None:
    """The first number of labels at which the score reaches ``target`` (None if never).

    Examples
    --------
    >>> labels_to_reach([10, 20, 30], [0.5, 0.8, 0.9], 0.75)
    20
    """
    s = np.asarray(scores, dtype=float)
    hit = np.flatnonzero(s >= target)
    return int(np.asarray(n_labels)[hit[0]]) if hit.size else None


def lower_is_better(scoring: str | None) -> bool:
    """Whether the scorer measures an error (scikit-learn's ``neg_*`` names store its negation).

    Examples
    --------
    >>> lower_is_better("neg_root_mean_squared_error"), lower_is_better("r2")
    (True, False)
    """
    return bool(scoring) and str(scoring).startswith("neg_")


def reach_target(full: float, fraction: float) -> float:
    """The score to reach: ``fraction`` of the whole-pool score, in the scorer's direction.

    Scores are greater-is-better (an error scorer stores the negated error), so
    the target is ``full - (1 - fraction) * |full|``: 95 % of an accuracy of
    0.90 is 0.855, and "95 %" of an RMSE of 0.50 (stored as -0.50) is an RMSE
    of at most 0.525 — 5 % worse than the whole-pool model, never better.

    Examples
    --------
    >>> round(reach_target(0.9, 0.95), 3), round(reach_target(-0.5, 0.95), 3)
    (0.855, -0.525)
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}.")
    return float(full) - (1.0 - float(fraction)) * abs(float(full))


def score_at(n_labels: Any, scores: Any, n: int) -> float | None:
    """The score at the first step with at least ``n`` labels (None past the curve's end).

    Examples
    --------
    >>> score_at([10, 20, 30], [0.5, 0.8, 0.9], 15)
    0.8
    """
    x = np.asarray(n_labels)
    hit = np.flatnonzero(x >= n)
    return float(np.asarray(scores, dtype=float)[hit[0]]) if hit.size else None


def label_savings(
    n_labels: Any,
    scores: Any,
    random_n_labels: Any,
    random_scores: Any,
    *,
    target: float,
) -> tuple[float | None, bool]:
    """Share of labels not needed, against random sampling, to reach ``target``.

    ``L_r`` is the first label count at which random sampling reaches
    ``target`` (a score, greater is better; usually :func:`reach_target` of
    the whole-pool model's score) and ``L_s`` the strategy's. The saving is
    ``1 - L_s / L_r``: 0.4 means 40 % fewer labels than random, a negative
    value means more. When the strategy never reaches the target within the
    budget, ``L_s`` is taken as its last label count and the value is flagged
    as censored (the true saving is lower still). When random sampling never
    reaches it, there is nothing to compare with: the saving is None.

    Returns
    -------
    saving : float or None
    censored : bool

    Examples
    --------
    >>> label_savings([10, 20, 30], [0.5, 0.9, 0.9], [10, 20, 30], [0.4, 0.6, 0.9], target=0.85)
    (0.33333333333333337, False)
    """
    l_r = labels_to_reach(random_n_labels, random_scores, target)
    if l_r is None:
        return None, False
    l_s = labels_to_reach(n_labels, scores, target)
    censored = l_s is None
    if l_s is None:
        l_s = int(np.asarray(n_labels)[-1])
    return 1.0 - l_s / float(l_r), censored


def paired_test(values: Sequence[float], baseline: Sequence[float]) -> dict[str, Any]:
    """Two-sided Wilcoxon signed-rank test of paired per-seed values against a baseline.

    Returns ``{"test": "wilcoxon", "statistic", "p_value", "mean_diff", "n"}``;
    ``p_value`` is 1.0 when every difference is zero and None with fewer than
    two pairs.

    Examples
    --------
    >>> r = paired_test([0.9, 0.8, 0.85, 0.95, 0.9, 0.88], [0.8, 0.7, 0.8, 0.9, 0.85, 0.8])
    >>> r["p_value"] < 0.05, round(r["mean_diff"], 3)
    (True, 0.072)
    """
    from scipy.stats import wilcoxon

    a = np.asarray(values, dtype=float)
    b = np.asarray(baseline, dtype=float)
    d = a - b
    out: dict[str, Any] = {
        "test": "wilcoxon signed-rank (two-sided, per-seed AULC)",
        "n": len(d),
        "mean_diff": float(d.mean()) if len(d) else None,
        "statistic": None,
        "p_value": None,
    }
    if len(d) < 2:
        return out
    if np.all(d == 0):
        out["p_value"] = 1.0
        return out
    res = wilcoxon(a, b, alternative="two-sided")
    out["statistic"] = float(res.statistic)
    out["p_value"] = float(res.pvalue)
    return out


def _mean_std(values: Iterable[float | None]) -> dict[str, Any]:
    v = np.asarray([x for x in values if x is not None], dtype=float)
    if v.size == 0:
        return {"mean": None, "std": None, "n": 0}
    return {"mean": float(v.mean()), "std": float(v.std()), "n": int(v.size)}


def seed_counts(runs: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Seeds run per strategy; they differ when a resumed file mixes ``--seeds`` settings.

    Examples
    --------
    >>> seed_counts([{"strategy": "random", "seed": 0}, {"strategy": "random", "seed": 1},
    ...              {"strategy": "margin", "seed": 0}])
    {'random': 2, 'margin': 1}
    """
    seen: dict[str, set[int]] = {}
    for r in runs:
        seen.setdefault(str(r["strategy"]), set()).add(int(r["seed"]))
    return {name: len(s) for name, s in seen.items()}


def summarize(
    runs: Sequence[Mapping[str, Any]],
    full_pool: Mapping[Any, float] | None = None,
    *,
    budgets: Sequence[int] = (),
    baseline: str = "random",
    scoring: str | None = None,
    savings_target: float = 0.95,
) -> dict[str, dict[str, Any]]:
    """One row of metrics per strategy from the runs of a simulation.

    Parameters
    ----------
    runs : sequence of mappings
        Each with ``strategy``, ``seed``, ``n_labels`` and ``scores`` (the
        ``runs`` of a simulation results file).
    full_pool : mapping seed -> float, optional
        The score of the model trained on the whole pool for each seed (keys
        may be ints or strings); enables the labels to reach 95 % and 99 % of
        it and the savings.
    budgets : sequence of int
        Label counts at which to report the score.
    baseline : str, default="random"
        The strategy the savings and the paired test compare against.
    scoring : str, optional
        The scorer's name (the results' ``settings["scoring"]``). An error
        scorer (``neg_*``) has its AULC and scores reported as the error
        (positive, lower is better).
    savings_target : float, default=0.95
        The savings compare the labels each strategy needs to reach this share
        of the whole-pool model's score (:func:`reach_target`), on the seeds
        both strategies ran.

    Returns
    -------
    dict
        strategy -> ``{"aulc", "score_at", "labels_to_95", "labels_to_99",
        "savings", "savings_censored", "savings_target", "lower_is_better",
        "test", "seeds"}``; each statistic is ``{"mean", "std", "n"}`` over
        seeds (``score_at``: over the seeds with a model at that step, ``None``
        when none had one; ``labels_to_*``: over the seeds that reached the target, with
        ``reached`` counting them; ``savings``: over the seeds on which random
        sampling reached it). The paired test's ``mean_diff`` is in the
        reported units (for an error, negative is better).

    Examples
    --------
    >>> runs = [{"strategy": s, "seed": k, "n_labels": [10, 20, 30],
    ...          "scores": [0.5, 0.6 + 0.3 * (s == "margin"), 0.9]}
    ...         for s in ("random", "margin") for k in range(3)]
    >>> m = summarize(runs, {0: 0.9, 1: 0.9, 2: 0.9})
    >>> round(m["margin"]["aulc"]["mean"], 3), m["margin"]["labels_to_95"]["mean"]
    (0.8, 20.0)
    >>> round(m["margin"]["savings"]["mean"], 3)  # 0.855 reached at 20 labels, not 30
    0.333
    """
    full = {int(k): float(v) for k, v in (full_pool or {}).items()}
    sign = -1.0 if lower_is_better(scoring) else 1.0
    by: dict[str, dict[int, Mapping[str, Any]]] = {}
    for r in runs:
        by.setdefault(str(r["strategy"]), {})[int(r["seed"])] = r
    base = by.get(baseline, {})
    out: dict[str, dict[str, Any]] = {}
    for name, per_seed in by.items():
        seeds = sorted(per_seed)
        aulcs = [sign * aulc(per_seed[s]["n_labels"], per_seed[s]["scores"]) for s in seeds]
        row: dict[str, Any] = {"seeds": seeds, "aulc": _mean_std(aulcs), "aulc_per_seed": aulcs}
        row["lower_is_better"] = sign < 0
        row["score_at"] = {
            str(b): _mean_std(
                _signed(sign, score_at(per_seed[s]["n_labels"], per_seed[s]["scores"], b))
                for s in seeds
            )
            for b in budgets
        }
        for frac, key in ((0.95, "labels_to_95"), (0.99, "labels_to_99")):
            reach = [
                labels_to_reach(
                    per_seed[s]["n_labels"], per_seed[s]["scores"], reach_target(full[s], frac)
                )
                if s in full
                else None
                for s in seeds
            ]
            stat = _mean_std(reach)
            stat["reached"] = sum(v is not None for v in reach)
            stat["of"] = sum(s in full for s in seeds)
            row[key] = stat
        paired = [s for s in seeds if s in base]
        sav = [
            label_savings(
                per_seed[s]["n_labels"],
                per_seed[s]["scores"],
                base[s]["n_labels"],
                base[s]["scores"],
                target=reach_target(full[s], savings_target),
            )
            for s in paired
            if s in full
        ]
        row["savings"] = _mean_std(v for v, _ in sav)
        row["savings_censored"] = sum(c for v, c in sav if v is not None)
        row["savings_target"] = savings_target
        base_aulc = [sign * aulc(base[s]["n_labels"], base[s]["scores"]) for s in paired]
        own = [aulcs[seeds.index(s)] for s in paired]
        row["test"] = paired_test(own, base_aulc) if name != baseline else None
        out[name] = row
    return out


def _signed(sign: float, value: float | None) -> float | None:
    """``sign * value``; None for a step without a score (no model yet: NaN in the curve)."""
    return None if value is None or not np.isfinite(value) else sign * value


def summarize_top_k(
    runs: Sequence[Mapping[str, Any]],
    *,
    at: Sequence[int] = (),
    baseline: str = "random",
) -> dict[str, dict[str, Any]]:
    """One row per strategy on the true top-k curves (share found against labels tested).

    Parameters
    ----------
    runs : sequence of mappings
        Each with ``strategy``, ``seed``, ``n_labels`` and ``top_k_found``
        (runs without a top-k curve are ignored).
    at : sequence of int
        Label counts at which to report the share found (the first step with at
        least that many labels; ``None`` past the curve's end), e.g. 10 % of
        the pool and the budget.
    baseline : str, default="random"
        The strategy the paired test compares against.

    Returns
    -------
    dict
        strategy -> ``{"seeds", "found_at", "area", "area_per_seed", "test"}``:
        ``found_at`` maps each label count (as a string) to ``{"mean", "std",
        "n"}`` over seeds; ``area`` is the normalised area under the curve
        (:func:`aulc`, the mean share found over the campaign);
        ``test`` is the two-sided Wilcoxon signed-rank test (:func:`paired_test`)
        of the per-seed areas against the baseline on the same seeds.

    Examples
    --------
    >>> runs = [{"strategy": s, "seed": k, "n_labels": [10, 20, 30],
    ...          "top_k_found": [0.1, 0.2 + 0.3 * (s == "greedy"), 0.5 + 0.3 * (s == "greedy")]}
    ...         for s in ("random", "greedy") for k in range(3)]
    >>> m = summarize_top_k(runs, at=[20, 30])
    >>> g, r = m["greedy"]["found_at"]["30"], m["random"]["found_at"]["20"]
    >>> round(g["mean"], 3), round(r["mean"], 3)
    (0.8, 0.2)
    >>> m["greedy"]["test"]["mean_diff"] > 0
    True
    """
    by: dict[str, dict[int, Mapping[str, Any]]] = {}
    for r in runs:
        if r.get("top_k_found"):
            by.setdefault(str(r["strategy"]), {})[int(r["seed"])] = r
    areas = {
        name: {s: aulc(r["n_labels"], r["top_k_found"]) for s, r in per_seed.items()}
        for name, per_seed in by.items()
    }
    base = areas.get(baseline, {})
    out: dict[str, dict[str, Any]] = {}
    for name, per_seed in by.items():
        seeds = sorted(per_seed)
        own = [areas[name][s] for s in seeds]
        paired = [s for s in seeds if s in base]
        row: dict[str, Any] = {
            "seeds": seeds,
            "found_at": {
                str(n): _mean_std(
                    score_at(per_seed[s]["n_labels"], per_seed[s]["top_k_found"], n) for s in seeds
                )
                for n in at
            },
            "area": _mean_std(own),
            "area_per_seed": own,
            "test": None,
        }
        if name != baseline:
            test = paired_test([areas[name][s] for s in paired], [base[s] for s in paired])
            test["test"] = "wilcoxon signed-rank (two-sided, per-seed area under the top-k curve)"
            row["test"] = test
        out[name] = row
    return out


def stopping_summary(runs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """When each stopping criterion fired and what stopping there costs, per strategy.

    Parameters
    ----------
    runs : sequence of mappings
        Runs of a simulation made with ``stopping=True``: each with
        ``strategy``, ``n_labels``, ``scores`` and ``stopping`` (criterion ->
        labels at which it first fired, or None). Runs without stopping
        records are ignored.

    Returns
    -------
    dict
        strategy -> criterion -> ``{"fired", "runs", "labels", "saved",
        "saved_share", "cost"}``: ``fired`` counts the runs in which the
        criterion fired within the budget (of ``runs``); the others are
        ``{"mean", "std", "n"}`` over those runs: the labels at which it fired,
        the labels saved against the campaign's last label count (and as a
        share of it), and the accuracy cost, the final test score minus the
        score at the step where it fired (positive: stopping loses accuracy).

    Examples
    --------
    >>> runs = [{"strategy": "margin", "n_labels": [10, 20, 30], "scores": [0.5, 0.8, 0.9],
    ...          "stopping": {"confidence": f}} for f in (20, None)]
    >>> s = stopping_summary(runs)["margin"]["confidence"]
    >>> s["fired"], s["runs"], s["labels"]["mean"], s["saved"]["mean"], round(s["cost"]["mean"], 3)
    (1, 2, 20.0, 10.0, 0.1)
    """
    acc: dict[str, dict[str, dict[str, list[float]]]] = {}
    counts: dict[str, dict[str, list[int]]] = {}
    for r in runs:
        fired_at = r.get("stopping") or {}
        if not fired_at:
            continue
        name = str(r["strategy"])
        n = np.asarray(r["n_labels"])
        s = np.asarray([np.nan if v is None else v for v in r["scores"]], dtype=float)
        for crit, at in fired_at.items():
            c = counts.setdefault(name, {}).setdefault(crit, [0, 0])
            c[1] += 1
            vals = acc.setdefault(name, {}).setdefault(
                crit, {"labels": [], "saved": [], "saved_share": [], "cost": []}
            )
            if at is None:
                continue
            c[0] += 1
            step = int(np.searchsorted(n, int(at)))
            vals["labels"].append(float(at))
            vals["saved"].append(float(n[-1] - at))
            vals["saved_share"].append(float((n[-1] - at) / n[-1]))
            vals["cost"].append(float(s[-1] - s[min(step, len(s) - 1)]))
    return {
        name: {
            crit: {
                "fired": counts[name][crit][0],
                "runs": counts[name][crit][1],
                **{k: _mean_std(v) for k, v in vals.items()},
            }
            for crit, vals in per.items()
        }
        for name, per in acc.items()
    }


def estimate_summary(runs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """How the LURE and the naive accuracy estimates compare with the test score.

    Parameters
    ----------
    runs : sequence of mappings
        Runs of a simulation made with ``estimates=True``; steps without an
        estimate (``None``) and runs without ``estimates`` are ignored. The
        estimates are compared with each estimate's ``test`` (the test
        accuracy), or, in files written before it was recorded, with the
        step's score (the test accuracy when the curves are scored by accuracy).

    Returns
    -------
    dict
        strategy -> ``{"steps", "coverage", "lure_bias", "naive_bias",
        "lure_abs_error", "naive_abs_error", "n_labels", "test", "lure", "low",
        "high", "naive"}``: ``coverage`` is the share of steps whose interval
        holds the test score; the biases are mean (estimate - test score); the
        last seven are per-step means over seeds (for a plot), aligned with
        ``n_labels``.

    Examples
    --------
    >>> run = {"strategy": "auto", "n_labels": [10, 20], "scores": [0.8, 0.9],
    ...        "estimates": [None, {"estimate": 0.88, "low": 0.8, "high": 0.95,
    ...                             "naive": 1.0}]}
    >>> e = estimate_summary([run])["auto"]
    >>> e["steps"], e["coverage"], round(e["naive_bias"], 3)
    (1, 1.0, 0.1)
    """
    by: dict[str, list[tuple[int, float, dict[str, float]]]] = {}
    for r in runs:
        for n, score, est in zip(
            r["n_labels"], r["scores"], r.get("estimates") or [], strict=False
        ):
            truth = score if est is None else est.get("test", score)
            if est is not None and truth is not None and np.isfinite(truth):
                by.setdefault(str(r["strategy"]), []).append((int(n), float(truth), est))
    out: dict[str, dict[str, Any]] = {}
    for name, rows in by.items():
        n = np.asarray([t[0] for t in rows])
        test = np.asarray([t[1] for t in rows])
        cols = {
            k: np.asarray([t[2][k] for t in rows], dtype=float)
            for k in ("estimate", "low", "high", "naive")
        }
        grid = np.unique(n)
        per_step = {
            key: [float(v[n == g].mean()) for g in grid]
            for key, v in (
                ("test", test),
                ("lure", cols["estimate"]),
                ("low", cols["low"]),
                ("high", cols["high"]),
                ("naive", cols["naive"]),
            )
        }
        out[name] = {
            "steps": int(n.size),
            "coverage": float(np.mean((cols["low"] <= test) & (test <= cols["high"]))),
            "lure_bias": float(np.mean(cols["estimate"] - test)),
            "naive_bias": float(np.mean(cols["naive"] - test)),
            "lure_abs_error": float(np.mean(np.abs(cols["estimate"] - test))),
            "naive_abs_error": float(np.mean(np.abs(cols["naive"] - test))),
            "n_labels": [int(g) for g in grid],
            **per_step,
        }
    return out


def true_top_k(y: Any, k: int, *, maximize: bool = True) -> np.ndarray:
    """Indices of the ``k`` best values (ties broken by the lower index).

    Examples
    --------
    >>> true_top_k([5.0, 7.0, 6.0, 7.0], 2)
    array([1, 3])
    """
    y = np.asarray(y, dtype=float).reshape(-1)
    if not 0 < k <= y.shape[0]:
        raise ValueError(f"k must be in 1..{y.shape[0]}, got {k}.")
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:  # NaN sorts last either way: an unmeasured item would never count as a hit
        raise ValueError(
            f"y is {float(y[bad[0]])!r} at index {bad[0]} ({bad.size} value(s) not finite); every "
            "item of the series needs its measured value: leave the unmeasured ones out."
        )
    order = np.lexsort((np.arange(y.shape[0]), -y if maximize else y))
    return np.sort(order[:k]).astype(np.int64)
