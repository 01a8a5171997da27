"""The stream figures (matplotlib, ``[plot]`` extra): prequential accuracy against labels
spent, and fraud triage's positives caught and model score over time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from activelab._atomic import write_atomic

__all__ = ["plot_stream_runs", "plot_triage_runs"]


def plot_stream_runs(
    runs: Sequence[dict[str, Any]],
    path: str | Path,
    *,
    title: str | None = None,
    drift_at: int | None = None,
) -> Path:
    """Write a PNG of prequential accuracy against labels spent, one line per run.

    Parameters
    ----------
    runs : sequence of dict
        Runs as written by :meth:`activelab.stream.StreamRun.to_dict` (or any
        dict with ``strategy``, ``seed``, ``n_labels`` and ``scores``).
    path : str or Path
        The PNG file to write.
    title : str, optional
    drift_at : int, optional
        Marks the centre of a concept drift on the items axis.

    Returns
    -------
    Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    colours: dict[str, Any] = {}
    for run in runs:
        name = str(run["strategy"])
        colour = colours.setdefault(name, f"C{len(colours)}")
        first = next(r for r in runs if r["strategy"] == name) is run
        ax.plot(run["n_labels"], run["scores"], color=colour, lw=1.4, label=name if first else None)
        if run.get("items_seen") and run.get("recent_scores"):
            ax2.plot(
                run["items_seen"],
                run["recent_scores"],
                color=colour,
                lw=1.0,
                label=name if first else None,
            )
    ax.set_xlabel("labels spent")
    ax.set_ylabel("prequential accuracy (all items so far)")
    ax.grid(alpha=0.3)
    ax.legend()
    if drift_at is not None:
        ax2.axvline(drift_at, color="0.4", ls="--", lw=1, label="drift")
    ax2.set_xlabel("items seen")
    ax2.set_ylabel("accuracy since previous checkpoint")
    ax2.grid(alpha=0.3)
    ax2.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    _save_png(fig, path)
    return path


def plot_triage_runs(
    runs: Sequence[dict[str, Any]],
    path: str | Path,
    *,
    metric: str = "average_precision",
    title: str | None = None,
) -> Path:
    """Write a PNG of fraud triage: positives caught and the model's score over the items.

    Parameters
    ----------
    runs : sequence of dict
        Runs as written by :meth:`activelab.stream.triage.TriageRun.to_dict`, one
        colour per policy.
    path : str or Path
        The PNG file to write.
    metric : {"average_precision", "balanced_accuracy"}, default="average_precision"
        The model's score on the right: the run's ``ap`` or ``balanced_accuracy``
        per checkpoint (a gap where it is undefined).
    title : str, optional

    Returns
    -------
    Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    key = {"average_precision": "ap", "balanced_accuracy": "balanced_accuracy"}[metric]
    path = Path(path)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    colours: dict[str, Any] = {}
    for run in runs:
        name = str(run["policy"])
        first = name not in colours
        colour = colours.setdefault(name, f"C{len(colours)}")
        label = name if first else None
        ax.plot(run["items_seen"], run["caught"], color=colour, lw=1.4, label=label)
        score = np.array([np.nan if v is None else v for v in run[key]], dtype=float)
        ax2.plot(run["items_seen"], score, color=colour, lw=1.0, label=label)
    if runs:
        ax.plot(
            runs[0]["items_seen"], runs[0]["positives_seen"], color="0.5", ls=":", label="arrived"
        )
    ax.set_xlabel("items seen")
    ax.set_ylabel("positives caught (reviewed)")
    ax.grid(alpha=0.3)
    ax.legend()
    ax2.set_xlabel("items seen")
    ax2.set_ylabel(f"model's {metric.replace('_', ' ')}, recent items")
    ax2.grid(alpha=0.3)
    ax2.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    _save_png(fig, path)
    return path


def _save_png(fig: Any, path: Path) -> None:
    """Write ``fig`` as a PNG to ``path`` through a temporary file and :func:`os.replace`.

    An interrupted or failed write leaves the previous file whole and no temporary file
    behind; the figure is closed either way.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to write.
    path : Path
        The PNG file.
    """
    import matplotlib.pyplot as plt

    try:
        write_atomic(path, lambda fh: fig.savefig(fh, format="png", dpi=110), binary=True)
    finally:
        plt.close(fig)
