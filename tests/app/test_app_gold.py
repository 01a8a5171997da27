"""Gold items (labels the owner knows) and multi-label aggregation label by label: loading
with clear errors, gold scores the annotators and settles the label, per-label agreement."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from activelab.app.api import create_app
from activelab.app.gold import GoldError, read_gold, save_gold
from activelab.app.multilabel_quality import (
    aggregate_label_sets,
    multilabel_answer_table,
    multilabel_quality_report,
)
from activelab.app.quality import aggregate_answers, answer_table, quality_report
from activelab.app.service import GOLD_EVERY, LabellingService
from activelab.app.store import Store, encode_label_set
from activelab.cli import main


def _data(tmp_path: Path, n: int = 30) -> Path:
    path = tmp_path / "items.csv"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows([["id", "x", "y"]] + [[f"i{i}", i, (i * 7) % 5] for i in range(n)])
    return path


def _init(tmp_path: Path, *extra: str) -> tuple[object, Path]:
    proj = tmp_path / "proj"
    r = CliRunner().invoke(
        main,
        ["init", str(proj), "--data", str(_data(tmp_path)), "--labels", "neg,pos", *extra],
    )
    return r, proj


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("id,label\ni1,pos\nnope,neg\n", "line 3: no item with id 'nope'"),
        ("id,label\ni1,maybe\n", "line 2: unknown label 'maybe'; the project's labels are neg"),
        ("item,label\ni1,pos\n", "needs a header row with the columns id and label (missing id"),
        ("id,label\ni1,pos\ni1,neg\n", "line 3: item 'i1' is given two labels"),
        ("id,label\n", "has no rows"),
        ("id,label\n,\n,\n", "has no rows"),
        ("id,label\ni1,pos\n\ni2,maybe\n", "line 4: unknown label"),  # counted past a blank
        ('id,label\ni1,"pos\n', "malformed CSV after line 1"),
        # a third cell was left out without a word: an unquoted comma, or a column unnamed
        ("id,label\ni1,pos,,\ni2,neg,sure,\n", "line 3: 4 fields, the header has 2, and field 3"),
    ],
)
def test_bad_gold_files_name_the_row_and_store_nothing(tmp_path, rows, message) -> None:
    r, proj = _init(tmp_path)
    assert r.exit_code == 0, r.output
    gold = tmp_path / "gold.csv"
    gold.write_text(rows)
    got = CliRunner().invoke(main, ["gold", str(proj), str(gold)])
    assert got.exit_code != 0
    assert message in got.output and "Traceback" not in got.output
    assert len(got.output.strip().splitlines()) == 1
    status = json.loads(CliRunner().invoke(main, ["status", str(proj), "--json"]).output)
    assert status["quality"]["gold_items"] == 0
    # the same file at init: nothing is created
    again = CliRunner().invoke(
        main,
        ["init", str(tmp_path / "p2"), "--data", str(_data(tmp_path)), "--labels", "neg,pos",
         "--gold", str(gold)],
    )  # fmt: skip
    assert again.exit_code != 0 and message in again.output
    assert not (tmp_path / "p2").exists()


@pytest.mark.parametrize(
    "text",
    [
        "id,label\ni1,pos\ni2,neg\n,\n,\n",  # a spreadsheet's trailing empty rows
        "id;label\ni1;pos\ni2;neg\n",  # a spreadsheet's export where , is the decimal mark
        "id\tlabel\ni1\tpos\n\ni2\tneg\n",
        "\ufeffid;label;;\r\ni1;pos;;\r\ni2;neg;;\r\n",  # Excel's: a BOM, empty cells, CRLF
        "id,label\r\ni1,pos,,\r\ni2,neg,,\r\n",  # empty cells past the header
    ],
)
def test_gold_files_as_spreadsheets_save_them_are_read(tmp_path, text) -> None:
    gold = tmp_path / "gold.csv"
    gold.write_text(text)
    assert read_gold(gold, ["i0", "i1", "i2"], ["neg", "pos"]) == {1: "pos", 2: "neg"}


def test_an_unreadable_gold_file_is_one_clear_error() -> None:
    with pytest.raises(GoldError, match="Cannot read"):
        read_gold("/nonexistent/gold.csv", ["a"], ["x"])


def _store(n: int = 40, **settings) -> Store:
    store = Store.create("sqlite://", {"labels": ["neg", "pos"], "strategy": "margin", **settings})
    store.add_items(
        [
            {"external_id": f"i{i}", "kind": "table", "content": {"fields": {"x": i}}}
            for i in range(n)
        ]
    )
    store.save_features(np.arange(n, dtype=float).reshape(-1, 1))
    return store


def _truth(i: int) -> str:
    return "neg" if i < 20 else "pos"


def test_gold_scores_annotators_and_settles_the_label() -> None:
    store = _store(overlap=2)
    ada, _ = store.add_annotator("ada")
    bob, _ = store.add_annotator("bob")
    gold = {i: _truth(i) for i in (0, 5, 10, 25, 30, 35)}
    save_gold(store, gold)
    for i in range(0, 40, 5):  # both answer items 0, 5, ..., 35; bob errs on 10, 25 and 30
        store.append_event(i, ada.id, "label", label=_truth(i))
        wrong = "pos" if _truth(i) == "neg" else "neg"
        store.append_event(i, bob.id, "label", label=wrong if i in (10, 25, 30) else _truth(i))
    rep = quality_report(store)
    people = {a["name"]: a for a in rep["annotators"]}
    assert rep["gold_items"] == 6
    assert people["ada"]["gold_answers"] == 6 and people["ada"]["gold_accuracy"] == 1.0
    assert people["bob"]["gold_answers"] == 6 and people["bob"]["gold_accuracy"] == 0.5
    assert people["bob"]["estimated_accuracy"] is not None  # beside the Dawid–Skene estimate
    assert people["ada"]["estimated_accuracy"] > people["bob"]["estimated_accuracy"]
    # every gold item carries its gold label, whatever the answers; the split items that are
    # gold are no longer disputed
    t = answer_table(store)
    for method in ("dawid_skene", "majority", "latest"):
        agg = aggregate_answers(t, method)
        assert [t.classes[agg.labels[i]] for i in gold] == list(gold.values())
    assert rep["disputed"] == 0
    # the owner's API shows the gold accuracy too
    owner, token = store.add_annotator("olga")
    store.make_owner(owner.name)
    with TestClient(create_app(LabellingService(store), run_trainer=False)) as client:
        got = client.get("/api/quality", headers={"Authorization": f"Bearer {token}"}).json()
    assert {a["name"]: a["gold_accuracy"] for a in got["annotators"]} == {"ada": 1.0, "bob": 0.5}


def test_gold_trains_the_model_and_stays_in_the_queue() -> None:
    store = _store(80)
    ada, _ = store.add_annotator("ada")
    for i in (1, 2, 21, 22):
        store.append_event(i, ada.id, "label", label=_truth(i))
    save_gold(store, {i: _truth(i) for i in (3, 4, 23, 24, 15)})
    svc = LabellingService(store, retrain_every=100)
    result = svc.retrain()
    assert result.n_labels == 9  # 4 answers + 5 gold items nobody answered yet
    assert result.metrics["class_counts"] == {"neg": 5, "pos": 4}
    # gold items wanting answers sit in the queue, one every GOLD_EVERY items
    order = result.order
    stored_order, _, _, _ = store.queue(store.latest_version())
    pos = np.flatnonzero(np.isin(stored_order, [3, 4, 15, 23, 24]))
    assert pos.tolist() == [GOLD_EVERY * (k + 1) + k for k in range(5)]
    assert np.isin([3, 4, 15, 23, 24], order).sum() == 0  # the trainer's own order excludes them
    # answered, a gold item leaves the queue
    item = svc.next_item(ada)
    while item.id not in (3, 4, 15, 23, 24):
        svc.answer(ada, item.id, "pos" if _truth(item.id) == "neg" else "neg")  # always wrong
        item = svc.next_item(ada)
    svc.answer(ada, item.id, "pos" if _truth(item.id) == "neg" else "neg")
    people = {a["name"]: a for a in quality_report(store)["annotators"]}
    assert people["ada"]["gold_answers"] == 1 and people["ada"]["gold_accuracy"] == 0.0


def test_gold_from_the_command_line_in_status_and_export(tmp_path) -> None:
    gold = tmp_path / "gold.csv"
    gold.write_text("id,label\ni1,neg\ni25,pos\n")
    r, proj = _init(tmp_path, "--gold", str(gold))
    assert r.exit_code == 0, r.output
    runner = CliRunner()
    more = tmp_path / "more.csv"
    more.write_text("id,label\ni2,neg\n")
    assert "the project has 3 now" in runner.invoke(main, ["gold", str(proj), str(more)]).output
    status = json.loads(runner.invoke(main, ["status", str(proj), "--json"]).output)
    assert status["quality"]["gold_items"] == 3
    rows = list(csv.DictReader(io.StringIO(runner.invoke(main, ["export", str(proj)]).output)))
    assert [(r["id"], r["label"], r["gold"], r["n_answers"]) for r in rows] == [
        ("i1", "neg", "True", "0"),
        ("i2", "neg", "True", "0"),
        ("i25", "pos", "True", "0"),
    ]


def test_status_counts_the_labels_export_writes_gold_included(tmp_path) -> None:
    from collections import Counter

    from activelab.app.project import open_project

    gold = tmp_path / "gold.csv"
    gold.write_text("id,label\ni1,neg\ni25,pos\n")
    r, proj = _init(tmp_path, "--gold", str(gold), "--overlap", "3", "--aggregate", "majority")
    assert r.exit_code == 0, r.output
    store = open_project(proj)
    people = [store.add_annotator(n)[0] for n in ("ada", "bob", "cy")]
    store.append_event(1, people[0].id, "label", label="pos", overlap=3)  # wrong on gold i1
    for ann, lab in zip(people, ("pos", "pos", "neg"), strict=True):  # i3: pos by majority
        store.append_event(3, ann.id, "label", label=lab, overlap=3)
    store.close()
    runner = CliRunner()
    status = json.loads(runner.invoke(main, ["status", str(proj), "--json"]).output)
    rows = list(csv.DictReader(io.StringIO(runner.invoke(main, ["export", str(proj)]).output)))
    assert status["labelled"] == len(rows) == 3  # i1, i3 and the unanswered gold item i25
    assert status["gold"] == 2
    assert status["by_label"] == {"neg": 1, "pos": 2} == dict(Counter(r["label"] for r in rows))
    text = runner.invoke(main, ["status", str(proj)]).output
    assert "3 labelled, 2 of them gold" in text


# ----------------------------------------------------------------- multi-label, label by label
def _ml_store(
    answers: list[tuple[int, list[str], list[str], list[str]]], url: str = "sqlite://"
) -> Store:
    store = Store.create(
        url,
        {"labels": ["red", "big"], "task": "multilabel", "overlap": 3, "strategy": "mmc"},
    )
    store.add_items(
        [
            {"external_id": f"i{i}", "kind": "table", "content": {"fields": {"x": i}}}
            for i in range(12)
        ]
    )
    store.save_features(np.c_[np.arange(12.0), np.arange(12.0) % 3])
    people = [store.add_annotator(n)[0] for n in ("ada", "bob", "cy")]
    for item, *sets in answers:
        for ann, labs in zip(people, sets, strict=True):
            store.append_event(item, ann.id, "label", label=encode_label_set(labs))
    return store


def test_multilabel_majority_per_label_and_alpha_per_label() -> None:
    answers = [
        (0, ["red"], ["red"], ["red", "big"]),  # big: one of three -> off
        (1, ["red", "big"], ["big"], ["big"]),  # red: one of three -> off
        (2, [], [], ["red"]),
        (3, ["big"], ["big"], ["big"]),
    ]
    store = _ml_store(answers)
    agg = aggregate_label_sets(multilabel_answer_table(store), "majority")
    assert agg.indicator[:4].tolist() == [[1, 0], [0, 1], [0, 0], [0, 1]]
    assert agg.proba[0].tolist() == pytest.approx([1.0, 1 / 3])
    rep = multilabel_quality_report(store, "majority")
    # hand-computed nominal alpha, 3 annotators per item (pairs weigh 1 / (m - 1) = 1/2)
    # red: items (1,1,1) (1,0,0) (0,0,1) (0,0,0): o11 = 3, o10 = o01 = 2, o00 = 5; n = 12,
    # n1 = 5, n0 = 7: alpha = 1 - 11 * 4 / (144 - 25 - 49)
    per = {p["label"]: p for p in rep["per_label"]}
    assert per["red"]["krippendorff_alpha"] == pytest.approx(1 - 11 * 4 / 70)
    # big: (0,0,1) (1,1,1) (0,0,0) (1,1,1): o11 = 6, o10 = o01 = 1, o00 = 4; n1 = 7, n0 = 5
    assert per["big"]["krippendorff_alpha"] == pytest.approx(1 - 11 * 2 / 70)
    assert per["red"]["percent_agreement"] == pytest.approx((3 + 1 + 1 + 3) / 12)
    assert rep["disputed"] == 3 and rep["items_with_several_answers"] == 4
    cy = next(a for a in rep["annotators"] if a["name"] == "cy")
    assert cy["agreement_with_aggregate"] == pytest.approx((1 + 2 + 1 + 2) / 8)


def test_multilabel_dawid_skene_per_label_trains_on_the_aggregate() -> None:
    rng = np.random.default_rng(0)
    answers = []
    for i in range(12):
        truth = [lab for lab, on in (("red", i % 2 == 0), ("big", i % 3 == 0)) if on]
        noisy = [lab for lab in ("red", "big") if (lab in truth) != (rng.random() < 0.4)]
        answers.append((i, truth, truth, noisy))  # cy is careless
    store = _ml_store(answers)
    agg = aggregate_label_sets(multilabel_answer_table(store), "dawid_skene")
    truth = np.array([[i % 2 == 0, i % 3 == 0] for i in range(12)], dtype=int)
    assert (agg.indicator == truth).all()
    rep = multilabel_quality_report(store)
    acc = {a["name"]: a["estimated_accuracy"] for a in rep["annotators"]}
    assert acc["ada"] > acc["cy"] and acc["bob"] > acc["cy"]
    result = LabellingService(store).retrain()
    assert result.metrics["class_counts"] == {"red": 6, "big": 4}  # the aggregate, not cy's
    assert rep["per_label"][0]["krippendorff_alpha"] is not None


def test_multilabel_cli_status_and_export(tmp_path) -> None:
    data = tmp_path / "items.csv"
    data.write_text("id,text\n" + "".join(f"t{i},item number {i}\n" for i in range(6)))
    proj = tmp_path / "proj"
    runner = CliRunner()
    r = runner.invoke(
        main,
        ["init", str(proj), "--data", str(data), "--labels", "red,big", "--multi-label",
         "--overlap", "2"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    from activelab.app.project import open_project

    store = open_project(proj)
    ada, _ = store.add_annotator("ada")
    bob, _ = store.add_annotator("bob")
    for item, a, b in [(0, ["red"], ["red"]), (1, ["red", "big"], ["big"]), (2, [], [])]:
        store.append_event(item, ada.id, "label", label=encode_label_set(a))
        store.append_event(item, bob.id, "label", label=encode_label_set(b))
    store.close()
    status = json.loads(runner.invoke(main, ["status", str(proj), "--json"]).output)
    per = {p["label"]: p for p in status["quality"]["per_label"]}
    assert per["big"]["krippendorff_alpha"] == pytest.approx(1.0)
    assert per["red"]["percent_agreement"] == pytest.approx(2 / 3)
    text = runner.invoke(main, ["status", str(proj)]).output
    assert "Krippendorff's alpha" in text and "red" in text
    lines = runner.invoke(main, ["export", str(proj), "--format", "jsonl"]).output.splitlines()
    rows = {json.loads(x)["id"]: json.loads(x) for x in lines}
    assert rows["t0"]["labels"] == ["red"] and rows["t2"]["labels"] == []
    assert rows["t1"]["n_answers"] == 2
    assert [a["labels"] for a in rows["t1"]["answers"]] == [["red", "big"], ["big"]]
    assert rows["t1"]["label_confidence"]["big"] > 0.9 and "big" in rows["t1"]["labels"]


def test_export_per_annotator_carries_gold_accuracy_beside_the_estimate(tmp_path) -> None:
    gold = tmp_path / "gold.csv"
    gold.write_text("id,label\ni0,neg\ni5,neg\ni25,pos\ni29,pos\n")
    r, proj = _init(tmp_path, "--overlap", "2", "--gold", str(gold))
    assert r.exit_code == 0, r.output
    from activelab.app.project import open_project

    store = open_project(proj)
    ada, _ = store.add_annotator("ada")
    bob, _ = store.add_annotator("bob")
    for i in (0, 5, 10, 25, 29):
        wrong = "pos" if _truth(i) == "neg" else "neg"
        store.append_event(i, ada.id, "label", label=_truth(i))
        store.append_event(i, bob.id, "label", label=wrong if i in (5, 25) else _truth(i))
    store.close()
    runner = CliRunner()
    out = runner.invoke(main, ["export", str(proj), "--annotators"]).output
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["ada"]["gold_answers"] == "4" and float(rows["ada"]["gold_accuracy"]) == 1.0
    assert float(rows["bob"]["gold_accuracy"]) == 0.5
    assert float(rows["ada"]["estimated_accuracy"]) > float(rows["bob"]["estimated_accuracy"])
    lines = runner.invoke(main, ["export", str(proj), "--annotators", "--format", "jsonl"])
    assert [json.loads(x)["name"] for x in lines.output.splitlines()] == ["ada", "bob"]
    status = json.loads(runner.invoke(main, ["status", str(proj), "--json"]).output)
    assert [a["gold_accuracy"] for a in status["quality"]["annotators"]] == [1.0, 0.5]
    text = runner.invoke(main, ["status", str(proj)], env={"COLUMNS": "200"}).output
    assert "on gold" in text and "50.0% of 4" in text
    bad = runner.invoke(main, ["export", str(proj), "--annotators", "--format", "prodigy"])
    assert bad.exit_code != 0 and "--annotators exports csv or jsonl" in bad.output


def test_review_lists_disputed_multilabel_items(tmp_path) -> None:
    answers = [(0, ["red"], ["red"], ["red", "big"]), (1, ["big"], ["big"], ["big"])]
    url = f"sqlite:///{tmp_path / 'ml.db'}"
    _ml_store(answers, url).close()
    (tmp_path / "proj").mkdir()
    from activelab.app.project import CONFIG_NAME

    (tmp_path / "proj" / CONFIG_NAME).write_text(json.dumps({"db": url}))
    runner = CliRunner()
    got = json.loads(runner.invoke(main, ["review", str(tmp_path / "proj"), "--json"]).output)
    assert got["disputed"] == 1 and got["items"][0]["id"] == "i0"
    assert got["items"][0]["label"] == "red"
    refused = runner.invoke(main, ["review", str(tmp_path / "proj"), "--decide", "i0", "red"])
    assert refused.exit_code != 0 and "single-label projects only" in refused.output


def test_review_lists_multilabel_sets_apart_and_names_the_empty_set(tmp_path) -> None:
    """Sets are joined by ", ", so the answers are kept apart by "; "; the empty set is
    "(none of these)", as in status and on the owner's page, not a blank."""
    answers = [(0, ["red", "big"], [], ["red", "big"]), (1, ["big"], ["big"], ["big"])]
    url = f"sqlite:///{tmp_path / 'ml.db'}"
    _ml_store(answers, url).close()
    (tmp_path / "proj").mkdir()
    from activelab.app.project import CONFIG_NAME

    (tmp_path / "proj" / CONFIG_NAME).write_text(json.dumps({"db": url}))
    out = CliRunner().invoke(main, ["review", str(tmp_path / "proj")]).output
    line = next(x for x in out.splitlines() if x.strip().startswith("i0"))
    assert "[ada: red, big; bob: (none of these); cy: red, big]" in line, out


