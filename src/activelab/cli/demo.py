"""``activelab demo``: a real campaign, the default strategy against random, on digits.

Only click is imported until the command runs, so ``activelab demo --help`` is instant;
every option is checked before the first campaign starts.
"""

from __future__ import annotations

import time
from typing import Any

import click

from activelab._demo_args import DEFAULT_BUDGET as _BUDGET
from activelab._demo_args import DEFAULT_SEEDS as _SEEDS
from activelab._demo_args import DEFAULT_TARGET as _TARGET
from activelab._demo_args import N_POOL as _POOL
from activelab._demo_args import check_demo_numbers
from activelab._text import count

__all__ = ["demo"]


@click.command()
@click.option("--seeds", default=_SEEDS, show_default=True, help="Independent repetitions.")
@click.option(
    "--budget",
    default=str(_BUDGET),
    show_default=True,
    help=f"Labels per campaign, or 'all' for the whole pool ({_POOL:,}).",
)
@click.option("--batch-size", default=10, show_default=True, help="Items asked per step.")
@click.option("--initial", default=10, show_default=True, help="Random labels to start from.")
@click.option(
    "--target",
    default=_TARGET,
    show_default=True,
    help="Share of the whole-pool model's accuracy the labels are counted to.",
)
@click.option(
    "--strategy",
    default="auto",
    show_default=True,
    help="Strategy compared with random sampling (the default chooses among strategies itself).",
)
@click.option(
    "--semi-supervised",
    "semi_supervised",
    type=click.Choice(["auto", "off", "spreading", "blend", "self-training"], case_sensitive=False),
    default="auto",
    show_default=True,
    help="The strategy's model learns from the unlabelled pool too (random sampling stays "
    "supervised); see docs/hybrid.md.",
)
def demo(
    seeds: int,
    budget: str,
    batch_size: int,
    initial: int,
    target: float,
    strategy: str,
    semi_supervised: str,
) -> None:
    """The default strategy (auto) against random sampling on scikit-learn's digits (1,797 images).

    Replays the loop with a simulated expert: each campaign starts from a few
    random labels, asks for a batch, learns the answers and measures accuracy
    on a held-out quarter of the data. Prints the learning curves and how many
    labels each strategy needs to reach 97 % of the accuracy of a model trained
    on the whole pool. The defaults (3 seeds, 500 labels) cost about 24 CPU-seconds;
    --seeds 5 --budget all --target 1 is the full comparison (minutes).
    """
    numbers: dict[str, Any] = {
        "seeds": seeds,
        "budget": _parse_budget(budget),
        "batch_size": batch_size,
        "initial": initial,
        "target": target,
    }
    try:  # before anything heavy is imported
        check_demo_numbers(**numbers)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    from rich.console import Console

    from activelab.simulation.demo import check_demo_args, run_demo

    settings = {**numbers, "strategy": strategy}
    try:
        check_demo_args(**settings)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    console = Console()
    t0 = time.perf_counter()
    with console.status("Replaying campaigns on digits ..."):
        result = run_demo(
            **settings,
            semi_supervised=None if semi_supervised.lower() == "off" else semi_supervised.lower(),
        )
    if semi_supervised.lower() != "off":
        console.print(
            f"{strategy} learns from the unlabelled pool too (--semi-supervised "
            f"{semi_supervised.lower()}); random sampling fits on its labels alone."
        )
    _print(console, result)
    console.print(
        f"[dim]{count(seeds, 'seed')}, budget {count(result.budget, 'label')}, "
        f"target {target:.0%} of the "
        f"whole-pool accuracy; {time.perf_counter() - t0:.1f} s[/dim]"
    )


def _parse_budget(budget: str) -> int | None:
    if budget.strip().lower() in ("all", "pool"):
        return None
    try:
        return int(budget)
    except ValueError:
        raise click.BadParameter(
            f"{budget!r} is not a number of labels (or 'all').", param_hint="--budget"
        ) from None


def _print(console: Any, r: Any) -> None:
    import numpy as np
    from rich.table import Table

    console.print(
        f"[bold]digits[/bold]: pool {r.n_pool}, test {r.n_test}; model {r.model}. "
        f"Whole-pool accuracy: {_cell(r.full_scores)}"
    )
    title = "Test accuracy against labels" + (
        " (mean ± std over seeds)" if len(r.full_scores) > 1 else ""
    )
    table = Table(title=title)
    table.add_column("labels", justify="right")
    for name in r.strategies:
        table.add_column(name, justify="right")
    for i in _rows(r.n_labels):
        n = r.n_labels[i]
        cells = [_cell(r.curves[s][:, i]) for s in r.strategies]
        table.add_row(str(n), *cells)
    console.print(table)
    goal = _goal(r.target)
    reach = Table(title=f"Labels needed to reach {goal}")
    reach.add_column("strategy")
    reach.add_column("per seed")
    reach.add_column("mean", justify="right")
    for s in r.strategies:
        per = r.to_target[s]
        txt = ", ".join(str(v) if v is not None else f">{r.budget}" for v in per)
        mean = f">{r.budget}" if None in per else f"{np.mean(per):.0f}"
        reach.add_row(s, txt, mean)
    console.print(reach)
    saved = r.saving()
    if saved is None:
        console.print(
            f"Not every campaign reached {goal} within {r.budget} labels; "
            "raise --budget (or lower --target) to measure the saving."
        )
    else:
        fewer, share = saved
        if round(fewer) > 0:
            verdict = (
                f"[bold green]{r.strategies[1]} needs {fewer:.0f} fewer labels than random "
                f"({share:.0%} saved)[/bold green]"
            )
        elif round(fewer) < 0:
            verdict = (
                f"[bold red]{r.strategies[1]} needs {-fewer:.0f} more labels than random "
                f"({-share:.0%} more)[/bold red]"
            )
        else:
            verdict = f"{r.strategies[1]} needs as many labels as random"
        console.print(
            f"{verdict} to reach {goal}; the whole-pool model uses all {r.n_pool:,} labels."
        )


def _cell(scores: Any) -> str:
    """Mean ± std over the seeds with a model at that step; a dash when none had one.

    One seed has no spread to show: its score alone.

    Examples
    --------
    >>> import numpy as np
    >>> _cell(np.array([0.5, 0.7])), _cell(np.array([np.nan, np.nan])), _cell(np.array([0.5]))
    ('0.600 ± 0.100', '–', '0.500')
    """
    import numpy as np

    scored = scores[np.isfinite(scores)]
    if scored.size == 0:  # too few labels for a model yet (--initial below the classes)
        return "–"
    if scored.size == 1:
        return f"{scored[0]:.3f}"
    return f"{scored.mean():.3f} ± {scored.std():.3f}"


def _rows(n_labels: list[int]) -> list[int]:
    """The steps the accuracy table shows: the first, the first at or past each mark, the last.

    Examples
    --------
    >>> [[10, 17, 24, 31, 38, 45, 52][i] for i in _rows([10, 17, 24, 31, 38, 45, 52])]
    [10, 24, 52]
    """
    import numpy as np

    marks = np.array([10, 20, 50, 100, 150, 200, 300, 400, 500, 600, 800, 1000])
    steps = np.asarray(n_labels)
    at = np.searchsorted(steps, marks[marks >= steps[0]])
    return sorted({0, *at[at < steps.size].tolist(), steps.size - 1})


def _goal(target: float) -> str:
    if target >= 1.0:
        return "the whole-pool model's accuracy"
    return f"{target:.0%} of the whole-pool model's accuracy"
