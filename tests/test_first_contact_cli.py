"""What a newcomer meets first on the command line: fast help, one-line errors, honest output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from activelab.cli import main

SRC = str(Path(__file__).resolve().parents[1] / "src")
HEAVY = ("sklearn", "numpy", "scipy", "pandas", "rich", "sqlalchemy", "matplotlib")


def _python(code: str, *, cwd: Path | None = None, **kw) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        **kw,
    )


def _without(modules: list[str], args: list[str]) -> str:
    """Python code running the CLI as if ``modules`` were not installed."""
    block = "".join(f"sys.modules[{m!r}] = None; " for m in modules)
    return f"import sys; {block}from activelab.cli import main; main({args!r})"


# ------------------------------------------------------------------ startup
@pytest.mark.parametrize("args", [[], ["demo"], ["simulate"], ["stream"], ["init"], ["serve"]])
def test_help_imports_nothing_heavy(args):
    code = (
        "import sys\nfrom activelab.cli import main\n"
        f"try:\n    main([*{args!r}, '--help'])\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    run = _python(code)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]", run.stdout[-500:]


def test_the_command_list_names_what_each_group_does():
    """``activelab --help`` gives each command one line; a group's line names its subcommands."""
    import click

    from activelab.cli import _COMMANDS

    ctx = click.Context(main)
    for name, (_, _, line) in _COMMANDS.items():
        command = main.get_command(ctx, name)
        assert line.endswith("."), name
        if isinstance(command, click.Group):
            words = line.lower()
            missing = [sub for sub in command.list_commands(ctx) if sub not in words]
            assert not missing, f"activelab --help: {name!r} does not mention {missing}"


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "--seeds", "0"],
        ["demo", "--budget", "5"],
        ["nosuch"],
        ["demo", "--nope"],
        ["simulate"],
        ["simulate", "--dataset", "iris", "--smiles-column", "s"],
        ["simulate", "--dataset", "iris", "--param", "margin"],
    ],
)
def test_error_paths_import_nothing_heavy(args):
    code = (
        "import sys\nfrom activelab.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit as e:\n    print('exit', e.code)\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    run = _python(code)
    assert run.stdout.strip().splitlines() == ["exit 2", "[]"], run.stdout + run.stderr
    assert "Error:" in run.stderr and "Traceback" not in run.stderr


def test_import_of_the_cli_leaves_scikit_learn_out_yet_the_api_is_there():
    run = _python(
        "import sys, activelab.cli; heavy = 'sklearn' in sys.modules\n"
        "from activelab import ActiveLearner, available_strategies, top_k\n"
        "print(heavy, ActiveLearner.__name__, 'margin' in available_strategies())"
    )
    assert run.stdout.split() == ["False", "ActiveLearner", "True"], run.stderr


# ------------------------------------------------------------------ missing extras
@pytest.mark.parametrize(
    ("blocked", "args", "extra"),
    [
        (["sqlalchemy"], ["init", "p", "--data", "x.csv", "--labels", "a,b"], "app"),
        (["uvicorn"], ["serve", "p"], "app"),
        (["sqlalchemy"], ["status", "p"], "app"),
        (["river"], ["stream", "--dataset", "phishing"], "data"),
        (["matplotlib"], ["report", "results.json"], "plot"),
        (["pandas"], ["simulate", "--data", "t.csv", "--label-column", "y"], "sim"),
        (["uvicorn"], ["ls-backend"], "app"),
        (["sqlalchemy"], ["gold", "p", "t.csv"], "app"),
        (["sqlalchemy"], ["review", "p"], "app"),
    ],
)
def test_a_missing_extra_is_one_line_naming_the_pip_command(tmp_path, blocked, args, extra):
    (tmp_path / "t.csv").write_text("a,y\n1,0\n2,1\n")
    (tmp_path / "results.json").write_text(
        json.dumps(
            {
                "schema": "activelab.simulation",
                "schema_version": 1,
                "settings": {
                    "dataset": {"name": "t"},
                    "budget": 10,
                    "n_initial": 5,
                    "batch_size": 5,
                    "scoring": "accuracy",
                },
                "full_pool": {"0": 0.9},
                "runs": [
                    {"strategy": "random", "seed": 0, "n_labels": [5, 10], "scores": [0.5, 0.8]}
                ],
            }
        )
    )
    run = _python(_without(blocked, args), cwd=tmp_path)
    assert run.returncode == 1
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert lines == [
        f"Error: activelab {args[0]} needs the [{extra}] extra (module {blocked[0]!r} is "
        f"missing): pip install 'activelab[{extra}]'"
    ], run.stderr[-2000:]


def test_stream_input_errors_are_one_line_before_any_table(tmp_path):
    (tmp_path / "s.csv").write_text("a,b,y\n1,2,0\n3,4,1\n")
    cases = [
        (["--dataset", str(tmp_path / "nope.csv"), "--label-column", "y"], "not a bundled stream"),
        (["--dataset", str(tmp_path / "s.csv"), "--label-column", "z"], "has no column 'z'"),
    ]
    for args, message in cases:
        r = CliRunner().invoke(main, ["stream", *args])
        assert r.exit_code != 0 and message in r.output, r.output
        assert "Traceback" not in r.output and "┘" not in r.output  # no table was started
    run = _python(_without(["river"], ["stream", "--dataset", "phishing"]), cwd=tmp_path)
    assert run.returncode == 1 and run.stdout.strip() == ""  # the error is not glued to a table
    # the guide says up front what the error says
    install = run.stderr.strip().rsplit(": ", 1)[1]
    guide = (Path(__file__).resolve().parents[1] / "docs" / "stream.md").read_text()
    assert install == "pip install 'activelab[data]'" and install in guide.split("## Usage")[0]


def test_label_without_a_terminal_is_one_line(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "activelab", "label", str(tmp_path / "p")],
        env={**os.environ, "PYTHONPATH": SRC},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,  # no controlling terminal
    )
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "Error: activelab label reads one key per answer and needs an interactive terminal "
        f"(none here); run it in a terminal, or label in the browser: activelab serve "
        f"{tmp_path / 'p'}"
    ]


