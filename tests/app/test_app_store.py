"""The project store and the service: leases, overlap, undo chains, tokens, derived state."""

from __future__ import annotations

import sqlite3
import time

import numpy as np
import pytest

from activelab.app.service import LabellingService, UnknownLabelError
from activelab.app.training import wilson_interval
from activelab.store import Store, StoreError, hash_token


def _store(tmp_path, n: int = 6, **settings: object) -> Store:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = Store.create(url, {"labels": ["a", "b"], "strategy": "margin", **settings})
    store.add_items(
        [
            {"external_id": f"x{i}", "kind": "table", "content": {"fields": {"v": i}}}
            for i in range(n)
        ]
    )
    store.save_features(np.arange(n, dtype=float).reshape(-1, 1))
    return store


def test_only_the_token_hash_is_stored_and_revocation_is_immediate(tmp_path) -> None:
    store = _store(tmp_path)
    ann, token = store.add_annotator("ada")
    raw = sqlite3.connect(tmp_path / "p.db").execute("SELECT token_hash FROM annotators").fetchall()
    assert raw == [(hash_token(token),)]
    assert token.encode() not in (tmp_path / "p.db").read_bytes()
    assert store.authenticate(token).id == ann.id
    assert store.authenticate(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert store.authenticate("") is None and store.authenticate(None) is None
    with pytest.raises(StoreError, match="exists already"):
        store.add_annotator("ada")
    store.revoke_annotator("ada")
    assert store.authenticate(token) is None
    with pytest.raises(StoreError, match="No active annotator"):
        store.revoke_annotator("ada")


def test_leases_are_exclusive_expire_and_respect_overlap(tmp_path) -> None:
    store = _store(tmp_path)
    a, _ = store.add_annotator("a")
    b, _ = store.add_annotator("b")
    c, _ = store.add_annotator("c")
    assert store.lease(0, a.id, seconds=60)
    assert not store.lease(0, b.id, seconds=60)
    assert store.lease(0, a.id, seconds=60)  # renewing your own lease is fine
    assert store.held_item(a.id) == 0
    assert store.lease(1, b.id, seconds=0.01)
    time.sleep(0.05)
    assert store.lease(1, c.id, seconds=60)  # an expired lease is taken over
    # overlap 2: two annotators may hold an item, not a third
    assert store.lease(2, a.id, seconds=60, overlap=2)
    assert store.lease(2, b.id, seconds=60, overlap=2)
    assert not store.lease(2, c.id, seconds=60, overlap=2)
    # an answered item keeps its slot
    store.append_event(0, a.id, "label", label="a")
    assert store.held_item(a.id) == 2
    assert not store.lease(0, b.id, seconds=60)


def test_undo_chain_and_labels_derived_from_the_log(tmp_path) -> None:
    store = _store(tmp_path)
    a, _ = store.add_annotator("a")
    b, _ = store.add_annotator("b")
    e1 = store.append_event(0, a.id, "label", label="a")
    store.append_event(1, a.id, "skip")
    e3 = store.append_event(2, b.id, "label", label="b")
    store.append_event(0, b.id, "label", label="b")  # a second opinion: the latest counts
    assert {k: v.label for k, v in store.current_labels().items()} == {0: "b", 2: "b"}
    u1 = store.undo_last(a.id)  # a's latest is the skip
    assert u1.undoes == 2 and u1.item_id == 1
    u2 = store.undo_last(a.id)
    assert u2.undoes == e1.id
    with pytest.raises(StoreError, match="Nothing to undo"):
        store.undo_last(a.id)
    assert store.undo_last(b.id).undoes == e3.id + 1
    assert {k: v.label for k, v in store.current_labels().items()} == {2: "b"}
    assert [e.kind for e in store.events()] == [
        "label",
        "skip",
        "label",
        "label",
        "undo",
        "undo",
        "undo",
    ]
    with pytest.raises(StoreError):
        store.append_event(0, a.id, "undo")


def test_service_rebuilds_its_view_from_the_log(tmp_path) -> None:
    store = _store(tmp_path, n=12)
    a, _ = store.add_annotator("a")
    svc = LabellingService(store)
    seen = []
    for _ in range(4):
        item = svc.next_item(a)
        seen.append(item.id)
        svc.answer(a, item.id, "a" if item.id < 6 else "b")
    svc.skip(a, svc.next_item(a).id)
    with pytest.raises(UnknownLabelError, match=r"\['a', 'b'\]"):
        svc.answer(a, 0, "c")
    assert len(set(seen)) == 4
    # a fresh service (a restarted server) derives the same state from the store
    again = LabellingService(store)
    assert again.progress(a).labelled == 4 and again.progress(a).mine == 4
    nxt = again.next_item(a)
    assert nxt.id not in seen
    again.retrain()
    p = again.progress(a)
    assert p.model_version is not None and p.model_labels == 4


def test_trainer_process_trains_and_the_service_picks_the_model_up(tmp_path) -> None:
    store = _store(tmp_path, n=40)
    a, _ = store.add_annotator("a")
    svc = LabellingService(store, retrain_every=2, retrain_seconds=0.5)
    svc.start(process=True)
    try:
        for _ in range(6):
            item = svc.next_item(a)
            svc.answer(a, item.id, "a" if item.id < 20 else "b")
        deadline = time.monotonic() + 60
        while svc.progress(a).model_labels < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert svc.progress(a).model_labels == 6
        assert svc.next_item(a).guess in ("a", "b")
    finally:
        svc.stop()
    assert not svc.training


def test_wilson_interval_covers_the_estimate() -> None:
    for k, n in [(0, 5), (5, 5), (7, 10), (900, 1000)]:
        lo, hi = wilson_interval(k, n)
        assert 0.0 <= lo <= k / n <= hi <= 1.0
    assert wilson_interval(90, 100)[1] - wilson_interval(90, 100)[0] > (
        wilson_interval(900, 1000)[1] - wilson_interval(900, 1000)[0]
    )
