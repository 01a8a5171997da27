"""``activelab stream``: replay a labelled stream under a label budget, live."""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from activelab.cli._outfile import plain_out

__all__ = ["stream"]

SCHEMA = "activelab.stream/1"
#: The schema of fraud triage's runs file (``--positive-label``).
TRIAGE_SCHEMA = "activelab.triage/1"
MODELS = ("logreg", "logreg-sgd", "naive-bayes", "hoeffding", "logreg-river")


def make_model(name: str) -> tuple[Any, bool]:
    """The model behind ``--model`` and whether it needs running standardisation."""
    if name == "logreg":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(), True
    if name == "logreg-sgd":
        from sklearn.linear_model import SGDClassifier

        return SGDClassifier(loss="log_loss"), True
    if name == "naive-bayes":
        from sklearn.naive_bayes import GaussianNB

        return GaussianNB(), False
    if name == "hoeffding":
        from river import tree

        return tree.HoeffdingTreeClassifier(), False
    if name == "logreg-river":
        from river import linear_model, preprocessing

        return preprocessing.StandardScaler() | linear_model.LogisticRegression(), False
    raise click.BadParameter(
        f"unknown model {name!r}; choose one of {MODELS}", param_hint="--model"
    )


def _load(
    dataset: str,
    label_column: str | None,
    n_items: int | None,
    seed: int,
    keep_order: bool = False,
    id_column: str | None = None,
    read: dict[str, Any] | None = None,
) -> Any:
    """One seed's stream: a bundled stream, or a CSV shuffled by ``seed`` unless kept in order.

    ``read`` keeps the CSV file once parsed, for the next seeds of the same command.
    """
    import numpy as np

    from activelab.stream.datasets import STREAMS, load_csv, load_stream

    if dataset in STREAMS:
        return load_stream(dataset, n_items=n_items, seed=seed)
    path = Path(dataset)
    if not path.exists():
        import difflib

        close = difflib.get_close_matches(dataset.lower(), STREAMS, n=1, cutoff=0.7)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise click.BadParameter(
            f"{dataset!r} is not a bundled stream ({', '.join(STREAMS)}) nor an existing CSV "
            f"file.{hint}",
            param_hint="--dataset",
        )
    if path.is_dir():
        raise click.BadParameter(
            f"{dataset} is a folder; a stream is a CSV file with a header row and a label column.",
            param_hint="--dataset",
        )
    if not label_column:
        raise click.UsageError("--label-column is empty; name the column holding the labels.")
    read = {} if read is None else read
    if "stream" not in read:  # every seed replays the same file: parse it once
        try:
            read["stream"] = load_csv(path, label_column, id_column)
        except ValueError as exc:  # a missing column, an unreadable file: one line, no traceback
            raise click.UsageError(str(exc)) from None
    s = read["stream"]
    order = np.arange(len(s.y)) if keep_order else np.random.default_rng(seed).permutation(len(s.y))
    return replace(s, X=s.X[order[:n_items]], y=s.y[order[:n_items]])


def _note_short(console: Any, n_items: int | None, n: int) -> None:
    """Say so when ``--n-items`` asks for more items than the stream holds (all are played).

    Parameters
    ----------
    console : rich.console.Console
        Where the line goes.
    n_items : int or None
        ``--n-items``.
    n : int
        The items of the stream as loaded.
    """
    if n_items is not None and n < n_items:
        console.print(
            f"The stream holds only {n:,} items; --n-items {n_items:,} replays all of them."
        )


def _check_share(budget: float) -> float:
    """``--budget`` as a share in (0, 1], or a one-line refusal (a percentage says its share).

    Raises
    ------
    click.BadParameter
        For a budget outside (0, 1] (or NaN), naming the share meant by a percentage.
    """
    if 0.0 < budget <= 1.0:
        return budget
    hint = (
        f"; for {budget:g}% give --budget {budget / 100:g}"
        if 1.0 < budget <= 100.0
        else " (0.05: one item in twenty)"
    )
    raise click.BadParameter(f"{budget:g} is not a share of the items in (0, 1]{hint}.")


