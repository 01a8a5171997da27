"""Answer integrity: leases, answered-once, request ids per annotator, strict types, races.

The API tests run on SQLite and PostgreSQL (the ``project_db`` fixture), the store races on
both (``db_url``)."""

from __future__ import annotations

import threading
from collections import Counter

import numpy as np
import pytest
from fastapi.testclient import TestClient

from activelab.app.api import create_app
from activelab.app.ingest import read_items
from activelab.app.project import create_project, open_project
from activelab.app.service import LabellingService
from activelab.app.store import ConflictError, Store


@pytest.fixture
def api(tmp_path, project_db):
    csv = tmp_path / "items.csv"
    rows = ["id,text"] + [f"t{i},{'great' if i % 2 else 'awful'} thing {i}" for i in range(60)]
    csv.write_text("\n".join(rows) + "\n")
    proj = create_project(tmp_path / "proj", read_items(csv), ["good", "bad"], db_url=project_db)
    store = open_project(proj)
    tokens = {n: store.add_annotator(n)[1] for n in ("ada", "bob")}
    service = LabellingService(store)
    with TestClient(create_app(service, run_trainer=False)) as client:
        yield client, tokens, service
    store.close()


def h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _live_labels_per_item(store: Store) -> Counter:
    undone = {e.undoes for e in store.events() if e.kind == "undo"}
    return Counter(e.item_id for e in store.events() if e.kind == "label" and e.id not in undone)


def test_answer_and_skip_only_the_item_leased_to_you(api) -> None:
    client, tokens, service = api
    ada, bob = h(tokens["ada"]), h(tokens["bob"])
    a = client.get("/api/next", headers=ada).json()["item"]["id"]
    b = client.get("/api/next", headers=bob).json()["item"]["id"]
    never = next(i for i in range(60) if i not in (a, b))
    for path, body in [
        ("/api/answer", {"item_id": b, "label": "good"}),  # bob's item
        ("/api/answer", {"item_id": never, "label": "good"}),  # never handed out
        ("/api/skip", {"item_id": b}),
        ("/api/skip", {"item_id": never}),
    ]:
        r = client.post(path, headers=ada, json=body)
        assert r.status_code == 409, (path, body, r.text)
        assert "not leased to you" in r.json()["detail"]
    assert service.store.last_event_id() == 0
    assert client.post("/api/answer", headers=ada, json={"item_id": a, "label": "bad"}).is_success
    # answered once: a second answer (a retry with a new request id) is refused
    r = client.post("/api/answer", headers=ada, json={"item_id": a, "label": "good"})
    assert r.status_code == 409 and "answered item" in r.json()["detail"]
    # a skipped or released item is no longer yours to answer
    skipped = client.get("/api/next", headers=ada).json()["item"]["id"]
    assert client.post("/api/skip", headers=ada, json={"item_id": skipped}).is_success
    r = client.post("/api/answer", headers=ada, json={"item_id": skipped, "label": "good"})
    assert r.status_code == 409
    nxt = client.get("/api/next", headers=ada).json()["item"]["id"]
    client.post("/api/release", headers=ada, json={"item_id": nxt})
    r = client.post("/api/answer", headers=ada, json={"item_id": nxt, "label": "good"})
    assert r.status_code == 409
    # undo hands the answered item back: it may be answered again, once
    assert client.post("/api/undo", headers=ada, json={}).json()["item"]["id"] == skipped
    assert client.post("/api/undo", headers=ada, json={}).json()["item"]["id"] == a
    r = client.post("/api/answer", headers=ada, json={"item_id": a, "label": "good"})
    assert r.status_code == 200, r.text
    assert max(_live_labels_per_item(service.store).values()) == 1


