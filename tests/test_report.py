"""``activelab report`` on results documents written by hand: what the page says."""

from __future__ import annotations

import re

import pytest

from activelab.simulation.report import render


def _doc(n_labels, curves, *, budget=None, n_initial=None):
    """A results document: ``curves`` maps (strategy, seed) to its scores."""
    return {
        "settings": {
            "dataset": {"name": "toy"},
            "budget": budget if budget is not None else n_labels[-1],
            "n_initial": n_initial if n_initial is not None else n_labels[0],
            "scoring": "accuracy",
            "estimator": "M()",
        },
        "full_pool": {str(seed): 0.9 for _, seed in curves},
        "runs": [
            {"strategy": name, "seed": seed, "n_labels": list(n_labels), "scores": list(s)}
            for (name, seed), s in curves.items()
        ],
    }


def _metrics_head(page: str) -> list[str]:
    table = re.search(r'<table id="metrics">.*?</table>', page, re.S).group(0)
    return re.findall(r"<th>(.*?)</th>", table)


def _cells(page: str, strategy: str) -> list[str]:
    row = re.search(rf'<tr class="[^"]*" data-strategy="{strategy}">(.*?)</tr>', page).group(1)
    return re.findall(r"<td>(.*?)</td>", row)


@pytest.fixture(autouse=True)
def _agg():
    import matplotlib

    matplotlib.use("Agg")


def test_score_columns_are_named_by_the_label_counts_the_scores_were_read_at():
    # budget 30 from 10 labels in batches of 10: a half of the budget (15) is no step
    curves = {
        (s, k): [0.5, 0.7 + 0.1 * (s == "margin"), 0.9]
        for s in ("random", "margin")
        for k in (0, 1)
    }
    page = render(_doc([10, 20, 30], curves))
    head = _metrics_head(page)
    assert [h for h in head if h.startswith("score at")] == [
        "score at 10",
        "score at 20",
        "score at 30",
    ]
    assert _cells(page, "margin")[3] == "0.800 ± 0.000"  # the score at 20 labels


def test_a_step_before_any_model_shows_a_dash_not_nan():
    # a cold start: no model at 0 and 1 labels
    curves = {(s, k): [None, None, 0.6 + 0.1 * k] for s in ("random", "margin") for k in (0, 1)}
    page = render(_doc([0, 1, 2], curves))
    cells = _cells(page, "margin")
    assert cells[2:4] == ["–", "–"] and cells[4] == "0.650 ± 0.050"
    assert "nan" not in re.sub(r"base64,[A-Za-z0-9+/=]+", "", page).lower()


def test_the_savings_chart_says_what_it_measures(tmp_path):
    import matplotlib.image

    curves = {
        (s, k): [0.5, 0.7 + 0.15 * (s == "margin"), 0.9]
        for s in ("random", "margin")
        for k in (0, 1)
    }
    page = render(_doc([10, 20, 30], curves), plot_stem=tmp_path / "r")
    assert (tmp_path / "r_savings.png").exists() and 'id="savings"><img' in page
    from activelab.simulation.metrics import summarize
    from activelab.simulation.plots import savings_chart

    fig = savings_chart(summarize(_doc([10, 20, 30], curves)["runs"], {0: 0.9, 1: 0.9}))
    assert fig.axes[0].get_title() == (
        "Share of labels not needed to reach 95 % of the whole-pool model's score"
    )
    assert matplotlib.image.imread(tmp_path / "r_savings.png").shape[0] > 100


@pytest.mark.parametrize(
    ("strategies", "why"),
    [
        (("margin",), "random sampling is not among the strategies"),
        (("random",), "random sampling is the only strategy"),
        (("random", "margin"), "random sampling never reached 95 %"),
    ],
)
def test_no_empty_savings_chart_when_there_is_no_saving(tmp_path, strategies, why):
    curves = {(s, 0): [0.5, 0.6, 0.7] for s in strategies}  # 95 % of 0.9 never reached
    page = render(_doc([10, 20, 30], curves), plot_stem=tmp_path / "r")
    assert not (tmp_path / "r_savings.png").exists()
    assert f"No label savings to draw: {why}" in page


def _damage(doc, part):
    run = doc["runs"][0]
    if part == "scores cut short":
        run["scores"] = run["scores"][:2]
    elif part == "no scores":
        del run["scores"]
    elif part == "text seed":
        run["seed"] = "a"
    elif part == "dataset text":
        doc["settings"]["dataset"] = "iris"
    elif part == "no budget":
        del doc["settings"]["budget"]
    elif part == "empty curve":
        run["n_labels"], run["scores"] = [], []
    elif part == "runs text":
        doc["runs"] = "x"
    return doc


