"""End to end in headless Chromium: label five items with the keyboard, undo one, watch progress."""

from __future__ import annotations

from pathlib import Path

import pytest

from activelab.app.ingest import read_items
from activelab.app.project import create_project, open_project
from activelab.app.service import LabellingService

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

CHROMIUM = "/usr/bin/chromium"
XSS = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def live(tmp_path: Path, serve_in_thread):
    csv = tmp_path / "items.csv"
    rows = ["id,text", f'evil,"{XSS.replace(chr(34), chr(34) * 2)}"']
    rows += [f"t{i},{'great lovely' if i % 2 else 'awful broken'} thing {i}" for i in range(40)]
    csv.write_text("\n".join(rows) + "\n")
    proj = create_project(
        tmp_path / "proj", read_items(csv), ["good", "bad"], retrain_every=2, retrain_seconds=1
    )
    store = open_project(proj)
    ann, token = store.add_annotator("ada")
    store.lease(0, ann.id, seconds=600)  # the page opens on the item with markup in it
    with serve_in_thread(LabellingService(store)) as url:
        yield url, token, store
    store.close()


def test_label_five_with_keys_undo_one_and_watch_progress(live) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install -y chromium"
    url, token, store = live
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page()
        expect.set_options(timeout=15_000)  # a 2-core machine running the rest of the suite
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/?token={token}")
        text = page.locator("#item-text")
        expect(text).to_have_text(XSS)  # markup shown literally, as text
        assert page.evaluate("window.pwned") is None  # no script ran, no onerror fired
        assert page.locator("#card script, #card img[onerror]").count() == 0
        assert "token=" not in page.url  # the token is not left in the address bar
        labelled = page.locator("#progress-labelled")
        expect(labelled).to_have_text("0")
        for n, key in enumerate("12121", start=1):
            shown = text.text_content()
            page.keyboard.press(key)
            expect(labelled).to_have_text(str(n))
            expect(text).not_to_have_text(shown)
        last = store.current_labels()
        page.keyboard.press("u")
        expect(labelled).to_have_text("4")
        expect(page.locator("#status")).to_contain_text("Undone")
        undone_item = max(last.values(), key=lambda c: c.event_id).item_id
        assert text.text_content() == store.item(undone_item)["content"]["text"]
        expect(page.locator("#progress-mine")).to_have_text("4")
        # the background trainer catches up; the page shows the model and its accuracy
        expect(page.locator("#progress-model")).to_contain_text("on 4 labels", timeout=20_000)
        expect(page.locator("#progress-accuracy")).to_contain_text("%")
        expect(page.locator("#guess")).to_contain_text("Model's guess")
        page.keyboard.press("?")
        expect(page.locator("#help")).to_be_visible()
        # a forged token sends the page back to the token form
        page.evaluate("sessionStorage.clear()")
        page.goto(f"{url}/?token=forged")
        expect(page.locator("#login")).to_be_visible()
        expect(page.locator("#login-error")).to_contain_text("refused")
        assert not errors, errors
        browser.close()
    counts = store.count_events()
    assert counts == {"label": 5, "skip": 0, "undo": 1}
    assert len(store.current_labels()) == 4
