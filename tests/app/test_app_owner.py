"""The project owner's view of label quality: GET /api/quality (owner's token only), the
owner's credential from the command line, and the /owner page in headless Chromium."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from activelab.app.api import create_app
from activelab.app.ingest import read_items
from activelab.app.owner import owner_report
from activelab.app.project import create_project, open_project
from activelab.app.quality import quality_report
from activelab.app.service import LabellingService
from activelab.cli import main

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[2] / ".cache/npm/node_modules/axe-core/axe.min.js"


def _project(tmp_path: Path, n: int = 12) -> Path:
    path = tmp_path / "items.csv"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(
            [["id", "text"]] + [[f"t{i}", f"{'great' if i % 2 else 'awful'} {i}"] for i in range(n)]
        )
    return create_project(tmp_path / "proj", read_items(path), ["good", "bad"], overlap=2)


def _answer_all(store, people, wrong: str) -> None:
    """Everybody answers every item (the ``wrong`` annotator errs on every third)."""
    for item in range(store.n_items()):
        for ann in people:
            truth = "good" if item % 2 else "bad"
            lab = truth
            if ann.name == wrong and item % 3 == 0:
                lab = "bad" if truth == "good" else "good"
            store.append_event(item, ann.id, "label", label=lab, overlap=len(people))


@pytest.fixture
def owned(tmp_path: Path):
    """A project with three annotators' answers, an owner and an annotator token."""
    proj = _project(tmp_path)
    store = open_project(proj)
    people = [store.add_annotator(n)[0] for n in ("ada", "bob", "cy")]
    _answer_all(store, people, wrong="cy")
    _, annotator_token = store.add_annotator("dan")
    owner, owner_token = store.add_annotator("olga")
    store.make_owner(owner.name)
    yield proj, store, annotator_token, owner_token
    store.close()


def test_quality_route_says_when_the_overlap_outnumbers_the_active_annotators(tmp_path) -> None:
    """overlap 2 with the owner alone: every item stays in the queue; the owner's view says
    why (null once two can answer)."""
    store = open_project(_project(tmp_path, n=4))
    owner, token = store.add_annotator("olga")
    store.make_owner(owner.name)
    svc = LabellingService(store)
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(svc, run_trainer=False)) as client:
        short = client.get("/api/quality", headers=auth).json()["short_of_annotators"]
        assert short["items"] == 4 and short["active_annotators"] == 1
        assert short["text"].startswith("overlap 2 but 1 active annotator: 4 items can never")
        store.add_annotator("ada")
        assert client.get("/api/quality", headers=auth).json()["short_of_annotators"] is None
    store.close()


def test_quality_route_is_the_owners_and_matches_the_report(owned) -> None:
    _, store, annotator_token, owner_token = owned
    store.append_event(0, store.annotator_by_name("dan").id, "skip")  # dan has only skipped
    svc = LabellingService(store)
    with TestClient(create_app(svc, run_trainer=False)) as client:
        assert client.get("/api/quality").status_code == 401
        refused = client.get("/api/quality", headers={"Authorization": f"Bearer {annotator_token}"})
        assert refused.status_code == 403
        assert "--owner" in refused.json()["detail"]
        ok = client.get("/api/quality", headers={"Authorization": f"Bearer {owner_token}"})
        assert ok.status_code == 200
        assert ok.headers["cache-control"] == "no-store"
        got = ok.json()
        owner_project = client.get(
            "/api/project", headers={"Authorization": f"Bearer {owner_token}"}
        ).json()
        plain_project = client.get(
            "/api/project", headers={"Authorization": f"Bearer {annotator_token}"}
        ).json()
    rep = quality_report(store)
    assert got["answers"] == rep["answers"] == 36
    assert got["items_with_several_answers"] == 12
    assert got["krippendorff_alpha"] == pytest.approx(rep["krippendorff_alpha"])
    assert got["percent_agreement"] == pytest.approx(rep["percent_agreement"])
    assert [p["kappa"] for p in got["kappa"]] == pytest.approx([p["kappa"] for p in rep["kappa"]])
    by_name = {a["name"]: a for a in got["annotators"]}
    for a in rep["annotators"]:
        assert by_name[a["name"]]["estimated_accuracy"] == pytest.approx(a["estimated_accuracy"])
        assert by_name[a["name"]]["agreement_with_aggregate"] == pytest.approx(
            a["agreement_with_aggregate"]
        )
    assert by_name["dan"] == by_name["dan"] | {"answers": 0, "skips": 1}
    assert by_name["dan"]["agreement_with_aggregate"] is None
    assert by_name["cy"]["skips"] == 0
    # cy errs on items 0, 3, 6, 9: the two others agree there, so the aggregate overrules cy
    assert by_name["cy"]["agreement_with_aggregate"] == pytest.approx(8 / 12)
    assert by_name["ada"]["estimated_accuracy"] > by_name["cy"]["estimated_accuracy"]
    assert got["class_shares"] == rep["class_shares"]
    assert sum(rep["class_shares"]["answers"].values()) == pytest.approx(1.0)
    assert got["disputed"] == rep["disputed"] == 4
    assert sorted(r["id"] for r in got["review"]) == ["t0", "t3", "t6", "t9"]
    assert owner_project["owner"] is True and plain_project["owner"] is False


