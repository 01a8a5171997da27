"""Multi-label projects: init --multi-label, label sets over the API, validation, export,
the terminal, training metrics, and labelling in headless Chromium."""

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
from activelab.app.ingest import read_items
from activelab.app.project import ProjectError, create_project, open_project
from activelab.app.service import LabellingService, UnknownLabelError
from activelab.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FINDINGS = EXAMPLES / "findings.csv"
LABELS = ["effusion", "nodule", "fracture", "cardiomegaly"]


def _tags() -> dict[str, list[str]]:
    with (EXAMPLES / "findings_tags.csv").open() as fh:
        # in the project's label order, the order the store keeps a set in
        return {
            r["id"]: [t for t in LABELS if t in r["tags"].split(";")] for r in csv.DictReader(fh)
        }


TAGS = _tags()
#: the store back ends the label-set test runs on (see conftest.py)
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture
def ml_project(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A multi-label project; on SQLite, or on PostgreSQL where a test asks for it with
    ``@pytest.mark.parametrize("ml_project", BACKENDS, indirect=True)``."""
    db = []
    if getattr(request, "param", "sqlite") == "postgresql":
        db = ["--db", str(request.getfixturevalue("postgres_url"))]
    r = CliRunner().invoke(
        main,
        [
            "init",
            str(tmp_path / "proj"),
            "--data",
            str(FINDINGS),
            "--labels",
            ",".join(LABELS),
            "--multi-label",
            *db,
        ],
    )
    assert r.exit_code == 0, r.output
    assert "multi-label" in r.output and "strategy mmc" in r.output
    return tmp_path / "proj"


@pytest.fixture
def api(ml_project: Path):
    store = open_project(ml_project)
    tokens = {n: store.add_annotator(n)[1] for n in ("ada", "bob")}
    service = LabellingService(store, retrain_every=1000)
    with TestClient(create_app(service, run_trainer=False)) as client:
        yield client, tokens, service
    store.close()


def h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _export(project: Path, *args: str) -> str:
    r = CliRunner().invoke(main, ["export", str(project), *args])
    assert r.exit_code == 0, r.output
    return r.output


def test_init_settings_and_strategy_checks(ml_project: Path, tmp_path: Path) -> None:
    store = open_project(ml_project)
    s = store.settings
    store.close()
    assert s["task"] == "multilabel" and s["strategy"] == "mmc" and s["labels"] == LABELS
    data = read_items(FINDINGS)
    with pytest.raises(ProjectError, match=r"for classification tasks.*multilabel"):
        create_project(tmp_path / "p2", data, LABELS, multilabel=True, strategy="margin")
    with pytest.raises(ProjectError, match="for multilabel tasks"):
        create_project(tmp_path / "p3", data, LABELS, strategy="mmc")
    with pytest.raises(ProjectError, match="contain ';'"):
        create_project(tmp_path / "p4", data, ["a;b", "c"], multilabel=True)
    assert not (tmp_path / "p2").exists() and not (tmp_path / "p4").exists()
    r = CliRunner().invoke(
        main,
        ["init", str(tmp_path / "p5"), "--data", str(FINDINGS), "--labels", "a,b", "--multi-label",
         "--strategy", "entropy"],
    )  # fmt: skip
    assert r.exit_code != 0 and "choose one of" in r.output and not (tmp_path / "p5").exists()


@pytest.mark.parametrize("ml_project", BACKENDS, indirect=True)
def test_label_sets_undo_skip_idempotency_and_export(api, ml_project: Path) -> None:
    client, tokens, service = api
    ada = h(tokens["ada"])
    project = client.get("/api/project", headers=ada).json()
    assert project["task"] == "multilabel" and project["labels"] == LABELS
    answered: dict[str, list[str]] = {}
    for k in range(8):
        item = client.get("/api/next", headers=ada).json()["item"]
        ext = item["external_id"]
        # toggled order does not matter: the store keeps the project's label order
        labels = list(reversed(TAGS[ext]))
        r = client.post(
            "/api/answer",
            headers=ada,
            json={"item_id": item["id"], "labels": labels, "request_id": f"r{k}"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["labels"] == TAGS[ext] and r.json()["label"] is None
        answered[ext] = TAGS[ext]
        last = {"item_id": item["id"], "labels": labels, "request_id": f"r{k}"}
    # a retried request is stored once; the same request id with another body is refused
    before = service.store.count_events()
    again = client.post("/api/answer", headers=ada, json=last)
    assert again.status_code == 200 and service.store.count_events() == before
    other = client.post("/api/answer", headers=ada, json={**last, "labels": ["nodule"]})
    assert other.status_code == 409 and service.store.count_events() == before
    # undo the last answer: the item comes back, and its labels are gone
    undone = client.post("/api/undo", headers=ada, json={}).json()
    back = undone["item"]["external_id"]
    assert undone["event"]["kind"] == "undo"
    # the taken-back answer, with its set, so a client can show it ticked again
    assert undone["undone"]["id"] == undone["event"]["undoes"]
    assert undone["undone"]["labels"] == TAGS[back]
    del answered[back]
    # answer it again with a different set; "none of these" is an empty set
    r = client.post(
        "/api/answer", headers=ada, json={"item_id": undone["item"]["id"], "labels": []}
    )
    assert r.status_code == 200 and r.json()["labels"] == []
    answered[back] = []
    skipped = client.get("/api/next", headers=ada).json()["item"]
    assert client.post("/api/skip", headers=ada, json={"item_id": skipped["id"]}).status_code == 200
    current = service.store.current_labels()
    assert len(current) == 8
    out = _export(ml_project)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["id", "labels", "annotator", "labelled_at"]
    got = {r["id"]: r["labels"] for r in rows}
    assert got == {ext: ";".join(labs) or "[]" for ext, labs in answered.items()}
    assert any(";" in v for v in got.values()) and got[back] == "[]"
    lines = _export(ml_project, "--format", "jsonl").splitlines()
    assert {json.loads(x)["id"]: json.loads(x)["labels"] for x in lines} == answered
    events = [
        json.loads(x) for x in _export(ml_project, "--events", "--format", "jsonl").splitlines()
    ]
    assert [e["kind"] for e in events].count("undo") == 1
    assert [e["kind"] for e in events].count("skip") == 1
    assert all(isinstance(e["labels"], list) for e in events if e["kind"] == "label")
    piped = _export(ml_project, "--separator", "|")
    assert any("|" in line for line in piped.splitlines()[1:])
    # the status command counts each label of a set
    info = json.loads(CliRunner().invoke(main, ["status", str(ml_project), "--json"]).output)
    want = {lab: sum(lab in v for v in answered.values()) for lab in LABELS}
    assert info["task"] == "multilabel" and info["by_label"] == want
    assert info["none_of_these"] == sum(not v for v in answered.values()) >= 1


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"labels": ["nodule", "tumour"]}, "Unknown label(s) ['tumour']"),
        ({"labels": ["nodule", "nodule"]}, "given twice"),
        ({"label": "nodule"}, "multi-label: send labels"),
        ({"labels": ["nodule"], "label": "nodule"}, "exactly one of"),
        ({}, "exactly one of"),
    ],
)
def test_bad_label_sets_get_422_and_change_nothing(api, body, needle) -> None:
    client, tokens, service = api
    ada = h(tokens["ada"])
    item = client.get("/api/next", headers=ada).json()["item"]
    client.post("/api/answer", headers=ada, json={"item_id": item["id"], "labels": ["nodule"]})
    snap = (service.store.last_event_id(), service.store.current_labels())
    r = client.post("/api/answer", headers=ada, json={"item_id": item["id"] + 1, **body})
    assert r.status_code == 422 and needle in r.text, r.text
    assert (service.store.last_event_id(), service.store.current_labels()) == snap


def test_single_label_projects_refuse_label_lists(tmp_path: Path) -> None:
    proj = create_project(tmp_path / "single", read_items(FINDINGS), ["normal", "abnormal"])
    store = open_project(proj)
    try:
        svc = LabellingService(store)
        ann, _ = store.add_annotator("ada")
        with pytest.raises(UnknownLabelError, match="one label per item"):
            svc.answer(ann, 0, ["normal"])
        assert store.last_event_id() == 0
    finally:
        store.close()


def test_training_guess_micro_f1_and_still_pays(api) -> None:
    client, tokens, service = api
    ada = h(tokens["ada"])
    ids = service.store.external_ids()
    for _ in range(20):
        item = client.get("/api/next", headers=ada).json()["item"]
        client.post(
            "/api/answer",
            headers=ada,
            json={"item_id": item["id"], "labels": TAGS[item["external_id"]]},
        )
    first = service.retrain()
    acc = first.metrics["accuracy"]
    assert acc["metric"] == "micro-F1" and acc["n"] == 20
    assert 0.0 <= acc["low"] <= acc["estimate"] <= acc["high"] <= 1.0
    assert first.strategy == "mmc" and not first.cold_start
    assert first.metrics["class_counts"] == {
        lab: sum(lab in TAGS[ids[i]] for i in service.store.current_labels()) for lab in LABELS
    }
    for _ in range(10):
        item = client.get("/api/next", headers=ada).json()["item"]
        client.post(
            "/api/answer",
            headers=ada,
            json={"item_id": item["id"], "labels": TAGS[item["external_id"]]},
        )
    second = service.retrain()
    pays = second.metrics["still_pays"]
    assert pays["value"] is not None and 0.0 <= pays["agreement"] <= 1.0
    progress = client.get("/api/progress", headers=ada).json()
    assert progress["quality_metric"] == "micro-F1" and progress["accuracy"] is not None
    # the guess: the labels with P > 0.5, with every label's probability
    item = client.get("/api/next", headers=ada).json()["item"]
    probs = item["probabilities"]
    assert set(probs) == set(LABELS) and item["guess"] is None
    assert item["guess_labels"] == [lab for lab in LABELS if probs[lab] > 0.5]
    # the model learns the findings: its cross-validated micro-F1 beats the best trivial
    # answer (every label on every item: micro-F1 = 2p / (1 + p), p the share of 1s)
    Y = np.array([[lab in TAGS[ids[i]] for lab in LABELS] for i in service.store.current_labels()])
    trivial = 2 * Y.mean() / (1 + Y.mean())
    assert second.metrics["accuracy"]["estimate"] > trivial, (second.metrics, trivial)


def test_openapi_documents_label_sets(api) -> None:
    client, _, _ = api
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    answer = schema["AnswerIn"]["properties"]
    assert "labels" in answer and "label" in answer
    assert "guess_labels" in schema["ItemOut"]["properties"]
    assert "quality_metric" in schema["ProgressOut"]["properties"]


def test_terminal_toggles_and_confirms(ml_project: Path) -> None:
    # tick 1 and 3, untick 3, tick 4, confirm; then confirm nothing; skip; undo the skip;
    # undo the empty answer; tick 2 on the item that came back, confirm; quit
    r = CliRunner().invoke(
        main, ["label", str(ml_project), "--as", "tom"], input="1334\n\nsu u2\nq"
    )
    assert r.exit_code == 0, r.output
    assert "[x] 1 effusion" in r.output and "saved: effusion, cardiomegaly" in r.output
    assert "saved: none of these" in r.output
    store = open_project(ml_project)
    try:
        sets = sorted(json.loads(c.label) for c in store.current_labels().values())
        assert sets == [["effusion", "cardiomegaly"], ["nodule"]]
        assert store.count_events() == {"label": 3, "skip": 1, "undo": 2}
    finally:
        store.close()


def test_terminal_ticks_labels_beyond_its_keys_by_name(tmp_path) -> None:
    """Labels past the tenth have no key: ``l`` and a name ticks them, so a confirmed set
    never says they do not apply only because they could not be reached."""
    many = [f"finding{i}" for i in range(1, 13)]
    args = ["init", str(tmp_path / "p"), "--data", str(FINDINGS), "--labels", ",".join(many)]
    r = CliRunner().invoke(main, [*args, "--multi-label", "--text-features", "tfidf"])
    assert r.exit_code == 0, r.output
    keys = "1lfinding12\n\rq"
    r = CliRunner().invoke(main, ["label", str(tmp_path / "p"), "--as", "tom"], input=keys)
    assert r.exit_code == 0 and "Traceback" not in r.output, r.output
    assert "[l] then a name: finding11, finding12" in r.output
    assert "saved: finding1, finding12" in r.output
    store = open_project(tmp_path / "p")
    try:
        sets = [json.loads(c.label) for c in store.current_labels().values()]
        assert sets == [["finding1", "finding12"]]
    finally:
        store.close()


def test_terminal_guess_of_none_names_the_most_likely_label() -> None:
    """As the page does: "none of these (most likely nodule, 31%)", not "none of these"."""
    from types import SimpleNamespace

    from rich.console import Console

    from activelab.cli.label import _label_keys, _show

    keyed = list(zip(_label_keys(LABELS), LABELS, strict=True))
    item = SimpleNamespace(
        kind="text",
        content={"text": "Clear lungs."},
        external_id="r03",
        strategy="mmc",
        guess=None,
        guess_labels=[],
        probabilities={"effusion": 0.12, "nodule": 0.31, "fracture": 0.05, "cardiomegaly": 0.2},
    )
    console = Console(record=True, width=100)
    _show(console, None, item, keyed)
    assert "model's guess: none of these (most likely nodule, 31%)" in console.export_text()
    console = Console(record=True, width=100)
    _show(console, None, SimpleNamespace(**{**vars(item), "guess_labels": ["nodule"]}), keyed)
    assert "model's guess: nodule (31%)" in console.export_text()


def test_status_names_a_model_too_young_to_estimate(tmp_path: Path) -> None:
    """With a model on fewer labels than the estimate needs, status said nothing of it."""
    path = tmp_path / "items.csv"
    rows = [("a", "left effusion", "effusion"), ("b", "rib fracture", "fracture")]
    rows += [("c", "both", "effusion;fracture"), ("d", "clear", "")]
    rows += [(f"x{i}", f"text {i}", "") for i in range(6)]
    path.write_text("id,text,labels\n" + "".join(",".join(r) + "\n" for r in rows))
    args = ["init", str(tmp_path / "p"), "--data", str(path), "--labels", ",".join(LABELS)]
    r = CliRunner().invoke(main, [*args, "--multi-label", "--text-features", "tfidf"])
    assert r.exit_code == 0, r.output
    out = CliRunner().invoke(main, ["status", str(tmp_path / "p")], env={"COLUMNS": "200"}).output
    assert "model v1 on 3 labels: estimated micro-F1 not yet known (needs at least 6" in out, out


# ------------------------------------------------------------------ browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture
def live(ml_project: Path, serve_in_thread):
    store = open_project(ml_project)
    _, token = store.add_annotator("ada")
    with serve_in_thread(LabellingService(store, retrain_every=3, retrain_seconds=1)) as url:
        yield url, token, store
    store.close()


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_browser_toggle_confirm_undo_and_export(live, ml_project: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install -y chromium"
    url, token, store = live
    ids = store.external_ids()
    by_text = {store.item(i)["content"]["text"]: ids[i] for i in range(len(ids))}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page()
        expect.set_options(timeout=15_000)  # a 2-core machine running the rest of the suite
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/?token={token}")
        text = page.locator("#item-text")
        labelled = page.locator("#progress-labelled")
        expect(labelled).to_have_text("0")
        expect(page.locator("#confirm-button")).to_be_visible()
        buttons = page.locator("#labels button")
        expect(buttons).to_have_count(4)
        saved: dict[str, list[str]] = {}
        for n in range(1, 6):
            shown = text.text_content()
            want = TAGS[by_text[shown]]
            # tick the item's findings, plus a wrong one ticked and unticked again
            keys = [str(LABELS.index(lab) + 1) for lab in want]
            wrong = next(str(i + 1) for i, lab in enumerate(LABELS) if lab not in want)
            for key in [wrong, *keys, wrong]:
                page.keyboard.press(key)
            for i, lab in enumerate(LABELS):
                expect(buttons.nth(i)).to_have_attribute(
                    "aria-pressed", "true" if lab in want else "false"
                )
            page.keyboard.press("Enter")
            expect(labelled).to_have_text(str(n))
            expect(text).not_to_have_text(shown)
            saved[by_text[shown]] = want
        expect(page.locator("#status")).to_contain_text("Saved")
        last = max(store.current_labels().values(), key=lambda c: c.event_id)
        page.keyboard.press("u")
        expect(labelled).to_have_text("4")
        expect(page.locator("#status")).to_contain_text("Undone")
        expect(text).to_have_text(store.item(last.item_id)["content"]["text"])
        # the undone item comes back with its taken-back set ticked; fix it and confirm
        back = ids[last.item_id]
        for i, lab in enumerate(LABELS):
            expect(buttons.nth(i)).to_have_attribute(
                "aria-pressed", "true" if lab in TAGS[back] else "false"
            )
        fixed = LABELS[0]
        page.keyboard.press("1")  # flips the first label
        page.keyboard.press("Enter")
        expect(labelled).to_have_text("5")
        saved[back] = [lab for lab in LABELS if (lab in TAGS[back]) != (lab == fixed)]
        # the trainer catches up: the page shows micro-F1 and the model's guess with P
        expect(page.locator("#progress-quality-name")).to_have_text("estimated micro-F1")
        expect(page.locator("#progress-model")).to_contain_text("on 5 labels", timeout=30_000)
        expect(page.locator("#guess")).to_contain_text("Model's guess", timeout=10_000)
        expect(page.locator("#guess")).to_contain_text("%")
        page.keyboard.press("?")
        expect(page.locator("#help")).to_contain_text("tick or untick")
        assert not errors, errors
        browser.close()
    assert store.count_events() == {"label": 6, "skip": 0, "undo": 1}
    rows = list(csv.DictReader(io.StringIO(_export(ml_project))))
    assert {r["id"]: r["labels"] for r in rows} == {k: ";".join(v) for k, v in saved.items()}
    assert np.all([r["annotator"] == "ada" for r in rows])


def test_export_with_predictions_keeps_label_sets_apart_from_predicted_ones(api, ml_project):
    client, tokens, service = api
    ada = h(tokens["ada"])
    answered: dict[str, list[str]] = {}
    for k in range(10):
        item = client.get("/api/next", headers=ada).json()["item"]
        ext = item["external_id"]
        body = {"item_id": item["id"], "labels": TAGS[ext], "request_id": f"p{k}"}
        assert client.post("/api/answer", headers=ada, json=body).status_code == 200
        answered[ext] = TAGS[ext]
    service.retrain()
    version = service.store.latest_version()
    out = _export(ml_project, "--format", "jsonl", "--with-predictions")
    docs = [json.loads(x) for x in out.splitlines()]
    assert len(docs) == service.store.n_items()
    assert {d["id"]: d["labels"] for d in docs if d["labels"] is not None} == answered
    for d in docs:
        assert set(d["predicted_labels"]) <= set(LABELS)
        assert list(d["predicted_proba"]) == LABELS
        assert all(0.0 <= p <= 1.0 for p in d["predicted_proba"].values())
        assert d["prediction_source"] == f"model v{version}"
    rows = list(csv.DictReader(io.StringIO(_export(ml_project, "--with-predictions"))))
    assert list(rows[0])[-3:] == ["predicted_labels", "predicted_proba", "prediction_source"]
    assert sum(r["annotator"] == "" for r in rows) == len(rows) - len(answered)


def test_none_of_these_survives_a_csv_round_trip(tmp_path: Path) -> None:
    """The empty answer set was exported as an empty cell, which init reads as unanswered."""
    items = tmp_path / "items.csv"
    items.write_text(
        "id,text,labels\n"
        "a,cough and fever,cough;fever\n"
        "b,a quiet night,[]\n"
        "c,not seen yet,\n"
        "d,a dry cough,cough\n"
        "e,fever again,fever\n"
    )
    one = tmp_path / "one"
    init = ["init", one, "--data", items, "--labels", "cough,fever", "--multi-label"]
    r = CliRunner().invoke(main, [str(a) for a in [*init, "--text-features", "tfidf"]])
    assert r.exit_code == 0, r.output
    store = open_project(one)
    got = {i: c.label for i, c in store.current_labels().items()}
    store.close()
    assert got == {0: '["cough", "fever"]', 1: "[]", 3: '["cough"]', 4: '["fever"]'}
    exported = tmp_path / "labels.csv"
    r = CliRunner().invoke(main, ["export", str(one), "--out", str(exported)])
    assert r.exit_code == 0, r.output
    rows = {r["id"]: r["labels"] for r in csv.DictReader(exported.open())}
    assert rows == {"a": "cough;fever", "b": "[]", "d": "cough", "e": "fever"}
    # the export's labels back onto the items: the same answers, "none of these" included
    texts = {"a": "cough and fever", "b": "a quiet night", "c": "not seen yet"}
    again = tmp_path / "again.csv"
    again.write_text(
        "id,text,labels\n" + "".join(f"{k},{t},{rows.get(k, '')}\n" for k, t in texts.items())
    )
    two = tmp_path / "two"
    init = ["init", two, "--data", again, "--labels", "cough,fever", "--multi-label"]
    r = CliRunner().invoke(main, [str(a) for a in [*init, "--text-features", "tfidf"]])
    assert r.exit_code == 0 and "Imported 2 labels" in r.output, r.output
    store = open_project(two)
    assert {i: c.label for i, c in store.current_labels().items()} == {
        0: '["cough", "fever"]',
        1: "[]",
    }
    store.close()
    more = tmp_path / "more.csv"
    more.write_text("id,text,labels\nf,calm,[]\ng,no answer,\n")
    r = CliRunner().invoke(main, ["add", str(two), "--data", str(more)])
    assert r.exit_code == 0 and "Imported 1 label." in r.output, r.output
    store = open_project(two)
    assert store.current_labels()[3].label == "[]" and 4 not in store.current_labels()
    store.close()
    # with predictions: an unanswered item stays empty, "none of these" is []
    r = CliRunner().invoke(main, ["export", str(one), "--with-predictions"])
    assert r.exit_code == 0, r.output  # a model was trained on the imported labels
    rows = {r["id"]: r["labels"] for r in csv.DictReader(io.StringIO(r.stdout))}
    assert rows["b"] == "[]" and rows["c"] == ""
    bad = [tmp_path / "three", "--data", items, "--labels", "[],a", "--multi-label"]
    r = CliRunner().invoke(main, ["init", *map(str, bad)])
    assert r.exit_code == 1 and "A label cannot be '[]'" in r.output