def _share(budget: float) -> str:
    """A budget as a percentage to three significant digits: 0.004 is 0.4 %, not 0 %."""
    return f"{100 * budget:.3g}%"


def _table(rows: dict[str, dict[str, Any]], budget: float) -> Any:
    from rich.table import Table

    t = Table(title=f"Prequential accuracy against labels spent (budget {_share(budget)})")
    for col in ("run", "items", "labels", "spend", "accuracy", "recent", "items/s"):
        t.add_column(col, justify="left" if col == "run" else "right")
    for name, r in rows.items():
        t.add_row(
            name,
            f"{r['items']:,}/{r['n']:,}",
            f"{r['labels']:,}",
            f"{r['spend']:.2%}",
            f"{r['acc']:.4f}",
            f"{r['recent']:.4f}",
            f"{r['rate']:,.0f}",
        )
    return t


@click.command()
@click.argument("source", required=False, metavar="[STREAM_OR_FILE]")
@click.option(
    "--dataset",
    "--data",
    "dataset",
    default=None,
    help="phishing, sea-drift, agrawal-drift, or a CSV file (labels in --label-column; also "
    ".tsv, .jsonl, each optionally .gz)  [default: phishing].",
)
@click.option(
    "--label-column", default="label", show_default=True, help="The label column of a CSV stream."
)
@click.option(
    "--id-column",
    default=None,
    help="A column of row ids in a CSV stream, never a feature.  [default: id when present; "
    "'' for none]",
)
@click.option(
    "--strategy",
    "strategies",
    multiple=True,
    default=("rvu",),
    show_default=True,
    help="random, fixed-uncertainty, vu, rvu or split; repeat to compare.",
)
@click.option(
    "--budget",
    default=0.1,
    show_default=True,
    type=float,
    callback=lambda _ctx, _param, value: _check_share(value),
    help="Share of items, in (0, 1]: 0.05 for 5%.",
)
@click.option(
    "--model",
    "model_name",
    default="logreg",
    show_default=True,
    type=click.Choice(MODELS, case_sensitive=False),
)
@click.option(
    "--budget-manager",
    default="window",
    show_default=True,
    type=click.Choice(["window", "estimated"], case_sensitive=False),
    help="window: an exact count of the queries over the last --window items; estimated: the "
    "forgetting estimate of Zliobaite et al. Either way the queries among the first n items "
    "never exceed budget x n.",
)
@click.option(
    "--window",
    default=1000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Items the spend is measured over: at least 1/budget (window), above 1/budget "
    "(estimated). With window, the spend is the budget when budget x window is a whole "
    "number, else floor(budget x window) / window, said in a note naming the nearest "
    "windows that spend it exactly. With estimated, a window under 10/budget spends "
    "well under the budget (1.6% of 5% over 21 items), also said in a note.",
)
@click.option(
    "--batch-size",
    default=50,
    show_default=True,
    type=click.IntRange(min=1),
    help="Items decided per model call; the model learns after each batch (1: item by item, "
    "several times slower; with --positive-label at least 2, the reviews being the riskiest "
    "items of each batch).",
)
@click.option(
    "--keep-order",
    is_flag=True,
    help="Play a CSV stream in file order (a real time order) instead of shuffling it per seed.",
)
@click.option(
    "--n-items",
    default=None,
    type=click.IntRange(min=2),
    help="Items to replay  [default: all; 20,000 for the synthetic streams].",
)
@click.option(
    "--seeds",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Repetitions (seeds 0..n-1).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    callback=plain_out,
    help="Write the runs as JSON (resumed when it exists).",
)
@click.option(
    "--resume/--no-resume",
    default=True,
    show_default=True,
    help="Skip the runs already in --out (same settings) and keep them there; --no-resume "
    "replaces the file.",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a PNG of accuracy against labels spent (with --positive-label: positives "
    "caught and the model's score against items seen).",
)
@click.option(
    "--positive-label",
    default=None,
    help="Fraud triage: the class to catch. An analyst reviews --budget of the items; compares "
    "random review, top-risk review and triage (top risk plus uncertain items) on positives "
    "caught and the model's average precision over time.",
)
@click.option(
    "--metric",
    type=click.Choice(["average_precision", "balanced_accuracy"], case_sensitive=False),
    default="average_precision",
    show_default=True,
    help="With --positive-label: the model's score shown over time.",
)
@click.option(
    "--explore",
    default=0.2,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="With --positive-label: the share of reviews triage spends on uncertain items.",
)
def stream(
    source: str | None,
    dataset: str | None,
    label_column: str | None,
    id_column: str | None,
    strategies: tuple[str, ...],
    budget: float,
    model_name: str,
    budget_manager: str,
    window: int,
    batch_size: int,
    keep_order: bool,
    n_items: int | None,
    seeds: int,
    out: Path | None,
    resume: bool,
    plot: Path | None,
    positive_label: str | None,
    metric: str,
    explore: float,
) -> None:
    """Replay a labelled stream, deciding on each item at once whether to ask for its label.

    Every item is predicted before its label may be learned (prequential,
    test-then-train); a label is revealed only when the strategy queries it,
    within the budget. Shows accuracy against labels spent live and writes
    the runs as JSON (each run with the fields of a simulated campaign) and, with
    --plot, a PNG of the curves. STREAM_OR_FILE is the same as --dataset.
    """
    if source is not None and dataset is not None:
        raise click.UsageError(f"Give the stream once: {source!r} or --dataset, not both.")
    dataset = source or dataset or "phishing"
    if dataset.lower() in _bundled() and not Path(dataset).exists():
        dataset = dataset.lower()  # "Phishing", "SEA-drift": the bundled stream
    import numpy as np
    from rich.console import Console
    from rich.live import Live

    from activelab.stream import StreamLearner, get_stream_strategy, replay
    from activelab.stream.budget import BudgetShortfallWarning, _least_budget

    console = Console()
    _check_mode(positive_label is not None)
    if dataset in _bundled():
        _check_file_options(dataset)
    _check_outputs(dataset, out, plot)
    kept = _resumable(out, SCHEMA if positive_label is None else TRIAGE_SCHEMA, resume)
    if positive_label is None:
        from activelab.stream.budget import get_budget_manager

        try:
            with warnings.catch_warnings():  # a window's shortfall is said in a note below
                warnings.simplefilter("ignore", BudgetShortfallWarning)
                manager = get_budget_manager(budget, budget_manager, window)
        except ValueError as exc:  # e.g. a window too short for a single query
            raise click.BadParameter(str(exc), param_hint="--window") from None
        short = manager.shortfall()
        if short is not None:  # said once here, not once per run
            console.print(f"[yellow]Note: {short}[/yellow]")
    for s in strategies:
        try:
            get_stream_strategy(s)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--strategy") from None
    if positive_label is not None:
        _triage(
            console,
            dataset,
            (label_column, id_column),
            keep_order,
            n_items,
            seeds,
            budget,
            model_name,
            batch_size,
            positive_label,
            metric,
            explore,
            (out, plot),
            kept,
        )
        return
    rows: dict[str, dict[str, Any]] = {}
    t0 = time.perf_counter()
    # the first stream is read before the live table starts: an error (a missing extra, a bad
    # file) is then one line of its own, not one glued to the table's last border
    read: dict[str, Any] = {}
    first = _load(dataset, label_column, n_items, 0, keep_order, id_column, read)
    _note_short(console, n_items, len(first))
    least = _least_budget(budget, len(first))
    if least is not None:  # the window's spend never allows one query
        raise click.UsageError(
            f"A budget of {_share(budget)} of {len(first)} items is {budget * len(first):.2g} "
            f"labels: not one item would be queried. Use --budget {least:g} or more, or a "
            "longer stream."
        )
    settings = {
        "dataset": dataset,
        "n_items": len(first),
        "model": model_name,
        "strategies": list(strategies),
        "budget": budget,
        "budget_manager": budget_manager,
        "window": window,
        "batch_size": batch_size,
        "order": "file" if keep_order or dataset in _bundled() else "shuffled per seed",
        "seeds": seeds,
        "drift_at": getattr(first, "drift_at", None),
        "metric": "prequential accuracy",
    }
    done = _done_runs(out, kept, settings, "strategy")
    names = {s: get_stream_strategy(s).name for s in strategies}
    todo = [(seed, s) for seed in range(seeds) for s in strategies if (names[s], seed) not in done]
    _note_resumed(console, out, seeds * len(strategies) - len(todo))
    with Live(_table(rows, budget), console=console, refresh_per_second=8) as live:
        for seed in sorted({seed for seed, _ in todo}):
            data = (
                first
                if seed == 0
                else _load(dataset, label_column, n_items, seed, keep_order, id_column, read)
            )
            for strategy in (s for t, s in todo if t == seed):
                key = f"{strategy} (seed {seed})" if seeds > 1 else strategy
                model, standardize = make_model(model_name)
                with warnings.catch_warnings():  # a shortfall was said once above
                    warnings.simplefilter("ignore", BudgetShortfallWarning)
                    learner = StreamLearner(
                        model,
                        strategy,
                        budget,
                        classes=data.classes,
                        window=window,
                        budget_manager=budget_manager,
                        standardize=standardize,
                        feature_names=data.feature_names,
                        random_state=seed,
                    )
                started = time.perf_counter()

                def show(
                    run: Any, key: str = key, started: float = started, n: int = len(data)
                ) -> None:
                    rows[key] = {
                        "items": run.items_seen[-1],
                        "n": n,
                        "labels": run.n_labels[-1],
                        "spend": run.spend[-1],
                        "acc": run.scores[-1],
                        "recent": run.recent_scores[-1],
                        "rate": run.items_seen[-1] / max(time.perf_counter() - started, 1e-9),
                    }
                    live.update(_table(rows, budget))

                run = replay(
                    learner, data.X, data.y, batch_size=batch_size, seed=seed, on_checkpoint=show
                )
                done[names[strategy], seed] = run.to_dict()
    console.print()  # what follows starts on its own line, whatever the live table left
    runs = [done[names[s], seed] for seed in range(seeds) for s in strategies]
    if out is not None:
        _write_runs(out, SCHEMA, settings, kept, done, "strategies")
        console.print(f"Runs written to [bold]{out}[/bold]")
    if plot is not None:
        from activelab.stream.plot import plot_stream_runs

        plot_stream_runs(
            runs,
            plot,
            title=f"{dataset}, budget {_share(budget)}, {model_name}",
            drift_at=settings["drift_at"],
        )
        console.print(f"Plot written to [bold]{plot}[/bold]")
    _rare_hint(console, first.y)
    by = {s: [r for r in runs if r["strategy"] == names[s]] for s in strategies}
    for s, rs in by.items():
        acc = np.mean([r["scores"][-1] for r in rs])
        bal = np.mean([_balanced(r) for r in rs])
        spend = np.mean([r["spend"][-1] for r in rs])
        console.print(
            f"{s}: prequential accuracy {acc:.4f}, balanced accuracy {bal:.4f}, "
            f"realised spend {spend:.2%}"
        )
        console.print(f"  per class (items / labels bought / predicted right): {_per_class(rs)}")
    console.print(f"[dim]{time.perf_counter() - t0:.1f} s[/dim]")


#: Options of one mode only: the replay's (no --positive-label) and fraud triage's.
_REPLAY_ONLY = {
    "strategies": "--strategy",
    "budget_manager": "--budget-manager",
    "window": "--window",
}
_TRIAGE_ONLY = {"metric": "--metric", "explore": "--explore"}


def _given(options: dict[str, str]) -> list[str]:
    """The flags of ``options`` (parameter name -> flag) given on the command line."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    unset = (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)
    return [flag for name, flag in options.items() if ctx.get_parameter_source(name) not in unset]


def _check_mode(triage: bool) -> None:
    """Refuse an option given on the command line that the chosen mode would ignore."""
    given = _given(_REPLAY_ONLY if triage else _TRIAGE_ONLY)
    if not given:
        return
    if triage:
        raise click.UsageError(
            f"{', '.join(given)} set the replay of a stream's strategies, which --positive-label "
            "replaces with fraud triage (random, top_risk and triage review, --explore setting "
            "triage's share of uncertain items); drop them or drop --positive-label."
        )
    raise click.UsageError(
        f"{', '.join(given)} apply to fraud triage only; add --positive-label LABEL (the class "
        "to catch) or drop them."
    )


def _check_file_options(dataset: str) -> None:
    """Refuse --label-column or --id-column with a bundled stream, which would ignore them."""
    given = _given({"label_column": "--label-column", "id_column": "--id-column"})
    if given:
        raise click.UsageError(
            f"{' and '.join(given)} {'name' if len(given) > 1 else 'names'} the columns of a "
            "stream file; the bundled stream "
            f"{dataset!r} has its own labels. Drop {' and '.join(given)}, or give a file."
        )


def _check_outputs(dataset: str, out: Path | None, plot: Path | None) -> None:
    """Refuse an --out or --plot that would overwrite the stream file, or each other, or
    that cannot be written: before the run, not after it."""
    source = Path(dataset)
    given = [(flag, path) for flag, path in (("--out", out), ("--plot", plot)) if path is not None]
    for flag, path in given:
        folder = next((p for p in path.absolute().parents if p.exists()), None)
        if folder is not None and (not folder.is_dir() or not os.access(folder, os.W_OK)):
            raise click.BadParameter(
                f"cannot write {path}: {folder} is "
                f"{'not a folder' if not folder.is_dir() else 'a folder you cannot write to'}.",
                param_hint=flag,
            )
        if source.is_file() and path.exists() and path.samefile(source):
            raise click.BadParameter(
                f"{path} is the stream file itself; writing there would replace the data. "
                "Give another file.",
                param_hint=flag,
            )
    if len(given) == 2 and given[0][1].resolve() == given[1][1].resolve():
        raise click.BadParameter(
            f"--out and --plot are both {out}; give each its own file (e.g. runs.json and "
            "runs.png).",
            param_hint="--plot",
        )


def _bundled() -> tuple[str, ...]:
    from activelab.stream.datasets import STREAMS

    return tuple(STREAMS)


def _balanced(run: dict[str, Any]) -> float:
    """Prequential balanced accuracy of a run written by :meth:`StreamRun.to_dict`."""
    items, right = run["class_items"], run["class_correct"]
    return sum(right.get(c, 0) / n for c, n in items.items()) / max(len(items), 1)


def _per_class(runs: list[dict[str, Any]]) -> str:
    """``"0: 5,000 / 480 / 91%, 1: ..."`` summed over the runs (seeds) of one strategy."""
    totals: dict[str, list[int]] = {}
    for r in runs:
        for c, n in r["class_items"].items():
            t = totals.setdefault(c, [0, 0, 0])
            t[0] += n
            t[1] += r["class_labels"].get(c, 0)
            t[2] += r["class_correct"].get(c, 0)
    return ", ".join(
        f"{c}: {n:,} / {lab:,} / {right / n:.0%}" for c, (n, lab, right) in sorted(totals.items())
    )


def _triage(  # type: ignore[no-untyped-def]
    console,
    dataset,
    columns,
    keep_order,
    n_items,
    seeds,
    budget,
    model_name,
    batch_size,
    positive_label,
    metric,
    explore,
    files,
    kept,
) -> None:
    """``--positive-label``: compare the review policies of fraud triage on the stream.

    ``columns`` is the pair (label column, id column) of a CSV stream, ``files`` the
    pair (``--out``, ``--plot``), ``kept`` the document of an ``--out`` to resume.
    """
    out, plot = files
    read: dict[str, Any] = {}  # the CSV file, parsed once for every seed
    from rich.table import Table
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from activelab.simulation.rare_metrics import check_positive_label
    from activelab.stream.triage import POLICIES, triage_replay

    if model_name not in ("logreg", "naive-bayes"):
        raise click.UsageError(
            f"Fraud triage refits a scikit-learn model on the reviewed items; use --model logreg "
            f"or naive-bayes, not {model_name!r}."
        )
    model = (
        make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced"))
        if model_name == "logreg"
        else GaussianNB()
    )
    if batch_size < 2:  # each batch's reviews are its riskiest items: one item leaves no choice
        raise click.BadParameter(
            "--positive-label reviews the riskiest items of each batch, and a batch of 1 leaves "
            "no choice (every policy would review the same items); use 2 or more (default 50).",
            param_hint="--batch-size",
        )
    table = Table(title=f"Fraud triage: positives caught and the model's {metric} over time")
    for col in ("run", "reviewed", "caught", "share caught", metric):
        table.add_column(col, justify="left" if col == "run" else "right")
    runs = []
    done: dict[tuple[str, int], dict[str, Any]] = {}
    for seed in range(seeds):
        # a seed whose runs are all in --out is neither replayed nor loaded again; seed 0 is
        # loaded all the same: its stream gives the settings the file must match
        if seed == 0 or any((p, seed) not in done for p in POLICIES):
            data = _load(dataset, columns[0], n_items, seed, keep_order, columns[1], read)
            if seed == 0:
                _note_short(console, n_items, len(data))
                settings = {
                    "dataset": dataset,
                    "n_items": len(data),
                    "model": model_name,
                    "order": "file" if keep_order or dataset in _bundled() else "shuffled per seed",
                    "budget": budget,
                    "positive_label": str(positive_label),
                    "metric": metric,
                    "explore": explore,
                    "batch_size": batch_size,
                    "seeds": seeds,
                }
                done = _done_runs(out, kept, settings, "policy")
                _note_resumed(
                    console, out, sum((p, s) in done for s in range(seeds) for p in POLICIES)
                )
            try:
                positive = check_positive_label(
                    data.y,
                    positive_label,
                    getattr(data, "classes", None),
                    option="--positive-label",
                )
            except ValueError as exc:
                raise click.BadParameter(str(exc), param_hint="--positive-label") from None
        for policy in POLICIES:
            if (policy, seed) not in done:  # else resumed from --out
                try:
                    run = triage_replay(
                        model,
                        data.X,
                        data.y,
                        positive_label=positive,
                        budget=budget,
                        policy=policy,
                        explore=explore,
                        batch_size=batch_size,
                        seed=seed,
                    )
                except ValueError as exc:  # e.g. a budget of not one review: one line
                    raise click.UsageError(str(exc)) from None
                done[policy, seed] = run.to_dict()
            runs.append(done[policy, seed])
            table.add_row(*_triage_row(done[policy, seed], seeds, metric))
    console.print(table)
    console.print(
        f"[dim]{batch_size} items per batch, review budget {_share(budget)}; {metric} of the "
        "model on the items of each checkpoint before their labels were learned, averaged over "
        "time.[/dim]"
    )
    if out is not None:
        _write_runs(out, TRIAGE_SCHEMA, settings, kept, done, None)
        console.print(f"Runs written to [bold]{out}[/bold]")
    if plot is not None:
        from activelab.stream.plot import plot_triage_runs

        plot_triage_runs(
            runs,
            plot,
            metric=metric,
            title=f"{dataset}: fraud triage, review budget {_share(budget)}",
        )
        console.print(f"Plot written to [bold]{plot}[/bold]")


def _triage_row(run: dict[str, Any], seeds: int, metric: str) -> tuple[str, ...]:
    """One run's row of the triage table: reviews, positives caught, the model's metric."""
    import numpy as np

    policy, seed = run["policy"], run["seed"]
    values = run["ap"] if metric == "average_precision" else run["balanced_accuracy"]
    shown = [v for v in values if v is not None]
    caught, arrived = run["caught"][-1], run["positives_seen"][-1]
    return (
        f"{policy} (seed {seed})" if seeds > 1 else policy,
        f"{run['reviewed'][-1]:,}",
        f"{caught:,}/{arrived:,}",
        f"{caught / arrived if arrived else 0.0:.0%}",
        f"{np.mean(shown):.3f}" if shown else "–",
    )


def _resumable(out: Path | None, schema: str, resume: bool) -> dict[str, Any] | None:
    """The runs file ``--out`` to resume, or ``None`` (none there, or ``--no-resume``).

    Raises
    ------
    click.ClickException
        When ``--out`` exists and is no runs file of this mode (``schema``, whose number is
        the format), or was written by another activelab version (or one that recorded
        none), before any replay: resuming it would lose it, or mix runs of other code.
    """
    if out is None or not resume or not out.is_file():
        return None
    import json

    try:
        doc = json.loads(out.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        doc, why = None, f"not JSON ({exc})."
    else:
        why = f"no schema {schema!r}."
    family = schema.rsplit("/", 1)[0]
    found = doc.get("schema") if isinstance(doc, dict) else None
    if isinstance(found, str) and found != schema and found.startswith(f"{family}/"):
        why = f"it is in format {found!r}, and this activelab reads {schema!r}."
    if (
        not isinstance(doc, dict)
        or doc.get("schema") != schema
        or not isinstance(doc.get("settings"), dict)
        or not isinstance(doc.get("runs"), list)
    ):
        raise click.ClickException(
            f"--out {out} exists and is not a results file to resume: {why} Give another --out "
            "for the results (a new .json file), or --no-resume to replace it."
        )
    from activelab import __version__

    written = doc.get("activelab_version")
    if written != __version__:  # other code replayed its runs: they would not compare
        by = f"activelab {written}" if written else "an activelab that recorded no version"
        raise click.ClickException(
            f"--out {out} was written by {by}, and this is activelab {__version__}: its runs "
            "were replayed by other code and may not compare with new ones. Give another --out "
            "for the results (a new .json file), or --no-resume to replace it."
        )
    return doc


def _done_runs(
    out: Path | None, kept: dict[str, Any] | None, settings: dict[str, Any], by: str
) -> dict[tuple[str, int], dict[str, Any]]:
    """The runs of the resumed ``--out`` by (strategy or policy, seed); ``{}`` for none.

    Raises
    ------
    click.ClickException
        When the file holds runs of other settings (all but the strategies and the seeds
        must match), naming them, or a run without its strategy (policy) and seed.
    """
    from activelab.simulation.runner import _check_same_settings

    if kept is None:
        return {}
    keys = [k for k in settings if k not in ("strategies", "seeds")]
    try:
        _check_same_settings(out, kept["settings"], settings, keys)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    for i, r in enumerate(kept["runs"]):
        if not isinstance(r, dict) or by not in r or not isinstance(r.get("seed"), int):
            raise click.ClickException(
                f"--out {out} is damaged: its run {i + 1} has no {by} and seed, so it cannot "
                "be resumed. Give another --out for the results (a new .json file), or "
                "--no-resume to replace it."
            )
    return {(str(r[by]), int(r["seed"])): r for r in kept["runs"]}


def _note_resumed(console: Any, out: Path | None, n: int) -> None:
    """Say how many runs of this command ``--out`` holds already (they are not replayed)."""
    if n:
        console.print(
            f"[dim]{n} run{'s' if n > 1 else ''} already in {out}, kept (--no-resume to replay "
            f"{'them' if n > 1 else 'it'}).[/dim]"
        )


def _write_runs(
    out: Path,
    schema: str,
    settings: dict[str, Any],
    kept: dict[str, Any] | None,
    done: dict[tuple[str, int], dict[str, Any]],
    listed: str | None,
) -> None:
    """Write the runs file: the resumed file's runs and settings merged with this command's
    (``listed``: the settings key of the strategies, ``None`` for triage's fixed policies)."""
    from activelab.simulation.runner import _write_atomic

    settings = dict(settings)
    if kept is not None:
        settings["seeds"] = max(int(kept["settings"].get("seeds", 0)), settings["seeds"])
        if listed is not None:
            old = list(kept["settings"].get(listed, []))
            settings[listed] = list(dict.fromkeys([*old, *settings[listed]]))
    from activelab import __version__

    doc = {
        "schema": schema,
        "activelab_version": __version__,
        "settings": settings,
        "runs": list(done.values()),
    }
    _write_atomic(out, doc, default=str)


def _rare_hint(console, y) -> None:  # type: ignore[no-untyped-def]
    """Say when accuracy hides a rare class (see ``rare_class``), and what to run instead."""
    from activelab.simulation.rare_metrics import default_scoring, rare_class

    label = rare_class(y)
    if label is not None:
        _metric, reason = default_scoring(y)
        console.print(
            f"[yellow]Note: {reason}. Rerun with --positive-label {label} for fraud triage, "
            "scored by average precision or --metric balanced_accuracy.[/yellow]"
        )