# ------------------------------------------------------------------ demo
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategy", "margn"], "Did you mean 'margin'?"),
        (["--seeds", "0"], "--seeds must be at least 1, got 0."),
        (["--budget", "5"], "--budget must be in 20..1347"),
        (["--budget", "5000"], "--budget must be in 20..1347"),
        (["--target", "1.5"], "--target is a share"),
        (["--strategy", "variance"], "is for regression data"),
    ],
)
def test_demo_refuses_bad_options_before_any_work(args, message):
    run = CliRunner().invoke(main, ["demo", *args])
    assert run.exit_code == 2
    assert message in run.output and "Traceback" not in run.output
    assert "Replaying" not in run.output


def test_demo_states_its_size_and_target():
    run = CliRunner().invoke(main, ["demo", "--seeds", "1", "--budget", "60"])
    assert run.exit_code == 0, run.output
    assert "97% of the whole-pool model's accuracy" in run.output
    assert "1 seed, budget 60 labels, target 97% of the whole-pool accuracy" in run.output


# ------------------------------------------------------------------ simulate
def test_simulate_regression_defaults_run_and_budget_beyond_the_pool_is_stated(tmp_path):
    out = tmp_path / "r.json"
    args = ["simulate", "--dataset", "diabetes", "--seeds", "1", "--budget", "500"]
    run = CliRunner().invoke(main, [*args, "--initial", "300", "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert "--budget 500 is more than the pool (331 items)" in run.output
    doc = json.loads(out.read_text())
    assert {r["strategy"] for r in doc["runs"]} == {"random", "gsx"}
    assert "BayesianRidge" in doc["settings"]["estimator"]


def test_simulate_refuses_a_strategy_the_model_cannot_serve_before_any_campaign(tmp_path):
    out = tmp_path / "r.json"
    run = CliRunner().invoke(
        main,
        ["simulate", "diabetes", "--model", "ridge", "--strategy", "variance", "--out", str(out)],
    )
    assert run.exit_code == 1
    assert "needs a predictive spread" in run.output and not out.exists()
    assert "--param variance.uncertainty=bootstrap" in " ".join(run.output.split())
    small = ["--seeds", "1", "--budget", "30", "--out", str(out)]
    run = CliRunner().invoke(  # the default (gsx) needs no spread: ridge serves it
        main, ["simulate", "diabetes", "--model", "ridge", *small]
    )
    assert run.exit_code == 0, run.output


def test_simulate_param_minimize_and_rmse_direction(tmp_path):
    out = tmp_path / "r.json"
    args = ["simulate", "--dataset", "diabetes", "--strategy", "random", "--strategy", "greedy"]
    args += ["--seeds", "2", "--budget", "40", "--top-k", "20", "--minimize"]
    args += ["--scoring", "neg_root_mean_squared_error", "--out", str(out)]
    run = CliRunner().invoke(main, [*args, "--param", "random.unused=1"])
    assert run.exit_code == 1 and "Strategy 'random' takes no parameters" in run.output
    # a misspelt parameter that a base class takes through **kwargs: named with the nearest
    # one and the full list, not as "_Acquisition.__init__() got an unexpected keyword"
    run = CliRunner().invoke(main, [*args, "--param", "greedy.maximise=false"])
    assert run.exit_code == 1 and "__init__" not in run.output
    assert "Strategy 'greedy' has no parameter 'maximise' (did you mean 'maximize'?); it " in (
        " ".join(run.output.split())
    )
    assert "takes maximize, batch, max_refits." in run.output
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 0, run.output
    doc = json.loads(out.read_text())
    assert doc["settings"]["strategy_params"] == {"greedy": {"maximize": False}}
    assert "lower is better" in run.output
    aulc = [float(ln.split(")")[1].split("±")[0]) for ln in run.output.splitlines() if "AULC" in ln]
    assert aulc and all(a > 0 for a in aulc)  # an RMSE, not its negation


def test_param_syntax_is_checked():
    run = CliRunner().invoke(main, ["simulate", "--dataset", "iris", "--param", "greedy"])
    assert run.exit_code == 2 and "STRATEGY.KEY=VALUE" in run.output


def test_simulate_warns_when_seeds_differ_after_resuming(tmp_path):
    out = tmp_path / "r.json"
    base = ["simulate", "--dataset", "iris", "--budget", "30", "--out", str(out)]
    assert CliRunner().invoke(main, [*base, "--strategy", "random", "--seeds", "3"]).exit_code == 0
    run = CliRunner().invoke(
        main, [*base, "--strategy", "random", "--strategy", "margin", "--seeds", "2"]
    )
    assert run.exit_code == 0, run.output
    assert "different numbers of seeds (margin 2, random 3)" in run.output
    assert "margin: AULC" in run.output and ", 2 seeds" in run.output


def test_split_and_smiles_columns(tmp_path):
    pytest.importorskip("rdkit")
    rng = np.random.default_rng(0)
    smiles = ["C" * k + "O" for k in range(1, 41)] + ["C1CC", "CC(", "c1ccccc1N"]
    rows = [
        f"{s},{rng.normal():.3f},{'test' if i % 4 == 0 else 'train'}" for i, s in enumerate(smiles)
    ]
    data = tmp_path / "mols.csv"
    data.write_text("smiles,y,split\n" + "\n".join(rows) + "\n")
    out = tmp_path / "r.json"
    args = ["simulate", "--data", str(data), "--label-column", "y", "--smiles-column", "smiles"]
    args += ["--split-column", "split", "--seeds", "2", "--budget", "20", "--initial", "5"]
    args += ["--batch-size", "5", "--out", str(out)]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 1
    assert "2 SMILES in column 'smiles' do not parse, data rows 41, 42" in run.output
    run = CliRunner().invoke(main, [*args, "--skip-bad-rows"])
    assert run.exit_code == 0, run.output
    assert "Skipped 2 rows whose SMILES do not parse: 41, 42" in run.output
    doc = json.loads(out.read_text())
    assert doc["settings"]["split"] == "predefined"
    assert doc["settings"]["dataset"]["featuriser"] == "morgan"
    assert len(doc["settings"]["test_rows"]) == 10  # rows 0, 4, ..., 36 (40 does not parse)
    assert doc["full_pool"]["0"] == doc["full_pool"]["1"]  # one split for every seed


# ------------------------------------------------------------------ stream
def test_stream_shuffles_per_seed_reports_balanced_accuracy_and_classes(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] + 0.3 * rng.normal(size=400) > 0.8).astype(int)  # a minority class
    order = np.argsort(y, kind="stable")  # the file lists every 0 before every 1
    lines = ["a,b,c,label"] + [
        f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{t}" for r, t in zip(X[order], y[order], strict=True)
    ]
    data = tmp_path / "s.csv"
    data.write_text("\n".join(lines) + "\n")
    out, plot = tmp_path / "runs.json", tmp_path / "c.png"
    run = CliRunner().invoke(
        main,
        [
            "stream",
            "--dataset",
            str(data),
            "--label-column",
            "label",
            "--strategy",
            "random",
            "--budget",
            "0.2",
            "--seeds",
            "2",
            "--out",
            str(out),
            "--plot",
            str(plot),
        ],
    )
    assert run.exit_code == 0, run.output
    assert any(ln.startswith("Plot written to") for ln in run.output.splitlines())
    assert "balanced accuracy" in run.output and "per class" in run.output
    doc = json.loads(out.read_text())
    assert doc["settings"]["batch_size"] == 50 and doc["settings"]["order"] == "shuffled per seed"
    first, second = doc["runs"]
    n1 = int(y.sum())
    assert first["class_items"] == {"0": 400 - n1, "1": n1}
    # shuffled: the minority class appears from the start, and differently per seed
    assert first["scores"] != second["scores"]
    bal = np.mean(
        [
            np.mean([r["class_correct"].get(c, 0) / n for c, n in r["class_items"].items()])
            for r in doc["runs"]
        ]
    )
    assert f"balanced accuracy {bal:.4f}" in run.output
    assert sum(first["class_labels"].values()) == first["n_labels"][-1]


def test_an_unknown_scoring_names_the_closest():
    r = CliRunner().invoke(main, ["simulate", "--dataset", "iris", "--scoring", "balanced_acc"])
    assert r.exit_code != 0 and "Did you mean 'balanced_accuracy'?" in r.output, r.output
    assert "Traceback" not in r.output and "get_scorer_names" not in r.output


def _fails_in_one_line(run, *needles: str) -> None:
    """A click run that stopped with one ``Error:`` line holding every needle, no traceback."""
    assert run.exit_code in (1, 2), (run.exit_code, run.output, run.exception)
    assert isinstance(run.exception, SystemExit), repr(run.exception)
    errors = [line for line in run.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, run.output
    for needle in needles:
        assert needle in errors[0], run.output


# ------------------------------------------------------------------ query
@pytest.fixture
def fitted(tmp_path):
    """A fitted model file and a numeric pool CSV of 20 rows."""
    import joblib
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    joblib.dump(LogisticRegression().fit(X, X[:, 0] > 0), tmp_path / "m.joblib")
    (tmp_path / "pool.csv").write_text("a,b,c\n" + "".join(f"{r[0]},{r[1]},{r[2]}\n" for r in X))
    return tmp_path


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("texts.csv", b"id,text\n1,hello\n", "is not a joblib model file"),
        ("noise.bin", bytes(range(256)) * 4, "is not a joblib model file"),
        ("empty.joblib", b"", "is not a joblib model file"),
    ],
)
def test_query_a_model_file_that_is_not_a_model_is_one_line(fitted, name, content, needle):
    (fitted / name).write_bytes(content)
    args = ["query", "--model", str(fitted / name), "--pool", str(fitted / "pool.csv")]
    _fails_in_one_line(CliRunner().invoke(main, args), needle, "activelab model")


