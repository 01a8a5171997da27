"""``activelab demo``: a real campaign, the default strategy against random, on digits."""

from __future__ import annotations

import time

import click
import numpy as np
from rich.console import Console
from rich.table import Table

from activelab.simulation.demo import DemoResult, run_demo

__all__ = ["demo"]


@click.command()
@click.option("--seeds", default=5, show_default=True, help="Independent repetitions.")
@click.option(
    "--budget",
    default=None,
    type=int,
    help="Labels per campaign  [default: the whole pool, 1,348].",
)
@click.option("--batch-size", default=10, show_default=True, help="Items asked per step.")
@click.option("--initial", default=10, show_default=True, help="Random labels to start from.")
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
    budget: int | None,
    batch_size: int,
    initial: int,
    strategy: str,
    semi_supervised: str,
) -> None:
    """The default strategy (auto) against random sampling on scikit-learn's digits (1,797 images).

    Replays the loop with a simulated expert: each campaign starts from a few
    random labels, asks for a batch, learns the answers and measures accuracy
    on a held-out quarter of the data. Prints the learning curves and how many
    labels each strategy needs to match a model trained on the whole pool.
    """
    console = Console()
    t0 = time.perf_counter()
    with console.status("Replaying campaigns on digits ..."):
        result = run_demo(
            seeds=seeds,
            budget=budget,
            batch_size=batch_size,
            initial=initial,
            strategy=strategy,
            semi_supervised=None if semi_supervised.lower() == "off" else semi_supervised.lower(),
        )
    if semi_supervised.lower() != "off":
        console.print(
            f"{strategy} learns from the unlabelled pool too (--semi-supervised "
            f"{semi_supervised.lower()}); random sampling fits on its labels alone."
        )
    _print(console, result)
    console.print(f"[dim]{seeds} seeds, {time.perf_counter() - t0:.1f} s[/dim]")


def _print(console: Console, r: DemoResult) -> None:
    console.print(
        f"[bold]digits[/bold]: pool {r.n_pool}, test {r.n_test}; model {r.model}. "
        f"Whole-pool accuracy: {r.full_mean:.3f} ± {r.full_std:.3f}"
    )
    table = Table(title="Test accuracy against labels (mean ± std over seeds)")
    table.add_column("labels", justify="right")
    for name in r.strategies:
        table.add_column(name, justify="right")
    marks = {10, 20, 50, 100, 150, 200, 300, 400, 600, 800, 1000, r.n_labels[-1]}
    for i, n in enumerate(r.n_labels):
        if n not in marks:
            continue
        cells = [
            f"{r.curves[s].mean(axis=0)[i]:.3f} ± {r.curves[s].std(axis=0)[i]:.3f}"
            for s in r.strategies
        ]
        table.add_row(str(n), *cells)
    console.print(table)
    reach = Table(title="Labels needed to reach the whole-pool model's accuracy")
    reach.add_column("strategy")
    reach.add_column("per seed")
    reach.add_column("mean", justify="right")
    for s in r.strategies:
        per = r.to_target[s]
        txt = ", ".join(str(v) if v is not None else f">{r.budget}" for v in per)
        reach.add_row(s, txt, _fmt_mean(per, r.budget))
    console.print(reach)
    saved = r.saving()
    if saved is None:
        console.print(
            f"Not every campaign reached the whole-pool accuracy within {r.budget} labels; "
            "raise --budget to measure the saving."
        )
    else:
        console.print(
            f"[bold green]{r.strategies[1]} needs {saved[0]:.0f} fewer labels than random "
            f"({saved[1]:.0%} saved)[/bold green] to match the whole-pool model "
            f"({r.n_pool} labels)."
        )


def _fmt_mean(values: list[int | None], budget: int) -> str:
    if any(v is None for v in values):
        return f">{budget}"
    return f"{np.mean([v for v in values if v is not None]):.0f}"
