"""Several annotators in the app: overlap never repeats an item for an annotator, a sampled
double share, second opinions on doubtful items, answer times, agreement in status, and
exports that keep every raw answer."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from activelab.app.project import CONFIG_NAME
from activelab.app.quality import answer_table, double_share_items, quality_report
from activelab.app.service import LabellingService
from activelab.app.store import Store
from activelab.cli import main


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


def _truth(item: int) -> str:
    return "neg" if item < 20 else "pos"


def _label_everything(svc: LabellingService, people: list, wrong: str | None = None) -> None:
    """Round-robin over the annotators until nobody gets an item; ``wrong`` always errs."""
    active = list(people)
    while active:
        for ann in list(active):
            item = svc.next_item(ann)
            if item is None:
                active.remove(ann)
                continue
            label = _truth(item.id)
            if ann.name == wrong:
                label = "pos" if label == "neg" else "neg"
            svc.answer(ann, item.id, label)


def _pairs(store: Store) -> list[tuple[int, int]]:
    return [(e.annotator_id, e.item_id) for e in store.events() if e.kind == "label"]


def test_overlap_never_repeats_an_item_for_an_annotator() -> None:
    store = _store(overlap=2, double_share=0.25)
    people = [store.add_annotator(name)[0] for name in ("ada", "bob", "cy")]
    svc = LabellingService(store, retrain_every=5)
    _label_everything(svc, people)
    pairs = _pairs(store)
    assert len(pairs) == len(set(pairs))  # nobody answered an item twice
    per_item = np.bincount([i for _, i in pairs], minlength=40)
    double = double_share_items(40, 0.25)
    assert (per_item >= 2).all()  # overlap 2 reached everywhere
    assert svc.progress().remaining == 0
    # the store itself refuses to hand an answered item to the same annotator
    ann, item = pairs[0]
    assert not store.lease(item, ann, seconds=60, overlap=3)
    assert double.size == 10


def test_double_share_answers_a_sample_twice() -> None:
    store = _store(double_share=0.25)
    people = [store.add_annotator(name)[0] for name in ("ada", "bob")]
    svc = LabellingService(store, retrain_every=100)
    _label_everything(svc, people)
    per_item = np.bincount([i for _, i in _pairs(store)], minlength=40)
    double = double_share_items(40, 0.25)
    assert (per_item[double] == 2).all()
    rest = np.setdiff1d(np.arange(40), double)
    assert (per_item[rest] == 1).all()
    rep = quality_report(store)
    assert rep["items_with_several_answers"] == 10
    assert rep["percent_agreement"] == 1.0 and rep["krippendorff_alpha"] == 1.0


def test_second_opinions_go_to_doubtful_items_and_training_uses_the_aggregate() -> None:
    store = _store(overlap=2, second_opinions=True)
    ada, bob, cy = (store.add_annotator(n)[0] for n in ("ada", "bob", "cy"))
    svc = LabellingService(store, retrain_every=1000)
    _label_everything(svc, [ada, bob], wrong="bob")  # ada and bob disagree on every item
    assert svc.next_item(cy) is None  # overlap 2 is met everywhere
    result = svc.retrain()
    asked = result.metrics["second_opinions"]["items"]
    assert asked, "disputed items should be asked again"
    item = svc.next_item(cy)
    assert item is not None and item.id in asked
    svc.answer(cy, item.id, _truth(item.id))
    # cy breaks the tie: the aggregate (and so the training label) follows the majority
    again = svc.retrain()
    assert again.n_labels == 40
    rep = quality_report(store)
    assert rep["answers"] == 81
    names = {a["name"]: a for a in rep["annotators"]}
    assert names["ada"]["agreement_with_aggregate"] > names["bob"]["agreement_with_aggregate"]


def test_second_opinions_count_who_can_still_answer_not_the_answers_given() -> None:
    # bob erred on every item and is revoked: ada's and bob's answers disagree everywhere,
    # and cy, who answered none, can still settle them
    store = _store(overlap=2, second_opinions=True)
    ada, bob, cy = (store.add_annotator(n)[0] for n in ("ada", "bob", "cy"))
    svc = LabellingService(store, retrain_every=1000)
    _label_everything(svc, [ada, bob], wrong="bob")
    store.revoke_annotator("bob")
    asked = svc.retrain().metrics["second_opinions"]
    assert asked["items"], "cy can answer the disputed items: they should be asked again"
    assert asked["target"] == [3] * len(asked["items"])  # one more than the two answers
    item = svc.next_item(cy)
    assert item is not None and item.id in asked["items"]


def test_second_opinions_are_not_asked_of_a_files_labels() -> None:
    # a file's labels (imported:file) on items 15-24, where ada errs half the time: her
    # single answers elsewhere are doubtful, but nobody but her (who gave them) can be asked
    from activelab.interop.project import imported_annotator

    store = _store(overlap=2, second_opinions=True)
    file = imported_annotator(store, "imported:file")
    for item in range(15, 25):
        store.append_event(item, file, "label", label=_truth(item))
    ada = store.add_annotator("ada")[0]
    svc = LabellingService(store, retrain_every=1000)
    for item in range(40):
        right = _truth(item)
        wrong = "pos" if right == "neg" else "neg"
        label = wrong if 15 <= item < 25 and item % 2 else right
        store.append_event(item, ada.id, "label", label=label, overlap=2)
    asked = svc.retrain().metrics["second_opinions"]
    assert asked["items"] == []
    assert svc.next_item(ada) is None


def test_an_annotator_who_only_skips_is_listed_with_their_skips(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = Store.create(url, {"labels": ["neg", "pos"], "overlap": 2, "name": "p"})
    store.add_items(
        [{"external_id": f"i{i}", "kind": "text", "content": {"text": str(i)}} for i in range(4)]
    )
    store.save_features(np.eye(4))
    ada, bob, cy = (store.add_annotator(n)[0] for n in ("ada", "bob", "cy"))
    for i in range(4):
        store.append_event(i, ada.id, "label", label="neg")
        store.append_event(i, bob.id, "label", label="neg" if i else "pos")
        store.append_event(i, cy.id, "skip")
    store.append_event(0, bob.id, "skip")  # ... and one skip undone: it does not count
    store.undo_last(bob.id)
    people = {a["name"]: a for a in quality_report(store)["annotators"]}
    assert [people[n]["skips"] for n in ("ada", "bob", "cy")] == [0, 0, 4]
    assert people["cy"]["answers"] == 0 and people["cy"]["agreement_with_aggregate"] is None
    assert people["cy"]["estimated_accuracy"] is None
    store.close()
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / CONFIG_NAME).write_text(json.dumps({"db": url}))
    runner = CliRunner()
    r = runner.invoke(main, ["status", str(tmp_path / "proj")])
    assert r.exit_code == 0 and "skips: cy 4" in r.output, r.output
    r = runner.invoke(main, ["export", str(tmp_path / "proj"), "--annotators"])
    lines = r.output.splitlines()
    assert lines[0].startswith("name,answers,skips,shared_items,")
    assert lines[-1].startswith("cy,0,4,0,")


def test_an_item_a_later_round_no_longer_asks_again_is_not_left_wanted() -> None:
    store = _store(overlap=2, second_opinions=True)
    ada, bob, cy, dan = (store.add_annotator(n)[0] for n in ("ada", "bob", "cy", "dan"))
    svc = LabellingService(store, retrain_every=5)
    _label_everything(svc, [ada, bob], wrong="bob")  # 40 items, each disputed
    first = svc.retrain().metrics["second_opinions"]["items"]
    held = svc.next_item(dan)  # dan holds one of the first round's items ...
    assert held is not None and held.id in first
    for _ in range(2):  # ... while cy settles two others
        item = svc.next_item(cy)
        svc.answer(cy, item.id, _truth(item.id))
    second = svc.retrain().metrics["second_opinions"]["items"]
    assert held.id not in second  # dropped by the new round ...
    svc.answer(dan, held.id, _truth(held.id))  # ... yet the answer handed out is taken
    served = []
    while (item := svc.next_item(cy)) is not None:
        served.append(item.id)
        svc.answer(cy, item.id, _truth(item.id))
    assert set(served) <= set(second) | set(first)
    # nothing is counted as wanted that no one is handed: as after a restart
    assert svc.progress().remaining == LabellingService(store).progress().remaining == 0


def test_answer_seconds_recorded_and_added_to_old_databases(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = Store.create(url, {"labels": ["neg", "pos"]})
    store.add_items(
        [{"external_id": e, "kind": "text", "content": {"text": e}} for e in ("a", "b")]
    )
    ann, _ = store.add_annotator("ada")
    assert store.lease(0, ann.id, seconds=60)
    ev = store.append_event(0, ann.id, "label", label="pos")
    assert ev.seconds is not None and 0 <= ev.seconds < 5
    assert store.events()[0].seconds == ev.seconds
    store.close()
    # a database made before the column existed: the store adds it on open
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE label_events DROP COLUMN seconds")
    engine.dispose()
    store = Store.open(url)
    assert store.events()[0].seconds is None and store.events()[0].label == "pos"
    assert store.append_event(1, ann.id, "label", label="neg", seconds=2.5).seconds == 2.5
    store.close()


def _short_project(tmp_path, settings: dict) -> tuple[Store, str]:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = Store.create(url, {"labels": ["neg", "pos"], "name": "p", **settings})
    store.add_items(
        [{"external_id": f"i{i}", "kind": "text", "content": {"text": str(i)}} for i in range(10)]
    )
    store.save_features(np.eye(10))
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / CONFIG_NAME).write_text(json.dumps({"db": url}))
    return store, str(tmp_path / "proj")


def test_status_says_when_the_overlap_outnumbers_the_active_annotators(tmp_path) -> None:
    """overlap 3 with one active annotator (another revoked, a file's labels by
    imported:file): no item can get its three answers, and the queue count never reaches 0;
    status says why in one line, and what to do."""
    store, proj = _short_project(tmp_path, {"overlap": 3})
    ada = store.add_annotator("ada")[0]
    bob = store.add_annotator("bob")[0]
    imported = store.add_annotator("imported:file", with_token=False)[0]
    store.append_event(0, imported.id, "label", label="neg", overlap=3)
    store.append_event(0, bob.id, "label", label="neg", overlap=3)
    store.append_event(1, ada.id, "skip")
    store.revoke_annotator("bob")
    store.close()
    runner = CliRunner()
    r = runner.invoke(main, ["status", proj, "--json"])
    assert r.exit_code == 0, r.output
    short = json.loads(r.output)["short_of_annotators"]
    # item 0 can still get ada's answer: 3 of 3; the nine others at most one of three
    assert {k: short[k] for k in ("items", "answers", "overlap", "active_annotators")} == {
        "items": 9, "answers": 3, "overlap": 3, "active_annotators": 1
    }  # fmt: skip
    r = runner.invoke(main, ["status", proj])
    line = next(x for x in r.output.splitlines() if x.startswith("overlap 3"))
    assert line == (
        "overlap 3 but 1 active annotator: 9 items can never get all their answers (they stay "
        f"in the queue); add annotators (activelab annotator add {proj} NAME), or give a "
        f"revoked one a new token (activelab annotator token {proj} NAME)"
    )
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    for name in ("cy", "dan"):
        store.add_annotator(name)
    r = runner.invoke(main, ["status", proj, "--json"])
    assert json.loads(r.output)["short_of_annotators"]["items"] == 1  # ada skipped item 1
    store.add_annotator("eve")
    store.close()
    r = runner.invoke(main, ["status", proj, "--json"])
    assert json.loads(r.output)["short_of_annotators"] is None
    assert "can never get" not in runner.invoke(main, ["status", proj]).output


def test_status_says_nothing_of_one_answer_per_item_and_counts_the_double_share(
    tmp_path,
) -> None:
    """A project asking one answer per item and no annotator yet is no overlap problem (the
    annotators line says so); the double share's items ask two answers of one annotator."""
    store, proj = _short_project(tmp_path, {"overlap": 1, "double_share": 0.3})
    store.close()
    runner = CliRunner()
    got = json.loads(runner.invoke(main, ["status", proj, "--json"]).output)
    assert got["short_of_annotators"]["items"] == 3
    assert got["short_of_annotators"]["text"].startswith(
        "2 answers asked of an item but 0 active annotators: 3 items can never"
    )
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    store.update_settings(double_share=0.0)
    store.close()
    got = json.loads(runner.invoke(main, ["status", proj, "--json"]).output)
    assert got["short_of_annotators"] is None