def test_query_a_joblib_file_of_something_else_is_one_line(fitted):
    import joblib

    joblib.dump([1, 2], fitted / "list.joblib")
    args = ["query", "--model", str(fitted / "list.joblib"), "--pool", str(fitted / "pool.csv")]
    _fails_in_one_line(CliRunner().invoke(main, args), "holds a list, not a fitted model")


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("empty.csv", b"", "is empty"),
        ("latin.csv", b"a,b,c\n1,2,caf\xe9\n", "not UTF-8 text"),
        ("noise.parquet", bytes(range(256)) * 4, "cannot be read as a Parquet file"),
        ("noise.npy", bytes(range(256)) * 4, "cannot be read as a NumPy .npy array"),
    ],
)
def test_query_an_unreadable_pool_is_one_line(fitted, name, content, needle):
    (fitted / name).write_bytes(content)
    args = ["query", "--model", str(fitted / "m.joblib"), "--pool", str(fitted / name)]
    _fails_in_one_line(CliRunner().invoke(main, args), str(fitted / name), needle)


def test_query_exclude_names_the_bad_line_and_skips_blank_ones(fitted):
    args = ["query", "--model", str(fitted / "m.joblib"), "--pool", str(fitted / "pool.csv")]
    (fitted / "bad.txt").write_text("3\nfour\n")
    run = CliRunner().invoke(main, [*args, "--exclude", str(fitted / "bad.txt")])
    _fails_in_one_line(run, "line 2: 'four' is not a row number")
    (fitted / "ok.txt").write_text("\ufeff3\r\n\r\n5\r\n")  # Notepad's: a BOM, CRLF
    run = CliRunner().invoke(main, [*args, "-n", "18", "--exclude", str(fitted / "ok.txt")])
    assert run.exit_code == 0, run.output
    assert sorted(map(int, run.stdout.split())) == [i for i in range(20) if i not in (3, 5)]


