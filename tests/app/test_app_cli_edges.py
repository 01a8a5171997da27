"""The command line's edges: export's format from the file name, query on a project's model,
serve on a taken port."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from activelab.app.project import open_project
from activelab.cli import main


def _invoke(*args: object) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def test_export_takes_its_format_from_the_out_suffix(tmp_path: Path, labelled_table) -> None:
    proj = tmp_path / "p"
    given = ["no", "yes"] + [""] * 18
    assert (
        _invoke("init", proj, "--data", labelled_table(given), "--labels", "no,yes").exit_code == 0
    )
    assert _invoke("export", proj, "--out", tmp_path / "l.jsonl").exit_code == 0
    rows = [json.loads(line) for line in (tmp_path / "l.jsonl").read_text().splitlines()]
    assert [(r["id"], r["label"]) for r in rows] == [("r0", "no"), ("r1", "yes")]
    assert _invoke("export", proj, "--out", tmp_path / "l.txt").exit_code == 0
    assert (tmp_path / "l.txt").read_text().startswith("id,label,annotator,labelled_at")
    # an explicit --format wins over the suffix
    assert _invoke("export", proj, "--format", "csv", "--out", tmp_path / "c.jsonl").exit_code == 0
    assert (tmp_path / "c.jsonl").read_text().startswith("id,label,")


def test_a_text_projects_model_ranks_a_pool_of_raw_texts(tmp_path: Path) -> None:
    words = ["good", "bad", "great", "awful", "fine", "poor"]
    lines = ["text,label"] + [
        f"{words[i % 6]} film {i},{'pos' if i % 2 == 0 else 'neg'}"
        if i < 8
        else f"{words[i % 6]} plot {i},"
        for i in range(30)
    ]
    data = tmp_path / "reviews.csv"
    data.write_text("\n".join(lines) + "\n")
    proj = tmp_path / "p"
    assert _invoke("init", proj, "--data", data, "--text-features", "tfidf").exit_code == 0
    assert "raw texts" in _invoke("model", proj, "--out", tmp_path / "m.joblib").output
    pool = tmp_path / "pool.csv"
    pool.write_text("id,text\n1,a good plot\n2,an awful film\n3,good and bad\n")
    r = _invoke("query", "--model", tmp_path / "m.joblib", "--data", pool, "-n", "2")
    assert r.exit_code == 0, r.output  # before: "column(s) ['text'] are not numeric"
    picks = [int(x) for x in r.stdout.split()]
    assert len(picks) == 2 and set(picks) <= {0, 1, 2}
    r = _invoke("query", "--model", tmp_path / "m.joblib", "--data", pool, "--text-column", "body")
    assert r.exit_code == 1 and "no text column 'body'; it has ['id', 'text']" in r.output
    r = _invoke("query", "--model", tmp_path / "m.joblib", "--data", pool, "--dask", "local")
    assert r.exit_code == 2 and "predicts from raw texts" in r.output


def test_an_image_projects_model_reads_image_files_and_ranks_a_folder(tmp_path: Path) -> None:
    import joblib
    import numpy as np
    from PIL import Image

    from activelab.app.project import open_project

    rng = np.random.default_rng(0)
    pets = tmp_path / "pets"
    for label, shade in (("cat", 40), ("dog", 200)):
        (pets / label).mkdir(parents=True)
        for i in range(4):
            pixels = np.clip(shade + rng.normal(0, 20, (12, 12)), 0, 255).astype("uint8")
            Image.fromarray(pixels).save(pets / label / f"{i}.png")
    proj = tmp_path / "p"
    assert (
        _invoke("init", proj, "--data", pets, "--label-folders", "--image-size", "8").exit_code == 0
    )
    r = _invoke("model", proj, "--out", tmp_path / "m.joblib")
    assert r.exit_code == 0 and "image files (paths or bytes, read at 8×8" in r.output
    model = joblib.load(tmp_path / "m.joblib")
    files = sorted(str(p) for p in pets.rglob("*.png"))
    store = open_project(proj)  # the model reads an image as init did
    assert np.allclose(model[0].transform(files), store.load_features())
    store.close()
    assert model.predict([pets / "cat" / "0.png", pets / "dog" / "0.png"]).tolist() == [
        "cat",
        "dog",
    ]
    out = tmp_path / "picks.txt"
    r = _invoke("query", "--model", tmp_path / "m.joblib", "--data", pets, "-n", "3", "--out", out)
    assert r.exit_code == 0 and "Wrote the names of image files ranked first (3)" in r.output
    assert set(out.read_text().split()) <= {
        f"{c}/{i}.png" for c in ("cat", "dog") for i in range(4)
    }
    r = _invoke("query", "--model", tmp_path / "m.joblib", "--data", tmp_path / "m.joblib")
    assert r.exit_code == 2 and "an image model ranks a folder" in r.output


def test_a_table_models_columns_travel_to_query(tmp_path: Path, labelled_table) -> None:
    proj = tmp_path / "p"
    given = ["no", "yes", "no", "yes"] + [""] * 16
    pool = labelled_table(given)
    assert _invoke("init", proj, "--data", pool, "--labels", "no,yes").exit_code == 0
    r = _invoke("model", proj, "--out", tmp_path / "m.joblib")
    assert r.exit_code == 0 and "the feature columns a, b." in r.output
    import joblib
    import pandas as pd

    model = joblib.load(tmp_path / "m.joblib")
    assert list(model.feature_names_in_) == ["a", "b"]
    frame = pd.read_csv(pool)  # id, a, b, label: the model picks its own columns
    assert model.predict(frame[["a", "b"]]).tolist()[:4] == ["no", "yes", "no", "yes"]
    r = _invoke("query", "--model", tmp_path / "m.joblib", "--pool", pool, "-n", "3")
    assert r.exit_code == 0, r.output
    assert len(r.stdout.split()) == 3 and all(0 <= int(x) < 20 for x in r.stdout.split())
    frame[["a"]].to_csv(tmp_path / "narrow.csv", index=False)
    r = _invoke("query", "--model", tmp_path / "m.joblib", "--data", tmp_path / "narrow.csv")
    assert r.exit_code == 1 and "lacks the model's feature column(s) ['b']" in r.output
    frame.assign(a=["x"] * len(frame)).to_csv(tmp_path / "text.csv", index=False)
    r = _invoke("query", "--model", tmp_path / "m.joblib", "--pool", tmp_path / "text.csv")
    assert r.exit_code == 1 and "column(s) ['a'] are not numeric" in r.output
    assert "Traceback" not in r.output


def test_serve_refuses_a_taken_port_in_one_line(tmp_path: Path, labelled_table) -> None:
    import socket

    proj = tmp_path / "p"
    r = _invoke("init", proj, "--data", labelled_table([""] * 20), "--labels", "no,yes")
    assert r.exit_code == 0, r.output
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        r = _invoke("serve", proj, "--port", port)
    assert r.exit_code == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in r.output and "choose another" in r.output
    r = _invoke("serve", proj, "--host", "no-such-host.invalid")
    assert r.exit_code == 1 and "Cannot listen on host 'no-such-host.invalid'" in r.output


def test_the_label_studio_backend_refuses_a_taken_port_in_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        r = _invoke("ls-backend", "--port", port, "--state-dir", tmp_path / "state")
    assert r.exit_code == 1 and f"Cannot listen on 127.0.0.1:{port}" in r.output
    assert "Traceback" not in r.output


def test_the_imported_prefix_is_kept_for_labels_read_from_files(
    tmp_path: Path, labelled_table
) -> None:
    proj = tmp_path / "p"
    r = _invoke(
        "init", proj, "--data", labelled_table(["no", "yes"] + [""] * 18), "--labels", "no,yes"
    )
    assert r.exit_code == 0, r.output
    r = _invoke("annotator", "add", proj, "imported:eve")
    assert r.exit_code == 1 and "mark labels read from files; pick another name" in r.output
    assert _invoke("annotator", "add", proj, "eve").exit_code == 0


def test_label_as_a_padded_or_blank_name_is_one_annotator_or_one_line(
    tmp_path: Path, labelled_table
) -> None:
    proj = tmp_path / "p"
    r = _invoke(
        "init", proj, "--data", labelled_table(["no", "yes"] + [""] * 18), "--labels", "no,yes"
    )
    assert r.exit_code == 0, r.output
    assert _invoke("annotator", "add", proj, "eve").exit_code == 0
    r = CliRunner().invoke(main, ["label", str(proj), "--as", " eve "], input="q")
    assert r.exit_code == 0 and "as eve." in r.output, r.output  # eve, not a second one
    r = CliRunner().invoke(main, ["label", str(proj), "--as", "   "], input="q")
    assert r.exit_code == 1 and "--as '': An annotator name must be 1 to 128" in r.output
    assert "Traceback" not in r.output
    store = open_project(proj)
    assert [a.name for a in store.annotators()] == ["imported:file", "eve"]
    store.close()


def test_the_terminal_answers_digit_labels_with_their_own_key_as_the_page_does(
    tmp_path: Path,
) -> None:
    rows = "\n".join(f"r{i},{i % 3},{(i * 7) % 5}" for i in range(12))
    (tmp_path / "d.csv").write_text("id,a,b\n" + rows + "\n")
    proj = tmp_path / "p"
    r = _invoke("init", proj, "--data", tmp_path / "d.csv", "--labels", "0,1,2")
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["label", str(proj), "--as", "kim"], input="2019q")
    assert r.exit_code == 0, r.output
    assert "[0] 0  [1] 1  [2] 2" in r.output and "0-9 answer with that label" in r.output
    assert "No label on key 9" in r.output
    store = open_project(proj)
    events = [e for e in store.events() if e.kind == "label"]
    store.close()
    assert [e.label for e in events] == ["2", "0", "1"]  # key 2 is label "2", not the third


def test_mixed_labels_keep_their_digit_and_the_others_take_the_free_keys(
    tmp_path: Path,
) -> None:
    rows = "\n".join(f"r{i},{i % 3},{(i * 7) % 5}" for i in range(12))
    (tmp_path / "d.csv").write_text("id,a,b\n" + rows + "\n")
    proj = tmp_path / "p"
    r = _invoke("init", proj, "--data", tmp_path / "d.csv", "--labels", "2,cat")
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["label", str(proj), "--as", "kim"], input="21q")
    assert r.exit_code == 0, r.output
    assert "[2] 2  [1] cat" in r.output and "the digit shown by a label answers" in r.output
    store = open_project(proj)
    events = [e for e in store.events() if e.kind == "label"]
    store.close()
    assert [e.label for e in events] == ["2", "cat"]  # key 2 answered "cat" by position


def test_out_paths_get_their_folder_or_a_one_line_error(tmp_path: Path, labelled_table) -> None:
    proj = tmp_path / "p"
    r = _invoke(
        "init", proj, "--data", labelled_table(["no", "yes"] + [""] * 18), "--labels", "no,yes"
    )
    assert r.exit_code == 0, r.output
    assert _invoke("export", proj, "--out", tmp_path / "new" / "labels.csv").exit_code == 0
    assert (tmp_path / "new" / "labels.csv").read_text().startswith("id,label")
    assert _invoke("model", proj, "--out", tmp_path / "models" / "m.joblib").exit_code == 0
    (tmp_path / "a-file").write_text("")
    r = _invoke("export", proj, "--out", tmp_path / "a-file" / "labels.csv")
    assert r.exit_code == 1 and r.output.startswith("Error: Cannot use ")
    assert "Traceback" not in r.output


def _keys_then(monkeypatch, keys: str, stop: type[BaseException]) -> None:
    """The terminal's key reader gives ``keys``, then raises ``stop`` as click does for
    Ctrl-C (KeyboardInterrupt) and Ctrl-D (EOFError) in a real terminal."""
    import click

    pressed = iter(keys)

    def getchar(echo: bool = False) -> str:
        for key in pressed:
            return key
        raise stop()

    monkeypatch.setattr(click, "getchar", getchar)


@pytest.mark.parametrize("stop", [KeyboardInterrupt, EOFError], ids=["ctrl-c", "ctrl-d"])
def test_ctrl_c_or_ctrl_d_mid_item_quits_and_gives_the_item_back(
    tmp_path: Path, labelled_table, monkeypatch, stop
) -> None:
    proj = tmp_path / "p"
    assert (
        _invoke("init", proj, "--data", labelled_table([""] * 20), "--labels", "no,yes").exit_code
        == 0
    )
    _keys_then(monkeypatch, "1", stop)
    r = CliRunner().invoke(main, ["label", str(proj), "--as", "kim"])
    assert r.exit_code == 0, r.output
    assert "saved: no" in r.output and "Aborted" not in r.output
    store = open_project(proj)
    kim = store.annotator_by_name("kim")
    assert len(store.current_labels()) == 1  # the answer given stays
    assert store.held_item(kim.id) is None  # the item on screen is free for the others now
    store.close()


def test_a_key_typed_wrong_says_so_and_caps_lock_keys_still_work(
    tmp_path: Path, labelled_table
) -> None:
    proj = tmp_path / "p"
    assert (
        _invoke("init", proj, "--data", labelled_table([""] * 20), "--labels", "no,yes").exit_code
        == 0
    )
    r = CliRunner().invoke(main, ["label", str(proj), "--as", "kim"], input="x\t2S1UQ")
    assert r.exit_code == 0, r.output
    assert "Key 'x' does nothing. keys: 1-9 (0 = tenth) answer" in r.output
    assert "Key Tab does nothing." in r.output
    assert "saved: yes" in r.output and "skipped" in r.output and "undone" in r.output
    store = open_project(proj)
    assert store.count_events() == {"label": 2, "skip": 1, "undo": 1}
    store.close()


def test_labels_past_the_tenth_are_shown_and_answered_by_typing_their_name(
    tmp_path: Path, labelled_table
) -> None:
    labels = [f"topic{i:02d}" for i in range(40)]
    proj = tmp_path / "p"
    r = _invoke("init", proj, "--data", labelled_table([""] * 20), "--labels", ",".join(labels))
    assert r.exit_code == 0, r.output
    # l + a name in another case, l + the start of several names, l + Enter alone, key 1
    keys = "lTOPIC37\nltopic3\nl\n1q"
    r = CliRunner().invoke(main, ["label", str(proj), "--as", "kim"], input=keys)
    assert r.exit_code == 0, r.output
    assert "[0] topic09\n[l] then a name: topic10, topic11," in r.output
    assert "l type a label's name" in r.output
    assert "'topic3' is the start of several labels: topic30" in r.output
    assert "Not answered." in r.output  # Enter alone
    store = open_project(proj)
    events = [e.label for e in store.events() if e.kind == "label"]
    store.close()
    assert events == ["topic37", "topic00"]


def test_labels_that_differ_only_in_case_are_picked_by_their_exact_spelling(
    tmp_path: Path, labelled_table
) -> None:
    labels = [f"t{i}" for i in range(10)] + ["Cat", "cat"]
    proj = tmp_path / "p"
    r = _invoke("init", proj, "--data", labelled_table([""] * 20), "--labels", ",".join(labels))
    assert r.exit_code == 0, r.output
    # another case matches both: typing more cannot help, the exact spelling can
    r = CliRunner().invoke(main, ["label", str(proj), "--as", "kim"], input="lCAT\nlCat\nlcat\nq")
    assert r.exit_code == 0, r.output
    assert (
        "'CAT' is several labels that differ only in case: Cat, cat; type one exactly" in r.output
    )
    assert "type more of the name" not in r.output
    store = open_project(proj)
    events = [e.label for e in store.events() if e.kind == "label"]
    store.close()
    assert events == ["Cat", "cat"]


def test_quitting_after_undos_gives_back_every_item_left_on_screen(
    tmp_path: Path, labelled_table
) -> None:
    proj = tmp_path / "p"
    r = _invoke("init", proj, "--data", labelled_table([""] * 20), "--labels", "no,yes")
    assert r.exit_code == 0, r.output
    # three answers, two undos (each brings an earlier item back over the one on screen)
    r = CliRunner().invoke(main, ["label", str(proj), "--as", "kim"], input="121uuq")
    assert r.exit_code == 0, r.output
    store = open_project(proj)
    assert len(store.current_labels()) == 1
    assert store.held_item(store.annotator_by_name("kim").id) is None  # none kept from the others
    store.close()


def test_a_terminal_without_utf8_shows_items_in_plain_characters(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(
        "id,text\na,caf\u00e9 \U0001f600 \u05e9\u05dc\u05d5\u05dd \u2014 fine\n", encoding="utf-8"
    )
    proj = tmp_path / "p"
    r = _invoke("init", proj, "--data", tmp_path / "t.csv", "--labels", "no,yes")
    assert r.exit_code == 0, r.output
    r = CliRunner(charset="ascii").invoke(main, ["label", str(proj), "--as", "kim"], input="2")
    assert r.exit_code == 0, r.exception  # no UnicodeEncodeError
    assert "answer - s skip - u undo" in r.output and "caf? ? ???? - fine" in r.output
    assert "saved: yes" in r.output


def test_the_terminal_names_an_item_taken_over_by_its_own_id(
    tmp_path: Path, labelled_table, monkeypatch
) -> None:
    import click

    proj = tmp_path / "p"
    r = _invoke(
        "init", proj, "--data", labelled_table(["no", "yes"] + [""] * 18), "--labels", "no,yes"
    )
    assert r.exit_code == 0, r.output
    getchar, taken = click.getchar, []

    def take_over_first(*args: object, **kwargs: object) -> str:
        if not taken:  # kim's reservation ran out and bob took the item meanwhile
            store = open_project(proj)
            kim = store.annotator_by_name("kim")
            item = store.held_item(kim.id)
            store.release(item, kim.id)
            assert store.lease(item, store.add_annotator("bob")[0].id, seconds=600)
            taken.append(store.item(item)["external_id"])
            store.close()
        return getchar(*args, **kwargs)

    monkeypatch.setattr(click, "getchar", take_over_first)
    r = CliRunner().invoke(main, ["label", str(proj), "--as", "kim"], input="1q")
    assert r.exit_code == 0, r.output
    said = " ".join(r.output.split())
    assert f"Not saved for item {taken[0]}: it was already answered" in said, said
    assert "/api/next" not in said  # the web API's next step is not the terminal's
    store = open_project(proj)
    kim = store.annotator_by_name("kim")
    assert [e for e in store.events() if e.annotator_id == kim.id] == []  # nothing stored
    store.close()