def test_status_and_export_carry_agreement_and_every_raw_answer(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = Store.create(url, {"labels": ["neg", "pos"], "overlap": 2, "name": "p"})
    store.add_items(
        [{"external_id": f"i{i}", "kind": "text", "content": {"text": str(i)}} for i in range(4)]
    )
    store.save_features(np.eye(4))
    ada, bob = store.add_annotator("ada")[0], store.add_annotator("bob")[0]
    answers = [("neg", "neg"), ("pos", "pos"), ("neg", "pos"), ("pos", "pos")]
    for i, (a, b) in enumerate(answers):
        store.append_event(i, ada.id, "label", label=a)
        store.append_event(i, bob.id, "label", label=b)
    store.close()
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / CONFIG_NAME).write_text(json.dumps({"db": url}))
    runner = CliRunner()
    r = runner.invoke(main, ["status", str(tmp_path / "proj"), "--json"])
    assert r.exit_code == 0, r.output
    q = json.loads(r.output)["quality"]
    # hand-computed: 3 of 4 items agree; kappa: po = 3/4, pe = 1/2 * 1/4 + 1/2 * 3/4 = 1/2
    assert q["percent_agreement"] == 0.75
    assert q["kappa"] == [{"annotators": ["ada", "bob"], "kappa": 0.5}]
    # alpha: o = [[2, 1], [1, 4]], n = 8: 1 - 7 * 2 / (64 - 9 - 25) = 0.5333
    assert abs(q["krippendorff_alpha"] - (1 - 14 / 30)) < 1e-9
    # class shares: 3 of the 8 answers say neg; the aggregate holds i0 neg, i1 and i3 pos, and
    # i2 as Dawid-Skene decides it (read back from the export below)
    assert q["class_shares"]["answers"] == {"neg": 0.375, "pos": 0.625}
    r = runner.invoke(main, ["status", str(tmp_path / "proj")])
    assert "Krippendorff" in r.output and "kappa" in r.output
    assert "of the answers neg 37.5%, pos 62.5%" in r.output
    r = runner.invoke(main, ["export", str(tmp_path / "proj"), "--format", "jsonl"])
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert sum(row["n_answers"] for row in rows) == 8  # every raw answer
    disputed = next(row for row in rows if row["id"] == "i2")
    assert sorted(a["label"] for a in disputed["answers"]) == ["neg", "pos"]
    assert {row["label"] for row in rows if row["id"] != "i2"} == {"neg", "pos"}
    neg = (1 + (disputed["label"] == "neg")) / 4
    assert q["class_shares"]["aggregate"] == {"neg": neg, "pos": 1 - neg}
    r = runner.invoke(main, ["export", str(tmp_path / "proj"), "--format", "csv"])
    assert r.output.splitlines()[0] == "id,label,confidence,n_answers,answers,labelled_at"
    r = runner.invoke(main, ["export", str(tmp_path / "proj"), "--events", "--format", "jsonl"])
    assert len(r.output.splitlines()) == 8 and "seconds" in json.loads(r.output.splitlines()[0])
    # the owner's review queue: the disputed item, then a decision that settles it
    sure = ["--min-confidence", "0.5"]  # four items: Dawid-Skene is not sure of any
    r = runner.invoke(main, ["review", str(tmp_path / "proj"), "--json", *sure])
    queue = json.loads(r.output)
    assert queue["disputed"] == 1 and queue["items"][0]["id"] == "i2"
    r = runner.invoke(main, ["review", str(tmp_path / "proj"), "--decide", "i2", "neg"])
    assert r.exit_code == 0 and "decided by owner" in r.output
    r = runner.invoke(main, ["review", str(tmp_path / "proj"), "--decide", "i2", "maybe"])
    assert r.exit_code != 0 and "Unknown label 'maybe'" in r.output
    r = runner.invoke(main, ["review", str(tmp_path / "proj"), "--decide", "2", "neg"])
    assert r.exit_code != 0 and "No item with id '2' in" in r.output and "'i0', 'i1'" in r.output
    r = runner.invoke(main, ["export", str(tmp_path / "proj"), "--format", "jsonl"])
    settled = next(json.loads(x) for x in r.output.splitlines() if '"i2"' in x)
    assert settled["label"] == "neg" and settled["confidence"] == 1.0 and settled["n_answers"] == 3
    # the decision is told from the annotators' answers
    assert [a.get("decision", False) for a in settled["answers"]] == [False, False, True]
    assert settled["answers"][2]["annotator"] == "owner"
    r = runner.invoke(main, ["review", str(tmp_path / "proj"), *sure])
    assert "Nothing to review" in r.output
    # the decision settles i2; the annotators' agreement with each other is what it was
    r = runner.invoke(main, ["status", str(tmp_path / "proj"), "--json"])
    after = json.loads(r.output)["quality"]
    assert after["answers"] == 9 and after["percent_agreement"] == 0.75
    assert after["kappa"] == [{"annotators": ["ada", "bob"], "kappa": 0.5}]
    assert abs(after["krippendorff_alpha"] - (1 - 14 / 30)) < 1e-9