def test_owner_token_from_the_command_line_and_a_running_server_sees_it(tmp_path) -> None:
    proj = _project(tmp_path)
    store = open_project(proj)
    svc = LabellingService(store)
    runner = CliRunner()
    with TestClient(create_app(svc, run_trainer=False)) as client:
        made = runner.invoke(main, ["annotator", "add", str(proj), "olga", "--owner"])
        assert made.exit_code == 0, made.output
        token = made.stdout.strip().splitlines()[-1]
        # the server's store was opened before the owner existed
        got = client.get("/api/quality", headers={"Authorization": f"Bearer {token}"})
        assert got.status_code == 200, got.text
        assert got.json()["answers"] == 0 and got.json()["krippendorff_alpha"] is None
    listed = runner.invoke(main, ["annotator", "list", str(proj)])
    assert "active, owner" in listed.output
    store.close()


def test_owner_rights_are_given_to_and_taken_from_an_existing_annotator(tmp_path) -> None:
    proj = _project(tmp_path)
    runner = CliRunner()

    def cli(*args: str) -> object:
        return runner.invoke(main, ["annotator", *args])

    assert cli("add", str(proj), "ada").exit_code == 0
    r = cli("add", str(proj), "ada", "--owner")  # the name is taken: the way on is named
    assert r.exit_code == 1 and f"activelab annotator owner {proj} 'ada'" in r.output
    r = cli("owner", str(proj), " ada ")  # spaces around a name, as `add` strips them
    assert r.exit_code == 0 and "'ada' now owns the project." in r.output, r.output
    assert "active, owner" in cli("list", str(proj)).output
    assert "already (nothing changed)" in cli("owner", str(proj), "ada").output
    r = cli("owner", str(proj), "ada", "--remove")
    assert r.exit_code == 0 and "'ada' is no longer an owner." in r.output
    assert "owner" not in cli("list", str(proj)).output
    r = cli("owner", str(proj), "bob")
    assert r.exit_code == 1 and "No annotator named 'bob'" in r.output
    assert "annotator add" in r.output and "Traceback" not in r.output
    assert cli("revoke", str(proj), " ada").exit_code == 0  # stripped as well
    r = cli("add", str(proj), "ADA")  # one person, not two
    assert r.exit_code == 1 and "'ADA' differs from the annotator 'ada' only in case" in r.output
    r = runner.invoke(main, ["review", str(proj), "--decide", "t0", "good", "--as", "Ada"])
    assert r.exit_code == 1 and "only in case" in r.output and "Traceback" not in r.output
    r = cli("add", str(proj), "eve\nmallory")  # a line break would split `annotator list`
    assert r.exit_code == 1 and "control character ('\\n')" in r.output