@pytest.mark.parametrize(
    ("strategy", "needle"),
    [
        ("auto", "name one of the strategies it chooses among (diverse_batch, density"),
        ("qbc", "rank with a strategy that needs only the model, such as margin or entropy"),
    ],
)
def test_query_a_strategy_that_needs_a_campaign_says_what_to_use(fitted, strategy, needle):
    args = ["query", "--model", str(fitted / "m.joblib"), "--pool", str(fitted / "pool.csv")]
    run = CliRunner().invoke(main, [*args, "--strategy", strategy])
    _fails_in_one_line(run, needle)
    assert "rank_pool" not in run.output


def test_query_the_default_n_on_a_small_pool_returns_every_row(fitted):
    args = ["query", "--model", str(fitted / "m.joblib"), "--pool", str(fitted / "pool.csv")]
    (fitted / "ex.txt").write_text("3\n3\n5\n")
    run = CliRunner().invoke(main, [*args, "--exclude", str(fitted / "ex.txt")])
    assert run.exit_code == 0, run.output
    assert sorted(map(int, run.stdout.split())) == [i for i in range(20) if i not in (3, 5)]
    assert "18 rows to rank, fewer than -n 100" in run.stderr
    _fails_in_one_line(CliRunner().invoke(main, [*args, "-n", "0"]), "-n")


def test_query_ranks_a_float32_parquet_pool_as_float32_like_its_npy(fitted):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    from activelab.cli.query import _read_pool

    X = np.random.default_rng(1).normal(size=(300, 3)).astype(np.float32)
    pd.DataFrame(X, columns=["a", "b", "c"]).to_parquet(fitted / "pool.parquet")
    np.save(fitted / "pool.npy", X)
    pool = _read_pool(fitted / "pool.parquet", (), False)
    assert pool.dtype == np.float32  # not a float64 copy twice the pool's size
    assert np.array_equal(pool, X)
    args = ["query", "--model", str(fitted / "m.joblib"), "-n", "12", "--pool"]
    runs = [
        CliRunner().invoke(main, [*args, str(fitted / f)]) for f in ("pool.parquet", "pool.npy")
    ]
    assert all(run.exit_code == 0 for run in runs), runs[0].output + runs[1].output
    assert runs[0].stdout == runs[1].stdout


def test_query_a_worker_that_dies_on_every_try_is_one_line_naming_memory(fitted, monkeypatch):
    from types import SimpleNamespace

    distributed = pytest.importorskip("distributed")
    import activelab.ranking

    def killed(*args, **kwargs):
        worker = SimpleNamespace(address="tcp://10.0.0.7:40001", memory_limit=2**28)
        raise distributed.KilledWorker("('block-top-1f2e', 3)", worker, 3)

    monkeypatch.setattr(activelab.ranking, "rank_pool", killed)
    args = ["query", "--model", str(fitted / "m.joblib"), "--pool", str(fitted / "pool.csv")]
    run = CliRunner().invoke(main, [*args, "--strategy", "margin"])
    _fails_in_one_line(
        run, "a worker died each of the 4 times", "out of memory (their limit: 256.00 MiB each)"
    )
    from activelab.cli.query import _worker_died

    once = _worker_died("local", SimpleNamespace(allowed_failures=0, last_worker=None, task="t"))
    assert once.startswith("--dask local: the worker died the one time it ran one task")