def _split_project(tmp_path, n_items: int) -> str:
    """A project folder at ``tmp_path / "proj"`` of ``n_items`` items (overlap 2), on whose
    first, i0, ada answers neg and bob pos; returns its database's URL."""
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = Store.create(url, {"labels": ["neg", "pos"], "overlap": 2, "name": "p"})
    store.add_items(
        [
            {"external_id": f"i{i}", "kind": "text", "content": {"text": str(i)}}
            for i in range(n_items)
        ]
    )
    store.save_features(np.eye(n_items))
    ada, bob = store.add_annotator("ada")[0], store.add_annotator("bob")[0]
    store.append_event(0, ada.id, "label", label="neg")
    store.append_event(0, bob.id, "label", label="pos")
    store.close()
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / CONFIG_NAME).write_text(json.dumps({"db": url}))
    return url


def test_a_decision_over_another_adjudicators_says_it_replaces_theirs(tmp_path) -> None:
    _split_project(tmp_path, 1)

    def review(*args: str) -> str:
        return CliRunner().invoke(main, ["review", str(tmp_path / "proj"), *args]).output

    assert "i0: neg (decided by olga)." in review("--decide", "i0", "neg", "--as", "olga")
    said = review("--decide", "i0", "pos", "--as", "pat")
    assert "i0: pos (decided by pat; it replaces olga's decision neg)." in said, said
    said = review("--decide", "i0", "pos", "--as", "olga")  # olga agrees now
    assert "i0: pos (decided by olga, was neg)." in said, said