def test_quality_is_in_the_openapi_document(owned) -> None:
    _, store, _, _ = owned
    with TestClient(create_app(LabellingService(store), run_trainer=False)) as client:
        paths = client.get("/openapi.json").json()["paths"]
        assert "/api/quality" in paths
        assert "403" in paths["/api/quality"]["get"]["responses"]


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_owner_page_shows_quality_and_refuses_an_annotator(owned, serve_in_thread) -> None:
    from playwright.sync_api import expect, sync_playwright

    _, store, annotator_token, owner_token = owned
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install -y chromium"
    rep = quality_report(store)
    with serve_in_thread(LabellingService(store), run_trainer=False) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        # bypass_csp: only so that the test may inject axe-core into the page
        page = browser.new_page(bypass_csp=True)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        # the labelling page links to the owner's page for the owner only
        page.goto(f"{url}/?token={owner_token}")
        expect(page.locator("#owner-link")).to_be_visible()
        page.click("#owner-link")
        page.wait_for_selector("#owner:not([hidden])")
        expect(page.locator("#q-alpha")).to_have_text(f"{rep['krippendorff_alpha']:.3f}")
        expect(page.locator("#q-disputed")).to_have_text("4")
        expect(page.locator("#q-doubtful")).to_have_text("0")
        sh = rep["class_shares"]
        expect(page.locator("#q-shares")).to_have_text(
            ", ".join(
                f"{c} {100 * sh['answers'][c]:.1f}% → {100 * sh['aggregate'][c]:.1f}%"
                for c in sh["answers"]
            )
        )
        rows = page.locator("#people tbody tr")
        expect(rows).to_have_count(3)
        cy = page.locator("#people tbody tr", has_text="cy").locator("td")
        expect(cy.nth(1)).to_have_text("0")  # skips
        expect(cy.nth(5)).to_have_text("66.7%")  # agreement with the aggregate
        expect(page.locator("#kappa tbody tr")).to_have_count(3)
        expect(page.locator("#review tbody tr")).to_have_count(4)
        assert _axe(page) == []
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        widths = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], f"sideways scroll: {widths}"
        small = page.evaluate(
            """() => [...document.querySelectorAll('button, input, a')]
              .filter((el) => el.offsetParent !== null)
              .map((el) => [el.id || el.textContent.trim(), el.getBoundingClientRect()])
              .filter(([, r]) => r.height < 44 || r.width < 44).map(([n]) => n)"""
        )
        assert not small, small
        # an annotator's token is refused with the reason, on the sign-in form
        page.evaluate("sessionStorage.clear()")
        page.goto(f"{url}/?token={annotator_token}")
        expect(page.locator("#owner-link")).to_be_hidden()
        page.goto(f"{url}/owner")
        page.fill("#token-input", annotator_token)
        page.click("#login-form button")
        expect(page.locator("#login-error")).to_contain_text("--owner")
        expect(page.locator("#owner")).to_be_hidden()
        assert not errors, errors
        browser.close()