@pytest.mark.parametrize(
    ("task", "default"),
    [("classification", "margin"), ("multilabel", "mean_entropy"), ("regression", "gsx")],
)
def test_query_without_strategy_uses_the_default_of_the_models_task(fitted, task, default):
    import joblib
    from sklearn.linear_model import BayesianRidge, LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    from activelab.ranking import rank_pool

    X = np.loadtxt(fitted / "pool.csv", delimiter=",", skiprows=1)
    if task == "multilabel":
        model = OneVsRestClassifier(LogisticRegression()).fit(X, np.c_[X[:, 0] > 0, X[:, 1] > 0])
    elif task == "regression":
        model = BayesianRidge().fit(X, X @ [1.0, 2.0, 3.0])
    else:
        model = LogisticRegression().fit(X, X[:, 0] > 0)
    joblib.dump(model, fitted / "t.joblib")
    args = ["query", "--model", str(fitted / "t.joblib"), "--pool", str(fitted / "pool.csv")]
    run = CliRunner().invoke(main, [*args, "-n", "5"])
    assert run.exit_code == 0, run.output
    assert f"Strategy: {default} (the default for a " in run.stderr
    picks = [int(v) for v in run.stdout.split()]
    assert picks == rank_pool(model, X, 5, strategy=default).tolist()
    if task != "classification":  # named, margin stays refused for the model
        run = CliRunner().invoke(main, [*args, "--strategy", "margin"])
        assert run.exit_code == 1 and "margin" in run.output and "Traceback" not in run.output
    (fitted / "nan.csv").write_text("a,b,c\n,1,2\n3,4,5\n")  # the pool's own error, no guess
    args = ["query", "--model", str(fitted / "t.joblib"), "--pool", str(fitted / "nan.csv")]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 1 and "non-finite value (nan) at row 0" in run.output
    assert "Strategy:" not in run.output


def test_query_a_mistyped_dask_setting_is_one_line(fitted):
    pytest.importorskip("distributed")
    args = ["query", "--model", str(fitted / "m.joblib"), "--pool", str(fitted / "pool.csv")]
    run = CliRunner().invoke(main, [*args, "--dask", "lcal"])
    _fails_in_one_line(run, "Unknown Dask setting 'lcal'")


# ------------------------------------------------------------------ stream
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--n-items", "0"], "'--n-items': 0 is not in the range x>=2"),
        (["--n-items", "1"], "'--n-items': 1 is not in the range x>=2"),  # was a traceback
        (["--window", "0"], "'--window': 0 is not in the range x>=1"),
        (["--batch-size", "-1"], "'--batch-size': -1 is not in the range x>=1"),
        (["--seeds", "0"], "'--seeds': 0 is not in the range x>=1"),
        (["--budget", "0"], "'--budget': 0 is not a share of the items in (0, 1]"),
    ],
)
def test_stream_a_count_below_one_names_its_option(tmp_path, args, needle):
    (tmp_path / "s.csv").write_text("a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n")
    run = CliRunner().invoke(
        main, ["stream", str(tmp_path / "s.csv"), "--label-column", "y", *args]
    )
    _fails_in_one_line(run, needle)


def test_stream_a_folder_is_one_line(tmp_path):
    run = CliRunner().invoke(main, ["stream", str(tmp_path)])
    _fails_in_one_line(run, "is a folder; a stream is a CSV file")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--budget", "5"], "--budget 5 is below --initial 10"),
        (["--budget", "-5"], "'--budget': -5 is not in the range x>=1"),
        (["--budget", "0", "--initial", "0"], "'--budget': 0 is not in the range x>=1"),
        (["--initial", "-3"], "'--initial': -3 is not in the range x>=0"),
        (["--seeds", "0"], "'--seeds': 0 is not in the range x>=1"),
        (["--batch-size", "0"], "'--batch-size': 0 is not in the range x>=1"),
        (["--test-size", "1"], "'--test-size': 1.0 is not in the range 0<x<1"),
        (["--n-jobs", "0"], "--n-jobs must be 1 or more, or -1 for all cores"),
    ],
)
def test_simulate_a_count_out_of_range_names_its_option(tmp_path, args, needle):
    out = tmp_path / "r.json"
    run = CliRunner().invoke(main, ["simulate", "iris", *args, "--out", str(out)])
    _fails_in_one_line(run, needle)
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("a,b,label\n", "a header but no rows"),
        ("a,b,label\n1,2,x\n3,4,x\n5,6,x\n", "holds only the class 'x'; a classifier needs"),
    ],
)
def test_simulate_a_file_without_two_classes_is_one_line(tmp_path, content, needle):
    (tmp_path / "d.csv").write_text(content)
    run = CliRunner().invoke(
        main, ["simulate", str(tmp_path / "d.csv"), "--out", str(tmp_path / "r.json")]
    )
    _fails_in_one_line(run, needle)