def test_the_owner_changes_a_decision_and_bad_names_are_refused_in_one_line(tmp_path) -> None:
    url = _split_project(tmp_path, 2)
    runner = CliRunner()

    def review(*args: str) -> object:
        return runner.invoke(main, ["review", str(tmp_path / "proj"), *args])

    assert "i0: neg (decided by owner)" in review("--decide", "i0", "neg").output
    r = review("--decide", "i0", "pos")  # the owner thinks again: the new decision counts
    assert r.exit_code == 0 and "i0: pos (decided by owner, was neg)" in r.output, r.output
    r = review("--decide", "i0", "pos")
    assert r.exit_code == 0 and "already; nothing changed" in r.output
    r = runner.invoke(main, ["export", str(tmp_path / "proj"), "--format", "jsonl"])
    row = json.loads(r.output)
    assert row["label"] == "pos" and row["confidence"] == 1.0 and row["n_answers"] == 3
    for name, message in [
        ("", "1 to 128 characters"),
        ("imported:file", "'imported:'"),
        ("ana\tb", "control character ('\\t')"),
    ]:
        r = review("--decide", "i0", "neg", "--as", name)
        assert r.exit_code == 1 and message in r.output and "Traceback" not in r.output
    store = Store.open(url)
    assert [e.label for e in store.live_answers()] == ["neg", "pos", "pos"]
    assert store.settings["adjudicators"] == ["owner"]
    # the decisions settle items: the owner is not scored against them
    people = {a["name"]: a for a in quality_report(store)["annotators"]}
    assert people["owner"]["estimated_accuracy"] is None
    assert people["ada"]["estimated_accuracy"] is not None
    store.make_owner("bob")
    store.revoke_annotator("bob")
    store.close()
    # status says who owns the project, who decides and who is gone
    r = runner.invoke(main, ["status", str(tmp_path / "proj")])
    assert "annotators: ada, bob (owner, revoked), owner (decides)" in r.output
    info = json.loads(runner.invoke(main, ["status", str(tmp_path / "proj"), "--json"]).output)
    assert info["annotators"][2] == {
        "name": "owner",
        "revoked": False,
        "owner": False,
        "adjudicator": True,
    }