def _axe(page) -> list[dict]:
    """Serious or critical accessibility violations found by axe-core."""
    import json

    assert AXE.exists(), f"{AXE} is missing: run bash scripts/install.sh (npm install axe-core)"
    page.add_script_tag(content=AXE.read_text())
    found = json.loads(page.evaluate("async () => JSON.stringify(await axe.run(document))"))
    return [
        {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in found["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_quality_report_counts_disputed_items() -> None:
    from activelab.app.store import Store

    store = Store.create("sqlite://", {"labels": ["no", "yes"], "overlap": 2})
    store.add_items(
        [{"external_id": str(i), "kind": "text", "content": {"text": str(i)}} for i in range(4)]
    )
    ada, _ = store.add_annotator("ada")
    bob, _ = store.add_annotator("bob")
    for item, a, b in [(0, "yes", "no"), (1, "no", "no"), (2, "yes", "no"), (3, "yes", "yes")]:
        store.append_event(item, ada.id, "label", label=a)
        store.append_event(item, bob.id, "label", label=b)
    rep = quality_report(store, "majority")  # agreed items are sure: only the split ones
    assert rep["disputed"] == 2
    assert np.isclose(rep["percent_agreement"], 0.5)
    review = owner_report(store)["review"]
    assert {r["id"] for r in review} >= {"0", "2"}
    assert len(review) == quality_report(store)["disputed"]


def test_multilabel_owner_view_has_agreement_per_label_and_a_review_queue() -> None:
    from activelab.app.store import Store, encode_label_set

    store = Store.create("sqlite://", {"labels": ["red", "big"], "task": "multilabel"})
    store.add_items(
        [{"external_id": f"i{i}", "kind": "text", "content": {"text": str(i)}} for i in range(3)]
    )
    store.save_features(np.arange(3, dtype=float).reshape(-1, 1))
    ada, _ = store.add_annotator("ada")
    bob, _ = store.add_annotator("bob")
    for item, a, b in [(0, ["red"], ["red"]), (1, ["red", "big"], ["big"]), (2, [], [])]:
        store.append_event(item, ada.id, "label", label=encode_label_set(a), overlap=2)
        store.append_event(item, bob.id, "label", label=encode_label_set(b), overlap=2)
    owner, token = store.add_annotator("olga")
    store.make_owner(owner.name)
    with TestClient(create_app(LabellingService(store), run_trainer=False)) as client:
        got = client.get("/api/quality", headers={"Authorization": f"Bearer {token}"}).json()
    assert got["task"] == "multilabel"
    assert [p["label"] for p in got["per_label"]] == ["red", "big"]
    assert got["per_label"][1]["krippendorff_alpha"] == pytest.approx(1.0)
    # i1's answers differ on "red"; i0's and i2's agree, but three items leave Dawid-Skene
    # unsure of them (as it would single-label items)
    assert got["disputed"] == 3
    assert got["review"][0]["id"] == "i1"
    assert got["review"][0]["answers"] == [
        {"annotator": "ada", "label": "red, big"},
        {"annotator": "bob", "label": "big"},
    ]


def test_owner_page_says_why_it_cannot_load_and_loads_once_it_can(owned, serve_in_thread) -> None:
    from playwright.sync_api import expect, sync_playwright

    _, store, _, owner_token = owned
    with serve_in_thread(LabellingService(store), run_trainer=False) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/?token={owner_token}")
        expect(page.locator("#owner-link")).to_be_visible()
        page.route("**/api/quality", lambda route: route.abort())  # the server is gone
        page.click("#owner-link")
        error = page.locator("#login-error")
        expect(error).to_contain_text("cannot be reached")
        expect(error).to_be_visible()
        page.unroute("**/api/quality")
        page.route(
            "**/api/quality",
            lambda route: route.fulfill(
                status=500, content_type="application/json", body='{"detail": "disk full"}'
            ),
        )
        expect(error).to_contain_text("disk full", timeout=15_000)  # the server's reason
        page.unroute("**/api/quality")
        expect(page.locator("#owner")).to_be_visible(timeout=15_000)  # tried again by itself
        expect(page.locator("#q-disputed")).to_have_text("4")
        expect(page.locator("#login")).to_be_hidden()
        assert not errors, errors
        browser.close()


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_owner_page_opens_with_the_token_in_its_address_drops_it_and_signs_out(
    owned, serve_in_thread
) -> None:
    from playwright.sync_api import expect, sync_playwright

    _, store, _, owner_token = owned
    with serve_in_thread(LabellingService(store), run_trainer=False) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/owner?token={owner_token}")
        expect(page.locator("#owner")).to_be_visible()
        expect(page.locator("#q-disputed")).to_have_text("4")
        expect(page.locator("#login")).to_be_hidden()
        assert "token" not in page.url and owner_token not in page.url  # not left in the bar
        history = page.evaluate("history.length")
        with page.expect_response("**/api/quality") as answer:
            page.click("#refresh-button")  # the token is kept in the tab
        assert answer.value.status == 200
        assert page.evaluate("history.length") == history
        # signing out while a refresh is on its way: its answer does not bring the figures back
        held: list = []
        page.route("**/api/quality", lambda route: held.append(route))
        page.click("#refresh-button")
        page.wait_for_timeout(200)
        page.click("#logout-button")
        expect(page.locator("#login")).to_be_visible()
        for route in held:
            route.continue_()
        page.wait_for_timeout(500)
        expect(page.locator("#login")).to_be_visible()
        expect(page.locator("#owner")).to_be_hidden()
        page.unroute("**/api/quality")
        page.fill("#token-input", owner_token)  # and in again, to sign out once more below
        page.press("#token-input", "Enter")
        expect(page.locator("#owner")).to_be_visible()
        # signing out forgets the token in the tab: a reload asks for it again
        page.click("#logout-button")
        expect(page.locator("#login")).to_be_visible()
        expect(page.locator("#owner")).to_be_hidden()
        expect(page.locator("#people tbody tr")).to_have_count(0)
        assert page.evaluate("sessionStorage.length") == 0
        page.reload()
        expect(page.locator("#login")).to_be_visible()
        expect(page.locator("#owner")).to_be_hidden()
        assert not errors, errors
        browser.close()


def test_owner_page_shows_an_empty_label_set_as_none_of_these(tmp_path, serve_in_thread) -> None:
    from playwright.sync_api import expect, sync_playwright

    from activelab.app.store import Store, encode_label_set

    store = Store.create(
        f"sqlite:///{tmp_path / 'p.db'}", {"labels": ["red", "big"], "task": "multilabel"}
    )
    store.add_items(
        [{"external_id": f"i{i}", "kind": "text", "content": {"text": str(i)}} for i in range(3)]
    )
    store.save_features(np.arange(3, dtype=float).reshape(-1, 1))
    ada, _ = store.add_annotator("ada")
    bob, _ = store.add_annotator("bob")
    for item, a, b in [(0, ["red"], ["red"]), (1, ["red", "big"], []), (2, [], [])]:
        store.append_event(item, ada.id, "label", label=encode_label_set(a), overlap=2)
        store.append_event(item, bob.id, "label", label=encode_label_set(b), overlap=2)
    owner, token = store.add_annotator("olga")
    store.make_owner(owner.name)
    with serve_in_thread(LabellingService(store), run_trainer=False) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{url}/?token={token}")
        page.click("#owner-link")
        row = page.locator("#review tbody tr")
        # i1's answers differ; i0's and i2's agree, but three items leave Dawid-Skene unsure
        # of them, as it would be of single-label items: all three are listed
        expect(row).to_have_count(3)
        cells = row.filter(has=page.locator("th", has_text="i1")).locator("td")
        expect(cells.nth(2)).to_contain_text("bob: none of these")
        expect(cells.nth(2)).to_contain_text("ada: red, big")
        browser.close()
    store.close()


def _little_overlap(url: str = "sqlite://"):
    """Two split items, two agreeing ones, and eight items with one answer each from
    annotators who disagree half the time: Dawid–Skene is unsure of the single answers."""
    from activelab.app.store import Store

    store = Store.create(url, {"name": "p", "labels": ["no", "yes"], "overlap": 1})
    store.add_items(
        [{"external_id": f"x{i}", "kind": "text", "content": {"text": str(i)}} for i in range(12)]
    )
    ada, _ = store.add_annotator("ada")
    bob, _ = store.add_annotator("bob")
    for item, a, b in [(0, "yes", "no"), (1, "no", "yes"), (2, "no", "no"), (3, "yes", "yes")]:
        store.append_event(item, ada.id, "label", label=a, overlap=2)
        store.append_event(item, bob.id, "label", label=b, overlap=2)
    for item in range(4, 12):
        store.append_event(item, (ada, bob)[item % 2].id, "label", label="yes")
    return store


def test_single_answers_are_doubtful_not_disputed(tmp_path: Path) -> None:
    """Disputed: answers that disagree, or several unsure ones. An unsure single answer is
    doubtful: off the review queue, counted apart in status, listed by review --doubtful."""
    from activelab.app.project import CONFIG_NAME

    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = _little_overlap(url)
    rep = quality_report(store)
    # x0, x1 split; x2's two answers agree but leave it unsure (0.81); x3 is sure
    assert rep["disputed"] == 3 and rep["doubtful"] == 8  # was 11 disputed
    assert [r["id"] for r in owner_report(store)["review"]] == ["x0", "x1", "x2"]
    store.close()
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / CONFIG_NAME).write_text(f'{{"db": "{url}"}}')
    proj = str(tmp_path / "proj")
    runner = CliRunner()
    queue = json.loads(runner.invoke(main, ["review", proj, "--json"]).output)
    assert queue["disputed"] == 3 and queue["doubtful"] == 8
    assert all(len(r["answers"]) == 2 for r in queue["items"])
    single = json.loads(runner.invoke(main, ["review", proj, "--doubtful", "--json"]).output)
    assert single["doubtful"] == 8 and len(single["items"]) == 8
    assert all(len(r["answers"]) == 1 for r in single["items"])
    text = runner.invoke(main, ["review", proj]).output
    assert text.startswith("3 disputed items") and "8 doubtful single answers" in text
    status = runner.invoke(main, ["status", proj], env={"COLUMNS": "200"}).output
    assert "3 disputed (activelab review)" in status
    assert "8 doubtful single answers: second opinions would settle them, but they are off" in (
        status
    )
    assert (
        json.loads(runner.invoke(main, ["status", proj, "--json"]).output)["quality"]["doubtful"]
        == 8
    )
    both = runner.invoke(main, ["review", proj, "--doubtful", "--decide", "x4", "no"])
    assert both.exit_code != 0 and "give one of them" in both.output


def test_doubtful_single_answers_name_second_opinions_when_on() -> None:
    from activelab.app.quality import doubtful_text

    line = doubtful_text(3, {"second_opinions": True}, "p")
    assert line.startswith("3 doubtful single answers: second opinions ask for one more")
    assert "activelab review p --doubtful" in line


def test_multilabel_single_answers_are_never_disputed() -> None:
    from activelab.app.multilabel_quality import (
        aggregate_label_sets,
        disputed_label_sets,
        multilabel_answer_table,
    )
    from activelab.app.store import Store, encode_label_set

    store = Store.create("sqlite://", {"labels": ["red", "big"], "task": "multilabel"})
    store.add_items(
        [{"external_id": f"i{i}", "kind": "text", "content": {"text": str(i)}} for i in range(8)]
    )
    ada, _ = store.add_annotator("ada")
    bob, _ = store.add_annotator("bob")
    for item, a, b in [(0, ["red"], ["big"]), (1, ["red", "big"], ["big"]), (2, [], ["red"])]:
        store.append_event(item, ada.id, "label", label=encode_label_set(a), overlap=2)
        store.append_event(item, bob.id, "label", label=encode_label_set(b), overlap=2)
    for item in range(3, 8):
        store.append_event(item, (ada, bob)[item % 2].id, "label", label=encode_label_set(["red"]))
    t = multilabel_answer_table(store)
    agg = aggregate_label_sets(t, "dawid_skene")
    assert sorted(q["item"] for q in disputed_label_sets(t, agg)) == [0, 1, 2]
    single = disputed_label_sets(t, agg, doubtful=True)
    assert sorted(q["item"] for q in single) == [3, 4, 5, 6, 7]  # each one answer, unsure
    assert disputed_label_sets(t, agg, doubtful=True, min_confidence=0.5) == []
    owner = owner_report(store)
    assert owner["disputed"] == 3 and owner["doubtful"] == 5


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_owner_page_says_one_item_in_the_singular(tmp_path: Path, serve_in_thread) -> None:
    from playwright.sync_api import expect, sync_playwright

    store = open_project(_project(tmp_path, n=2))
    ada, _ = store.add_annotator("ada")
    store.append_event(0, ada.id, "label", label="good")
    owner, owner_token = store.add_annotator("olga")
    store.make_owner(owner.name)
    with serve_in_thread(LabellingService(store), run_trainer=False) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{url}/owner?token={owner_token}")
        expect(page.locator("#q-answers")).to_have_text("1 on 1 item")  # was "1 on 1 items"
        browser.close()
    store.close()


def test_multilabel_items_are_disputed_on_the_grounds_of_single_label_ones() -> None:
    # ada and bob agree on "red" everywhere and on "big" on half the items: Dawid-Skene leaves
    # "big" unsure (0.79) even where they agree, which makes a single-label item disputed
    from activelab.app.multilabel_quality import (
        aggregate_label_sets,
        disputed_label_sets,
        multilabel_answer_table,
    )
    from activelab.app.store import Store, encode_label_set

    store = Store.create("sqlite://", {"labels": ["red", "big"], "task": "multilabel"})
    store.add_items(
        [{"external_id": f"i{i}", "kind": "text", "content": {"text": str(i)}} for i in range(12)]
    )
    ada, _ = store.add_annotator("ada")
    bob, _ = store.add_annotator("bob")
    for item in range(12):
        a = ["red"] + (["big"] if item % 2 else [])
        b = ["red"] + (["big"] if item < 6 else [])
        store.append_event(item, ada.id, "label", label=encode_label_set(a), overlap=2)
        store.append_event(item, bob.id, "label", label=encode_label_set(b), overlap=2)
    t = multilabel_answer_table(store)
    split = [0, 2, 4, 7, 9, 11]  # the answers differ on "big"
    agg = aggregate_label_sets(t, "dawid_skene")
    assert [q["item"] for q in disputed_label_sets(t, agg)][:6] == split
    assert len(disputed_label_sets(t, agg)) == 12
    assert sorted(q["item"] for q in disputed_label_sets(t, agg, min_confidence=0.7)) == split
    majority = aggregate_label_sets(t, "majority")  # agreeing answers leave no doubt
    assert sorted(q["item"] for q in disputed_label_sets(t, majority)) == split
