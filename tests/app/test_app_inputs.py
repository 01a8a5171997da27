"""Input edges: empty, damaged and oversized images, NUL characters, links out of the image
folder, and formula-like cells in the CSV export."""

from __future__ import annotations

import csv
import io
import struct
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from activelab.app.ingest import IngestError, read_items
from activelab.app.project import create_project, open_project
from activelab.cli import main


def _images(folder: Path, n: int = 3) -> Path:
    folder.mkdir(exist_ok=True)
    for i in range(n):
        Image.new("L", (8, 8), color=50 * i).save(folder / f"ok-{i}.png")
    return folder


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels (what a decompression bomb declares)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "the file is empty (0 bytes)"),
        (b"this is not an image at all", "not a readable PNG or JPEG image"),
        (_png_header_only(15_000, 15_000), "pixel"),
    ],
    ids=["empty", "garbage", "bomb"],
)
def test_bad_images_get_a_clear_error_naming_the_file(tmp_path: Path, content, needle) -> None:
    folder = _images(tmp_path / "imgs")
    (folder / "bad.png").write_bytes(content)
    with pytest.raises(IngestError) as info:
        read_items(folder)
    message = str(info.value)
    assert "bad.png" in message and needle in message
    assert "BytesIO" not in message and "0x" not in message
    # through the CLI: one line, no traceback, nothing created
    result = CliRunner().invoke(
        main, ["init", str(tmp_path / "proj"), "--data", str(folder), "--labels", "a,b"]
    )
    assert result.exit_code != 0 and "bad.png" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "proj").exists()


def test_a_declared_size_over_the_limit_is_refused(tmp_path: Path, monkeypatch) -> None:
    import activelab.app.ingest as ingest

    monkeypatch.setattr(ingest, "MAX_IMAGE_PIXELS", 1000)
    folder = _images(tmp_path / "imgs")
    Image.new("L", (40, 40)).save(folder / "big.png")
    with pytest.raises(IngestError, match=r"big\.png: 40×40 pixels is over the limit of 1,000"):
        read_items(folder)


def test_sixteen_bit_grey_images_keep_their_grey_levels(tmp_path: Path) -> None:
    import numpy as np

    from activelab.app.ingest import ImagePixels

    folder = tmp_path / "scans"
    folder.mkdir()
    ramp = np.linspace(0, 65535, 32 * 32).reshape(32, 32)
    Image.fromarray(ramp.astype(np.uint16)).save(folder / "wide.png")  # mode I;16
    Image.fromarray((ramp / 257).round().astype(np.uint8)).save(folder / "narrow.png")
    X = read_items(folder, image_size=4).X  # sorted: narrow.png, wide.png
    assert 0.1 < X[1].min() < 0.2 and 0.8 < X[1].max() < 0.9  # not clipped to white
    np.testing.assert_allclose(X[1], X[0], atol=0.01)
    np.testing.assert_allclose(ImagePixels(size=4).transform([folder / "wide.png"])[0], X[1])


def test_image_pixels_refuses_pixels_already_read_in_one_line() -> None:
    import numpy as np

    from activelab.app.ingest import ImagePixels

    with pytest.raises(TypeError, match=r"numeric array of shape \(2, 16\).*model\[-1\]"):
        ImagePixels(size=4).transform(np.zeros((2, 16)))
    with pytest.raises(TypeError, match="got NoneType at position 1"):
        ImagePixels(size=4).transform([b"", None])


def _drawing_and_photo(folder: Path) -> Path:
    """A black stroke on a transparent background, and a photo stored sideways (EXIF)."""
    import numpy as np

    folder.mkdir()
    ink = np.zeros((32, 32, 4), dtype=np.uint8)
    ink[:, 14:18, 3] = 255  # only the stroke is opaque (and black)
    Image.fromarray(ink, "RGBA").save(folder / "a-drawing.png")
    photo = np.full((32, 64), 255, dtype=np.uint8)
    photo[:, :32] = 0  # stored: dark left half; turned 90° clockwise to view: dark top
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    Image.fromarray(photo).save(folder / "b-photo.jpg", exif=exif.tobytes(), quality=95)
    return folder


