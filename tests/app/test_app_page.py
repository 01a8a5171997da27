"""The labelling page in headless Chromium (Debian's, through Playwright), at desktop and
phone sizes: every bug of the page audit, and an axe-core accessibility scan."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from activelab.app.ingest import read_items
from activelab.app.project import create_project, open_project
from activelab.app.service import LabellingService

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[2] / ".cache/npm/node_modules/axe-core/axe.min.js"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install -y chromium"
    expect.set_options(timeout=15_000)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def make(tmp_path: Path, serve_in_thread):
    """make(rows or folder, labels, **options) -> (url, token, store), served in this process."""
    opened: list[tuple[object, object]] = []

    def _make(data, labels, *, before=None, **options):
        if isinstance(data, list):
            path = tmp_path / f"items-{len(opened)}.csv"
            with path.open("w", newline="") as fh:
                csv.writer(fh).writerows(data)
            data = path
        proj = create_project(tmp_path / f"proj-{len(opened)}", read_items(data), labels, **options)
        store = open_project(proj)
        ann, token = store.add_annotator("ada")
        svc = LabellingService(store)
        if before is not None:
            before(svc, ann)
        ctx = serve_in_thread(svc, run_trainer=False)  # the page alone is under test
        url = ctx.__enter__()
        opened.append((ctx, store))
        return url, token, store

    yield _make
    for ctx, store in opened:
        ctx.__exit__(None, None, None)
        store.close()


def _texts(n: int) -> list[list[str]]:
    return [["id", "text"]] + [
        [f"t{i}", f"{'great' if i % 2 else 'awful'} thing {i}"] for i in range(n)
    ]


def _scans(tmp_path: Path) -> Path:
    """A folder of three small grey PNGs, ``scan-0.png`` to ``scan-2.png``."""
    from PIL import Image

    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        Image.new("L", (8, 8), color=60 * i).save(folder / f"scan-{i}.png")
    return folder


def _open(browser, url: str, token: str, viewport=DESKTOP, bypass_csp: bool = False):
    # bypass_csp: only so that the test may inject axe-core into the page
    page = browser.new_page(viewport=viewport, bypass_csp=bypass_csp)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/?token={token}")
    page.wait_for_selector("#item-id:not(:empty), #done:not([hidden])")
    return page, errors


def _axe(page) -> list[dict]:
    assert AXE.exists(), f"{AXE} is missing: run bash scripts/install.sh (npm install axe-core)"
    page.add_script_tag(content=AXE.read_text())
    result = page.evaluate("async () => JSON.stringify(await axe.run(document))")
    found = json.loads(result)["violations"]
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def _no_sideways_scroll(page) -> None:
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"sideways scroll: {widths}"


def _small_targets(page) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll('button, summary, input, a')]
          .filter((el) => el.offsetParent !== null && !el.classList.contains('skip-link'))
          .map((el) => [el.id || el.textContent.trim().slice(0, 20), el.getBoundingClientRect()])
          .filter(([, r]) => r.height < 44 || r.width < 44)
          .map(([name, r]) => name + ' ' + Math.round(r.width) + 'x' + Math.round(r.height))"""
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_queued_keys_all_stored_then_done_hides_the_buttons(browser, make, viewport) -> None:
    from playwright.sync_api import expect

    url, token, store = make(_texts(8), ["good", "bad"])
    page, errors = _open(browser, url, token, viewport)
    expect(page.locator("#confirm-button")).to_be_hidden()  # single-label: no confirm
    expect(page.locator("#announce")).to_contain_text("New item")
    for key in "12121212":  # eight presses without waiting for the page
        page.keyboard.press(key)
    expect(page.locator("#done")).to_be_visible(timeout=30_000)
    assert store.count_events()["label"] == 8
    assert len(store.current_labels()) == 8
    for sel in ("#labels", "#confirm-button", "#skip-button", "#guess"):
        expect(page.locator(sel)).to_be_hidden()
    expect(page.locator("#progress-labelled")).to_have_text("8")
    _no_sideways_scroll(page)
    assert not errors, errors
    page.close()


def test_digit_labels_answer_with_the_digit_shown(browser, make) -> None:
    from playwright.sync_api import expect

    digits = [str(d) for d in range(10)]
    url, token, store = make(_texts(12), digits)
    page, _ = _open(browser, url, token)
    buttons = page.locator("#labels button")
    expect(buttons).to_have_count(10)
    for k in range(10):
        btn = buttons.nth(k)
        assert btn.locator("kbd").text_content() == btn.locator(".name").text_content()
    for key in ("3", "0", "9"):
        shown = page.locator("#item-id").text_content()
        page.keyboard.press(key)
        expect(page.locator("#item-id")).not_to_have_text(shown)
    got = [e.label for e in store.events() if e.kind == "label"]
    assert got == ["3", "0", "9"]
    page.close()


