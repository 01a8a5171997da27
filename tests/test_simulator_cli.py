"""``activelab simulate`` then ``activelab report``, the page rendered in headless Chromium."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {
        **os.environ,
        "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "activelab", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.browser
def test_simulate_then_report_renders_in_chromium(tmp_path):
    # the documented command, made small: fewer labels per campaign and larger batches
    run = _cli(
        "simulate",
        "--dataset",
        "digits",
        "--strategy",
        "random",
        "--strategy",
        "margin",
        "--seeds",
        "2",
        "--budget",
        "40",
        "--batch-size",
        "10",
        "--out",
        "results.json",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["schema"] == "activelab.simulation" and len(doc["runs"]) == 4
    assert "margin" in run.stdout and "AULC" in run.stdout

    rep = _cli("report", "results.json", "--out", "report.html", cwd=tmp_path)
    assert rep.returncode == 0, rep.stderr
    page = tmp_path / "report.html"

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            tab = browser.new_page()
            tab.goto(page.as_uri())
            images = tab.eval_on_selector_all(
                "figure img",
                "imgs => imgs.map(i => "
                "[i.complete, i.naturalWidth, i.getBoundingClientRect().height])",
            )
            # 40 labels are too few for random to reach 95 % of the whole pool: no savings
            # chart, a line saying why instead of an empty plot
            assert len(images) == 1
            assert "random sampling never reached" in tab.inner_text("#savings")
            for complete, width, height in images:
                assert complete and width > 0 and height > 0
            strategies = tab.eval_on_selector_all(
                "#metrics tbody tr", "rows => rows.map(r => r.cells[0].textContent)"
            )
            assert strategies == ["random", "margin"]
            assert "digits" in tab.inner_text("#settings")
        finally:
            browser.close()


def test_cli_errors_are_clear(tmp_path):
    from click.testing import CliRunner

    from activelab.cli import main

    bad = tmp_path / "d.csv"
    bad.write_text("a,b\n1,2\n")
    runner = CliRunner()
    run = runner.invoke(main, ["simulate", "--data", str(bad)])  # --label-column: "label"
    assert run.exit_code != 0 and "no label column 'label'" in run.output
    run = runner.invoke(main, ["simulate", "--data", str(bad), "--label-column", ""])
    assert run.exit_code != 0 and "--label-column is empty" in run.output
    assert "Traceback" not in run.output
    run = runner.invoke(main, ["simulate", "--dataset", "nope"])
    assert run.exit_code != 0 and "Unknown data set 'nope'" in run.output
    run = runner.invoke(main, ["simulate", "--dataset", "irs"])
    assert run.exit_code != 0 and "Unknown data set 'irs'. Did you mean 'iris'?" in run.output
    run = runner.invoke(main, ["simulate", "--dataset", "iris", "--data", str(bad)])
    assert run.exit_code != 0 and "exactly one of --dataset" in run.output
    run = runner.invoke(main, ["report", str(bad)])
    assert run.exit_code != 0 and "not valid JSON" in run.output


def test_label_sets_joined_by_semicolons_are_refused_not_taken_as_classes(tmp_path):
    """A multi-label export's column ("fracture;effusion") is not one class per set."""
    from click.testing import CliRunner

    from activelab.cli import main

    rows = ["a", "b", "a;b", "b;c", "c", "a", "b", "c;b"] * 3
    path = tmp_path / "tags.csv"
    path.write_text("x,y,tags\n" + "".join(f"{i},{i % 5},{t}\n" for i, t in enumerate(rows)))
    run = CliRunner().invoke(
        main,
        [
            "simulate",
            "--data",
            str(path),
            "--label-column",
            "tags",
            "--out",
            str(tmp_path / "r.json"),
        ],
    )
    assert run.exit_code == 1 and "Traceback" not in run.output
    assert "labels such as 'a;b' are sets of labels joined by ';'" in run.output
    assert "to_indicator" in run.output and not (tmp_path / "r.json").exists()


def test_a_multilabel_export_of_single_labels_and_empty_sets_is_refused(tmp_path):
    """A "[]" cell (an item answered with no label) was replayed as a class of its own."""
    from click.testing import CliRunner

    from activelab.cli import main
    from activelab.data.datasets import load_table

    rows = ["a", "b", "[]", "c", "a", "b", "c", "a"] * 3
    path = tmp_path / "tags.csv"
    path.write_text("x,y,labels\n" + "".join(f"{i},{i % 5},{t}\n" for i, t in enumerate(rows)))
    out = tmp_path / "r.json"
    args = ["simulate", "--data", str(path), "--label-column", "labels", "--out", str(out)]
    run = CliRunner().invoke(main, args)
    assert run.exit_code != 0 and "Traceback" not in run.output
    assert "labels such as '[]' are empty label sets" in run.output
    assert "(multi-label data)" in run.output and "to_indicator" in run.output
    assert not out.exists()
    jsonl = tmp_path / "tags.jsonl"
    jsonl.write_text('{"x": 1, "labels": "a"}\n{"x": 2, "labels": ["a", "b"]}\n')
    with pytest.raises(ValueError, match=r"labels such as '\[\"a\", \"b\"\]' are lists"):
        load_table(jsonl, "labels")


def test_label_sets_are_told_from_classes_that_merely_hold_a_semicolon():
    from activelab.multilabel import joined_label_set as _label_sets

    assert _label_sets(["a", "b", "a;b"]) == "a;b"
    assert _label_sets(["x;y", "y;x", "z"]) == "y;x"
    assert _label_sets(["ok", "ratio 1;2", "bad"]) is None
    assert _label_sets([0, 1, 2]) is None and _label_sets(["a;", ";", "b"]) is None


