"""The project store and the service: leases, overlap, undo chains, tokens, derived state.

Every test that touches the store runs twice, on SQLite and on PostgreSQL (the ``db_url``
fixture of ``conftest.py``)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from activelab.app.service import LabellingService, UnknownLabelError
from activelab.app.store import Store, StoreError, hash_token
from activelab.app.training import wilson_interval


def _store(url: str, n: int = 6, **settings: object) -> Store:
    store = Store.create(url, {"labels": ["a", "b"], "strategy": "margin", **settings})
    store.add_items(
        [
            {"external_id": f"x{i}", "kind": "table", "content": {"fields": {"v": i}}}
            for i in range(n)
        ]
    )
    store.save_features(np.arange(n, dtype=float).reshape(-1, 1))
    return store


def test_only_the_token_hash_is_stored_and_revocation_is_immediate(db_url) -> None:
    store = _store(db_url)
    ann, token = store.add_annotator("ada")
    engine = sa.create_engine(db_url)  # a separate connection, as another process would see
    with engine.connect() as conn:
        raw = conn.execute(sa.text("SELECT token_hash FROM annotators")).all()
    engine.dispose()
    assert [tuple(r) for r in raw] == [(hash_token(token),)]
    if store.dialect == "sqlite":
        assert token.encode() not in Path(db_url[len("sqlite:///") :]).read_bytes()
    assert store.authenticate(token).id == ann.id
    assert store.authenticate(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert store.authenticate("") is None and store.authenticate(None) is None
    with pytest.raises(StoreError, match="exists already"):
        store.add_annotator("ada")
    bob, _ = store.add_annotator("bob")
    assert store.lease(2, ann.id, seconds=600) and store.lease(3, bob.id, seconds=600)
    store.append_event(3, bob.id, "label", label="a", require_lease=True)
    assert store.lease(4, bob.id, seconds=600)
    store.revoke_annotator("ada")
    assert store.authenticate(token) is None
    # ada's item is free at once; bob's leases and answers are untouched
    assert store.leased_items() == {4: bob.id} and store.leased_items([2, 4]) == {4: bob.id}
    assert store.lease(2, bob.id, seconds=600)  # a teammate takes it without waiting
    with pytest.raises(StoreError, match="'ada' is revoked already"):
        store.revoke_annotator("ada")
    with pytest.raises(StoreError, match="No annotator named 'nobody'"):
        store.revoke_annotator("nobody")
    back, fresh = store.new_token("ada")  # ada comes back under her own name
    assert back.id == ann.id and not back.revoked
    assert store.authenticate(fresh).id == ann.id and store.authenticate(token) is None
    with pytest.raises(StoreError, match="No annotator named 'nobody'"):
        store.new_token("nobody")


def test_leases_are_exclusive_expire_and_respect_overlap(db_url) -> None:
    store = _store(db_url)
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


def test_release_held_gives_back_every_unanswered_lease_of_one_annotator(db_url) -> None:
    store = _store(db_url)
    a, _ = store.add_annotator("a")
    b, _ = store.add_annotator("b")
    for item in (0, 1, 2):
        assert store.lease(item, a.id, seconds=60, overlap=2)
    assert store.lease(1, b.id, seconds=60, overlap=2)
    store.append_event(2, a.id, "label", label="a")  # answered: its slot stays
    assert store.release_held(a.id) == [0, 1]
    assert store.held_item(a.id) is None and store.release_held(a.id) == []
    assert store.leased_items() == {1: b.id}  # another annotator's lease is kept
    assert not store.lease(2, b.id, seconds=60, overlap=1)  # the answer still fills it
    assert store.lease(0, b.id, seconds=60)  # free for the others at once


def test_live_answers_give_the_skips_not_undone_when_asked(db_url) -> None:
    store = _store(db_url)
    a, _ = store.add_annotator("a")
    store.append_event(0, a.id, "label", label="a")
    store.append_event(1, a.id, "skip")
    store.append_event(2, a.id, "skip")
    store.undo_last(a.id)  # the skip of item 2
    assert [e.item_id for e in store.live_answers()] == [0]
    assert [(e.item_id, e.kind) for e in store.live_answers(("label", "skip"))] == [
        (0, "label"),
        (1, "skip"),
    ]
    with pytest.raises(ValueError, match=r"kinds must name 'label' or 'skip', got \['undo'\]"):
        store.live_answers(("label", "undo"))


def test_undo_event_takes_back_one_answer_not_only_the_latest(db_url) -> None:
    store = _store(db_url)
    a, _ = store.add_annotator("a")
    b, _ = store.add_annotator("b")
    first = store.append_event(0, a.id, "label", label="a")
    store.append_event(1, a.id, "label", label="b")
    with pytest.raises(StoreError, match="no live label or skip of annotator"):
        store.undo_event(first.id, b.id)  # not b's
    undo = store.undo_event(first.id, a.id)
    assert (undo.kind, undo.undoes, undo.item_id) == ("undo", first.id, 0)
    assert {k: v.label for k, v in store.current_labels().items()} == {1: "b"}
    with pytest.raises(StoreError, match="nothing to undo"):
        store.undo_event(first.id, a.id)  # undone already
    assert store.append_event(0, a.id, "label", label="b").label == "b"
    store.close()


def test_undo_chain_and_labels_derived_from_the_log(db_url) -> None:
    store = _store(db_url, overlap=2)  # item 0 gets a second opinion
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


def test_service_rebuilds_its_view_from_the_log(db_url) -> None:
    store = _store(db_url, n=12)
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


def test_trainer_process_trains_and_the_service_picks_the_model_up(db_url) -> None:
    store = _store(db_url, n=40)
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


def test_concurrent_writers_store_each_label_once_and_readers_miss_none(db_url) -> None:
    """10 annotators x 30 labels from threads, with a retry of every answer, while a reader
    follows the log by "ids above the last one seen": on PostgreSQL, events that committed
    out of id order would be skipped by that reader for good."""
    n_threads, per_thread = 10, 30
    store = _store(db_url, n=n_threads * per_thread)
    annotators = [store.add_annotator(f"ann-{k}")[0] for k in range(n_threads)]
    svc = LabellingService(store)
    errors: list[str] = []
    handed: list[list[int]] = [[] for _ in range(n_threads)]
    stored: dict[str, int] = {}
    done = threading.Event()
    seen: list[int] = []

    def write(k: int) -> None:
        try:
            for j in range(per_thread):
                item = svc.next_item(annotators[k])
                handed[k].append(item.id)
                rid = f"{k}-{j}"
                ev = svc.answer(annotators[k], item.id, "ab"[item.id % 2], request_id=rid)
                # a retried request after a lost response: the same event comes back
                again = svc.answer(annotators[k], item.id, "ab"[item.id % 2], request_id=rid)
                assert again.id == ev.id
                stored[rid] = ev.id
        except Exception as exc:  # reported in the main thread
            errors.append(f"writer {k}: {exc!r}")

    def read() -> None:
        last = 0
        while True:
            finished = done.is_set()
            batch = store.events(after=last)
            seen.extend(e.id for e in batch)
            last = batch[-1].id if batch else last
            if finished:
                return

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(k,)) for k in range(n_threads)]
    for t in writers:
        t.start()
    for t in writers:
        t.join(120)
    done.set()
    reader.join(30)
    assert not errors, errors[:3]
    events = store.events()
    assert [e.kind for e in events] == ["label"] * (n_threads * per_thread)
    ids = [e.id for e in events]
    assert ids == sorted(set(ids))  # each stored once, in id order
    assert sorted(stored.values()) == ids
    assert {e.request_id: e.id for e in events} == stored
    # the reader, following the log as it grew, saw every event exactly once, in order
    assert seen == ids
    # no item was handed to two annotators, and each label landed on its own item
    all_handed = [i for h in handed for i in h]
    assert len(set(all_handed)) == len(all_handed) == len(events)
    assert len(store.current_labels()) == len(events)
    store.close()


def test_model_versions_and_the_queue_round_trip(db_url) -> None:
    store = _store(db_url, n=20)
    a, _ = store.add_annotator("a")
    svc = LabellingService(store)
    for _ in range(6):
        item = svc.next_item(a)
        svc.answer(a, item.id, "a" if item.id < 10 else "b")
    svc.retrain()
    versions = store.model_versions()
    assert [v.version for v in versions] == list(range(1, len(versions) + 1))
    assert versions[-1].n_labels == 6 and versions[-1].last_event_id == store.last_event_id()
    assert all(v.model is None for v in versions)  # bytes only on request
    latest = store.latest_model()
    assert latest is not None and isinstance(latest.model, bytes) and len(latest.model) > 100
    items, scores, strategy, version = store.queue()
    assert version == latest.version and strategy == "margin"
    assert items.dtype == np.int64 and scores is not None and len(items) == len(scores) == 14
    assert not set(items.tolist()) & set(store.current_labels())
    # blobs and features come back byte for byte
    X = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    store.save_features(X)
    np.testing.assert_array_equal(store.load_features(), X)
    store.save_artifact("featuriser", b"\x00\xff" * 1000)
    store.save_artifact("featuriser", b"\x01")
    assert store.artifact("featuriser") == b"\x01" and store.artifact("none") is None
    store.close()


def test_bad_database_urls_are_clear_errors_without_the_password(postgres_server) -> None:
    import sqlalchemy as sa

    url = sa.make_url(postgres_server)
    missing = url.set(database="activelab_no_such_db").render_as_string(hide_password=False)
    with pytest.raises(StoreError, match="does not exist") as err:
        Store.open("postgresql://" + missing.split("://", 1)[1])
    assert f":{url.password}@" not in str(err.value) and ":***@" in str(err.value)
    with pytest.raises(StoreError, match="SQLite or PostgreSQL"):
        Store.open("mysql://ada:secret@db/labels")
    with pytest.raises(StoreError, match="Cannot read the database URL"):
        Store.open("not a url")
    missing_db = "postgresql://" + missing.split("://", 1)[1]
    with pytest.raises(StoreError, match=r"Cannot connect to the database .*does not exist"):
        Store.create(missing_db, {"labels": ["a", "b"]})  # init: one line, not a traceback
    with pytest.raises(StoreError, match=r"Cannot connect to the database .*refused"):
        Store.create("postgresql://ada@127.0.0.1:1/labels", {"labels": ["a", "b"]})


@pytest.mark.parametrize("overlap", [1, 2])
def test_racing_leases_never_hand_a_slot_out_twice(db_url, overlap) -> None:
    """8 threads grab the same 40 items at once, straight on the store (no service lock):
    every item ends up with exactly ``overlap`` holders, each holder once."""
    n_items, n_threads = 40, 8
    store = _store(db_url, n=n_items)
    anns = [store.add_annotator(f"r{k}")[0] for k in range(n_threads)]
    won: list[list[int]] = [[] for _ in range(n_threads)]
    errors: list[str] = []
    start = threading.Barrier(n_threads)

    def grab(k: int) -> None:
        try:
            start.wait(10)
            order = range(n_items) if k % 2 == 0 else range(n_items - 1, -1, -1)
            won[k] = [i for i in order if store.lease(i, anns[k].id, seconds=60, overlap=overlap)]
        except Exception as exc:  # reported in the main thread
            errors.append(f"thread {k}: {exc!r}")

    threads = [threading.Thread(target=grab, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
    holders = [i for w in won for i in w]
    assert sorted(holders) == sorted(list(range(n_items)) * overlap)
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT item_id, slot, annotator_id FROM assignments")).all()
    engine.dispose()
    assert len(rows) == n_items * overlap
    assert len({(r[0], r[2]) for r in rows}) == len(rows)  # nobody holds two slots of an item
    store.close()


def test_one_annotator_racing_for_leases_never_holds_two_slots_of_an_item(db_url) -> None:
    """Two requests of one annotator at once (two tabs, two server processes) ask for the
    same items of an overlap-2 project: each item gets one slot of theirs, renewed by the
    second request, so the other slot is left for someone else."""
    n_items = 30
    store = _store(db_url, n=n_items, overlap=2)
    ada, bob = store.add_annotator("ada")[0], store.add_annotator("bob")[0]
    other = Store.open(db_url)  # a second process's store: no lock shared with the first
    start = threading.Barrier(2)
    errors: list[str] = []

    def grab(s: Store) -> None:
        try:
            for i in range(n_items):
                start.wait(10)  # both requests for item i set off together
                assert s.lease(i, ada.id, seconds=60, overlap=2)
        except Exception as exc:  # reported in the main thread
            errors.append(repr(exc))
            start.abort()

    threads = [threading.Thread(target=grab, args=(s,)) for s in (store, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT item_id, annotator_id FROM assignments")).all()
    engine.dispose()
    assert sorted(r[0] for r in rows) == list(range(n_items))  # one slot each, not two
    for i in range(n_items):  # once ada answers, the second answer is bob's to give
        store.append_event(i, ada.id, "label", label="a", require_lease=True)
        assert store.lease(i, bob.id, seconds=60, overlap=2)
    other.close()
    store.close()


def test_a_revoked_annotator_is_leased_nothing_even_by_a_request_under_way(db_url) -> None:
    """A request authenticated just before ``annotator revoke`` committed must not reserve an
    item for the revoked annotator (it would stay held until the lease ran out)."""
    store = _store(db_url, n=3)
    token = store.add_annotator("ada")[1]
    ada = store.authenticate(token)  # the request got past authentication ...
    assert ada is not None and store.lease(0, ada.id, seconds=600)
    Store.open(db_url).revoke_annotator("ada")  # ... then the owner revoked them elsewhere
    assert not store.lease(1, ada.id, seconds=600)
    assert not store.lease(0, ada.id, seconds=600)  # their old item is not theirs again
    assert store.held_item(ada.id) is None and store.leased_items() == {}
    with pytest.raises(StoreError, match="revoked already"):
        store.revoke_annotator("ada")
    store.close()


def test_an_undone_item_is_held_again_for_the_projects_lease_time(db_url) -> None:
    """Undo hands the item back for the project's ``lease_seconds`` (or the service's), not
    a fixed 10 minutes that would keep it from teammates long after the annotator left."""
    store = _store(db_url, n=2, lease_seconds=30.0)
    ada = store.add_annotator("ada")[0]
    for item in (0, 1):
        assert store.lease(item, ada.id, seconds=30)
        store.append_event(item, ada.id, "label", label="a", require_lease=True)
    t0 = time.time()
    store.undo_last(ada.id)  # item 1: the project's 30 s
    store.undo_last(ada.id, seconds=5.0)  # item 0: the caller's
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.text("SELECT item_id, expires_at FROM assignments")).all())
    engine.dispose()
    assert t0 + 29 < rows[1] < t0 + 60 and t0 + 4 < rows[0] < t0 + 30
    store.close()


def test_case_twins_added_at_once_are_refused_one_of_them(db_url) -> None:
    """``annotator add Ada`` and ``annotator add ada`` from two processes at once: one of
    them is refused, as when run one after the other (one person is not two annotators)."""
    store = _store(db_url, n=1)
    other = Store.open(db_url)
    added: list[str] = []
    refused: list[str] = []
    for k in range(5):
        start = threading.Barrier(2)

        def add(s: Store, name: str, start: threading.Barrier) -> None:
            start.wait(10)
            try:
                added.append(s.add_annotator(name)[0].name)
            except StoreError as exc:
                refused.append(str(exc))

        threads = [
            threading.Thread(target=add, args=(s, name, start))
            for s, name in ((store, f"Ada{k}"), (other, f"ada{k}"))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert sorted(n.casefold() for n in added) == [f"ada{k}" for k in range(5)]
    assert len(refused) == 5 and all("only in case" in r for r in refused)
    other.close()
    store.close()


def test_numpy_scalars_are_stored_as_numbers(db_url) -> None:
    """Ids and scores straight out of numpy (a queue, a model) behave like Python numbers:
    sqlite3 would bind an np.int64 as a blob, and the lease silently failed."""
    store = _store(db_url)
    a, _ = store.add_annotator("a")
    assert store.lease(np.int64(1), np.int64(a.id), seconds=60, score=np.float32(0.5))
    assert store.held_item(a.id) == 1
    ev = store.append_event(
        np.int64(1),
        a.id,
        "label",
        label="b",
        strategy="margin",  # else the lease's context (score 0.5, no version) is recorded
        score=np.float32(0.25),
        model_version=np.int64(3),
    )
    assert type(ev.item_id) is int and type(ev.score) is float
    assert store.event(ev.id).item_id == 1 and store.event(ev.id).model_version == 3
    assert store.current_labels()[1].label == "b"
    assert store.held_item(a.id) is None  # answered: the lease is closed
    store.close()