def test_images_are_read_as_the_page_shows_them_and_old_projects_as_before(tmp_path) -> None:
    import pickle

    import numpy as np

    from activelab.app.ingest import ImagePixels

    folder = _drawing_and_photo(tmp_path / "imgs")
    X = read_items(folder, image_size=8).X
    drawing, photo = X[0].reshape(8, 8), X[1].reshape(8, 8)
    assert drawing.mean() > 0.6 and drawing[:, 0].min() > 0.9  # white page, one dark stroke
    assert photo[:3].mean() < 0.1 and photo[-3:].mean() > 0.9  # upright: dark at the top
    old = read_items(folder, image_size=8, image_pixels=1).X  # as projects made before
    assert old[0].max() < 0.05 and old[1].reshape(8, 8)[:, :3].max() < 0.1  # sideways
    # a project records how it reads its images; one without the record reads them as before
    runner = CliRunner()
    init = ["init", str(tmp_path / "p"), "--data", str(folder), "--labels", "ink,photo"]
    assert runner.invoke(main, init).exit_code == 0
    store = open_project(tmp_path / "p")
    assert store.settings["image_pixels"] == 2
    store.update_settings(image_pixels=1)  # as a project made before it was recorded
    store.close()
    more = _drawing_and_photo(tmp_path / "more")
    for f in more.iterdir():
        f.rename(more / f"new-{f.name}")
    run = runner.invoke(main, ["add", str(tmp_path / "p"), "--data", str(more)])
    assert run.exit_code == 0, run.output
    store = open_project(tmp_path / "p")
    feats = store.load_features()
    store.close()
    np.testing.assert_allclose(feats[2:], read_items(more, image_pixels=1).X)
    # a model saved before ImagePixels had `pixels` reads images the first way
    saved = pickle.loads(pickle.dumps(ImagePixels(size=8)).replace(b"pixels", b"pixelz"))
    assert saved.pixels == 1


def test_the_terminal_draws_a_transparent_drawing_on_white(tmp_path) -> None:
    from activelab.cli.label import _image_art

    folder = _drawing_and_photo(tmp_path / "imgs")
    art = _image_art((folder / "a-drawing.png").read_bytes(), width=16).splitlines()
    assert art[0][0] == art[0][-1] == " " and art[0][8] != " "


def test_links_out_of_the_image_folder_are_refused(tmp_path: Path) -> None:
    folder = _images(tmp_path / "imgs")
    outside = tmp_path / "secret.png"
    Image.new("L", (8, 8)).save(outside)
    (folder / "inside-link.png").symlink_to(folder / "ok-0.png")  # inside: fine
    assert len(read_items(folder).rows) == 4
    (folder / "escape.png").symlink_to(outside)
    with pytest.raises(IngestError, match=r"escape\.png: a symbolic link .* outside the image"):
        read_items(folder)


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_nul_characters_in_text_are_refused_with_the_line(tmp_path: Path, suffix) -> None:
    path = tmp_path / f"items.{suffix}"
    if suffix == "csv":
        path.write_text("id,text\na,fine\nb,bro\x00ken\n")
        line = 3
    else:
        path.write_text('{"id": "a", "text": "fine"}\n{"id": "b", "text": "bro\\u0000ken"}\n')
        line = 2
    with pytest.raises(IngestError, match=rf"line {line}: column 'text' holds a NUL"):
        read_items(path)


def test_csv_export_escapes_formula_like_cells(tmp_path: Path) -> None:
    data = tmp_path / "items.csv"
    with data.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        w.writerows(
            [
                ['=HYPERLINK("http://evil.example","click")', "one thing"],
                ["@SUM(A1:A9)", "two things"],
                ["+1+1", "three"],
                ["plain", "four"],
            ]
        )
    proj = create_project(tmp_path / "proj", read_items(data), ["-1", "+1"])
    store = open_project(proj)
    ann, _ = store.add_annotator("=cmd|' /C calc'!A0")
    for i in range(4):
        store.append_event(i, ann.id, "label", label="-1")
    store.close()
    out = CliRunner().invoke(main, ["export", str(proj), "--format", "csv"]).output
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["id"] for r in rows] == [
        '\'=HYPERLINK("http://evil.example","click")',
        "'@SUM(A1:A9)",
        "'+1+1",
        "plain",
    ]
    assert {r["annotator"] for r in rows} == {"'=cmd|' /C calc'!A0"}
    assert {r["label"] for r in rows} == {"-1"}  # a number, not a formula: left alone
    events = CliRunner().invoke(main, ["export", str(proj), "--events"]).output
    assert ",=" not in events and "\n=" not in events


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("semi.csv", "id;text;label\n1;gut;pos\n2;schlecht;neg\n"),  # a spreadsheet's export
        ("tabs.tsv", "id\ttext\tlabel\n1\tgood\tpos\n2\tbad\tneg\n"),
        ("tabs.csv", "id\ttext\tlabel\n1\tgood\tpos\n2\tbad\tneg\n"),
    ],
)
def test_semicolon_and_tab_separated_files_are_read(tmp_path: Path, name, content) -> None:
    path = tmp_path / name
    path.write_text(content)
    data = read_items(path, text_features="tfidf")
    assert data.kind == "text" and [r["external_id"] for r in data.rows] == ["1", "2"]
    assert data.given_labels == {0: "pos", 1: "neg"}


