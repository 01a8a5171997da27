"""Plots of automatic strategy selection: which arm made each pick, and arm weights.

matplotlib is imported only when a plot is drawn (``pip install activelab[plot]``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["arm_choices", "plot_arm_choices"]


def _steps(n_labels: Sequence[int], arms: Sequence[Sequence[str]]) -> list[tuple[int, list]]:
    """(labels before the step, its arms) for each step after the first that has arms."""
    before = list(n_labels)
    return [(before[i - 1], list(a)) for i, a in enumerate(arms) if i > 0 and a]


def arm_choices(source: Any) -> tuple[list[int], list[list[str]]]:
    """Per-step arms from an :class:`~activelab.ActiveLearner`, a ``CampaignResult`` or a run.

    A run is one of ``doc["runs"]`` of a results file of
    :func:`activelab.simulation.runner.simulate`.

    Returns ``(n_labels, arms)``: the labels known before each step and the arm
    behind each pick of that step (steps without arms are left out).

    Examples
    --------
    >>> from activelab.simulation.campaign import CampaignResult
    >>> r = CampaignResult("auto", 0, n_labels=[5, 7, 9], arms=[[], ["margin", "random"],
    ...                    ["margin", "margin"]])
    >>> arm_choices(r)
    ([5, 7], [['margin', 'random'], ['margin', 'margin']])
    >>> arm_choices(r.to_dict())  # a run as a results file holds it
    ([5, 7], [['margin', 'random'], ['margin', 'margin']])
    """
    if hasattr(source, "history_"):
        steps = [(r.n_labelled, list(r.arms)) for r in source.history_ if r.arms]
    elif hasattr(source, "query") and hasattr(source, "teach"):
        raise ValueError("The learner has made no query yet: call fit(X) and query(n) first.")
    elif hasattr(source, "arms") and hasattr(source, "n_labels"):
        steps = _steps(source.n_labels, source.arms)
    elif isinstance(source, Mapping) and "n_labels" in source:
        if not source.get("arms"):
            raise ValueError(
                "This run records no arms: a results file written before arms were recorded, "
                "or a campaign that did not keep them."
            )
        steps = _steps(source["n_labels"], source["arms"])
    else:
        raise TypeError(
            "Expected an ActiveLearner, a CampaignResult or a run of a results file "
            f"(doc['runs'][i]), got {type(source).__name__}."
        )
    return [s[0] for s in steps], [s[1] for s in steps]


def plot_arm_choices(
    source: Any,
    *,
    weights: Sequence[Sequence[float]] | None = None,
    arm_names: Sequence[str] | None = None,
    ax: Any = None,
) -> Any:
    """A figure of the arms chosen at each step (stacked bars), and their weights.

    Parameters
    ----------
    source : ActiveLearner, CampaignResult or mapping
        Where the per-pick arms were recorded; a mapping is a run of a results
        file (``doc["runs"][i]``).
    weights : sequence of sequences, optional
        Arm probabilities per step (``AutoStrategy.weight_history_``), drawn as
        lines on a second axis; taken from the learner's strategy by default.
    arm_names : sequence of str, optional
        Names aligned with ``weights`` (``AutoStrategy.arm_names_``).
    ax : matplotlib Axes, optional
        Draw into it; a new figure otherwise.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from activelab.simulation.campaign import CampaignResult
    >>> r = CampaignResult("auto", 0, n_labels=[5, 7, 9], arms=[[], ["margin", "random"],
    ...                    ["margin", "margin"]])
    >>> fig = plot_arm_choices(r)
    >>> fig.axes[0].get_ylabel()
    'picks per step'
    """
    import matplotlib.pyplot as plt

    n_labels, arms = arm_choices(source)
    if not arms:
        raise ValueError(
            "No arm choices to plot: no query recorded which arm made its picks. Arms are "
            "recorded by the strategies that hand each pick to an arm ('auto', 'auto_rare', "
            "'explore'), once a model is fitted (not for the cold start's picks)."
        )
    strategy = getattr(source, "_strategy", None)
    if weights is None and hasattr(strategy, "weight_history_"):
        weights, arm_names = strategy.weight_history_, strategy.arm_names_
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4))
    else:
        fig = ax.figure
    names = sorted({a for step in arms for a in step} | set(arm_names or []))
    x = np.arange(len(arms))
    bottom = np.zeros(len(arms))
    colours = plt.get_cmap("tab10")
    for k, name in enumerate(names):
        counts = np.array([step.count(name) for step in arms], dtype=float)
        ax.bar(x, counts, bottom=bottom, label=name, color=colours(k % 10), width=0.9)
        bottom += counts
    ax.set_xlabel("labels before the step")
    ax.set_ylabel("picks per step")
    if len(x):
        ticks = x[:: max(1, len(x) // 10)]
        ax.set_xticks(ticks, [str(n_labels[i]) for i in ticks])
    if weights is not None and arm_names is not None and len(weights):
        W = np.asarray(weights, dtype=float)[: len(arms)]
        ax2 = ax.twinx()
        for k, name in enumerate(arm_names):
            ax2.plot(np.arange(W.shape[0]), W[:, k], color=colours(names.index(name) % 10), lw=2)
        ax2.set_ylabel("arm probability")
        ax2.set_ylim(0, 1)
    rows = -(-len(names) // 4)  # legend rows: room above the tallest bar so it hides none
    ax.set_ylim(0, max(float(bottom.max()), 1.0) * (1.12 + 0.1 * rows))
    ax.legend(loc="upper left", fontsize="small", ncol=min(len(names), 4))
    ax.set_title("Strategy chosen at each pick")
    fig.tight_layout()
    return fig