# ------------------------------------------------------------------ init
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--strategy", "margn"], "--strategy: Unknown strategy 'margn'. Did you mean 'margin'?"),
        (["--retrain-every", "0"], "'--retrain-every': 0 is not in the range x>=1"),
        (["--overlap", "0"], "'--overlap': 0 is not in the range x>=1"),
        (["--retrain-seconds", "0"], "'--retrain-seconds': 0.0 is not in the range x>0.0"),
        (["--image-size", "0"], "'--image-size': 0 is not in the range 2<=x<=256"),
    ],
)
def test_init_a_bad_setting_names_its_option_before_reading_the_data(tmp_path, args, needle):
    (tmp_path / "t.csv").write_text("id,text,label\n1,good,pos\n2,bad,neg\n")
    run = CliRunner().invoke(
        main, ["init", str(tmp_path / "p"), "--data", str(tmp_path / "t.csv"), *args]
    )
    _fails_in_one_line(run, needle)
    assert run.output.count("Unknown strategy") <= 1
    assert not (tmp_path / "p").exists()


# ------------------------------------------------------------------ export
@pytest.fixture(scope="module")
def text_project(tmp_path_factory):
    """A small text project with a few imported labels."""
    root = tmp_path_factory.mktemp("export")
    label = {0: "neg", 1: "pos", 2: "neg", 3: "pos"}
    rows = "".join(
        f"t{i},a {'fine' if i % 2 else 'dull'} film {i},{label.get(i, '')}\n" for i in range(12)
    )
    (root / "t.csv").write_text("id,text,label\n" + rows)
    run = CliRunner().invoke(
        main, ["init", str(root / "p"), "--data", str(root / "t.csv"), "--text-features", "tfidf"]
    )
    assert run.exit_code == 0, run.output
    return root


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("labels.xlsx", "export does not write spreadsheets; name the file .csv"),
        ("labels.json", "say which JSON with --format"),
        ("labels.csv.gz", "written uncompressed; name the file labels.csv"),
        ("labels.jsonl.bz2", "written uncompressed; name the file labels.jsonl"),
    ],
)
def test_export_to_a_file_named_for_another_format_is_refused(text_project, name, needle):
    out = text_project / "new" / name
    run = CliRunner().invoke(main, ["export", str(text_project / "p"), "--out", str(out)])
    _fails_in_one_line(run, needle)
    assert not out.parent.exists()


def test_export_in_a_named_format_to_a_compressed_file_is_refused(text_project):
    out = text_project / "new" / "labels.csv.gz"
    args = ["export", str(text_project / "p"), "--format", "csv", "--out", str(out)]
    _fails_in_one_line(CliRunner().invoke(main, args), "written uncompressed")
    assert not out.parent.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["simulate", "--dataset", "iris", "--out", "results.json.gz"],
        ["stream", "--dataset", "sea-drift", "--out", "runs.json.xz"],
        ["query", "--model", "m.joblib", "--pool", "p.npy", "--out", "rows.txt.gz"],
    ],
)
def test_simulate_stream_query_refuse_a_compressed_out_name_before_running(
    tmp_path, monkeypatch, args
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.joblib").write_bytes(b"")  # the options read before --out must exist
    (tmp_path / "p.npy").write_bytes(b"")
    out = tmp_path / args[-1]
    run = CliRunner().invoke(main, [*args[:-1], str(out)])
    assert run.exit_code == 2, run.output
    assert "written uncompressed; name the file" in run.output
    assert "Traceback" not in run.output and not out.exists()


def test_export_of_a_folder_that_is_not_a_project_creates_nothing(tmp_path):
    out = tmp_path / "new" / "labels.csv"
    run = CliRunner().invoke(main, ["export", str(tmp_path / "nope"), "--out", str(out)])
    _fails_in_one_line(run, "is not an activelab project")
    assert not out.parent.exists()


def test_export_with_predictions_in_a_tool_format_needs_a_model(tmp_path):
    (tmp_path / "t.csv").write_text("id,text\n" + "".join(f"t{i},film {i}\n" for i in range(6)))
    args = ["init", str(tmp_path / "p"), "--data", str(tmp_path / "t.csv"), "--labels", "a,b"]
    assert CliRunner().invoke(main, [*args, "--text-features", "tfidf"]).exit_code == 0
    out = tmp_path / "x.parquet"
    args = ["export", str(tmp_path / "p"), "--with-predictions", "--out", str(out)]
    _fails_in_one_line(CliRunner().invoke(main, args), "needs a trained model")
    assert not out.exists()


# ------------------------------------------------------------------ report
@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (bytes(range(128, 256)), "not UTF-8 text"),
        (b'{"schema": "activelab.simulation"}', "is not a complete simulation results file"),
    ],
)
def test_report_of_a_file_that_is_not_results_is_one_line(tmp_path, content, needle):
    (tmp_path / "r.json").write_bytes(content)
    run = CliRunner().invoke(main, ["report", str(tmp_path / "r.json")])
    _fails_in_one_line(run, needle)
    assert not (tmp_path / "r.html").exists()


# ------------------------------------------------------------------ commands
@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("simulat", "No such command 'simulat'. Did you mean 'simulate'?"),
        ("Status", "Did you mean 'status'?"),
        ("import", "Did you mean 'add'"),
        ("zzz", "No such command 'zzz'."),
    ],
)
def test_a_mistyped_command_names_the_closest(name, needle):
    run = CliRunner().invoke(main, [name])
    _fails_in_one_line(run, needle)
    assert run.exit_code == 2