def test_a_semicolon_file_reads_decimal_commas_as_its_comma_twin(tmp_path: Path) -> None:
    import numpy as np

    rows = [("1", "2", "1.5", "7"), ("2", "3", "2.25", "-1"), ("3", "4", "0.5", "3")]
    comma, semicolon = tmp_path / "comma.csv", tmp_path / "semicolon.csv"
    comma.write_text("id,size,price,score\n" + "".join(",".join(r) + "\n" for r in rows))
    semicolon.write_text(
        "id;size;price;score\n" + "".join(";".join(r).replace(".", ",") + "\n" for r in rows)
    )
    a, b = read_items(comma), read_items(semicolon)
    assert (
        a.settings["feature_columns"]
        == b.settings["feature_columns"]
        == [
            "size",
            "price",
            "score",
        ]
    )
    np.testing.assert_allclose(a.X, b.X)
    assert b.rows[0]["content"]["fields"]["price"] == "1,5"  # shown as the file wrote it


def test_init_names_the_feature_columns_and_those_left_out(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('id,size,price,city\n1,2,"1,5",Oslo\n2,3,"2,5",Rome\n')
    r = CliRunner().invoke(
        main, ["init", str(tmp_path / "p"), "--data", str(path), "--labels", "a,b"]
    )
    assert r.exit_code == 0, r.output
    assert (
        "features size (neither numbers nor categories, so shown but not learnt from: price, "
        "city)" in r.output
    )


def test_an_excel_sheet_is_read_like_a_csv(tmp_path: Path) -> None:
    import datetime

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "text", "seen", "label", None])  # a trailing unnamed, empty column
    sheet.append(["a", "good film", datetime.date(2026, 1, 1), "pos"])
    sheet.append([])  # an empty row is skipped
    sheet.append(["b", "bad film", datetime.date(2026, 1, 2), None])
    book.create_sheet("notes").append(["only the first sheet is read"])
    book.save(tmp_path / "items.xlsx")
    data = read_items(tmp_path / "items.xlsx", text_features="tfidf")
    assert [r["external_id"] for r in data.rows] == ["a", "b"]
    assert data.rows[0]["content"] == {
        "text": "good film",
        "id": "a",
        "seen": "2026-01-01T00:00:00",
    }
    assert data.given_labels == {0: "pos"} and data.given_lines == {0: 2}
    table = openpyxl.Workbook()
    table.active.append(["x", "y", ""])
    table.active.append([1.5, 2, 7])  # a value under a column without a name
    table.save(tmp_path / "table.xlsx")
    with pytest.raises(IngestError, match=r"row 2, column 3: a value in a column without a name"):
        read_items(tmp_path / "table.xlsx")
    (tmp_path / "bad.xlsx").write_text("not a workbook")
    with pytest.raises(IngestError, match=r"bad.xlsx: not a readable Excel .xlsx workbook"):
        read_items(tmp_path / "bad.xlsx")


def test_a_column_named_twice_is_refused_with_its_places(tmp_path: Path) -> None:
    import openpyxl

    (tmp_path / "t.csv").write_text("id,text,label,text\n1,hi,pos,there\n")
    with pytest.raises(IngestError) as caught:
        read_items(tmp_path / "t.csv", text_features="tfidf")
    assert str(caught.value) == (
        f"{tmp_path / 't.csv'}, line 1: the header names column 'text' twice (columns 2 and 4); "
        "give each column its own name."
    )
    book = openpyxl.Workbook()
    book.active.append(["id", "text", None, "id", None])  # unnamed columns are not compared
    book.active.append(["a", "good film", None, "b"])
    book.save(tmp_path / "t.xlsx")
    with pytest.raises(IngestError, match=r"t.xlsx, row 1: the header names column 'id' twice \("):
        read_items(tmp_path / "t.xlsx", text_features="tfidf")


