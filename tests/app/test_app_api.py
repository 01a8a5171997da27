"""The JSON API: tokens, limits, errors, the labelling loop, leases and the OpenAPI document.

The tests on the ``api`` fixture run on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from activelab.app.api import MAX_BODY, create_app
from activelab.app.ingest import read_items
from activelab.app.project import create_project, open_project
from activelab.app.service import LabellingService

XSS = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2"><b>bold?</b>'


@pytest.fixture
def text_project(tmp_path, project_db):
    csv = tmp_path / "items.csv"
    rows = ["id,text", f'evil,"{XSS.replace(chr(34), chr(34) * 2)}"']
    rows += [
        f"t{i},{'great lovely' if i % 2 else 'awful broken'} thing number {i}" for i in range(30)
    ]
    csv.write_text("\n".join(rows) + "\n")
    return create_project(tmp_path / "proj", read_items(csv), ["good", "bad"], db_url=project_db)


@pytest.fixture
def api(text_project):
    store = open_project(text_project)
    tokens = {n: store.add_annotator(n)[1] for n in ("ada", "bob", "eve")}
    service = LabellingService(store, retrain_every=2)
    with TestClient(create_app(service, run_trainer=False)) as client:
        yield client, tokens, service
    store.close()


def h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _snapshot(service: LabellingService) -> tuple:
    s = service.store
    return (s.last_event_id(), s.count_events(), sorted(s.current_labels()))


def test_openapi_lists_every_endpoint(api) -> None:
    client, _, _ = api
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/next",
        "/api/answer",
        "/api/skip",
        "/api/undo",
        "/api/progress",
        "/api/project",
        "/api/items/{item_id}",
        "/api/items/{item_id}/image",
        "/api/release",
        "/api/release-held",
        "/api/me",
    ):
        assert path in paths, path
    assert "ItemOut" in client.get("/openapi.json").json()["components"]["schemas"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer forged-token-123"},
        {"Authorization": "Basic YWRhOng="},
        {"Authorization": "Bearer "},
    ],
)
def test_missing_or_forged_token_is_401_and_store_unchanged(api, headers) -> None:
    client, _, service = api
    before = _snapshot(service)
    for method, path, body in [
        ("get", "/api/next", None),
        ("get", "/api/progress", None),
        ("post", "/api/answer", {"item_id": 1, "label": "good"}),
        ("post", "/api/undo", {}),
    ]:
        r = getattr(client, method)(path, headers=headers, **({"json": body} if body else {}))
        assert r.status_code == 401, (path, r.status_code)
        assert "token" in r.json()["detail"]
    assert _snapshot(service) == before


def test_revoked_token_is_refused_at_once(api) -> None:
    client, tokens, service = api
    assert client.get("/api/me", headers=h(tokens["eve"])).json()["name"] == "eve"
    item = client.get("/api/next", headers=h(tokens["eve"])).json()["item"]
    service.store.revoke_annotator("eve")
    before = _snapshot(service)
    r = client.post(
        "/api/answer", headers=h(tokens["eve"]), json={"item_id": item["id"], "label": "good"}
    )
    assert r.status_code == 401
    assert _snapshot(service) == before


def test_a_database_outage_is_a_one_line_503_and_a_retry_then_stores_once(api, monkeypatch) -> None:
    """The database gone for a moment (a restart, a dropped connection, busy past its
    timeout): the request gets 503 with the reason in one line, not a bare 500, and
    sending it again once the database is back stores the answer once."""
    import sqlalchemy as sa

    client, tokens, service = api
    item = client.get("/api/next", headers=h(tokens["ada"])).json()["item"]
    body = {"item_id": item["id"], "label": "good", "request_id": "outage-1"}
    down = sa.exc.OperationalError(
        "INSERT INTO label_events ...", {}, OSError("server closed the connection unexpectedly")
    )

    def fail(*_a: object, **_k: object) -> None:
        raise down

    with monkeypatch.context() as m:
        m.setattr(service.store, "append_event", fail)
        r = client.post("/api/answer", json=body, headers=h(tokens["ada"]))
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    detail = r.json()["detail"]
    assert "server closed the connection unexpectedly" in detail and "\n" not in detail
    assert "request_id" in detail
    first = client.post("/api/answer", json=body, headers=h(tokens["ada"]))
    again = client.post("/api/answer", json=body, headers=h(tokens["ada"]))
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert service.store.count_events()["label"] == 1


def test_unknown_label_is_422_with_the_labels_and_store_unchanged(api) -> None:
    client, tokens, service = api
    item = client.get("/api/next", headers=h(tokens["ada"])).json()["item"]
    before = _snapshot(service)
    r = client.post(
        "/api/answer", headers=h(tokens["ada"]), json={"item_id": item["id"], "label": "maybe"}
    )
    assert r.status_code == 422
    assert "maybe" in r.json()["detail"] and "['good', 'bad']" in r.json()["detail"]
    r = client.post(
        "/api/answer", headers=h(tokens["ada"]), json={"item_id": 10**6, "label": "good"}
    )
    assert r.status_code == 404
    r = client.post("/api/answer", headers=h(tokens["ada"]), json={"item": 1})
    assert r.status_code == 422
    assert _snapshot(service) == before


def test_half_an_emoji_is_422_naming_the_field_not_500(api) -> None:
    client, tokens, service = api
    item = client.get("/api/next", headers=h(tokens["ada"])).json()["item"]
    before = _snapshot(service)
    headers = {**h(tokens["ada"]), "Content-Type": "application/json"}
    # "\ud83d" alone: the first half of an emoji's surrogate pair, valid as a JSON escape
    i = item["id"]
    for route, body in [
        ("/api/answer", f'{{"item_id": {i}, "label": "\\ud83d"}}'),
        ("/api/answer", f'{{"item_id": {i}, "label": "good", "request_id": "r\\ud83d"}}'),
        ("/api/skip", f'{{"item_id": {i}, "request_id": "\\udc00"}}'),
        ("/api/undo", '{"request_id": "\\ud83d"}'),
    ]:
        r = client.post(route, headers=headers, content=body.encode())
        assert r.status_code == 422, (route, body, r.text)
        assert "holds a lone surrogate" in r.text
    assert _snapshot(service) == before


def test_oversized_payload_is_413_and_store_unchanged(api) -> None:
    client, tokens, service = api
    before = _snapshot(service)
    big = {"item_id": 1, "label": "good", "request_id": "x" * (MAX_BODY + 10)}
    r = client.post("/api/answer", headers=h(tokens["ada"]), json=big)
    assert r.status_code == 413

    # a streamed body without Content-Length is cut off too
    def chunks():
        for _ in range(20):
            yield b"x" * 8192

    r = client.post(
        "/api/answer",
        headers={**h(tokens["ada"]), "Content-Type": "application/json"},
        content=chunks(),
    )
    assert r.status_code == 413
    assert _snapshot(service) == before


def test_label_skip_undo_loop_and_idempotent_retry(api) -> None:
    client, tokens, service = api
    ada = h(tokens["ada"])
    first = client.get("/api/next", headers=ada).json()["item"]
    assert client.get("/api/next", headers=ada).json()["item"]["id"] == first["id"]  # reload
    body = {"item_id": first["id"], "label": "good", "request_id": "req-1"}
    e1 = client.post("/api/answer", headers=ada, json=body).json()
    assert client.post("/api/answer", headers=ada, json=body).json()["id"] == e1["id"]
    assert service.store.count_events()["label"] == 1
    second = client.get("/api/next", headers=ada).json()["item"]
    assert second["id"] != first["id"]
    client.post("/api/skip", headers=ada, json={"item_id": second["id"]}).raise_for_status()
    third = client.get("/api/next", headers=ada).json()["item"]
    assert third["id"] not in (first["id"], second["id"])
    # undo takes back the skip, then the label; each undo is a new event
    r = client.post("/api/undo", headers=ada, json={}).json()
    assert r["event"]["kind"] == "undo" and r["item"]["id"] == second["id"]
    r = client.post("/api/undo", headers=ada, json={}).json()
    assert r["item"]["id"] == first["id"]
    assert service.store.current_labels() == {}
    assert client.post("/api/undo", headers=ada, json={}).status_code == 409
    assert service.store.count_events() == {"label": 1, "skip": 1, "undo": 2}
    p = client.get("/api/progress", headers=ada).json()
    assert p["labelled"] == 0 and p["remaining"] == 31


def test_an_item_is_not_handed_to_two_annotators(api) -> None:
    client, tokens, _ = api
    a = client.get("/api/next", headers=h(tokens["ada"])).json()["item"]
    b = client.get("/api/next", headers=h(tokens["bob"])).json()["item"]
    assert a["id"] != b["id"]
    client.post("/api/release", headers=h(tokens["ada"]), json={"item_id": a["id"]})
    # released: bob's next item (after answering his own) may be ada's old one
    client.post("/api/answer", headers=h(tokens["bob"]), json={"item_id": b["id"], "label": "bad"})
    assert client.get("/api/next", headers=h(tokens["bob"])).json()["item"]["id"] == a["id"]


def test_release_held_gives_back_the_item_left_on_screen_by_an_undo(api) -> None:
    client, tokens, service = api
    ada, bob = h(tokens["ada"]), h(tokens["bob"])
    assert client.post("/api/release-held").status_code == 401
    first = client.get("/api/next", headers=ada).json()["item"]["id"]
    client.post("/api/answer", headers=ada, json={"item_id": first, "label": "good"})
    second = client.get("/api/next", headers=ada).json()["item"]["id"]
    assert client.post("/api/undo", headers=ada, json={}).json()["item"]["id"] == first
    mine = client.get("/api/next", headers=bob).json()["item"]["id"]
    before = _snapshot(service)
    # it gives back every item held: a body naming one is refused, not read as "this one"
    assert client.post("/api/release-held", headers=ada, json={"item_id": first}).status_code == 422
    assert len(service.store.leased_items()) == 3
    r = client.post("/api/release-held", headers=ada)
    assert r.status_code == 200
    assert r.json() == {"released": sorted([first, second])}
    # both of ada's items are free at once; bob keeps his, and no event is written
    assert service.store.leased_items() == {mine: service.store.annotator_by_name("bob").id}
    assert _snapshot(service) == before
    assert client.post("/api/release-held", headers=ada).json() == {"released": []}


def test_html_in_item_text_comes_back_as_plain_data(api) -> None:
    client, tokens, _service = api
    r = client.get("/api/items/0", headers=h(tokens["ada"]))
    assert r.json()["text"] == XSS
    assert r.headers["content-type"].startswith("application/json")
    page = client.get("/")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    js = client.get("/static/app.js").text
    assert "innerHTML" not in js and "textContent" in js


def test_model_guess_and_progress_after_training(api) -> None:
    client, tokens, service = api
    ada = h(tokens["ada"])
    for _ in range(8):
        item = client.get("/api/next", headers=ada).json()["item"]
        label = "good" if "great" in item["text"] else "bad"
        client.post("/api/answer", headers=ada, json={"item_id": item["id"], "label": label})
    service.retrain()
    item = client.get("/api/next", headers=ada).json()["item"]
    assert item["guess"] in ("good", "bad") and 0.5 <= item["confidence"] <= 1.0
    assert item["strategy"] == "auto"  # the default strategy, no longer the cold start
    p = client.get("/api/progress", headers=ada).json()
    assert p["labelled"] == 8 and p["mine"] == 8 and p["model_labels"] == 8
    assert 0.0 <= p["accuracy_low"] <= p["accuracy"] <= p["accuracy_high"] <= 1.0


def test_image_items_are_served_only_with_a_token(tmp_path) -> None:
    from PIL import Image

    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(4):
        Image.new("L", (8, 8), color=40 * i).save(folder / f"img-{i}.png")
    proj = create_project(tmp_path / "imgproj", read_items(folder), ["dark", "light"])
    store = open_project(proj)
    _, token = store.add_annotator("ada")
    with TestClient(create_app(LabellingService(store), run_trainer=False)) as client:
        item = client.get("/api/next", headers=h(token)).json()["item"]
        assert item["kind"] == "image" and item["text"] is None
        assert item["image_url"] == f"/api/items/{item['id']}/image"
        assert client.get(item["image_url"]).status_code == 401
        r = client.get(item["image_url"], headers=h(token))
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert r.content[:4] == b"\x89PNG"
        assert client.get("/api/items/99/image", headers=h(token)).status_code == 404
    store.close()


def test_progress_reports_the_stopping_criteria(api) -> None:
    client, tokens, service = api
    ada = h(tokens["ada"])
    p = client.get("/api/progress", headers=ada).json()
    assert p["stopping"] is None and p["stopping_text"] is None  # no model yet
    for _ in range(8):
        item = client.get("/api/next", headers=ada).json()["item"]
        label = "good" if "great" in item["text"] else "bad"
        client.post("/api/answer", headers=ada, json={"item_id": item["id"], "label": label})
    service.retrain()
    first = client.get("/api/progress", headers=ada).json()["stopping"]
    assert set(first) == {"stabilizing_predictions", "confidence"}
    assert first["stabilizing_predictions"]["fired"] is None  # one model: cannot tell yet
    conf = first["confidence"]
    assert isinstance(conf["fired"], bool) and conf["threshold"] == 0.05
    assert 0.0 <= conf["mean_uncertainty"] <= 0.5  # least confidence of two classes
    assert conf["fired"] == (conf["mean_uncertainty"] <= 0.05)
    # the same labels twice more: successive models agree fully, so predictions are stable,
    # and "since" keeps the label count at which they first were
    service.retrain()
    assert service.progress().stopping["stabilizing_predictions"]["fired"] is False
    service.retrain()
    p = client.get("/api/progress", headers=ada).json()
    stab = p["stopping"]["stabilizing_predictions"]
    assert stab["fired"] is True and stab["since"] == 8 and stab["agreement"] == 1.0
    assert p["stopping_text"].startswith("stopping: predictions stable since 8 labels")
    assert p["still_pays"] is False  # the same read-out as "more labels still pay?"


def test_a_store_made_without_name_or_kind_shows_its_databases_name_and_items_kind(
    tmp_path,
) -> None:
    import json

    import numpy as np
    from click.testing import CliRunner

    from activelab.app.project import CONFIG_NAME
    from activelab.app.store import Store
    from activelab.cli import main

    url = f"sqlite:///{tmp_path / 'reviews.db'}"
    store = Store.create(url, {"labels": ["neg", "pos"]})  # no name, no kind
    store.add_items(
        [{"external_id": f"i{i}", "kind": "text", "content": {"text": str(i)}} for i in range(3)]
    )
    store.save_features(np.eye(3))
    _, token = store.add_annotator("ada")
    app = create_app(LabellingService(store), run_trainer=False)
    with TestClient(app) as client:
        got = client.get("/api/project", headers=h(token)).json()
    assert (got["name"], got["kind"]) == ("reviews", "text")
    store.close()
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / CONFIG_NAME).write_text(json.dumps({"db": url}))
    r = CliRunner().invoke(main, ["status", str(proj), "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    assert (info["name"], info["kind"]) == ("proj", "text")
