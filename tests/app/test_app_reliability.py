"""The store never loses an acknowledged answer: SIGKILL mid-labelling, 20 concurrent annotators."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from activelab.app.project import open_project

pytestmark = pytest.mark.timeout(120)


def _children(pid: int) -> list[int]:
    """Child process ids (Linux)."""
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    """Running (not exited, not a zombie awaiting its reaper)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _label_for(item: dict) -> str:
    return "high" if float(item["fields"]["a"]) > 0 else "low"


def test_sigkill_mid_labelling_loses_no_acknowledged_label(
    table_project, server, add_tokens
) -> None:
    # large enough that labelling cannot finish before the kill on a fast machine
    project = table_project(3000)
    token = add_tokens(project, ["ada"])["ada"]
    srv = server(project, "--retrain-every", "5", "--retrain-seconds", "1")
    acked: list[tuple[str, int, str]] = []  # (request id, item, label) answered with 200
    unacked: tuple[str, int, str] | None = None
    deadline = time.monotonic() + 60
    while not _children(srv.proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    trainers = _children(srv.proc.pid)
    assert trainers, "the server started no trainer process"
    killed_at: list[float] = []

    def kill() -> None:
        killed_at.append(time.time())
        srv.kill()

    killer = threading.Timer(2.0, kill)
    killer.start()
    with httpx.Client(base_url=srv.url, headers=_auth(token), timeout=5.0) as client:
        while True:
            try:
                item = client.get("/api/next").json()["item"]
            except httpx.HTTPError:
                break
            assert item is not None, "the queue ran out before the kill"
            rid = str(uuid.uuid4())
            label = _label_for(item)
            try:
                r = client.post(
                    "/api/answer", json={"item_id": item["id"], "label": label, "request_id": rid}
                )
            except httpx.HTTPError:
                unacked = (rid, item["id"], label)  # the answer may or may not have landed
                break
            assert r.status_code == 200, r.text
            acked.append((rid, item["id"], label))
    killer.join()
    assert srv.proc.returncode is not None and srv.proc.returncode < 0  # killed, not exited
    deadline = time.monotonic() + 5  # the pipe closes with the server: it exits at once
    while any(_alive(pid) for pid in trainers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in trainers), "the trainer outlived its server"
    assert len(acked) >= 10, "the server was killed before labelling got going"

    # after the crash: every acknowledged answer is in the store, once
    store = open_project(project)
    events = [e for e in store.events() if e.kind == "label"]
    by_request = Counter(e.request_id for e in events)
    assert all(by_request[rid] == 1 for rid, _, _ in acked)
    current = store.current_labels()
    for _rid, item_id, label in acked:
        assert current[item_id].label == label
    assert len(current) == len(events)  # no item labelled twice
    assert len({e.item_id for e in events}) == len(events)  # no item with two label events
    # the orphaned trainer stored no model version after its server died
    assert all(v.created_at <= killed_at[0] + 0.25 for v in store.model_versions())
    n_before = len(events)
    store.close()

    # restart: the queue is rebuilt from the store and a retried request is not duplicated
    srv2 = server(project, "--retrain-every", "5", "--retrain-seconds", "1")
    with httpx.Client(base_url=srv2.url, headers=_auth(token), timeout=10.0) as client:
        if unacked is not None:
            rid, item_id, label = unacked
            r = client.post(
                "/api/answer", json={"item_id": item_id, "label": label, "request_id": rid}
            )
            assert r.status_code == 200
            r2 = client.post(
                "/api/answer", json={"item_id": item_id, "label": label, "request_id": rid}
            )
            assert r2.json()["id"] == r.json()["id"]
        labelled_ids = set(open_project(project).current_labels())
        for _ in range(5):
            item = client.get("/api/next").json()["item"]
            assert item["id"] not in labelled_ids
            client.post(
                "/api/answer",
                json={
                    "item_id": item["id"],
                    "label": _label_for(item),
                    "request_id": str(uuid.uuid4()),
                },
            ).raise_for_status()
        deadline = time.monotonic() + 30
        while True:  # the trainer catches up with every label in the store
            p = client.get("/api/progress").json()
            if p["model_labels"] == p["labelled"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    n_expected = n_before + 5 + (unacked is not None and unacked[0] not in by_request)
    assert p["labelled"] == n_expected
    assert p["model_labels"] == p["labelled"]
    store = open_project(project)
    events = [e for e in store.events() if e.kind == "label"]
    assert len(events) == n_expected
    assert len({e.request_id for e in events}) == n_expected
    assert len(store.current_labels()) == n_expected
    store.close()


def test_twenty_annotators_hundred_labels_each_stored_exactly_once(
    table_project, server, add_tokens
) -> None:
    n_annotators, per_annotator = 20, 100
    project = table_project(2000)
    tokens = add_tokens(project, [f"annotator-{i:02d}" for i in range(n_annotators)])
    srv = server(project, "--retrain-every", "100", "--retrain-seconds", "2")
    errors: list[str] = []
    handed: dict[str, list[int]] = {}

    def work(name: str, token: str) -> None:
        mine: list[int] = []
        try:
            with httpx.Client(base_url=srv.url, headers=_auth(token), timeout=30.0) as client:
                for k in range(per_annotator):
                    item = client.get("/api/next").json()["item"]
                    mine.append(item["id"])
                    body = {
                        "item_id": item["id"],
                        "label": _label_for(item),
                        "request_id": f"{name}-{k}",
                    }
                    r = client.post("/api/answer", json=body)
                    r.raise_for_status()
                    if k % 10 == 0:  # a retry after a lost response: must not duplicate
                        assert client.post("/api/answer", json=body).json()["id"] == r.json()["id"]
        except Exception as exc:  # report in the main thread
            errors.append(f"{name}: {exc!r}")
        handed[name] = mine

    t0 = time.perf_counter()
    threads = [threading.Thread(target=work, args=item) for item in tokens.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(100)
    seconds = time.perf_counter() - t0
    assert not errors, errors[:3]
    srv.stop()

    store = open_project(project)
    events = store.events()
    labels = [e for e in events if e.kind == "label"]
    assert len(labels) == n_annotators * per_annotator
    assert len({e.request_id for e in labels}) == len(labels)
    assert Counter(e.annotator_id for e in labels) == Counter(
        {a.id: per_annotator for a in store.annotators()}
    )
    # one item was never handed to two annotators at once: every item labelled once
    assert len({e.item_id for e in labels}) == len(labels)
    all_handed = [i for ids in handed.values() for i in ids]
    assert len(set(all_handed)) == len(all_handed)
    # the trainer ran while they labelled
    versions = store.model_versions()
    assert len(versions) >= 3
    assert versions[-1].n_labels > 0
    store.close()
    print(f"2,000 labels by 20 annotators in {seconds:.1f} s; {len(versions)} model versions")