@pytest.mark.parametrize("aggregate", ["dawid_skene", "latest"])
def test_cost_aware_queue_prefers_quicker_items(aggregate) -> None:
    # --cost-aware needs the answers' times, whichever way the answers are aggregated
    heads = {}
    for aware in (False, True):
        store = _store(n=60, cost_aware=aware, aggregate=aggregate)
        ada, _ = store.add_annotator("ada")
        for i in [*range(0, 10), *range(50, 60)]:  # answers take longer as x grows
            label = "neg" if i < 30 else "pos"
            store.append_event(i, ada.id, "label", label=label, seconds=1.0 + i)
        svc = LabellingService(store, retrain_every=1000)
        result = svc.retrain()
        if aware:
            assert result.metrics["cost_aware"]["timed_answers"] == 20
        items, _, _, _ = store.queue()
        heads[aware] = items[:10]
    # among the uncertain middle of the pool, the quicker (lower x) items come first
    assert heads[True].mean() < heads[False].mean()
    assert set(heads[True].tolist()) <= set(range(10, 50))


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--multi-label", "--second-opinions"], "--second-opinions works in single-label"),
        (["--multi-label", "--cost-aware"], "--cost-aware works in single-label"),
        (["--second-opinions", "--aggregate", "latest"], "not --aggregate latest"),
    ],
)
def test_init_refuses_options_that_would_do_nothing(tmp_path, options, says) -> None:
    data = tmp_path / "items.csv"
    data.write_text("id,x\n" + "".join(f"i{i},{i}\n" for i in range(6)))
    r = CliRunner().invoke(
        main, ["init", str(tmp_path / "p"), "--data", str(data), "--labels", "a,b", *options]
    )
    assert r.exit_code == 1 and says in r.output and "Traceback" not in r.output, r.output
    assert not (tmp_path / "p").exists()  # nothing created


