"""``activelab demo``: the default strategy against random on digits, made small."""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner

from activelab.cli import main
from activelab.simulation.demo import run_demo


def test_run_demo_compares_the_default_strategy_with_random():
    r = run_demo(seeds=2, budget=60, batch_size=10, n_jobs=1)
    assert r.strategies == ["random", "auto"]
    assert r.n_labels == [10, 20, 30, 40, 50, 60]
    for name in r.strategies:
        assert r.curves[name].shape == (2, 6)
        assert np.all((r.curves[name] > 0.1) & (r.curves[name] <= 1.0))
    # more labels help: both end above where they started, on average
    assert all(r.curves[s][:, -1].mean() > r.curves[s][:, 0].mean() for s in r.strategies)


def test_demo_command_prints_the_curves_and_the_labels_needed():
    run = CliRunner().invoke(
        main, ["demo", "--seeds", "1", "--budget", "40", "--strategy", "margin"]
    )
    assert run.exit_code == 0, run.output
    assert "margin" in run.output and "random" in run.output
    assert "Labels needed to reach" in run.output
    assert "1 seed, budget 40 labels" in run.output  # one seed is singular


def test_demo_refuses_random_against_itself():
    for name in ("random", "Random"):
        run = CliRunner().invoke(main, ["demo", "--budget", "40", "--strategy", name])
        assert run.exit_code == 2 and "Traceback" not in run.output
        assert "--strategy random is the baseline the demo compares with" in run.output


def test_demo_table_has_rows_whatever_the_batch_size():
    # batches of 7 from 10 labels never land on 20 or 50: the rows are the steps past them
    run = CliRunner().invoke(
        main,
        [
            *("demo", "--seeds", "1", "--budget", "52", "--batch-size", "7"),
            *("--strategy", "margin", "--semi-supervised", "off"),
        ],
    )
    assert run.exit_code == 0, run.output
    first = [line.split("│")[1].strip() for line in run.output.splitlines() if "│" in line]
    assert [c for c in first if c.isdigit()] == ["10", "24", "52"]
    assert "±" not in run.output  # one seed: no spread to show


def test_demo_shows_a_dash_before_any_model_not_nan():
    # one label: no model can be fitted on one of ten classes
    run = CliRunner().invoke(
        main,
        [
            *("demo", "--seeds", "1", "--budget", "21", "--initial", "1"),
            *("--strategy", "margin", "--semi-supervised", "off"),
        ],
    )
    assert run.exit_code == 0, run.output
    assert "nan" not in run.output
    first = next(line for line in run.output.splitlines() if line.startswith("│      1 │"))
    assert first.count("–") == 2


def _saving_line(random_labels, other_labels):
    import io

    from rich.console import Console

    from activelab.cli.demo import _print
    from activelab.simulation.demo import DemoResult

    curves = {s: np.full((1, 2), 0.9) for s in ("random", "margin")}
    r = DemoResult(
        ["random", "margin"],
        [10, 20],
        curves,
        np.array([0.95]),
        {"random": [random_labels], "margin": [other_labels]},
        1347,
        450,
        20,
        "M",
        0.97,
    )
    out = io.StringIO()
    _print(Console(file=out, width=200), r)
    return out.getvalue().strip().splitlines()[-1]


def test_demo_saving_line_reads_right_whichever_way_it_goes():
    assert _saving_line(20, 10).startswith("margin needs 10 fewer labels than random (50% saved)")
    assert _saving_line(10, 20).startswith("margin needs 10 more labels than random (100% more)")
    assert _saving_line(10, 10).startswith("margin needs as many labels as random to reach")
    assert _saving_line(20, 10).endswith("; the whole-pool model uses all 1,347 labels.")


def test_a_batch_past_the_pool_blames_the_batch_not_the_budget():
    run = CliRunner().invoke(main, ["demo", "--batch-size", "2000"])
    assert run.exit_code == 2
    assert "--initial plus one --batch-size is 2010 labels, more than the pool" in run.output
    assert "2010..1347" not in run.output
