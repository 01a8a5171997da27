"""Plots of simulation results (matplotlib, Agg backend; install the ``[plot]`` extra).

:func:`learning_curves` draws the mean test score of each strategy against the
labels used, with a band of ± one standard deviation over seeds and the
whole-pool model's score as a reference line; :func:`savings_chart` draws the
label savings against random sampling with their spread; :func:`top_k_curves`
draws, for optimisation campaigns, the share of the true top ``k`` found against
the labels tested. Each returns a
matplotlib figure; :func:`save` writes it as PNG and SVG.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["curve_bands", "learning_curves", "save", "savings_chart", "top_k_curves"]


def _pyplot() -> Any:
    try:
        import matplotlib
    except ModuleNotFoundError as exc:  # pragma: no cover - exercised without the extra
        raise ModuleNotFoundError("Plots need matplotlib: pip install 'activelab[plot]'") from exc
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def curve_bands(runs: Sequence[Mapping[str, Any]]) -> dict[str, tuple[np.ndarray, ...]]:
    """Per strategy: label counts, mean score and std over seeds (on the common steps).

    Examples
    --------
    >>> runs = [{"strategy": "r", "seed": s, "n_labels": [1, 2], "scores": [0.5, 0.6 + s / 10]}
    ...         for s in range(2)]
    >>> x, m, sd = curve_bands(runs)["r"]
    >>> x.tolist(), np.round(m, 2).tolist()
    ([1, 2], [0.5, 0.65])
    """
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for r in runs:
        grouped.setdefault(str(r["strategy"]), []).append(r)
    out = {}
    for name, rs in grouped.items():
        steps = min(len(r["n_labels"]) for r in rs)
        x = np.asarray(rs[0]["n_labels"][:steps])
        S = np.asarray([r["scores"][:steps] for r in rs], dtype=float)
        with warnings.catch_warnings():  # a step no seed scored (no model yet) stays NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            out[name] = (x, np.nanmean(S, axis=0), np.nanstd(S, axis=0))
    return out


def learning_curves(
    runs: Sequence[Mapping[str, Any]],
    *,
    full_pool: Mapping[Any, float] | None = None,
    scoring: str = "score",
    title: str = "",
) -> Any:
    """Learning curves, mean ± std over seeds, one line per strategy.

    An error scorer (``neg_*``, stored negated) is drawn as the error itself,
    lower is better, with the y label saying so.

    Examples
    --------
    >>> runs = [{"strategy": "random", "seed": 0, "n_labels": [5, 10], "scores": [0.5, 0.7]}]
    >>> fig = learning_curves(runs, full_pool={"0": 0.9}, scoring="accuracy")
    >>> fig.axes[0].get_xlabel()
    'labels'
    """
    plt = _pyplot()
    sign = -1.0 if scoring.startswith("neg_") else 1.0
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=100)
    for name, (x, m, sd) in sorted(curve_bands(runs).items()):
        m = sign * m
        (line,) = ax.plot(x, m, label=name, lw=1.8)
        ax.fill_between(x, m - sd, m + sd, color=line.get_color(), alpha=0.18, lw=0)
    if full_pool:
        ref = sign * float(np.mean(list(full_pool.values())))
        ax.axhline(ref, color="0.3", ls="--", lw=1, label=f"whole pool ({ref:.3f})")
    ax.set_xlabel("labels")
    ax.set_ylabel(f"test {scoring[4:]} (lower is better)" if sign < 0 else f"test {scoring}")
    ax.set_title(title or "Learning curves (mean ± std over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right" if sign < 0 else "lower right")
    fig.tight_layout()
    return fig


def top_k_curves(
    runs: Sequence[Mapping[str, Any]], *, k: int | None = None, title: str = ""
) -> Any:
    """Share of the true top ``k`` found against labels tested, mean ± std over seeds.

    Runs without a ``top_k_found`` curve are left out.

    Examples
    --------
    >>> runs = [{"strategy": "greedy", "seed": 0, "n_labels": [5, 10], "top_k_found": [0.1, 0.4]}]
    >>> fig = top_k_curves(runs, k=20)
    >>> fig.axes[0].get_ylabel()
    'share of the true top 20 found'
    """
    plt = _pyplot()
    curves = [
        {"strategy": r["strategy"], "n_labels": r["n_labels"], "scores": r["top_k_found"]}
        for r in runs
        if r.get("top_k_found")
    ]
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=100)
    for name, (x, m, sd) in sorted(curve_bands(curves).items()):
        (line,) = ax.plot(x, m, label=name, lw=1.8)
        ax.fill_between(x, m - sd, m + sd, color=line.get_color(), alpha=0.18, lw=0)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("labels (items tested)")
    ax.set_ylabel(f"share of the true top {k if k is not None else 'k'} found")
    ax.set_title(title or "True top-k found (mean ± std over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def savings_chart(metrics: Mapping[str, Mapping[str, Any]], *, baseline: str = "random") -> Any:
    """Horizontal bars: label savings against ``baseline`` (mean ± std over seeds).

    The saving is the share of labels a strategy does not need, against
    ``baseline``, to reach the target of
    :func:`~activelab.simulation.metrics.summarize` (``savings_target`` of its
    rows: 95 % of the whole-pool model's score by default).

    Raises
    ------
    ValueError
        When no strategy has a saving to draw (no ``baseline`` in the runs, or it
        never reached the target).

    Examples
    --------
    >>> fig = savings_chart({"margin": {"savings": {"mean": 0.3, "std": 0.1}}})
    >>> len(fig.axes[0].patches)
    1
    >>> fig.axes[0].get_title()
    "Share of labels not needed to reach 95 % of the whole-pool model's score"
    """
    names = [
        n for n in sorted(metrics) if n != baseline and metrics[n]["savings"]["mean"] is not None
    ]
    if not names:
        raise ValueError(
            f"No saving against {baseline} to draw: {baseline} is not in the runs or never "
            "reached the target."
        )
    plt = _pyplot()
    target = float(metrics[names[0]].get("savings_target", 0.95))
    means = np.array([metrics[n]["savings"]["mean"] for n in names], dtype=float)
    stds = np.array([metrics[n]["savings"]["std"] for n in names], dtype=float)
    fig, ax = plt.subplots(figsize=(7.5, 0.5 * max(len(names), 2) + 1.2), dpi=100)
    colors = ["#2a9d8f" if v >= 0 else "#e76f51" for v in means]
    ax.barh(names, means * 100, xerr=stds * 100, color=colors, capsize=3)
    ax.axvline(0, color="0.2", lw=1)
    ax.set_xlabel(f"labels saved against {baseline} (%)")
    ax.set_title(
        f"Share of labels not needed to reach {target * 100:g} % of the whole-pool model's score"
    )
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def estimate_chart(summary: Mapping[str, Mapping[str, Any]]) -> Any:
    """LURE estimate (with its interval) vs naive estimate vs true test score, per strategy.

    ``summary`` is :func:`activelab.simulation.metrics.estimate_summary`'s output; one
    panel per strategy, each curve a mean over seeds.

    Examples
    --------
    >>> e = {"auto": {"n_labels": [10, 20], "test": [0.8, 0.9], "lure": [0.78, 0.9],
    ...               "low": [0.6, 0.8], "high": [0.9, 0.95], "naive": [1.0, 0.98]}}
    >>> len(estimate_chart(e).axes)
    1
    """
    plt = _pyplot()
    names = sorted(summary)
    fig, axes = plt.subplots(
        1, max(len(names), 1), figsize=(4.5 * max(len(names), 1), 3.8), dpi=100, squeeze=False
    )
    for ax, name in zip(axes[0], names, strict=False):
        e = summary[name]
        x = np.asarray(e["n_labels"])
        ax.fill_between(x, e["low"], e["high"], color="#2a9d8f", alpha=0.2, label="LURE interval")
        ax.plot(x, e["lure"], color="#2a9d8f", lw=2, label="LURE estimate")
        ax.plot(x, e["naive"], color="#e76f51", lw=1.5, ls="--", label="naive (on the labels)")
        ax.plot(x, e["test"], color="0.2", lw=1.5, label="test accuracy")
        ax.set_title(name)
        ax.set_xlabel("labels")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("accuracy (mean over seeds)")
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def save(fig: Any, stem: str | Path) -> tuple[Path, Path]:
    """Write ``stem.png`` and ``stem.svg``; returns both paths and closes the figure."""
    plt = _pyplot()
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    fig.savefig(png)
    fig.savefig(svg)
    plt.close(fig)
    return png, svg