def test_request_ids_are_scoped_per_annotator_and_bound_to_their_body(api) -> None:
    client, tokens, service = api
    ada, bob = h(tokens["ada"]), h(tokens["bob"])
    a = client.get("/api/next", headers=ada).json()["item"]["id"]
    b = client.get("/api/next", headers=bob).json()["item"]["id"]
    body_a = {"item_id": a, "label": "good", "request_id": "same-id"}
    ev_a = client.post("/api/answer", headers=ada, json=body_a).json()
    # bob's request with the same id is his own: stored, not ada's event returned
    ev_b = client.post(
        "/api/answer", headers=bob, json={"item_id": b, "label": "bad", "request_id": "same-id"}
    ).json()
    assert ev_b["id"] != ev_a["id"] and ev_b["item_id"] == b and ev_b["label"] == "bad"
    # a true retry returns the stored event; the same id with another body is 409
    assert client.post("/api/answer", headers=ada, json=body_a).json()["id"] == ev_a["id"]
    for path, body in [
        ("/api/answer", {**body_a, "label": "bad"}),
        ("/api/skip", {"item_id": a, "request_id": "same-id"}),
        ("/api/undo", {"request_id": "same-id"}),
    ]:
        r = client.post(path, headers=ada, json=body)
        assert r.status_code == 409, (path, r.text)
        assert "same-id" in r.json()["detail"] and "new request id" in r.json()["detail"]
    assert service.store.count_events() == {"label": 2, "skip": 0, "undo": 0}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/answer", {"item_id": True, "label": "good"}),
        ("/api/answer", {"item_id": "46", "label": "good"}),
        ("/api/answer", {"item_id": 4.0, "label": "good"}),
        ("/api/answer", {"item_id": -1, "label": "good"}),
        ("/api/answer", {"item_id": 4, "label": 1}),
        ("/api/answer", {"item_id": 4, "label": "good", "request_id": 7}),
        ("/api/answer", {"item_id": 4, "label": "good", "extra": 1}),
        ("/api/answer", {"item_id": 4, "labels": ["good", 2]}),
        ("/api/skip", {"item_id": False}),
        ("/api/skip", {"item_id": "4"}),
        ("/api/undo", {"request_id": 12}),
        ("/api/release", {"item_id": "4"}),
    ],
)
def test_every_field_is_strictly_typed(api, path, body) -> None:
    client, tokens, service = api
    r = client.post(path, headers=h(tokens["ada"]), json=body)
    assert r.status_code == 422, r.text
    assert service.store.last_event_id() == 0


def _race_store(url: str, overlap: int = 1) -> Store:
    store = Store.create(url, {"labels": ["a", "b"], "strategy": "margin", "overlap": overlap})
    store.add_items(
        [{"external_id": f"x{i}", "kind": "table", "content": {"fields": {}}} for i in range(4)]
    )
    store.save_features(np.zeros((4, 1)))
    return store


@pytest.mark.parametrize("overlap", [1, 2])
def test_racing_answers_never_give_an_item_more_live_labels_than_its_overlap(
    db_url, overlap
) -> None:
    """8 threads of 4 annotators answer item 0 at once, each with fresh request ids (as a
    client retrying after a crash would): exactly ``overlap`` labels stay live, one per
    annotator at most, the rest are refused with ConflictError."""
    store = _race_store(db_url, overlap)
    people = [store.add_annotator(f"p{k}")[0] for k in range(4)]
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def go(k: int) -> None:
        barrier.wait()
        try:
            store.append_event(0, people[k % 4].id, "label", label="a", request_id=f"r{k}")
            result = "stored"
        except ConflictError:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=go, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert Counter(outcomes) == {"stored": overlap, "refused": 8 - overlap}
    live = [e for e in store.events() if e.kind == "label"]
    assert len(live) == overlap and len({e.annotator_id for e in live}) == overlap
    store.close()


def test_racing_service_answers_through_leases_store_each_item_once(db_url) -> None:
    """Four annotators race: each takes items and answers every one twice with two request
    ids (a retry after a lost response and a crash): every item ends with one live label."""
    store = _race_store(db_url)
    store.add_items(
        [{"external_id": f"y{i}", "kind": "table", "content": {"fields": {}}} for i in range(36)],
        start=4,
    )
    store.save_features(np.zeros((40, 1)))
    svc = LabellingService(store)
    people = [store.add_annotator(f"p{k}")[0] for k in range(4)]
    errors: list[str] = []

    def go(k: int) -> None:
        try:
            while (item := svc.next_item(people[k])) is not None:
                svc.answer(people[k], item.id, "a", request_id=f"{k}-{item.id}-1")
                with pytest.raises(ConflictError):
                    svc.answer(people[k], item.id, "a", request_id=f"{k}-{item.id}-2")
        except Exception as exc:  # reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=go, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    per_item = _live_labels_per_item(store)
    assert len(per_item) == 40 and set(per_item.values()) == {1}
    store.close()