# ------------------------------------------------------------------ review, label
@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("", "--as '': An annotator name must be 1 to 128 characters."),
        ("x" * 200, "An annotator name must be 1 to 128 characters."),
        ("imported:me", "Names starting with 'imported:' mark labels read from files"),
    ],
)
def test_review_decide_as_a_name_that_cannot_be_is_one_line(text_project, name, needle):
    project = str(text_project / "p")
    run = CliRunner().invoke(main, ["review", project, "--decide", "t5", "pos", "--as", name])
    _fails_in_one_line(run, needle)
    export = CliRunner().invoke(main, ["export", project, "--format", "jsonl"])
    assert '"t5"' not in export.output  # nothing was decided


def test_label_as_a_name_too_long_is_one_line(text_project, monkeypatch):
    import activelab.cli.label as label_cli

    monkeypatch.setattr(label_cli, "_require_terminal", lambda project: None)
    run = CliRunner().invoke(main, ["label", str(text_project / "p"), "--as", "y" * 129])
    _fails_in_one_line(run, "An annotator name must be 1 to 128 characters.")


def test_review_limit_below_one_is_refused(text_project):
    run = CliRunner().invoke(main, ["review", str(text_project / "p"), "--limit", "0"])
    _fails_in_one_line(run, "'--limit': 0 is not in the range x>=1")


# ------------------------------------------------------------------ serve
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--retrain-every", "0"], "'--retrain-every': 0 is not in the range x>=1"),
        (["--retrain-seconds", "-1"], "'--retrain-seconds': -1.0 is not in the range x>0.0"),
    ],
)
def test_serve_refuses_retrain_overrides_that_init_refuses(tmp_path, args, needle):
    run = CliRunner().invoke(main, ["serve", str(tmp_path / "p"), *args])
    _fails_in_one_line(run, needle)


# ------------------------------------------------------------------ add
def test_add_interrupted_while_retraining_says_the_items_are_stored(tmp_path, monkeypatch):
    from activelab.app.service import LabellingService

    rows = "".join(
        f"t{i},a {'fine' if i % 2 else 'dull'} film {i},{'pos' if i % 2 else 'neg'}\n"
        for i in range(6)
    )
    (tmp_path / "t.csv").write_text("id,text,label\n" + rows)
    (tmp_path / "more.csv").write_text("id,text\nn1,a fine film again\nn2,a dull one\n")
    project = str(tmp_path / "p")
    init = ["init", project, "--data", str(tmp_path / "t.csv"), "--text-features", "tfidf"]
    assert CliRunner().invoke(main, init).exit_code == 0

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(LabellingService, "retrain", interrupted)
    run = CliRunner().invoke(main, ["add", project, "--data", str(tmp_path / "more.csv")])
    _fails_in_one_line(run, "Interrupted after the 2 new items were stored", "activelab status")
    monkeypatch.undo()
    status = CliRunner().invoke(main, ["status", project, "--json"])
    assert json.loads(status.output)["items"] == 8


def test_add_interrupted_between_the_items_and_their_labels_stores_both(tmp_path, monkeypatch):
    import signal

    import activelab.app.project as project_module

    rows = "".join(f"t{i},a film {i},{'pos' if i % 2 else 'neg'}\n" for i in range(6))
    (tmp_path / "t.csv").write_text("id,text,label\n" + rows)
    (tmp_path / "more.csv").write_text("id,text,label\nn1,a fine film,pos\nn2,a dull one,neg\n")
    project = str(tmp_path / "p")
    init = ["init", project, "--data", str(tmp_path / "t.csv"), "--text-features", "tfidf"]
    assert CliRunner().invoke(main, init).exit_code == 0
    record = project_module.record_given_answers

    def pressed_ctrl_c(*args, **kwargs):  # Ctrl-C once the items are in, before their labels
        signal.raise_signal(signal.SIGINT)
        return record(*args, **kwargs)

    monkeypatch.setattr(project_module, "record_given_answers", pressed_ctrl_c)
    run = CliRunner().invoke(main, ["add", project, "--data", str(tmp_path / "more.csv")])
    _fails_in_one_line(run, "Interrupted after the 2 new items were stored", "with the labels")
    status = json.loads(CliRunner().invoke(main, ["status", project, "--json"]).output)
    assert status["items"] == 8 and status["labelled"] == 8
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# ------------------------------------------------------------------ damaged projects
@pytest.mark.parametrize(
    ("config", "database", "needle"),
    [
        ("[1]", None, "activelab.json is damaged: it names no database ('db')"),
        ('{"db": 3}', None, "activelab.json is damaged: its database ('db') is not a URL"),
        (None, bytes(range(256)) * 20, "as an activelab project database: file is not a database"),
    ],
)
@pytest.mark.parametrize("command", ["status", "export"])
def test_a_damaged_project_is_one_line(text_project, tmp_path, config, database, needle, command):
    import shutil

    project = tmp_path / "copy"
    shutil.copytree(text_project / "p", project)
    if config is not None:
        (project / "activelab.json").write_text(config)
    if database is not None:
        (project / "project.db").write_bytes(database)
    _fails_in_one_line(CliRunner().invoke(main, [command, str(project)]), needle)