@pytest.mark.parametrize(
    ("part", "says"),
    [
        ("scores cut short", "run 1 (random, seed 0) has 3 label counts but 2 scores"),
        ("no scores", "run 1 has no scores"),
        ("text seed", "run 1 needs a strategy name and a whole-number seed"),
        ("dataset text", "settings.dataset is not a mapping"),
        ("no budget", "settings has no budget"),
        ("empty curve", "run 1 (random, seed 0) has no label counts"),
        ("runs text", "runs is not a list of campaigns"),
    ],
)
def test_a_damaged_results_file_is_refused_naming_the_broken_part(tmp_path, part, says):
    import json

    from click.testing import CliRunner

    from activelab.cli import main

    doc = _doc([10, 20, 30], {("random", 0): [0.5, 0.6, 0.7], ("margin", 0): [0.5, 0.7, 0.8]})
    doc.update(schema="activelab.simulation", schema_version=1)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_damage(doc, part)))
    run = CliRunner().invoke(main, ["report", str(path)])
    assert run.exit_code == 1 and "Traceback" not in run.output, run.output
    assert f"is not a complete simulation results file: {says}; run" in run.output
    assert len(run.output.strip().splitlines()) == 1
    assert not (tmp_path / "r.html").exists()


def test_one_seed_of_one_strategy_reads_in_the_singular_and_shows_no_bare_percent_sign():
    page = render(_doc([10, 20, 30], {("margin", 0): [0.5, 0.6, 0.7]}))
    assert "1 seed; 1 campaign." in page
    assert _cells(page, "margin")[7] == "–"  # savings vs random: none, not "– %"


def test_top_k_table_has_one_column_when_10_percent_of_the_pool_is_the_budget():
    # 10 % of a 400-item pool (300 after the test quarter) is 30: reached at the budget, 30
    doc = _doc([10, 20, 30], {(s, 0): [0.1, 0.2, 0.3] for s in ("random", "greedy")})
    doc["settings"].update(top_k=5, test_size=0.25, dataset={"name": "toy", "n_samples": 400})
    for r in doc["runs"]:
        r["top_k_found"] = [0.0, 0.2, 0.4]
    page = render(doc)
    table = re.search(r'<table id="topk-metrics">.*?</table>', page, re.S).group(0)
    assert re.findall(r"<th>(found at .*?)</th>", table) == ["found at the budget (30 tested)"]


def test_rare_section_says_over_which_labels_the_positive_rate_is_counted():
    from activelab.simulation.rare_report import rare_section

    def run(n):
        hits = [1, 0, 0, 0] * (n // 4)
        return {
            "strategy": "random",
            "seed": 0,
            "n_labels": [n // 2, n],
            "rare": {
                "positive_label": "fraud",
                "hits": hits,
                "balanced_accuracy": [0.5, 0.6],
                "average_precision": [0.1, 0.3],
                "recall": {"fraud": [0.2, 0.4], "ok": [0.9, 0.8]},
            },
        }

    short = rare_section({"settings": {}, "runs": [run(40)]})
    assert "over all 40 labels bought (initial set included; the budget is under 100)" in short
    assert "over the first 100 labels bought" in rare_section({"settings": {}, "runs": [run(200)]})


def test_a_single_value_is_shown_without_a_spread():
    # one seed: "0.700 ± 0.000" would claim a spread of zero that nobody measured
    curves = {("random", 0): [0.5, 0.6, 0.7], ("margin", 0): [0.5, 0.8, 0.9]}
    cells = _cells(render(_doc([10, 20, 30], curves)), "margin")
    assert cells[1:5] == ["0.750", "0.500", "0.800", "0.900"]


def test_the_page_never_overwrites_the_results_file(tmp_path):
    import json

    from click.testing import CliRunner

    from activelab.cli import main

    doc = _doc([10, 20, 30], {("random", 0): [0.5, 0.6, 0.7], ("margin", 0): [0.5, 0.7, 0.8]})
    doc.update(schema="activelab.simulation", schema_version=1)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc))
    run = CliRunner().invoke(main, ["report", str(path), "--out", str(path)])
    assert run.exit_code == 1 and "would overwrite the results file" in run.output
    assert json.loads(path.read_text()) == doc


def test_top_k_section_says_smallest_when_the_campaign_minimised():
    doc = _doc([10, 20, 30], {(s, 0): [0.1, 0.2, 0.3] for s in ("random", "greedy")})
    doc["settings"].update(top_k=5, minimize=True, dataset={"name": "toy", "n_samples": 100})
    for r in doc["runs"]:
        r["top_k_found"] = [0.0, 0.2, 0.4]
    page = render(doc)
    assert "5 items with the smallest values" in page and "largest values" not in page
