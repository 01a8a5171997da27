"""The command line: init from texts, tables, images; bad input; export, status, model, terminal."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import joblib
import pytest
from click.testing import CliRunner

from activelab.app.project import open_project
from activelab.cli import main

REPO = Path(__file__).resolve().parents[2]
REVIEWS = REPO / "examples" / "reviews.csv"


def run(*args: str, input: str | None = None) -> object:
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def _nothing_created(tmp_path: Path, name: str) -> bool:
    return not any(
        p.name.startswith(name) or p.name.startswith(f".{name}") for p in tmp_path.iterdir()
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("id,text\n", "a header but no items"),
        ("id,text\n1,fine\n2,too,many,fields\n", "line 3: 4 fields, the header has 2, and "),
        ("id,text\n1,fine\n2\n", "line 3: expected 2 fields"),
        ("id,text\n1,fine\n1,again\n", "line 3: duplicate id '1' (first seen on line 2)"),
        ("id,text\n1,fine\n2,\n", "line 3: column 'text' is empty"),
        ('id,text\n1,"unclosed\n', "line"),
        ("id,a,b\n1,0.5,1\n2,x,2\n", "line 3, column 'a': 'x' is not a finite number"),
        ("id,a,b\n1,0.5,1\n2,nan,2\n", "line 3, column 'a'"),
    ],
)
def test_bad_csv_is_a_clear_error_and_nothing_is_created(tmp_path, content, message) -> None:
    data = tmp_path / "items.csv"
    data.write_text(content)
    r = CliRunner().invoke(
        main, ["init", str(tmp_path / "proj"), "--data", str(data), "--labels", "a,b"]
    )
    assert r.exit_code != 0
    assert message in r.output, r.output
    assert str(data) in r.output or "items.csv" in r.output
    assert _nothing_created(tmp_path, "proj")


def test_other_bad_inputs(tmp_path) -> None:
    (tmp_path / "x.jsonl").write_text('{"id": 1, "text": "ok"}\n{not json}\n')
    r = CliRunner().invoke(
        main, ["init", str(tmp_path / "p"), "--data", str(tmp_path / "x.jsonl"), "--labels", "a,b"]
    )
    assert r.exit_code != 0 and "line 2: invalid JSON" in r.output
    (tmp_path / "twice.jsonl").write_text(
        '{"id": 1, "text": "ok"}\n{"id": 2, "text": "a", "text": "b"}\n'
    )
    r = CliRunner().invoke(
        main,
        ["init", str(tmp_path / "p"), "--data", str(tmp_path / "twice.jsonl"), "--labels", "a,b"],
    )
    assert r.exit_code != 0 and not (tmp_path / "p").exists()
    assert "twice.jsonl, line 2: key 'text' is given twice in one record" in r.output
    (tmp_path / "latin.jsonl").write_bytes('{"id": 1, "text": "café"}\n'.encode("latin-1"))
    r = CliRunner().invoke(
        main,
        ["init", str(tmp_path / "p"), "--data", str(tmp_path / "latin.jsonl"), "--labels", "a,b"],
    )
    assert r.exit_code == 1 and not (tmp_path / "p").exists()  # was a UnicodeDecodeError
    assert "latin.jsonl: not UTF-8 text" in r.output and "save the file as UTF-8" in r.output
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    (imgs / "broken.png").write_bytes(b"not a png")
    r = CliRunner().invoke(
        main, ["init", str(tmp_path / "p"), "--data", str(imgs), "--labels", "a,b"]
    )
    assert r.exit_code != 0 and "broken.png: not a readable PNG or JPEG image" in r.output
    for labels, msg in [("a", "at least two labels"), ("a,a", "Duplicate label")]:
        r = CliRunner().invoke(
            main, ["init", str(tmp_path / "p"), "--data", str(REVIEWS), "--labels", labels]
        )
        assert r.exit_code != 0 and msg in r.output
    r = CliRunner().invoke(
        main,
        [
            "init",
            str(tmp_path / "p"),
            "--data",
            str(REVIEWS),
            "--labels",
            "a,b",
            "--text-column",
            "body",
        ],
    )
    assert r.exit_code != 0 and "--text-column 'body' is not a column" in r.output
    assert _nothing_created(tmp_path, "p")
    r = CliRunner().invoke(main, ["status", str(tmp_path / "nowhere")])
    assert r.exit_code != 0 and "not an activelab project" in r.output


def test_init_refuses_an_existing_project_and_keeps_it(tmp_path) -> None:
    proj = tmp_path / "rev"
    assert run("init", proj, "--data", REVIEWS, "--labels", "positive,negative").exit_code == 0
    store = open_project(proj)
    ann, _ = store.add_annotator("ada")
    store.append_event(0, ann.id, "label", label="positive")
    store.close()
    r = CliRunner().invoke(main, ["init", str(proj), "--data", str(REVIEWS), "--labels", "x,y"])
    assert r.exit_code != 0 and "exists already" in r.output
    assert len(open_project(proj).current_labels()) == 1


def test_a_new_token_for_a_lost_one_a_revoked_or_a_terminal_annotator(tmp_path) -> None:
    proj = tmp_path / "rev"
    assert run("init", proj, "--data", REVIEWS, "--labels", "positive,negative").exit_code == 0
    old = run("annotator", "add", proj, "ada").stdout.strip().splitlines()[-1]
    r = CliRunner().invoke(main, ["annotator", "add", str(proj), "ada"])
    assert r.exit_code == 1 and "activelab annotator token PROJECT 'ada'" in r.output
    store = open_project(proj)
    ada = store.authenticate(old)
    store.append_event(0, ada.id, "label", label="positive")
    store.close()
    r = run("annotator", "token", proj, "ada")  # ada lost her token
    new = r.stdout.strip().splitlines()[-1]
    assert "old one is refused" in r.output and new != old
    store = open_project(proj)
    assert store.authenticate(old) is None and store.authenticate(new).id == ada.id
    assert store.current_labels()[0].annotator == "ada"  # her labels stay hers
    store.close()
    assert run("annotator", "revoke", proj, "ada").exit_code == 0
    r = CliRunner().invoke(main, ["label", str(proj), "--as", "ada"], input="q")
    assert r.exit_code == 1 and f"activelab annotator token {proj} 'ada'" in r.output
    back = run("annotator", "token", proj, "ada").stdout.strip().splitlines()[-1]  # she is back
    assert open_project(proj).authenticate(back).id == ada.id
    assert run("label", proj, "--as", "tom", input="q").exit_code == 0  # terminal only
    tom = run("annotator", "token", proj, "tom").stdout.strip().splitlines()[-1]
    assert open_project(proj).authenticate(tom).name == "tom"
    assert "tom\tactive" in run("annotator", "list", proj).output
    r = CliRunner().invoke(main, ["annotator", "token", str(proj), "nobody"])
    assert r.exit_code == 1 and "No annotator named 'nobody'" in r.output
    assert "Traceback" not in r.output


def test_a_files_labels_get_no_token_and_no_owners_rights(tmp_path) -> None:
    proj = tmp_path / "rev"
    assert run("init", proj, "--data", REVIEWS, "--labels", "positive,negative").exit_code == 0
    store = open_project(proj)
    store.add_annotator("imported:file", with_token=False)
    store.close()
    for args in (["token"], ["owner"]):
        r = CliRunner().invoke(main, ["annotator", *args, str(proj), "imported:file"])
        assert r.exit_code == 1 and "mark labels read from files" in r.output, r.output
        assert f"activelab annotator add {proj} NAME" in r.output
    store = open_project(proj)
    file = store.annotator_by_name("imported:file")
    assert not file.has_token and "imported:file" not in store.settings.get("owners", [])
    store.close()


def test_the_terminal_labeller_says_why_items_stay_in_the_queue(tmp_path) -> None:
    """Alone on a project of overlap 2, the annotator labels every item once: nothing is
    left for them, and the line says the items can never get their second answers."""
    (tmp_path / "items.csv").write_text("text\ngood one\nbad one\nfine one\nawful one\n")
    proj = tmp_path / "p"
    init = ["init", proj, "--data", tmp_path / "items.csv", "--labels", "pos,neg"]
    assert run(*init, "--overlap", "2", "--text-features", "tfidf").exit_code == 0
    r = run("label", proj, "--as", "tom", input="1212q")
    assert r.exit_code == 0
    assert "Nothing left to label" in r.output
    assert (
        "overlap 2 but 1 active annotator: 4 items can never get all their answers (they stay "
        f"in the queue); add annotators (activelab annotator add {proj} NAME)"
    ) in r.output


def test_status_reads_the_event_counts_and_current_labels_once(tmp_path, monkeypatch) -> None:
    # status read count_events and current_labels a second time to tell whether items take
    # several answers
    from activelab.app.store import Store

    proj = tmp_path / "reviews"
    run("init", proj, "--data", REVIEWS, "--labels", "positive,negative")
    assert run("label", proj, "--as", "tom", input="1212q").exit_code == 0
    calls: list[str] = []
    for name in ("count_events", "current_labels"):
        read = getattr(Store, name)
        monkeypatch.setattr(
            Store, name, lambda self, _r=read, _n=name: calls.append(_n) or _r(self)
        )
    info = json.loads(run("status", proj, "--json").output)
    assert info["labelled"] == 4 and info["events"]["label"] == 4
    assert info["by_label"] == {"positive": 2, "negative": 2}
    assert sorted(calls) == ["count_events", "current_labels"]


def test_export_reads_the_current_labels_once(tmp_path, monkeypatch) -> None:
    # the label export read the current labels to tell whether items take several answers,
    # then again for its rows
    from activelab.app.store import Store

    proj = tmp_path / "reviews"
    run("init", proj, "--data", REVIEWS, "--labels", "positive,negative")
    assert run("label", proj, "--as", "tom", input="121q").exit_code == 0
    calls: list[str] = []
    read = Store.current_labels
    monkeypatch.setattr(Store, "current_labels", lambda self: calls.append("") or read(self))
    lines = run("export", proj, "--format", "csv").output.strip().splitlines()
    assert lines[0] == "id,label,annotator,labelled_at" and len(lines) == 4
    assert sorted(line.split(",")[1] for line in lines[1:]) == ["negative", "positive", "positive"]
    assert len(calls) == 1


def test_names_in_square_brackets_are_printed_as_they_are(tmp_path) -> None:
    # the terminal's output is rich text: a name such as '[/x]' stopped status and label
    # with a markup error, and '[red]rosa' lost its name to a colour
    proj = tmp_path / "[b]reviews"
    run("init", proj, "--data", REVIEWS, "--labels", "positive,negative")
    r = run("label", proj, "--as", "[/x]", input="1q")
    assert r.exit_code == 0 and "Labelling [b]reviews as [/x]." in r.output, r.output
    r = run("label", proj, "--as", "[red]rosa", input="2q")
    assert r.exit_code == 0 and "saved: negative" in r.output, r.output
    r = run("status", proj)
    assert r.exit_code == 0, r.output
    assert r.output.startswith("[b]reviews: 60 text items")
    assert "annotators: [/x], [red]rosa" in r.output


def test_text_walkthrough_terminal_export_model(tmp_path) -> None:
    proj = tmp_path / "reviews"
    r = run("init", proj, "--data", REVIEWS, "--labels", "positive,negative")
    assert "60 text items" in r.output
    r = run("annotator", "add", proj, "ada")
    token = r.stdout.strip().splitlines()[-1]
    assert len(token) >= 40
    assert open_project(proj).authenticate(token).name == "ada"
    # the terminal: answer 1, 2, 1, 2, 1, 2, skip, undo (takes the skip back), answer, quit
    r = run("label", proj, "--as", "tom", input="121212su1q")
    assert r.exit_code == 0, r.output
    assert "saved: positive" in r.output and "skipped" in r.output and "undone" in r.output
    store = open_project(proj)
    assert len(store.current_labels()) == 7
    assert store.count_events() == {"label": 7, "skip": 1, "undo": 1}
    store.close()
    r = run("status", proj, "--json")
    info = json.loads(r.output)
    assert info["labelled"] == 7 and info["items"] == 60
    r = run("export", proj, "--format", "csv")
    lines = r.output.strip().splitlines()
    assert lines[0] == "id,label,annotator,labelled_at" and len(lines) == 8
    assert all(",tom," in line for line in lines[1:])
    out = tmp_path / "events.jsonl"
    run("export", proj, "--format", "jsonl", "--events", "--out", out)
    events = [json.loads(x) for x in out.read_text().splitlines()]
    assert [e["kind"] for e in events].count("undo") == 1
    assert events[-2]["kind"] == "undo" and events[-2]["undoes"] == events[-3]["event_id"]
    # the model: TF-IDF + classifier, ready for raw strings
    store = open_project(proj)
    from activelab.app.service import LabellingService

    LabellingService(store).retrain()
    store.close()
    r = run("model", proj, "--out", tmp_path / "m.joblib")
    assert "raw texts" in r.output
    model = joblib.load(tmp_path / "m.joblib")
    assert set(model.predict(["lovely friendly staff", "broken and dirty"])) <= {
        "positive",
        "negative",
    }
    r = run("annotator", "revoke", proj, "ada")
    assert open_project(proj).authenticate(token) is None
    assert "ada\trevoked" in run("annotator", "list", proj).output


def test_digits_images_project(tmp_path) -> None:
    out = tmp_path / "digits"
    argv = sys.argv
    try:  # the documented script, run in-process
        sys.argv = ["make_digits_images.py", str(out), "-n", "40"]
        runpy.run_path(str(REPO / "examples" / "make_digits_images.py"), run_name="__main__")
    finally:
        sys.argv = argv
    assert len(list(out.glob("*.png"))) == 40
    proj = tmp_path / "digits-project"
    r = run("init", proj, "--data", out, "--labels", "0,1,2,3,4,5,6,7,8,9")
    assert "40 image items" in r.output
    store = open_project(proj)
    X = store.load_features()
    assert X.shape == (40, 256) and X.min() >= 0.0 and X.max() <= 1.0
    data, media = store.item_blob(0)
    assert media == "image/png" and data[:4] == b"\x89PNG"
    store.close()
    r = run("label", proj, "--as", "kim", input="10q")
    assert "saved: 1" in r.output and "saved: 0" in r.output  # each digit key is its label
    assert "@" in r.output or "#" in r.output  # the digit drawn in characters


def test_table_jsonl_project(tmp_path) -> None:
    data = tmp_path / "t.jsonl"
    data.write_text(
        "".join(
            json.dumps({"key": f"k{i}", "x": i, "y": -i, "name": "<b>n</b>"}) + "\n"
            for i in range(20)
        )
    )
    proj = tmp_path / "tab"
    r = run("init", proj, "--data", data, "--labels", "lo,hi", "--id-column", "key")
    assert "20 table items" in r.output
    store = open_project(proj)
    assert store.settings["feature_columns"] == ["x", "y"]
    assert store.item(3)["content"]["fields"]["name"] == "<b>n</b>"
    assert store.external_ids()[:2] == ["k0", "k1"]


def test_init_on_postgresql_label_through_the_service_and_export(tmp_path, postgres_url) -> None:
    """`activelab init --db postgresql://…` end to end: the folder keeps only the URL."""
    pg = "postgresql://" + postgres_url.split("://", 1)[1]  # the plain form a user types
    proj = tmp_path / "reviews-pg"
    r = run("init", proj, "--data", REVIEWS, "--labels", "positive,negative", "--db", pg)
    assert r.exit_code == 0 and "60 text items" in r.output
    assert sorted(p.name for p in proj.iterdir()) == ["activelab.json"]
    assert json.loads((proj / "activelab.json").read_text())["db"] == pg
    token = run("annotator", "add", proj, "ada").stdout.strip().splitlines()[-1]
    from activelab.app.service import LabellingService

    store = open_project(proj)
    assert store.dialect == "postgresql"
    ada = store.authenticate(token)
    svc = LabellingService(store)
    answered = []
    for k in range(5):
        item = svc.next_item(ada)
        svc.answer(ada, item.id, ("positive", "negative")[k % 2], request_id=f"r{k}")
        answered.append(item.id)
    svc.skip(ada, svc.next_item(ada).id)
    svc.undo(ada)  # takes the skip back
    svc.retrain()
    store.close()
    info = json.loads(run("status", proj, "--json").output)
    assert info["labelled"] == 5 and info["items"] == 60 and info["database"] == "postgresql"
    lines = run("export", proj, "--format", "csv").output.strip().splitlines()
    assert lines[0] == "id,label,annotator,labelled_at" and len(lines) == 6
    assert all(",ada," in line for line in lines[1:])
    out = tmp_path / "events.jsonl"
    run("export", proj, "--format", "jsonl", "--events", "--out", out)
    kinds = [json.loads(x)["kind"] for x in out.read_text().splitlines()]
    assert kinds == ["label"] * 5 + ["skip", "undo"]
    # a second init on the same database is refused and keeps the project
    r = CliRunner().invoke(
        main,
        ["init", str(tmp_path / "again"), "--data", str(REVIEWS), "--labels", "x,y", "--db", pg],
    )
    assert r.exit_code != 0 and "already holds an activelab project" in r.output
    assert _nothing_created(tmp_path, "again")
    assert len(open_project(proj).current_labels()) == 5


def test_export_with_predictions_flags_them_and_keeps_the_human_labels(
    tmp_path, table_project
) -> None:
    from activelab.app.service import LabellingService

    proj = table_project(40)
    r = run("export", proj, "--with-predictions")
    assert r.exit_code != 0 and "needs a trained model" in r.output
    store = open_project(proj)
    ada, _ = store.add_annotator("ada")
    svc = LabellingService(store)
    for k in range(8):
        item = svc.next_item(ada)
        svc.answer(ada, item.id, ("low", "high")[k % 2], request_id=f"r{k}")
    svc.retrain()
    store.close()
    plain = run("export", proj, "--format", "csv").output.strip().splitlines()
    assert plain[0] == "id,label,annotator,labelled_at" and len(plain) == 9
    human = {line.split(",")[0]: line.split(",")[1] for line in plain[1:]}
    r = run("export", proj, "--format", "csv", "--with-predictions")
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert lines[0] == (
        "id,label,annotator,labelled_at,predicted_label,predicted_proba,prediction_source"
    )
    rows = [line.split(",") for line in lines[1:]]
    assert len(rows) == 40  # every item
    store = open_project(proj)
    latest = store.latest_version()
    store.close()
    for row in rows:
        assert row[1] == human.get(row[0], "")  # the human label, untouched; empty if none
        assert row[2] == ("ada" if row[0] in human else "")
        assert row[4] in ("low", "high") and 0.5 <= float(row[5]) <= 1.0
        assert row[6] == f"model v{latest}"
    out = tmp_path / "p.jsonl"
    run("export", proj, "--format", "jsonl", "--with-predictions", "--out", out)
    docs = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(docs) == 40
    assert {d["id"]: d["label"] for d in docs if d["label"] is not None} == human
    assert all(d["prediction_source"] == f"model v{latest}" for d in docs)
    assert sum(d["label"] is None for d in docs) == 32
    r = run("export", proj, "--events", "--with-predictions")
    assert r.exit_code != 0 and "--with-predictions" in r.output


def test_status_counts_one_event_in_the_singular(tmp_path) -> None:
    data = tmp_path / "one.csv"
    data.write_text("id,text,label\na,good food,positive\nb,cold fries,\nc,nice staff,\n")
    r = run("init", tmp_path / "p", "--data", data, "--labels", "positive,negative")
    assert r.exit_code == 0, r.output
    r = run("status", tmp_path / "p")
    assert "events: 1 label, 0 skips, 0 undos" in r.output


def test_status_shows_no_model_before_labels_of_two_classes(tmp_path) -> None:
    # init stores the cold-start queue as a round of its own, with no model in it
    data = tmp_path / "t.csv"
    data.write_text("id,x,y,label\na,1,2,\nb,2,1,\nc,5,6,\nd,6,5,\n")
    assert run("init", tmp_path / "p", "--data", data, "--labels", "a,b").exit_code == 0
    r = run("status", tmp_path / "p")
    assert "model: none yet (it trains once there are labels of two classes)" in r.output
    assert "model v1" not in r.output
    info = json.loads(run("status", tmp_path / "p", "--json").output)
    assert (info["model_version"], info["model_labels"], info["accuracy"]) == (None, 0, None)
    data.write_text("id,x,y,label\na,1,2,a\nb,2,1,b\nc,5,6,\nd,6,5,\n")
    assert run("init", tmp_path / "q", "--data", data, "--labels", "a,b").exit_code == 0
    r = run("status", tmp_path / "q")
    assert "model v1 on 2 labels" in r.output
    assert "none yet (it trains" not in r.output


def test_status_of_a_store_made_without_a_name_is_named_by_its_folder(tmp_path) -> None:
    from activelab.app.store import Store

    folder = tmp_path / "bare"
    folder.mkdir()
    Store.create(f"sqlite:///{folder / 'project.db'}", {"labels": ["a", "b"]}).close()
    (folder / "activelab.json").write_text('{"format": 1, "db": "sqlite:///project.db"}')
    r = run("status", folder)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[0] == "bare: 0 items, 0 labelled (sqlite); strategy auto"
    info = json.loads(run("status", folder, "--json").output)
    assert (info["name"], info["strategy"]) == ("bare", "auto")