def test_mixed_labels_keep_their_digit_and_the_others_take_free_keys(browser, make) -> None:
    from playwright.sync_api import expect

    url, token, store = make(_texts(6), ["2", "cat", "0"])
    page, errors = _open(browser, url, token)
    buttons = page.locator("#labels button")
    expect(buttons).to_have_count(3)
    assert [buttons.nth(k).locator("kbd").text_content() for k in range(3)] == ["2", "1", "0"]
    for key in ("2", "1", "0"):  # key 2 answered "cat", by position, and 1 answered "2"
        shown = page.locator("#item-id").text_content()
        page.keyboard.press(key)
        expect(page.locator("#item-id")).not_to_have_text(shown)
    assert [e.label for e in store.events() if e.kind == "label"] == ["2", "cat", "0"]
    assert not errors, errors
    page.close()


def test_multi_label_toggles_keep_focus_and_enter_confirms(browser, make) -> None:
    from playwright.sync_api import expect

    url, token, store = make(_texts(6), ["red", "green", "blue"], multilabel=True)
    page, _ = _open(browser, url, token)
    expect(page.locator("#confirm-button")).to_be_visible()
    green = page.locator("#labels button", has_text="green")
    green.click()
    expect(green).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("document.activeElement.dataset.label") == "green"
    page.keyboard.press("3")
    expect(page.locator("#labels button", has_text="blue")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert page.evaluate("document.activeElement.dataset.label") == "green"
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("green, blue")
    assert [e.label for e in store.events()] == ['["green", "blue"]']
    page.close()


def test_enter_on_a_link_or_the_details_does_not_confirm_the_ticked_labels(browser, make) -> None:
    from playwright.sync_api import expect

    url, token, store = make(_texts(6), ["red", "green"], multilabel=True)
    page, errors = _open(browser, url, token)
    page.keyboard.press("1")
    page.locator("#details summary").focus()
    page.keyboard.press("Enter")  # opens "Model and stopping", answers nothing
    expect(page.locator("#details")).to_have_attribute("open", "")
    page.locator("#undo-button").focus()
    page.keyboard.press("Enter")  # presses Undo (nothing to undo yet), answers nothing
    expect(page.locator("#status")).to_contain_text("undo")
    assert store.events() == [] and errors == []
    expect(page.locator("#labels button", has_text="red")).to_have_attribute("aria-pressed", "true")
    page.locator("#labels button", has_text="red").focus()
    page.keyboard.press("Enter")  # on a label button Enter still confirms
    expect(page.locator("#status")).to_contain_text("Saved: red")
    assert [e.label for e in store.events()] == ['["red"]']
    page.close()


def test_help_dialog_login_error_404_and_docs(browser, make) -> None:
    from playwright.sync_api import expect

    url, token, _ = make(_texts(4), ["good", "bad"])
    page, _ = _open(browser, url, token)
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "help-close"
    page.keyboard.press("1")  # keys do not answer behind the dialog
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()
    page.wait_for_timeout(300)
    page.close()
    # a wrong token: the sign-in form says why
    page = browser.new_page()
    page.goto(f"{url}/?token=not-a-token")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#login-error")).to_contain_text("refused")
    # a page that does not exist is a page, not JSON
    resp = page.goto(f"{url}/no/such/page")
    assert resp.status == 404 and "text/html" in resp.headers["content-type"]
    expect(page.locator("h1")).to_have_text("Page not found")
    # /docs draws the API documentation from local files (no CDN, CSP respected)
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security" in m.text else None)
    page.goto(f"{url}/docs")
    expect(page.locator("#swagger-ui .info .title")).to_contain_text("activelab labelling API")
    expect(page.locator("#swagger-ui .opblock").first).to_be_visible()
    assert not csp, csp
    page.close()


def test_no_model_version_beside_no_model_yet_and_intervals_never_zero_width(browser, make) -> None:
    from playwright.sync_api import expect

    def one_label(svc: LabellingService, ann) -> None:
        svc.answer(ann, svc.next_item(ann).id, "good")
        svc.retrain()  # one class only: no model, but a version (the cold-start queue)

    url, token, store = make(_texts(6), ["good", "bad"], before=one_label)
    assert store.latest_version() is not None
    page, _ = _open(browser, url, token)
    expect(page.locator("#guess")).to_contain_text("No model yet")
    expect(page.locator("#progress-model")).to_contain_text("no model yet")
    assert " on " not in page.locator("#progress-model").text_content()
    # 1,444 of 1,444 right: a Wilson interval shown with the decimals that keep it apart
    shown = page.evaluate("pcts([1, 0.99735, 1])")
    assert shown[1] != shown[2] and shown == ["100.0%", "99.7%", "100.0%"]
    assert page.evaluate("pcts([0.5, 0.4, 0.6])") == ["50%", "40%", "60%"]
    page.close()


def test_image_alt_text_names_the_file(browser, make, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    folder = _scans(tmp_path)
    url, token, _ = make(folder, ["dark", "light"])
    page, _ = _open(browser, url, token)
    img = page.locator("#item-image")
    expect(img).to_be_visible()
    assert img.get_attribute("alt").startswith("Image scan-")
    assert img.get_attribute("alt").endswith(".png")
    page.close()


def test_a_five_thousand_column_row_stays_in_its_box_on_a_phone(browser, make) -> None:
    header = ["id"] + [f"column_{j}" for j in range(5000)]
    rows = [header] + [[f"r{i}"] + [str((i * j) % 7) for j in range(5000)] for i in range(3)]
    url, token, _ = make(rows, ["ok", "odd"])
    page, _ = _open(browser, url, token, PHONE)
    page.wait_for_selector("#fields-box:not([hidden])")
    _no_sideways_scroll(page)
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 2500, f"the page is {height} px tall"
    page.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_phone_and_desktop_layout_and_no_serious_accessibility_violations(
    browser, make, viewport
) -> None:
    def some_labels(svc: LabellingService, ann) -> None:
        for k in range(6):
            svc.answer(ann, svc.next_item(ann).id, "good" if k % 2 else "bad")
        svc.retrain()

    url, token, _ = make(_texts(30), ["good", "bad"], before=some_labels)
    page, errors = _open(browser, url, token, viewport, bypass_csp=True)
    page.wait_for_selector("#guess .pill")
    _no_sideways_scroll(page)
    assert not _small_targets(page)
    if viewport is PHONE:  # the item and its answers come first, on the first screen
        box = page.locator("#labels").bounding_box()
        assert box["y"] + box["height"] < PHONE["height"]
    assert _axe(page) == []
    page.keyboard.press("?")
    assert _axe(page) == []  # the help dialog too
    page.close()
    page = browser.new_page(viewport=viewport, bypass_csp=True)
    page.goto(f"{url}/")
    page.wait_for_selector("#login:not([hidden])")
    _no_sideways_scroll(page)
    assert not _small_targets(page)
    assert _axe(page) == []
    assert not errors, errors
    page.close()


def test_a_restarting_trainer_is_shown_with_its_last_error(browser, make) -> None:
    from playwright.sync_api import expect

    state = {"mode": "process", "state": "restarting", "last_error": "trainer killed by SIGKILL"}

    def troubled(svc: LabellingService, ann) -> None:
        svc.trainer_state = lambda: dict(state)  # what the supervisor reports after a kill -9

    url, token, _ = make(_texts(6), ["good", "bad"], before=troubled)
    page, _ = _open(browser, url, token)
    note = page.locator("#trainer-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("restarting")
    expect(note).to_contain_text("SIGKILL")
    assert "training" not in page.locator("#progress-model").text_content()
    state.update(state="idle")  # back: the note goes away at the next refresh
    page.keyboard.press("1")
    expect(note).to_be_hidden()
    page.close()


@pytest.mark.parametrize("key", ["2", "s"], ids=["answer", "skip"])
def test_an_item_answered_in_another_tab_moves_on_with_a_message(browser, make, key) -> None:
    from playwright.sync_api import expect

    url, token, store = make(_texts(6), ["good", "bad"])
    first, _ = _open(browser, url, token)
    second, errors = _open(browser, url, token)  # same annotator: the same held item
    shown = second.locator("#item-id").text_content()
    assert first.locator("#item-id").text_content() == shown
    first.keyboard.press("1")
    expect(first.locator("#item-id")).not_to_have_text(shown)
    second.keyboard.press(key)  # refused (409): the page must not stay on the stale item
    expect(second.locator("#status")).to_contain_text("Not saved for item t0")
    expect(second.locator("#item-id")).not_to_have_text(shown)
    second.keyboard.press("2")  # and the next key answers the next item
    expect(second.locator("#status")).to_contain_text("Saved: bad")
    assert [e.label for e in store.events()] == ["good", "bad"]
    assert not errors, errors
    first.close()
    second.close()


def test_a_key_held_down_answers_one_item_only(browser, make) -> None:
    from playwright.sync_api import expect

    url, token, store = make(_texts(8), ["good", "bad"])
    page, errors = _open(browser, url, token)
    for key in ("1", "s"):
        shown = page.locator("#item-id").text_content()
        for _ in range(4):  # the first press, then the keyboard's auto-repeat
            page.keyboard.down(key)
        page.keyboard.up(key)
        expect(page.locator("#item-id")).not_to_have_text(shown)
        page.wait_for_timeout(500)
    assert store.count_events()["label"] == 1
    assert store.count_events()["skip"] == 1
    page.keyboard.press("1")  # separate presses still answer one item each
    page.keyboard.press("2")
    expect(page.locator("#status")).to_contain_text("Saved: bad")
    assert store.count_events()["label"] == 3
    assert not errors, errors
    page.close()


def test_no_console_errors_on_the_labelling_and_owner_pages(browser, make) -> None:
    url, _, store = make(_texts(4), ["good", "bad"])
    _, owner_token = store.add_annotator("olga")
    store.make_owner("olga")
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{url}/?token={owner_token}")
    page.wait_for_selector("#item-id:not(:empty)")
    page.click("#owner-link")
    page.wait_for_selector("#owner:not([hidden])")
    page.wait_for_timeout(500)  # the icon is asked for after the page has loaded
    assert not errors, errors
    page.close()


def test_an_unreachable_server_is_said_and_its_return_too(browser, make) -> None:
    from playwright.sync_api import expect

    url, token, store = make(_texts(6), ["good", "bad"])
    page, errors = _open(browser, url, token)
    page.route("**/api/**", lambda route: route.abort())
    page.wait_for_timeout(6500)  # a progress poll, with no key pressed
    status = page.locator("#status")
    expect(status).to_contain_text("cannot be reached")
    assert "answer" not in status.text_content()  # no answer was given: none to talk of
    shown = page.locator("#item-id").text_content().removeprefix("Item ")
    page.keyboard.press("1")
    expect(status).to_contain_text("Press the key again")
    # which answer was lost is said, in the expert's words, not the browser's
    assert status.text_content().startswith(f"Not saved for item {shown}: the server cannot")
    assert "fetch" not in status.text_content().lower()
    page.unroute("**/api/**")
    expect(status).to_contain_text("Connected again", timeout=12_000)  # the next poll
    page.keyboard.press("1")
    expect(status).to_contain_text("Saved: good")
    assert store.count_events()["label"] == 1
    assert not errors, errors
    page.close()


def test_the_unsaved_item_stays_named_until_its_answer_is_stored(browser, make) -> None:
    from playwright.sync_api import expect

    url, token, store = make(_texts(6), ["good", "bad"])
    page, errors = _open(browser, url, token)
    shown = page.locator("#item-id").text_content().removeprefix("Item ")
    status = page.locator("#status")
    page.route("**/api/**", lambda route: route.abort())
    page.keyboard.press("1")
    expect(status).to_contain_text(f"Not saved for item {shown}:")
    page.evaluate("refreshProgress()")  # the next poll, without waiting for it
    assert status.text_content().startswith(f"Not saved for item {shown}: the server cannot")
    page.unroute("**/api/**")
    page.evaluate("refreshProgress()")
    assert status.text_content().startswith(f"Connected again: the answer to item {shown} is not")
    page.keyboard.press("1")
    expect(status).to_contain_text("Saved: good")
    page.route("**/api/**", lambda route: route.abort())
    page.evaluate("refreshProgress()")  # stored: nothing unsaved left to name
    assert status.text_content().startswith("The server cannot be reached: the page keeps")
    assert store.count_events()["label"] == 1
    assert not errors, errors
    page.close()


def test_a_page_opened_while_the_server_is_down_says_so_and_opens_once_it_is_back(
    browser, make
) -> None:
    from playwright.sync_api import expect

    url, token, store = make(_texts(6), ["good", "bad"])
    page, errors = _open(browser, url, token)
    page.route("**/api/**", lambda route: route.abort())
    page.reload()  # the token is kept in the tab; the server is gone
    expect(page.locator("#login-error")).to_contain_text("cannot be reached")
    expect(page.locator("#login-error")).to_be_visible()
    expect(page.locator("#main")).to_be_hidden()
    page.unroute("**/api/**")
    expect(page.locator("#item-id")).to_have_text("Item t0", timeout=15_000)
    expect(page.locator("#login")).to_be_hidden()
    page.keyboard.press("1")
    expect(page.locator("#status")).to_contain_text("Saved: good")
    assert store.count_events()["label"] == 1
    assert not errors, errors
    page.close()


def test_a_long_label_in_the_saved_line_does_not_scroll_a_phone_sideways(browser, make) -> None:
    from playwright.sync_api import expect

    label = "Label" + "z" * 80  # one long word, as a code or a URL would be
    url, token, _ = make(_texts(3), [label, "no"])
    page, errors = _open(browser, url, token, PHONE)
    _no_sideways_scroll(page)
    page.keyboard.press("1")
    expect(page.locator("#status")).to_contain_text("Saved: " + label)
    _no_sideways_scroll(page)
    assert not errors, errors
    page.close()


@pytest.mark.parametrize(
    ("labels", "shown"),
    [
        ([f"L{i}" for i in range(22)], "1–9, 0"),  # more labels than keys: the rest are buttons
        ([f"L{i}" for i in range(10)], "1–9, 0"),
        (["yes", "no"], "1, 2"),
        (["a", "b", "c"], "1–3"),
        ([str(d) for d in range(10)], "0–9"),
        (["2", "cat", "dog"], "1–3"),  # 2 is label "2"'s own; cat and dog take 1 and 3
        (["0", "x"], "0, 1"),
    ],
)
def test_the_help_names_the_answer_keys_as_they_are(browser, make, labels, shown) -> None:
    for multilabel, line in ((False, "#help-answer-keys"), (True, "#help-tick-keys")):
        url, token, _ = make(_texts(3), labels, multilabel=multilabel)
        page, errors = _open(browser, url, token)
        assert page.locator(line).text_content() == shown
        # l and a label's name: said only where some label has no number key
        assert (page.get_attribute("#help-name-key", "hidden") is None) == (len(labels) > 10)
        assert not errors, errors
        page.close()


def test_labels_past_the_number_keys_are_answered_by_name_in_the_l_box(browser, make) -> None:
    from playwright.sync_api import expect

    labels = [f"topic{i:02d}" for i in range(14)] + ["Cat", "cat"]
    url, token, store = make(_texts(6), labels)
    page, errors = _open(browser, url, token, bypass_csp=True)
    buttons = page.locator("#labels button:visible")
    box, field, said = page.locator("#finder"), page.locator("#finder-input"), "#finder-message"
    expect(page.locator("#labels button", has_text="topic12").locator("kbd")).to_have_text("l")
    assert page.get_attribute("#help-name-key", "hidden") is None  # the help names l too
    page.locator("#card").focus()
    page.keyboard.press("l")
    expect(box).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "finder-input"
    page.keyboard.type("s1u?l")  # typed into the box: no shortcut fires
    expect(page.locator(said)).to_have_text("No label starts with \u201cs1u?l\u201d.")
    expect(buttons).to_have_count(0)
    assert page.locator("#help").is_hidden()
    field.fill("TOPIC1")  # the start of four: the buttons filter, Enter says which
    expect(buttons).to_have_count(4)
    assert _axe(page) == []  # the box, with its buttons filtered
    page.keyboard.press("Enter")
    expect(page.locator(said)).to_contain_text("is the start of several labels: topic10, topic11")
    page.keyboard.press("Escape")  # closes; the focus goes back, every button shows again
    expect(box).to_be_hidden()
    assert page.evaluate("document.activeElement.id") == "card"
    expect(buttons).to_have_count(len(labels))
    page.keyboard.down("L")  # Caps Lock on, and held: its auto-repeat types nothing
    page.keyboard.down("L")
    page.keyboard.up("L")
    assert field.input_value() == ""
    page.keyboard.type("topic12")
    expect(page.locator(said)).to_have_text("Enter answers with topic12.")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("Saved: topic12")
    expect(box).to_be_hidden()
    page.keyboard.press("l")
    page.keyboard.type("CAT\n")  # two labels differ only in case: the exact spelling decides
    expect(page.locator(said)).to_contain_text("differ only in case: Cat, cat; type one exactly")
    field.fill("cat")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("Saved: cat")
    assert [e.label for e in store.events()] == ["topic12", "cat"]
    assert not errors, errors
    page.close()


def test_a_click_that_answers_skips_or_undoes_closes_and_clears_the_l_box(browser, make) -> None:
    from playwright.sync_api import expect

    labels = [f"topic{i:02d}" for i in range(12)]
    url, token, store = make(_texts(6), labels)
    page, errors = _open(browser, url, token)
    box, field = page.locator("#finder"), page.locator("#finder-input")
    clicks = [
        page.locator("#labels button", has_text="topic03"),
        page.locator("#skip-button"),
        page.locator("#undo-button"),
    ]
    for click, said in zip(clicks, ["Saved: topic03", "Skipped", "Undone"], strict=True):
        page.locator("#card").focus()
        page.keyboard.press("l")
        page.keyboard.type("top")
        expect(box).to_be_visible()
        click.click()
        expect(page.locator("#status")).to_contain_text(said)
        expect(box).to_be_hidden()  # closed and cleared, as Esc does: the next item starts anew
        assert field.input_value() == ""
        assert page.evaluate("document.activeElement.id") == "card"
        expect(page.locator("#labels button:visible")).to_have_count(len(labels))
    assert [e.kind for e in store.events()] == ["label", "skip", "undo"]
    assert not errors, errors
    page.close()


def test_the_l_box_ticks_a_label_in_a_multi_label_project(browser, make) -> None:
    from playwright.sync_api import expect

    url, token, store = make(_texts(6), [f"L{i}" for i in range(12)], multilabel=True)
    page, errors = _open(browser, url, token)
    page.keyboard.press("l")
    page.keyboard.type("l11")
    expect(page.locator("#finder-message")).to_have_text("Enter ticks L11.")
    page.keyboard.press("Enter")
    expect(page.locator("#labels button", has_text="L11")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Enter")  # the box is closed: Enter confirms the ticked set
    expect(page.locator("#status")).to_contain_text("Saved: L11")
    assert [e.label for e in store.events()] == ['["L11"]']
    assert not errors, errors
    page.close()


def test_the_help_dialog_keeps_the_focus_so_enter_answers_nothing_behind_it(browser, make) -> None:
    from playwright.sync_api import expect

    url, token, store = make(_texts(4), ["good", "bad"])
    page, errors = _open(browser, url, token)
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    for _ in range(6):  # Tab through: focus stays in the dialog
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('help').contains(document.activeElement)")
        page.keyboard.press(" ")  # would click a focused label button behind the dialog
        if page.locator("#help").is_hidden():
            page.keyboard.press("?")
    page.wait_for_timeout(500)
    assert store.count_events()["label"] == 0
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()
    page.keyboard.press("1")  # the page works again after the dialog
    expect(page.locator("#status")).to_contain_text("Saved: good")
    assert not errors, errors
    page.close()


def test_all_done_picks_up_an_item_someone_else_gave_back(browser, make) -> None:
    from playwright.sync_api import expect

    held: dict[str, object] = {}

    def bob_holds_one(svc: LabellingService, ann) -> None:
        bob, _ = svc.store.add_annotator("bob")
        held.update(svc=svc, bob=bob, item=svc.next_item(bob).id)

    url, token, store = make(_texts(3), ["good", "bad"], before=bob_holds_one)
    page, errors = _open(browser, url, token)
    page.keyboard.press("1")
    page.keyboard.press("2")
    expect(page.locator("#done")).to_be_visible()
    held["svc"].skip(held["bob"], held["item"])  # bob gives his item back
    page.evaluate("state.doneAt = 0")  # rather than wait out the 30 s between checks
    expect(page.locator("#item-id")).to_have_text(f"Item t{held['item']}", timeout=15_000)
    expect(page.locator("#labels")).to_be_visible()
    page.keyboard.press("1")
    expect(page.locator("#done")).to_be_visible()
    assert store.count_events()["label"] == 3
    assert not errors, errors
    page.close()


def test_a_double_click_on_a_label_answers_one_item(browser, make) -> None:
    from playwright.sync_api import expect

    url, token, store = make(_texts(6), ["good", "bad"])
    page, errors = _open(browser, url, token)
    for target, shown_after in (
        ("#labels button >> nth=0", "Saved: good"),
        ("#skip-button", "Skipped"),
    ):
        shown = page.locator("#item-id").text_content()
        page.locator(target).dblclick()
        expect(page.locator("#status")).to_contain_text(shown_after)
        expect(page.locator("#item-id")).not_to_have_text(shown)
        page.wait_for_timeout(500)
    assert store.count_events()["label"] == 1
    assert store.count_events()["skip"] == 1
    page.locator("#labels button >> nth=1").click()  # single clicks, one after another
    page.locator("#labels button >> nth=1").click()
    expect(page.locator("#progress-mine")).to_have_text("3")
    assert store.count_events()["label"] == 3
    assert not errors, errors
    page.close()


def test_right_to_left_text_reads_right_to_left(browser, make) -> None:
    rows = [["id", "text", "city"], ["r0", "مرحبا بالعالم!", "القاهرة"], ["r1", "hello", "Paris"]]
    url, token, _ = make(rows, ["جيد", "bad"])
    page, errors = _open(browser, url, token)
    direction = "(sel) => getComputedStyle(document.querySelector(sel)).direction"
    assert page.evaluate(direction, "#item-text") == "rtl"
    assert page.evaluate(direction, "#item-fields td") == "rtl"
    assert page.evaluate(direction, "#labels button .name") == "rtl"
    assert page.evaluate(direction, "#labels button:nth-child(2) .name") == "ltr"
    page.keyboard.press("2")
    page.wait_for_selector("#item-id:has-text('r1')")
    assert page.evaluate(direction, "#item-text") == "ltr"
    assert not errors, errors
    page.close()


def test_skip_and_undo_keys_work_with_caps_lock_on(browser, make) -> None:
    from playwright.sync_api import expect

    url, token, store = make(_texts(4), ["good", "bad"])
    page, errors = _open(browser, url, token)
    shown = page.locator("#item-id").text_content()
    page.keyboard.press("Shift+S")  # what Caps Lock sends: "S"
    expect(page.locator("#status")).to_have_text("Skipped")
    expect(page.locator("#item-id")).not_to_have_text(shown)
    page.keyboard.press("Shift+U")
    expect(page.locator("#status")).to_contain_text("Undone")
    expect(page.locator("#item-id")).to_have_text(shown)
    assert store.count_events()["skip"] == 1 and store.count_events()["undo"] == 1
    assert not errors, errors
    page.close()


def test_an_answer_stored_but_whose_reply_was_lost_is_not_stored_twice(browser, make) -> None:
    from playwright.sync_api import expect

    url, token, store = make(_texts(4), ["good", "bad"])
    page, errors = _open(browser, url, token)

    shown = page.locator("#item-id").text_content()
    # the server stores the answer and its reply never reaches the page, on every retry: the
    # page's own fetch is wrapped (a browser route's abort let a reply through now and then)
    page.evaluate(
        """() => {
          window.realFetch = window.fetch;
          window.fetch = async (path, options) => {
            const resp = await window.realFetch(path, options);
            if (String(path).endsWith("/api/answer")) throw new TypeError("Failed to fetch");
            return resp;
          };
        }"""
    )
    page.keyboard.press("1")
    expect(page.locator("#status")).to_contain_text("cannot be reached")
    assert store.count_events()["label"] == 1  # the retries reused the request id
    page.evaluate("() => { window.fetch = window.realFetch; }")
    page.keyboard.press("1")  # pressed again, as the page asks
    expect(page.locator("#status")).to_contain_text("by an earlier try")
    expect(page.locator("#item-id")).not_to_have_text(shown)
    assert store.count_events()["label"] == 1
    assert not errors, errors
    page.close()


def test_signing_out_gives_the_item_on_screen_back_at_once(browser, make) -> None:
    from playwright.sync_api import expect

    people: dict[str, object] = {}

    def add_bob(svc: LabellingService, ann) -> None:
        people.update(svc=svc, ada=ann, bob=svc.store.add_annotator("bob")[0])

    url, token, store = make(_texts(2), ["good", "bad"], before=add_bob)
    page, errors = _open(browser, url, token)
    page.keyboard.press("1")
    expect(page.locator("#item-id")).to_have_text("Item t1")  # the last item, now ada's
    assert store.held_item(people["ada"].id) == 1
    page.click("#logout-button")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#login-error")).to_be_hidden()
    page.wait_for_function("!state.running && state.item === null")
    for _ in range(50):  # the release is sent once the page has signed out
        if store.held_item(people["ada"].id) is None:
            break
        page.wait_for_timeout(100)
    assert store.held_item(people["ada"].id) is None
    # bob takes the item ada gave back at once, not when her reservation runs out
    assert people["svc"].next_item(people["bob"]).id == 1
    assert store.count_events()["label"] == 1  # the answer before signing out is kept
    assert not errors, errors
    page.close()


def test_signing_out_after_an_undo_gives_back_the_item_it_left_too(browser, make) -> None:
    from playwright.sync_api import expect

    url, token, store = make(_texts(3), ["good", "bad"])
    ada = store.annotator_by_name("ada")
    page, errors = _open(browser, url, token)
    first = page.locator("#item-id").text_content()
    page.keyboard.press("1")
    expect(page.locator("#item-id")).not_to_have_text(first)
    page.keyboard.press("u")  # the first item is back on screen; the second is still held
    expect(page.locator("#item-id")).to_have_text(first)
    assert len(store.leased_items()) == 2
    page.click("#logout-button")
    expect(page.locator("#login")).to_be_visible()
    for _ in range(50):  # the release is sent once the page has signed out
        if not store.leased_items():
            break
        page.wait_for_timeout(100)
    assert store.leased_items() == {}  # both given back, not only the one on screen
    assert ada is not None and store.held_item(ada.id) is None
    assert store.count_events() == {"label": 1, "skip": 0, "undo": 1}
    assert not errors, errors
    page.close()


def test_an_image_that_fails_to_load_cannot_be_answered_but_can_be_retried_or_skipped(
    browser, make, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    folder = _scans(tmp_path)
    url, token, store = make(folder, ["dark", "light"])
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route(
        "**/api/items/*/image",
        lambda route: route.fulfill(
            status=500, content_type="application/json", body='{"detail": "disk gone"}'
        ),
    )
    page.goto(f"{url}/?token={token}")
    problem = page.locator("#image-error")
    expect(problem).to_be_visible()
    expect(problem).to_contain_text("disk gone")
    expect(page.locator("#item-image")).to_be_hidden()
    buttons = page.locator("#labels button")
    for i in range(buttons.count()):
        expect(buttons.nth(i)).to_be_disabled()
    first = page.locator("#item-id").text_content()
    page.keyboard.press("1")  # an image never seen is not answered
    expect(page.locator("#status")).to_contain_text("Not answered")
    assert store.count_events()["label"] == 0
    page.keyboard.press("s")  # skipping still works
    expect(page.locator("#status")).to_contain_text("Skipped")
    expect(page.locator("#item-id")).not_to_have_text(first)
    expect(problem).to_be_visible()  # the next image fails too
    # bytes that are no image fail the same way
    page.unroute("**/api/items/*/image")
    page.route(
        "**/api/items/*/image",
        lambda route: route.fulfill(status=200, content_type="image/png", body=b"not a png"),
    )
    page.click("#image-retry")
    expect(problem).to_contain_text("not an image")
    page.unroute("**/api/items/*/image")
    page.click("#image-retry")
    expect(page.locator("#item-image")).to_be_visible()
    expect(problem).to_be_hidden()
    expect(buttons.first).to_be_enabled()
    page.keyboard.press("1")
    expect(page.locator("#status")).to_contain_text("Saved: dark")
    assert store.count_events() == {"label": 1, "skip": 1, "undo": 0}
    assert not errors, errors
    page.close()


def test_signing_out_while_an_image_loads_gives_the_item_back_at_once(
    browser, make, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    folder = _scans(tmp_path)
    url, token, store = make(folder, ["dark", "light"])
    ada = store.annotator_by_name("ada")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/api/items/*/image", lambda route: None)  # the image never comes
    page.goto(f"{url}/?token={token}")
    expect(page.locator("#item-id")).not_to_be_empty()
    page.keyboard.press("1")  # waits for the image, which never comes
    page.click("#logout-button")
    expect(page.locator("#login")).to_be_visible()
    for _ in range(30):  # given back at once, not after the image's 20 s timeout
        if store.held_item(ada.id) is None:
            break
        page.wait_for_timeout(100)
    assert store.held_item(ada.id) is None
    assert store.count_events()["label"] == 0
    page.unroute("**/api/items/*/image")
    page.fill("#token-input", token)
    page.click("#login-form button")
    expect(page.locator("#item-image")).to_be_visible()
    expect(page.locator("#status")).to_be_empty()  # nothing left over from before
    page.keyboard.press("1")
    expect(page.locator("#status")).to_contain_text("Saved: dark")
    assert not errors, errors
    page.close()


def _unavailable(times: int, retry_after: str = "1"):
    """A route handler: 503 with ``Retry-After`` for the first ``times`` requests, then through;
    the bodies it saw are kept in its ``seen`` list."""
    seen: list[dict] = []

    def handle(route) -> None:
        seen.append(json.loads(route.request.post_data or "{}"))
        if len(seen) > times:
            route.continue_()
            return
        route.fulfill(
            status=503,
            headers={"Retry-After": retry_after},
            content_type="application/json",
            body=json.dumps({"detail": "The project's database could not serve this request."}),
        )

    handle.seen = seen
    return handle


# Records every text an element shows, so that a message shown for a second is seen even when
# the machine is too busy for the test to look during that second.
_RECORD_TEXTS = """(selector) => {
  window.textsShown = [];
  const el = document.querySelector(selector);
  new MutationObserver(() => window.textsShown.push(el.textContent)).observe(
    el, {childList: true, characterData: true, subtree: true});
}"""


def test_a_503_with_retry_after_is_sent_again_after_the_wait_and_stored_once(browser, make) -> None:
    from playwright.sync_api import expect

    url, token, store = make(_texts(4), ["good", "bad"])
    page, errors = _open(browser, url, token)
    shown = page.locator("#item-id").text_content()
    status = page.locator("#status")
    busy = _unavailable(2)
    page.route("**/api/answer", busy)
    page.evaluate(_RECORD_TEXTS, "#status")
    page.keyboard.press("1")
    expect(status).to_contain_text("Saved: good", timeout=10_000)
    assert "Database unavailable, retrying in 1 s" in page.evaluate("window.textsShown")
    expect(page.locator("#item-id")).not_to_have_text(shown)
    assert len(busy.seen) == 3  # the first try and two more, after the server's wait
    assert len({body["request_id"] for body in busy.seen}) == 1  # the same request each time
    assert store.count_events()["label"] == 1
    assert not errors, errors
    page.close()


def test_a_503_that_lasts_gives_up_after_five_more_tries_with_the_servers_line(
    browser, make
) -> None:
    from playwright.sync_api import expect

    url, token, store = make(_texts(4), ["good", "bad"])
    page, errors = _open(browser, url, token)
    shown = page.locator("#item-id").text_content()
    status = page.locator("#status")
    busy = _unavailable(100, retry_after="0")
    page.route("**/api/answer", busy)
    page.keyboard.press("1")
    expect(status).to_have_text("The project's database could not serve this request.")
    assert len(busy.seen) == 6  # the first try and five more
    expect(page.locator("#item-id")).to_have_text(shown)  # the item stays, its answer unsent
    page.unroute("**/api/answer")
    page.keyboard.press("1")  # pressed again, the database back
    expect(status).to_contain_text("Saved: good")
    assert store.count_events()["label"] == 1
    assert not errors, errors
    page.close()


def test_a_page_opened_while_the_database_answers_503_says_so_and_opens_once_it_is_back(
    browser, make
) -> None:
    from playwright.sync_api import expect

    url, token, _ = make(_texts(4), ["good", "bad"])
    page, errors = _open(browser, url, token)
    busy = _unavailable(2)
    page.route("**/api/project", busy)
    page.add_init_script(
        f"document.addEventListener('DOMContentLoaded', () => ({_RECORD_TEXTS})('#login-error'))"
    )
    page.reload()  # the token is kept in the tab; the database is busy
    expect(page.locator("#item-id")).to_contain_text("Item t", timeout=10_000)
    assert "Database unavailable, retrying in 1 s" in page.evaluate("window.textsShown")
    expect(page.locator("#login")).to_be_hidden()
    assert len(busy.seen) == 3
    assert not errors, errors
    page.close()