def test_ls_backend_retrain_every_below_one_names_the_option():
    run = CliRunner().invoke(main, ["ls-backend", "--retrain-every", "0"])
    _fails_in_one_line(run, "'--retrain-every': 0 is not in the range x>=1")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"a,label\n1,x\n", "is not valid JSON"),
        (bytes(range(128, 256)), "is not valid JSON (not UTF-8 text)"),
        (b'{"a": 1}', "is not an activelab simulation results file"),
    ],
)
def test_simulate_out_that_is_no_results_file_asks_for_another(tmp_path, content, needle):
    out = tmp_path / "mine.csv"
    out.write_bytes(content)
    run = CliRunner().invoke(main, ["simulate", "iris", "--out", str(out)])
    _fails_in_one_line(run, f"--out {out} exists and is not a results file", needle)
    assert "Give another --out" in run.output
    assert out.read_bytes() == content


def test_simulate_smiles_errors_stay_short(tmp_path):
    pytest.importorskip("rdkit")
    rows = "".join(f"{'CCO' if i % 2 else f'xx{i}'},{i % 3}\n" for i in range(40))
    (tmp_path / "m.csv").write_text("smiles,label\n" + rows)
    args = ["simulate", str(tmp_path / "m.csv"), "--out", str(tmp_path / "r.json")]
    run = CliRunner().invoke(main, [*args, "--smiles-column", "smiles"])
    _fails_in_one_line(run, "20 SMILES in column 'smiles' do not parse", "19 and 10 more;")
    run = CliRunner().invoke(main, [*args, "--smiles-column", "label"])
    _fails_in_one_line(run, "no value in column 'label' parses as SMILES")


def test_export_an_empty_separator_is_named_as_such(tmp_path):
    (tmp_path / "m.csv").write_text("id,text,labels\n1,sun,sun;warm\n2,rain,rain\n3,x,\n")
    project = str(tmp_path / "p")
    init = ["init", project, "--data", str(tmp_path / "m.csv"), "--multi-label"]
    run = CliRunner().invoke(main, [*init, "--label-column", "labels", "--text-features", "tfidf"])
    assert run.exit_code == 0, run.output
    run = CliRunner().invoke(main, ["export", project, "--separator", ""])
    _fails_in_one_line(run, "--separator is empty")
    assert "inside label" not in run.output
    run = CliRunner().invoke(main, ["export", project, "--separator", "a"])
    _fails_in_one_line(run, "--separator 'a' is inside label(s) ['rain', 'warm']")


def test_choices_take_any_case(text_project):
    run = CliRunner().invoke(main, ["export", str(text_project / "p"), "--format", "JSONL"])
    assert run.exit_code == 0, run.output
    assert json.loads(run.output.splitlines()[0])["label"] in ("pos", "neg")


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("d.xlsx", bytes(range(256)) * 4, "not a readable Excel .xlsx workbook"),
        ("z.xlsx", b"PK\x03\x04" + bytes(200), "not a readable Excel .xlsx workbook"),
        ("d.parquet", bytes(range(256)) * 4, "not a readable Parquet file"),
    ],
)
def test_simulate_a_damaged_excel_or_parquet_file_is_named(tmp_path, name, content, needle):
    (tmp_path / name).write_bytes(content)
    args = ["simulate", str(tmp_path / name), "--out", str(tmp_path / "r.json")]
    _fails_in_one_line(CliRunner().invoke(main, args), f"{tmp_path / name}: {needle}")


def _parquet_naming_twice(path: Path, names: list[str]) -> None:
    """A Parquet file whose schema repeats a name (pyarrow writes it; no reader reads it)."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    columns = [pa.array(["good food", "cold fries", "nice staff", "slow"])]
    columns += [pa.array([float(i), 1.0 - i, 2.0, 3.0 * i]) for i in range(len(names) - 1)]
    pq.write_table(pa.table(columns, names=names), path)


@pytest.mark.parametrize(
    ("names", "name", "places"),
    [(["text", "a", "a"], "a", "2 and 3"), (["text", "", ""], "", "2 and 3")],
)
def test_a_parquet_file_naming_a_column_twice_is_one_line(tmp_path, names, name, places):
    path = tmp_path / "d.parquet"
    _parquet_naming_twice(path, names)
    said = (
        f"{path}: the schema names column {name!r} twice (columns {places}); give each "
        "column its own name."
    )
    init = ["init", str(tmp_path / "p"), "--data", str(path), "--labels", "a,b"]
    _fails_in_one_line(CliRunner().invoke(main, init), said)
    assert not (tmp_path / "p").exists()
    _fails_in_one_line(CliRunner().invoke(main, ["simulate", str(path)]), said)
    from activelab.interop.formats import FormatError
    from activelab.interop.tabular import read_parquet

    with pytest.raises(FormatError) as err:
        read_parquet(path)
    assert str(err.value) == said


def test_query_a_parquet_pool_naming_a_column_twice_is_one_line(fitted):
    path = fitted / "pool.parquet"
    _parquet_naming_twice(path, ["text", "a", "b", "a"])
    args = ["query", "--model", str(fitted / "m.joblib"), "--pool", str(path)]
    said = f"{path}: the schema names column 'a' twice (columns 2 and 4)"
    _fails_in_one_line(CliRunner().invoke(main, args), said)
    (fitted / "parts").mkdir()
    _parquet_naming_twice(fitted / "parts" / "part.0.parquet", ["text", "a", "b", "a"])
    args[-1] = str(fitted / "parts")
    _fails_in_one_line(CliRunner().invoke(main, args), "part.0.parquet: the schema names")