def test_a_decision_on_an_item_whose_gold_comes_later_is_not_scored() -> None:
    from activelab.app.quality import DECISION

    store = Store.create("sqlite://", {"labels": ["neg", "pos"], "adjudicators": ["olga"]})
    store.add_items(
        [{"external_id": f"i{i}", "kind": "text", "content": {"text": str(i)}} for i in range(2)]
    )
    ada, bob, olga = (store.add_annotator(n)[0] for n in ("ada", "bob", "olga"))
    for item in (0, 1):
        store.append_event(item, ada.id, "label", label="neg", overlap=3)
        store.append_event(item, bob.id, "label", label="pos", overlap=3)
    store.append_event(0, olga.id, "label", label="neg", strategy=DECISION, overlap=3)
    save_gold(store, {0: "pos", 1: "pos"})  # the decision on item 0 was made before
    people = {a["name"]: a for a in quality_report(store)["annotators"]}
    # the owner's decision is a reference, as gold is, not an answer that gold scores
    assert people["olga"]["gold_answers"] == 0 and people["olga"]["gold_accuracy"] is None
    assert people["ada"]["gold_answers"] == 2 and people["ada"]["gold_accuracy"] == 0.0
    assert people["bob"]["gold_answers"] == 2 and people["bob"]["gold_accuracy"] == 1.0


def test_loading_gold_says_which_earlier_decisions_still_count_over_it(tmp_path) -> None:
    r, proj = _init(tmp_path)
    assert r.exit_code == 0, r.output
    runner = CliRunner()
    store = Store.open(f"sqlite:///{proj / 'project.db'}")
    ada, bob = store.add_annotator("ada")[0], store.add_annotator("bob")[0]
    for item in (1, 2):
        store.append_event(item, ada.id, "label", label="neg", overlap=2)
        store.append_event(item, bob.id, "label", label="pos", overlap=2)
    store.close()
    for item in ("i1", "i2"):
        r = runner.invoke(main, ["review", str(proj), "--decide", item, "neg"])
        assert r.exit_code == 0, r.output
    gold = tmp_path / "gold.csv"
    gold.write_text("id,label\ni1,pos\ni2,neg\ni3,pos\n")
    r = runner.invoke(main, ["gold", str(proj), str(gold)])
    assert r.exit_code == 0, r.output
    assert (
        "1 of them keeps an earlier decision with another label, which counts over gold: "
        f"i1 (decided neg, gold pos); to follow the gold label, decide again: activelab "
        f"review {proj} --decide ID LABEL"
    ) in " ".join(r.output.split())