def test_simulate_takes_the_data_as_its_argument_and_leaves_ids_out(tmp_path):
    from click.testing import CliRunner

    from activelab.cli import main

    runner = CliRunner()
    small = ["--seeds", "1", "--budget", "12", "--batch-size", "4", "--initial", "4"]
    out = tmp_path / "r.json"
    run = runner.invoke(main, ["simulate", "iris", *small, "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert json.loads(out.read_text())["settings"]["dataset"]["name"] == "iris"
    assert ", 1 seed" in run.output and "1 seeds" not in run.output  # one seed is singular
    table = tmp_path / "t.csv"
    rng = np.random.default_rng(0)
    rows = [
        f"w{i},{a:.3f},{b:.3f},{'x' if a > 0 else 'y'}"
        for i, (a, b) in enumerate(rng.normal(size=(60, 2)))
    ]
    table.write_text("id,a,b,label\n" + "\n".join(rows) + "\n")  # text ids: left out, not refused
    out2 = tmp_path / "r2.json"
    run = runner.invoke(main, ["simulate", str(table), *small, "--out", str(out2)])
    assert run.exit_code == 0, run.output
    assert json.loads(out2.read_text())["settings"]["dataset"]["n_features"] == 2
    run = runner.invoke(main, ["simulate", "iris", "--dataset", "wine"])
    assert run.exit_code == 2 and "Give the data once: 'iris', --dataset or --data" in run.output
    run = runner.invoke(main, ["simulate", "iris", "--id-column", "id"])
    assert run.exit_code == 2 and "--id-column goes with --data FILE" in run.output
    run = runner.invoke(main, ["simulate", "iris", "--task", "regression"])
    assert run.exit_code == 2 and "--task goes with --data FILE" in run.output
    run = runner.invoke(main, ["simulate", str(tmp_path / "typo.csv")])  # a file, not a set
    assert run.exit_code == 2 and "No such data file:" in run.output and "typo.csv" in run.output


def test_simulate_replays_auto_beside_random_by_default(tmp_path):
    from click.testing import CliRunner

    from activelab.cli import main

    out = tmp_path / "r.json"
    run = CliRunner().invoke(
        main,
        [
            "simulate",
            "--dataset",
            "iris",
            "--seeds",
            "1",
            "--budget",
            "20",
            "--batch-size",
            "5",
            "--out",
            str(out),
        ],
    )
    assert run.exit_code == 0, run.output
    doc = json.loads(out.read_text())
    assert sorted({r["strategy"] for r in doc["runs"]}) == ["auto", "random"]


def test_one_strategy_without_random_does_not_blame_random(tmp_path):
    from click.testing import CliRunner

    from activelab.cli import main

    args = ["simulate", "iris", "--strategy", "margin", "--seeds", "1", "--budget", "20"]
    args += ["--semi-supervised", "off", "--out", str(tmp_path / "r.json")]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 0, run.output
    text = " ".join(run.output.split())
    assert "random not replayed; add --strategy random" in text
    assert "random never reached" not in text


def test_the_deep_strategies_run_from_the_command_line_with_model_mlp(tmp_path):
    pytest.importorskip("torch")
    from click.testing import CliRunner

    from activelab.cli import main

    runner = CliRunner()
    args = ["simulate", "--dataset", "iris", "--strategy", "bald", "--seeds", "1"]
    args += ["--budget", "14", "--initial", "6", "--batch-size", "4"]
    run = runner.invoke(main, args)  # logreg: the error names the option that fixes it
    assert run.exit_code != 0 and "From the command line: --model mlp." in run.output
    out = tmp_path / "deep.json"
    run = runner.invoke(main, [*args, "--model", "mlp", "--semi-supervised", "off", "--out", out])
    assert run.exit_code == 0, run.output
    doc = json.loads(out.read_text())
    assert {r["strategy"] for r in doc["runs"]} == {"bald"}


def test_simulate_hints_read_what_the_strategy_needs_not_its_message():
    # the hints matched the message's text ("TorchMLPClassifier", "needs a predictive
    # spread"): a reworded message would have lost them without a word
    import pickle

    from sklearn.linear_model import LinearRegression, LogisticRegression

    from activelab.cli.simulate import _requirement_hint
    from activelab.strategies import StrategyRequirementError, get_strategy

    def refusal(strategy: str, model: object) -> StrategyRequirementError:
        with pytest.raises(StrategyRequirementError) as info:
            get_strategy(strategy).check_model(model)
        return info.value

    for strategy in ("bald", "batchbald"):
        err = refusal(strategy, LogisticRegression())
        assert (err.needs, err.strategy) == ("mc_dropout", strategy)
        assert _requirement_hint(err) == " From the command line: --model mlp."
    err = refusal("variance", LinearRegression())
    assert (err.needs, err.strategy) == ("spread", "variance")
    assert _requirement_hint(err).endswith("--param variance.uncertainty=bootstrap.")
    assert _requirement_hint(refusal("margin", LinearRegression())) == ""
    back = pickle.loads(pickle.dumps(err))  # from a worker process: the fields come along
    assert (str(back), back.needs, back.strategy) == (str(err), "spread", "variance")
    worded = StrategyRequirementError("any wording", needs="spread", strategy="emcm")
    assert "--param emcm.uncertainty=bootstrap" in _requirement_hint(worded)