def test_a_pandas_index_column_is_refused_naming_it_and_nothing_is_stored(tmp_path: Path) -> None:
    import pandas as pd

    def run(*args: object) -> object:
        return CliRunner().invoke(main, [str(a) for a in args])

    frame = pd.DataFrame({"text": ["good film", "bad film"], "label": ["pos", ""]})
    frame.to_csv(tmp_path / "items.csv")  # the index goes first, under no name
    r = run("init", tmp_path / "p", "--data", tmp_path / "items.csv", "--labels", "pos,neg")
    assert r.exit_code == 1 and not (tmp_path / "p").exists()
    assert r.output == (
        f"Error: {tmp_path / 'items.csv'}, line 2, column 1: a value in a column without a name; "
        "name the column in the header row (a pandas index: save with to_csv(index=False)).\n"
    )
    frame.to_excel(tmp_path / "items.xlsx")
    with pytest.raises(IngestError, match=r"row 2, column 1: .* with to_excel\(index=False\)\)\.$"):
        read_items(tmp_path / "items.xlsx", text_features="tfidf")
    # a later unnamed column with a value is refused too, without the pandas hint
    (tmp_path / "late.csv").write_text("id,text,\n1,hi,\n2,yo,x\n")
    with pytest.raises(IngestError, match=r"line 3, column 3: .* in the header row\.$"):
        read_items(tmp_path / "late.csv", text_features="tfidf")
    # add refuses such a file too: the project keeps what it had
    frame.to_csv(tmp_path / "ok.csv", index=False)
    assert (
        run("init", tmp_path / "p", "--data", tmp_path / "ok.csv", "--labels", "pos,neg").exit_code
        == 0
    )
    r = run("add", tmp_path / "p", "--data", tmp_path / "items.csv")
    assert r.exit_code == 1 and "to_csv(index=False)" in r.output
    store = open_project(tmp_path / "p")
    assert store.n_items() == 2 and "" not in store.item(0)["content"]
    store.close()


def test_columns_without_a_name_or_a_value_are_left_out_as_in_a_sheet(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,text,,\n1,hi,,\n2,yo, ,\n")  # trailing commas
    data = read_items(tmp_path / "t.csv", text_features="tfidf")
    assert [r["content"] for r in data.rows] == [
        {"text": "hi", "id": "1"},
        {"text": "yo", "id": "2"},
    ]
    (tmp_path / "n.csv").write_text(",x,y\n,1,2\n,3,4\n")  # an empty first column
    data = read_items(tmp_path / "n.csv")
    assert data.settings["feature_columns"] == ["x", "y"]
    assert "" not in data.rows[0]["content"]


def test_fields_are_shown_as_the_file_wrote_them_never_none_or_nan(tmp_path: Path) -> None:
    from activelab.app.ingest import shown_fields

    (tmp_path / "a.jsonl").write_text(
        '{"id": 1, "text": "good", "meta": {"a": 1}, "tags": ["x"], "flag": true, "n": null}\n'
        '{"id": 2, "text": "bad", "meta": null, "tags": [], "flag": false, "n": 3}\n'
    )
    create_project(tmp_path / "p", read_items(tmp_path / "a.jsonl"), ["pos", "neg"])
    store = open_project(tmp_path / "p")
    shown = [shown_fields("text", store.item(i)["content"]) for i in range(2)]
    store.close()
    assert shown == [
        {"id": "1", "meta": '{"a": 1}', "tags": '["x"]', "flag": "true", "n": ""},
        {"id": "2", "meta": "", "tags": "[]", "flag": "false", "n": "3"},
    ]
    assert shown_fields("table", {"fields": {"note": float("nan"), "x": 1.5}}) == {
        "note": "",
        "x": "1.5",
    }


def test_a_json_lines_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    from activelab.interop import read_tasks

    lines = '{"id": "a", "text": "good film"}\n{"id": "b", "text": "bad film"}\n'
    (tmp_path / "items.jsonl").write_text(lines, encoding="utf-8-sig")  # as Notepad saves it
    data = read_items(tmp_path / "items.jsonl", text_features="tfidf")
    assert [r["external_id"] for r in data.rows] == ["a", "b"]  # was "line 1: invalid JSON"
    answers = '{"text": "good film", "answer": "accept", "accept": ["pos"]}\n'
    (tmp_path / "answers.jsonl").write_text(answers, encoding="utf-8-sig")
    assert read_tasks(tmp_path / "answers.jsonl", "prodigy")[0].data == {"text": "good film"}
