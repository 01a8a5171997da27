"""Screenshots of the labelling page for docs/app.md (desktop and phone), from a fresh demo.

Builds a project from ``examples/reviews.csv`` in a temporary folder, answers a dozen items
so that a model and its read-out exist, serves it in this process and photographs the page
in headless Chromium (Debian's ``/usr/bin/chromium`` through Playwright)::

    python3 scripts/app_screenshots.py            # writes docs/img/app-desktop.png, app-phone.png
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def main() -> None:
    os.environ.setdefault("ACTIVELAB_TEXT_FEATURES", "tfidf")
    sys.path.insert(0, str(REPO / "src"))
    import socket

    import uvicorn
    from playwright.sync_api import sync_playwright

    from activelab.app.api import create_app
    from activelab.app.ingest import read_items
    from activelab.app.project import create_project, open_project
    from activelab.app.service import LabellingService

    tmp = Path(tempfile.mkdtemp())
    proj = create_project(
        tmp / "reviews", read_items(REPO / "examples" / "reviews.csv"), ["positive", "negative"]
    )
    store = open_project(proj)
    store.update_settings(name="reviews")
    ada, token = store.add_annotator("ada")
    svc = LabellingService(store)
    for _ in range(14):
        item = svc.next_item(ada)
        # examples/reviews.csv alternates: odd ids are the positive reviews, even the negative
        odd = int(svc.view(item.id).external_id.lstrip("r")) % 2 == 1
        svc.answer(ada, item.id, "positive" if odd else "negative")
    svc.retrain()
    svc.retrain()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(svc, run_trainer=False), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            for name, viewport, scale, open_details in [
                ("app-desktop.png", {"width": 1200, "height": 720}, 1, True),
                ("app-phone.png", {"width": 390, "height": 844}, 2, False),
            ]:
                page = browser.new_page(viewport=viewport, device_scale_factor=scale)
                page.goto(f"http://127.0.0.1:{port}/?token={token}")
                page.wait_for_selector("#guess .pill", timeout=20_000)
                if open_details:
                    page.evaluate("document.getElementById('details').open = true")
                page.wait_for_timeout(300)
                page.screenshot(path=str(OUT / name))
                print(f"wrote {OUT / name}")
                page.close()
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
        store.close()


if __name__ == "__main__":
    main()