def test_revoking_an_annotator_gives_their_item_back_at_once(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = Store.create(url, {"labels": ["neg", "pos"], "strategy": "margin"})
    store.add_items([{"external_id": "i0", "kind": "table", "content": {"fields": {"x": 0}}}])
    store.save_features(np.zeros((1, 1)))
    ada, _ = store.add_annotator("ada")
    bob, _ = store.add_annotator("bob")
    svc = LabellingService(store)  # the server
    assert svc.next_item(ada).id == 0  # ada holds the one item
    other = Store(url)  # activelab annotator revoke, from another process
    other.revoke_annotator("ada")
    other.close()
    assert store.held_item(ada.id) is None
    assert svc.next_item(bob).id == 0  # bob takes it now, not when ada's lease runs out
    store.close()


@pytest.mark.parametrize("overlap", [1, 2])
def test_next_item_asks_the_store_only_about_leases_that_bar_the_pick(
    tmp_path, monkeypatch, overlap
) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = Store.create(url, {"labels": ["neg", "pos"], "strategy": "margin", "overlap": overlap})
    rows = [
        {"external_id": f"i{i}", "kind": "table", "content": {"fields": {"x": i}}} for i in range(3)
    ]
    store.add_items(rows)
    store.save_features(np.zeros((3, 1)))
    ada, _ = store.add_annotator("ada")
    bob, _ = store.add_annotator("bob")
    svc = LabellingService(store)
    first = svc.next_item(ada).id
    looked: list[list[int]] = []
    real = store.lease_holders
    monkeypatch.setattr(store, "lease_holders", lambda items: looked.append(items) or real(items))
    got = svc.next_item(bob).id
    if overlap == 1:  # ada's lease bars bob's pick: it alone is looked up, once
        assert got != first and looked == [[first]]
    else:  # ada's item wants a second answer: it bars nobody, nothing is looked up
        assert got == first and looked == []
    store.close()


def _two_hold_the_top(tmp_path, n_items: int) -> tuple[Any, Any, int, Any, Any]:
    """An overlap-2 project of ``n_items`` table items whose top item ada and bob hold:
    the store, its service, the top item's id, bob and cy."""
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = Store.create(url, {"labels": ["neg", "pos"], "strategy": "margin", "overlap": 2})
    store.add_items(
        [
            {"external_id": f"i{i}", "kind": "table", "content": {"fields": {"x": i}}}
            for i in range(n_items)
        ]
    )
    store.save_features(np.zeros((n_items, 1)))
    ada, bob, cy = (store.add_annotator(name)[0] for name in ("ada", "bob", "cy"))
    svc = LabellingService(store)
    top = svc.next_item(ada).id
    assert svc.next_item(bob).id == top
    return store, svc, top, bob, cy


@pytest.mark.parametrize("n_items", [1, 3])
def test_an_item_whose_slots_are_all_held_costs_no_failed_lease(
    tmp_path, monkeypatch, n_items
) -> None:
    # overlap 2: ada and bob hold the top item; cy's request passes over it without trying
    # to lease it, then takes the next item (one lease) or at once nothing (none)
    store, svc, top, bob, cy = _two_hold_the_top(tmp_path, n_items)
    tried: list[int] = []
    real = store.lease
    monkeypatch.setattr(
        store, "lease", lambda item, *a, **k: tried.append(item) or real(item, *a, **k)
    )
    got = svc.next_item(cy)
    assert top not in tried
    assert (got is None) if n_items == 1 else (got.id != top and tried == [got.id])
    store.release(top, bob.id)  # bob gives the item back through another process
    if n_items == 3:
        svc.answer(cy, got.id, "neg")
    assert svc.next_item(cy).id == top
    store.close()


@pytest.mark.parametrize("n_items", [1, 3])
def test_an_item_two_annotators_hold_does_not_end_a_third_ones_queue(tmp_path, n_items) -> None:
    # overlap 2: ada and bob hold the top item, whose slots are all taken: cy gets another
    # item, or at once nothing when there is no other
    store, svc, top, _bob, cy = _two_hold_the_top(tmp_path, n_items)
    started = time.perf_counter()
    got = svc.next_item(cy)
    if n_items == 1:
        assert got is None and time.perf_counter() - started < 1.0
    else:
        assert got is not None and got.id != top
    store.close()


def test_review_decides_as_the_projects_owner_by_default(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = Store.create(url, {"labels": ["neg", "pos"], "overlap": 2, "name": "p"})
    store.add_items(
        [{"external_id": f"i{i}", "kind": "text", "content": {"text": str(i)}} for i in range(3)]
    )
    store.save_features(np.eye(3))
    for name in ("ada", "olga", "pat"):
        store.add_annotator(name)
    store.make_owner("olga")
    store.close()
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / CONFIG_NAME).write_text(json.dumps({"db": url}))
    runner = CliRunner()

    def review(*args: str) -> object:
        return runner.invoke(main, ["review", str(tmp_path / "proj"), *args])

    # the owner decides under their own name: no second person called "owner"
    assert "i0: neg (decided by olga)" in review("--decide", "i0", "neg").output
    store = Store.open(url)
    assert "owner" not in [a.name for a in store.annotators()]
    assert store.settings["adjudicators"] == ["olga"]
    store.make_owner("pat")  # two owners: which of them decides must be said
    store.close()
    r = review("--decide", "i1", "pos")
    assert r.exit_code == 1 and "2 owners (olga, pat)" in r.output and "--as NAME" in r.output
    assert "i1: pos (decided by pat)" in review("--decide", "i1", "pos", "--as", "pat").output
    # pat's later answer on the labelling page (handed out by the queue) is an answer, not
    # a decision: it does not settle its item over ada's
    store = Store.open(url)
    pat, ada = store.annotator_by_name("pat"), store.annotator_by_name("ada")
    store.append_event(2, ada.id, "label", label="pos")
    assert store.lease(2, pat.id, seconds=60, overlap=2, strategy="margin")
    store.append_event(2, pat.id, "label", label="neg", require_lease=True)
    table = answer_table(store)
    assert table.settled().tolist() == [0, 1, -1]  # decided by olga, by pat, not at all
    assert table.decided().tolist() == [True, True, False, False]
    people = {a["name"]: a for a in quality_report(store)["annotators"]}
    assert people["olga"]["estimated_accuracy"] is None  # only decided
    store.close()


@pytest.mark.parametrize("fmt", ["parquet", "hf"])
def test_table_exports_give_the_aggregated_label_as_csv_does(tmp_path, fmt) -> None:
    pd = pytest.importorskip("pandas")
    url = f"sqlite:///{tmp_path / 'p.db'}"
    settings = {"labels": ["neg", "pos"], "overlap": 3, "aggregate": "majority", "name": "p"}
    store = Store.create(url, settings)
    store.add_items(
        [{"external_id": f"i{i}", "kind": "text", "content": {"text": str(i)}} for i in range(2)]
    )
    store.save_features(np.eye(2))
    people = [store.add_annotator(n)[0] for n in ("ada", "bob", "cy")]
    for who, label in zip(people, ["pos", "pos", "neg"], strict=True):  # cy, the latest, is out
        store.append_event(0, who.id, "label", label=label)
    store.append_event(1, people[0].id, "label", label="neg")
    store.close()
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / CONFIG_NAME).write_text(json.dumps({"db": url}))
    runner = CliRunner()
    csv_out = runner.invoke(main, ["export", str(tmp_path / "proj"), "--format", "csv"]).output
    assert "i0,pos," in csv_out
    out = tmp_path / f"labels.{fmt}"
    r = runner.invoke(main, ["export", str(tmp_path / "proj"), "--format", fmt, "--out", out])
    assert r.exit_code == 0, r.output
    if fmt == "parquet":
        table = pd.read_parquet(out)
    else:
        ds = pytest.importorskip("datasets").load_from_disk(str(out))
        table = ds.to_pandas()  # the label is a ClassLabel: its names say which
        table["label"] = [ds.features["label"].int2str(int(v)) for v in table["label"]]
    got = dict(zip(table["id"], table["label"], strict=True))
    assert got == {"i0": "pos", "i1": "neg"}
    # the label is no single person's on i0: no annotator is named for it
    who = dict(zip(table["id"], table["annotator"].where(table["annotator"].notna()), strict=True))
    assert who["i1"] == "ada" and pd.isna(who["i0"])


def test_release_held_frees_every_item_an_annotator_holds_for_the_next_one(tmp_path) -> None:
    store = Store.create(f"sqlite:///{tmp_path / 'p.db'}", {"labels": ["neg", "pos"]})
    store.add_items(
        [{"external_id": f"i{i}", "kind": "table", "content": {"fields": {"x": i}}} for i in (0, 1)]
    )
    store.save_features(np.zeros((2, 1)))
    ada, bob = (store.add_annotator(name)[0] for name in ("ada", "bob"))
    svc = LabellingService(store)
    first = svc.next_item(ada).id
    svc.answer(ada, first, "neg")
    second = svc.next_item(ada).id
    svc.undo(ada)  # the first item is back on screen; the second is still held
    assert svc.release_held(ada) == sorted([first, second])
    assert store.held_item(ada.id) is None and store.leased_items() == {}
    assert svc.next_item(bob).id in (first, second)  # free for the others at once
    assert svc.release_held(ada) == []
