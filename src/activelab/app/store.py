"""The project store: items, features, annotators, label events, leases, models and the queue.

The store is the truth of a labelling project. Label events are appended and
never changed: a skip is an event, and an undo is a new event that names the
event it undoes. The current label of an item is *derived* from the log (the
latest label event that has not been undone), and so are the model and the
queue, which can be rebuilt from the store at any time.

Backed by SQLAlchemy 2 Core with portable SQL: SQLite by default (one file in
the project folder, WAL journal, a busy timeout, writes in ``BEGIN IMMEDIATE``
transactions), or PostgreSQL given a ``postgresql+psycopg://`` URL. Everything
dialect-specific lives in :func:`_configure_engine`, :func:`_serialise_events` and
:func:`_claim_free_stmt`.

Examples
--------
>>> import numpy as np
>>> store = Store.create("sqlite://", {"labels": ["no", "yes"]})
>>> store.add_items([{"external_id": "a", "kind": "text", "content": {"text": "hi"}},
...                  {"external_id": "b", "kind": "text", "content": {"text": "ho"}}])
>>> store.save_features(np.eye(2))
>>> ann, token = store.add_annotator("ada")
>>> store.authenticate(token).name
'ada'
>>> ev = store.append_event(0, ann.id, "label", label="yes", request_id="r1")
>>> store.append_event(0, ann.id, "label", label="yes", request_id="r1").id == ev.id
True
>>> store.current_labels()
{0: CurrentLabel(item_id=0, label='yes', annotator='ada', created_at=..., event_id=1)}
>>> _ = store.undo_last(ann.id)
>>> store.current_labels()
{}
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import secrets
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import numpy as np
import scipy.sparse as sp
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

__all__ = [
    "EVENT_KINDS",
    "SCHEMA_VERSION",
    "Annotator",
    "ConflictError",
    "CurrentLabel",
    "Event",
    "ModelVersion",
    "Store",
    "StoreError",
    "decode_label_set",
    "encode_label_set",
    "hash_token",
]

#: The version of the store's tables, recorded in every database.
SCHEMA_VERSION = 1
#: kinds of label events
EVENT_KINDS = ("label", "skip", "undo")
#: annotators of labels read from a file at ``init`` are named ``imported:<who>``
IMPORTED_PREFIX = "imported:"
#: a lease that never expires (held by an answered item)
_FOREVER = 4.0e12
_FEATURE_BLOCK = 8192

_meta = sa.MetaData()

project_t = sa.Table(
    "project",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("settings", sa.Text, nullable=False),  # JSON
)
items_t = sa.Table(
    "items",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # pool index
    sa.Column("external_id", sa.String(512), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),  # text | image | table
    sa.Column("content", sa.Text, nullable=False),  # JSON
    sa.Column("blob", sa.LargeBinary, nullable=True),  # image bytes
    sa.Column("media_type", sa.String(64), nullable=True),
)
feature_blocks_t = sa.Table(
    "feature_blocks",
    _meta,
    sa.Column("start", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("stop", sa.Integer, nullable=False),
    sa.Column("format", sa.String(8), nullable=False),  # npy | npz
    sa.Column("data", sa.LargeBinary, nullable=False),
)
artifacts_t = sa.Table(
    "artifacts",
    _meta,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)
annotators_t = sa.Table(
    "annotators",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(128), nullable=False, unique=True),
    sa.Column("token_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float, nullable=True),
)
events_t = sa.Table(
    "label_events",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True),  # monotonically increasing
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False),
    sa.Column("annotator_id", sa.Integer, sa.ForeignKey("annotators.id"), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    # one label, or for a multi-label project a JSON list of labels (see encode_label_set)
    sa.Column("label", sa.Text, nullable=True),
    sa.Column("undoes", sa.Integer, sa.ForeignKey("label_events.id"), nullable=True, unique=True),
    # idempotency key, scoped per annotator (unique with annotator_id, below)
    sa.Column("request_id", sa.String(128), nullable=True),
    sa.Column("strategy", sa.String(64), nullable=True),  # why the item was asked
    sa.Column("score", sa.Float, nullable=True),
    sa.Column("model_version", sa.Integer, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    # seconds the answer took (from handing the item out to the answer); added later:
    # older databases get the column on open (see _add_missing_columns)
    sa.Column("seconds", sa.Float, nullable=True),
    sa.CheckConstraint("kind IN ('label', 'skip', 'undo')", name="event_kind"),
    sa.UniqueConstraint("annotator_id", "request_id", name="uq_event_request"),
    sa.Index("ix_events_annotator", "annotator_id", "id"),
    sa.Index("ix_events_item", "item_id"),
)
assignments_t = sa.Table(
    "assignments",
    _meta,
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), primary_key=True),
    sa.Column("slot", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("annotator_id", sa.Integer, sa.ForeignKey("annotators.id"), nullable=False),
    sa.Column("leased_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("strategy", sa.String(64), nullable=True),
    sa.Column("score", sa.Float, nullable=True),
    sa.Column("model_version", sa.Integer, nullable=True),
    sa.Index("ix_assign_annotator", "annotator_id"),
)
models_t = sa.Table(
    "model_versions",
    _meta,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("n_labels", sa.Integer, nullable=False),
    sa.Column("last_event_id", sa.Integer, nullable=False),
    sa.Column("strategy", sa.String(64), nullable=False),
    sa.Column("metrics", sa.Text, nullable=False),  # JSON
    sa.Column("model", sa.LargeBinary, nullable=True),  # joblib bytes; None while cold
    # the head of the ranked queue: npz of item ids (and scores, when the strategy scores)
    sa.Column("queue", sa.LargeBinary, nullable=True),
    # the model's predictions on the stop set (npz: item ids, predictions), so that the next
    # model, trained in any process, is compared with this one; added later: older databases
    # get the column on open (see _add_missing_columns) and have none for their versions
    sa.Column("stop_predictions", sa.LargeBinary, nullable=True),
)

# ---- prebuilt statements of the hot path (built once; SQLAlchemy caches their SQL)
_A = assignments_t.c
_LEASE_VALUES = {
    "annotator_id": sa.bindparam("p_ann", type_=sa.Integer),
    "leased_at": sa.bindparam("p_now", type_=sa.Float),
    "expires_at": sa.bindparam("p_expires", type_=sa.Float),
    "strategy": sa.bindparam("p_strategy", type_=sa.String),
    "score": sa.bindparam("p_score", type_=sa.Float),
    "model_version": sa.bindparam("p_version", type_=sa.Integer),
}
#: renew the lease this annotator already holds on an unanswered item
_RENEW = (
    assignments_t.update()
    .where(
        _A.item_id == sa.bindparam("p_item", type_=sa.Integer),
        _A.annotator_id == sa.bindparam("p_ann", type_=sa.Integer),
        _A.expires_at < sa.bindparam("p_forever", type_=sa.Float),
    )
    .values(**_LEASE_VALUES)
)


def _claim_free_stmt(dialect: str) -> Any:
    """Claim a slot nobody ever held: ``INSERT ... ON CONFLICT DO NOTHING RETURNING``.

    The row that comes back says whether this call inserted it (a ``rowcount`` of an
    INSERT is not reliable across drivers: psycopg reports -1). On PostgreSQL a
    concurrent claim of the same slot waits for the other transaction and then
    does nothing, instead of aborting this one with a unique violation.
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - create_engine accepts only these two (see _make_engine)
        raise StoreError(f"Unsupported database dialect {dialect!r}.")
    return (
        insert(assignments_t)
        .values(
            item_id=sa.bindparam("p_item", type_=sa.Integer),
            slot=sa.bindparam("p_slot", type_=sa.Integer),
            **_LEASE_VALUES,
        )
        .on_conflict_do_nothing(index_elements=["item_id", "slot"])
        .returning(_A.item_id)
    )


_CLAIM_FREE = {d: _claim_free_stmt(d) for d in ("sqlite", "postgresql")}
#: take over a slot whose lease has expired
_TAKE_EXPIRED = (
    assignments_t.update()
    .where(
        _A.item_id == sa.bindparam("p_item", type_=sa.Integer),
        _A.slot == sa.bindparam("p_slot", type_=sa.Integer),
        _A.expires_at < sa.bindparam("p_now", type_=sa.Float),
    )
    .values(**_LEASE_VALUES)
)
#: a slot this annotator already answered on this item
_ANSWERED = sa.select(_A.slot).where(
    _A.item_id == sa.bindparam("p_item", type_=sa.Integer),
    _A.annotator_id == sa.bindparam("p_ann", type_=sa.Integer),
    _A.expires_at >= sa.bindparam("p_forever", type_=sa.Float),
)
#: the annotator, unless revoked (a revoked annotator is handed nothing)
_ACTIVE = sa.select(annotators_t.c.id).where(
    annotators_t.c.id == sa.bindparam("p_ann", type_=sa.Integer),
    annotators_t.c.revoked_at.is_(None),
)
_HELD = (
    sa.select(_A.item_id)
    .where(
        _A.annotator_id == sa.bindparam("p_ann", type_=sa.Integer),
        _A.expires_at > sa.bindparam("p_now", type_=sa.Float),
        _A.expires_at < sa.bindparam("p_forever", type_=sa.Float),
    )
    .order_by(_A.leased_at.desc())
    .limit(1)
)


def _release_leases(annotator_id: int, *, after: float) -> Any:
    """The statement that gives back the annotator's leases on unanswered items that
    expire later than ``after`` (0: every one), returning their items."""
    return (
        assignments_t.update()
        .where(
            assignments_t.c.annotator_id == annotator_id,
            assignments_t.c.expires_at > after,
            assignments_t.c.expires_at < _FOREVER,
        )
        .values(expires_at=0.0)
        .returning(assignments_t.c.item_id)
    )


_ITEM = sa.select(items_t.c.id, items_t.c.external_id, items_t.c.kind, items_t.c.content).where(
    items_t.c.id == sa.bindparam("p_item", type_=sa.Integer)
)
_AUTH = sa.select(annotators_t).where(
    annotators_t.c.token_hash == sa.bindparam("p_hash", type_=sa.String),
    annotators_t.c.revoked_at.is_(None),
)
_EVENTS_AFTER = (
    sa.select(events_t)
    .where(events_t.c.id > sa.bindparam("p_after", type_=sa.Integer))
    .order_by(events_t.c.id)
)


class StoreError(RuntimeError):
    """A request the store refuses (unknown item, nothing to undo, bad URL ...)."""


class ConflictError(StoreError):
    """A write that conflicts with the store's state: an item not leased to the annotator,
    an item answered already, or a request id reused for a different request."""


@dataclass(frozen=True)
class Annotator:
    """An annotator: ``revoked`` ones can no longer authenticate."""

    id: int
    name: str
    created_at: float
    revoked: bool
    has_token: bool

    @property
    def may_answer(self) -> bool:
        """Whether the annotator can still be asked for answers: not revoked, and not
        the labels of a file (``imported:…``), whom no one can ask again."""
        return not self.revoked and not self.name.startswith(IMPORTED_PREFIX)


@dataclass(frozen=True)
class Event:
    """One row of the append-only label log."""

    id: int
    item_id: int
    annotator_id: int
    kind: str
    label: str | None
    undoes: int | None
    request_id: str | None
    strategy: str | None
    score: float | None
    model_version: int | None
    created_at: float
    #: seconds from handing the item out to this answer (None when unknown)
    seconds: float | None = None


@dataclass(frozen=True)
class CurrentLabel:
    """The label an item has now, derived from the log."""

    item_id: int
    label: str
    annotator: str
    created_at: float
    event_id: int


@dataclass(frozen=True)
class ModelVersion:
    """A training round: the model it fitted, what it was trained on and its queue.

    A round before a model can be fitted (no labels yet, or labels of one class) stores
    the cold-start queue alone: ``has_model`` is then ``False`` and ``model`` ``None``.
    ``model`` is also ``None`` where the bytes were not asked for
    (:meth:`Store.model_versions` without ``with_model``); ``has_model`` says either way.
    """

    version: int
    created_at: float
    n_labels: int
    last_event_id: int
    strategy: str
    metrics: dict[str, Any]
    model: bytes | None
    has_model: bool = False


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a token; only this is stored.

    Examples
    --------
    >>> len(hash_token("secret"))
    64
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def encode_label_set(labels: Sequence[str]) -> str:
    """The ``label`` of a multi-label event: its labels as a JSON list.

    An empty list is a real answer: the item carries none of the labels.

    Examples
    --------
    >>> encode_label_set(["cough", "fever"])
    '["cough", "fever"]'
    >>> decode_label_set(encode_label_set([]))
    []
    """
    return json.dumps([str(x) for x in labels])


def decode_label_set(label: str | None) -> list[str]:
    """The labels of a multi-label event (``[]`` for ``None``).

    Examples
    --------
    >>> decode_label_set('["a", "c"]')
    ['a', 'c']
    """
    if label is None:
        return []
    value = json.loads(label)
    if not isinstance(value, list):
        raise StoreError(f"A multi-label event holds a JSON list of labels, got {label!r}.")
    return [str(x) for x in value]


def _opt(cast: Any, value: Any) -> Any:
    """``cast(value)``, or ``None``: numpy scalars become plain Python numbers before they
    reach a driver (sqlite3 binds an ``np.int64`` as a blob; psycopg adapts it)."""
    return None if value is None else cast(value)


def _configure_engine(engine: Engine, *, immediate: bool) -> None:
    """Dialect-specific set-up, kept in one place (SQLite only; PostgreSQL needs none)."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=FULL")  # an acknowledged label survives a power cut
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock up front, so a read-then-write transaction never fails
        # with SQLITE_BUSY halfway; readers use deferred transactions and never block.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _undoable(annotator_id: int) -> sa.Select:
    """The annotator's labels and skips that no undo has taken back yet (what
    :meth:`Store.undo_last` and :meth:`Store.undo_event` may undo)."""
    undone = events_t.alias("undone")
    return sa.select(events_t).where(
        events_t.c.annotator_id == annotator_id,
        events_t.c.kind.in_(("label", "skip")),
        ~sa.exists().where(undone.c.undoes == events_t.c.id),
    )


def _insert_undo(conn: Connection, target: Any, annotator_id: int, request_id: str | None) -> Event:
    """Append the event that undoes ``target`` (a live label or skip) and return it."""
    now = time.time()
    res = conn.execute(
        events_t.insert().values(
            item_id=target.item_id,
            annotator_id=annotator_id,
            kind="undo",
            undoes=target.id,
            request_id=request_id,
            created_at=now,
        )
    )
    return Event(
        int(res.inserted_primary_key[0]),
        target.item_id,
        annotator_id,
        "undo",
        None,
        target.id,
        request_id,
        None,
        None,
        None,
        now,
    )


def _serialise_events(conn: Connection) -> None:
    """Make label events commit in the order of their ids.

    Readers follow the log by asking for ids above the last one seen, so an event
    must never become visible after one with a higher id. SQLite serialises
    writers already (``BEGIN IMMEDIATE``); on PostgreSQL a transaction-scoped
    advisory lock does, held from before the id is drawn until the commit.
    """
    _advisory_lock(conn, 7312001)


def _serialise_leases(conn: Connection, annotator_id: int) -> None:
    """Make one annotator's lease requests run one after another.

    Two requests of the same annotator at once (two tabs, a retried ``/api/next``)
    must not both claim a slot of the same item: the second has to see the
    first's lease and renew it. SQLite serialises writers already
    (``BEGIN IMMEDIATE``); on PostgreSQL a transaction-scoped advisory lock keyed
    on the annotator does, so other annotators' leases never wait on it.
    """
    _advisory_lock(conn, 7312002, annotator_id)


def _serialise_annotator_names(conn: Connection) -> None:
    """Make new annotators' names be checked and added one at a time.

    The unique key refuses a name taken already, but not a case twin ("Ada" and
    "ada", one person counted twice): that check reads the names, so two adds at
    once must not both pass it. SQLite serialises writers already; on PostgreSQL
    a transaction-scoped advisory lock does.
    """
    _advisory_lock(conn, 7312003)


def _advisory_lock(conn: Connection, key: int, sub: int | None = None) -> None:
    """On PostgreSQL, take the transaction-scoped advisory lock ``key`` (``(key, sub)``
    when ``sub`` is given), held until the commit; SQLite's ``BEGIN IMMEDIATE`` serialises
    writers already, so nothing is done there."""
    if conn.dialect.name != "postgresql":
        return
    if sub is None:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:p_key)"), {"p_key": key})
    else:
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(:p_key, :p_sub)"), {"p_key": key, "p_sub": sub}
        )


def _set_synchronous(conn: Connection, durable: bool) -> None:
    """SQLite: fsync the WAL at every commit (FULL) or only at checkpoints (NORMAL)."""
    conn.connection.dbapi_connection.execute(  # type: ignore[union-attr]
        "PRAGMA synchronous=FULL" if durable else "PRAGMA synchronous=NORMAL"
    )


def _safe(url: str) -> str:
    """A database URL fit for a message: the password masked.

    Examples
    --------
    >>> _safe("postgresql://ada:secret@db.example/labels")
    "'postgresql://ada:***@db.example/labels'"
    """
    try:
        return repr(sa.make_url(url).render_as_string(hide_password=True))
    except sa.exc.ArgumentError:
        return repr(url)


def _make_engine(url: str, *, immediate: bool) -> Engine:
    for plain in ("postgresql://", "postgres://"):  # the forms libpq and hosts print
        if url.startswith(plain):
            url = "postgresql+psycopg://" + url[len(plain) :]
    try:
        backend = sa.make_url(url).get_backend_name()
    except sa.exc.ArgumentError as exc:
        raise StoreError(
            f"Cannot read the database URL {_safe(url)}: {exc}. Use sqlite:///PATH or "
            "postgresql://user:password@host:port/dbname."
        ) from exc
    if backend not in ("sqlite", "postgresql"):
        raise StoreError(
            f"The database {_safe(url)} is {backend!r}; the store runs on SQLite or "
            "PostgreSQL: use sqlite:///PATH or postgresql://user:password@host:port/dbname."
        )
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = sa.pool.StaticPool
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = sa.create_engine(url, **kwargs)
    except ModuleNotFoundError as exc:
        raise StoreError(
            f"Cannot open the database {_safe(url)}: {exc}. PostgreSQL needs psycopg: "
            "pip install 'activelab[postgres]'."
        ) from exc
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise StoreError(
            f"Cannot open the database {_safe(url)}: {exc}. Use a SQLite path or "
            "postgresql://user@host/dbname."
        ) from exc
    _configure_engine(engine, immediate=immediate)
    return engine


class Store:
    """A labelling project's database.

    Use :meth:`create` for a new project and :meth:`open` for an existing one.
    Thread-safe: one store may serve many request threads.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._memory = url in ("sqlite://", "sqlite:///:memory:")
        self._write_engine = _make_engine(url, immediate=True)
        # an in-memory database exists once per connection: share the single one
        self._read_engine = (
            self._write_engine if self._memory else _make_engine(url, immediate=False)
        )
        self._lock = threading.RLock() if self.dialect == "sqlite" else None
        self._settings: dict[str, Any] | None = None

    @property
    def in_memory(self) -> bool:
        """True for an in-memory SQLite database (one per process)."""
        return self._memory

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._write_engine.dialect.name

    # ----------------------------------------------------------- life cycle
    @classmethod
    def create(cls, url: str, settings: dict[str, Any]) -> Store:
        """Create the schema and the project row; refuses a database that has one."""
        store = cls(url)
        try:
            insp = sa.inspect(store._write_engine)
        except sa.exc.OperationalError as exc:  # no server there, a wrong password, ...
            store.close()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise StoreError(
                f"Cannot connect to the database {_safe(url)}: {reason}. Check that the server "
                "runs there and the user, password and database name are right."
            ) from exc
        if insp.has_table("project"):
            store.close()
            raise StoreError(f"The database {_safe(url)} already holds an activelab project.")
        with store._write() as conn:
            _meta.create_all(conn)
            conn.execute(
                project_t.insert().values(
                    id=1,
                    schema_version=SCHEMA_VERSION,
                    created_at=time.time(),
                    settings=json.dumps(settings),
                )
            )
        return store

    @classmethod
    def open(cls, url: str) -> Store:
        """Open an existing project database."""
        store = cls(url)
        try:
            row = store._read_one(sa.select(project_t.c.schema_version))
        except sa.exc.DatabaseError as exc:  # no such table, not a database file, ...
            store.close()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise StoreError(
                f"Cannot open {_safe(url)} as an activelab project database: {reason}."
            ) from exc
        if row is None or row[0] != SCHEMA_VERSION:
            store.close()
            raise StoreError(f"{_safe(url)} is not an activelab project database of this version.")
        store._add_missing_columns()
        return store

    def _add_missing_columns(self) -> None:
        """Add nullable columns introduced after a database was created (additive only).

        Several processes may open an older database at once (a server and
        ``activelab status``): a column another one added meanwhile is taken as added.
        """
        insp = sa.inspect(self._write_engine)
        for table in (events_t, models_t):
            have = {c["name"] for c in insp.get_columns(table.name)}
            for col in table.c:
                if col.name in have:
                    continue
                kind = col.type.compile(dialect=self._write_engine.dialect)
                try:
                    with self._write() as conn:
                        conn.execute(
                            sa.text(f"ALTER TABLE {table.name} ADD COLUMN {col.name} {kind}")
                        )
                except sa.exc.DBAPIError:
                    now = sa.inspect(self._write_engine).get_columns(table.name)
                    if col.name not in {c["name"] for c in now}:
                        raise

    def drop_all(self) -> None:
        """Remove every table (used to undo a half-created project)."""
        with self._write() as conn:
            _meta.drop_all(conn)

    def close(self) -> None:
        """Release the connections."""
        self._write_engine.dispose()
        if self._read_engine is not self._write_engine:
            self._read_engine.dispose()

    @contextmanager
    def _write(self, durable: bool = True) -> Iterator[Connection]:
        """A write transaction; ``durable=False`` for state that can be rebuilt (leases,
        models, the queue), which on SQLite then skips the fsync at commit (it still
        survives a crash of the process, only not a power cut)."""
        with self._lock or contextlib.nullcontext(), self._write_engine.connect() as conn:
            if self.dialect == "sqlite":
                _set_synchronous(conn, durable)
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        if self._memory:
            with self._write() as conn:
                yield conn
            return
        with self._read_engine.connect() as conn:
            yield conn

    def _read_one(self, stmt: Any) -> Any:
        with self._read() as conn:
            return conn.execute(stmt).first()

    # ------------------------------------------------------------ settings
    @property
    def settings(self) -> dict[str, Any]:
        """The project settings (labels, task, featuriser, strategy, retraining ...)."""
        if self._settings is None:
            row = self._read_one(sa.select(project_t.c.settings))
            self._settings = json.loads(row[0])
        return dict(self._settings)

    def project_name(self) -> str:
        """The project's name: its settings' ``name``, else the database's (a SQLite file's
        stem, a PostgreSQL database's name; ``project`` for an in-memory one).

        ``activelab init`` always stores a name; a store made with :meth:`create` without one
        is named after its database, so that the app and ``status`` show something.

        Examples
        --------
        >>> Store.create("sqlite://", {"labels": ["a", "b"]}).project_name()
        'project'
        >>> Store.create("sqlite://", {"labels": ["a", "b"], "name": "reviews"}).project_name()
        'reviews'
        """
        name = self.settings.get("name")
        if isinstance(name, str) and name:
            return name
        if self._memory:
            return "project"
        return PurePath(sa.engine.make_url(self.url).database or "").stem or "project"

    def project_kind(self) -> str | None:
        """The kind of the project's items (``text``, ``image`` or ``table``): its settings'
        ``kind``, else the one kind its items have (``None`` without items, or with several).

        Examples
        --------
        >>> store = Store.create("sqlite://", {"labels": ["a", "b"]})
        >>> store.project_kind() is None
        True
        >>> store.add_items([{"external_id": "x", "kind": "text", "content": {"text": "hi"}}])
        >>> store.project_kind()
        'text'
        """
        kind = self.settings.get("kind")
        if isinstance(kind, str) and kind:
            return kind
        with self._read() as conn:
            kinds = conn.execute(sa.select(items_t.c.kind).distinct().limit(2)).scalars().all()
        return str(kinds[0]) if len(kinds) == 1 else None

    def update_settings(self, **changes: Any) -> dict[str, Any]:
        """Change some settings and return them all."""
        new = {**self.settings, **changes}
        with self._write() as conn:
            conn.execute(project_t.update().values(settings=json.dumps(new)))
        self._settings = new
        return dict(new)

    # --------------------------------------------------------------- items
    def add_items(self, rows: Sequence[dict[str, Any]], start: int | None = None) -> None:
        """Insert items; ``id`` is the pool index (consecutive from ``start``)."""
        first = self.n_items() if start is None else start
        with self._write() as conn:
            _insert_items(conn, rows, first)

    def n_items(self) -> int:
        """Number of items."""
        return int(self._read_one(sa.select(sa.func.count()).select_from(items_t))[0])

    def item(self, item_id: int) -> dict[str, Any]:
        """One item's id, external id, kind and content (without the blob)."""
        with self._read() as conn:
            row = conn.execute(_ITEM, {"p_item": item_id}).first()
        if row is None:
            raise StoreError(f"No item with id {item_id}.")
        return {
            "id": row.id,
            "external_id": row.external_id,
            "kind": row.kind,
            "content": json.loads(row.content),
        }

    def item_contents(self, item_ids: Sequence[int]) -> list[dict[str, Any]]:
        """The content of several items, in the order of ``item_ids`` (one query per 5,000).

        Examples
        --------
        >>> store = Store.create("sqlite://", {"labels": ["a", "b"]})
        >>> store.add_items([{"external_id": "x", "kind": "text", "content": {"text": "hi"}},
        ...                  {"external_id": "y", "kind": "text", "content": {"text": "ho"}}])
        >>> [c["text"] for c in store.item_contents([1, 0])]
        ['ho', 'hi']
        """
        ids = [int(i) for i in item_ids]
        found: dict[int, dict[str, Any]] = {}
        with self._read() as conn:
            for lo in range(0, len(ids), 5000):
                stmt = sa.select(items_t.c.id, items_t.c.content).where(
                    items_t.c.id.in_(ids[lo : lo + 5000])
                )
                found.update({r.id: json.loads(r.content) for r in conn.execute(stmt)})
        missing = [i for i in ids if i not in found]
        if missing:
            raise StoreError(f"No item with id {missing[0]}.")
        return [found[i] for i in ids]

    def item_blob(self, item_id: int) -> tuple[bytes, str] | None:
        """The stored bytes of an image item and their media type."""
        row = self._read_one(
            sa.select(items_t.c.blob, items_t.c.media_type).where(items_t.c.id == item_id)
        )
        if row is None or row.blob is None:
            return None
        return bytes(row.blob), row.media_type or "application/octet-stream"

    def external_ids(self) -> list[str]:
        """External ids in pool order."""
        with self._read() as conn:
            return list(
                conn.execute(sa.select(items_t.c.external_id).order_by(items_t.c.id)).scalars()
            )

    # ------------------------------------------------------------ features
    def save_features(self, X: Any) -> None:
        """Store the feature matrix (dense or sparse) in blocks of rows."""
        with self._write(durable=False) as conn:
            conn.execute(feature_blocks_t.delete())
            _insert_feature_blocks(conn, X, 0)

    def append_items(self, rows: Sequence[dict[str, Any]], X: Any) -> int:
        """Add items and their feature rows to the pool, in one transaction.

        The new items take the ids after the last one; ``X`` (one row per item)
        must have the stored features' columns and kind (dense or sparse). An
        external id already in the project refuses the whole batch. Returns the
        first new id. A server holding the pool sees the new items once it is
        restarted.

        Examples
        --------
        >>> store = Store.create("sqlite://", {"labels": ["a", "b"], "kind": "table"})
        >>> store.add_items([{"external_id": "x", "kind": "table", "content": {}}])
        >>> store.save_features(np.zeros((1, 2)))
        >>> new = [{"external_id": "y", "kind": "table", "content": {}}]
        >>> store.append_items(new, np.ones((1, 2)))
        1
        >>> store.load_features().tolist(), store.external_ids()
        ([[0.0, 0.0], [1.0, 1.0]], ['x', 'y'])
        """
        if X.shape[0] != len(rows):
            raise StoreError(f"{len(rows)} items but {X.shape[0]} feature rows.")
        with self._write() as conn:
            first = int(conn.execute(sa.select(sa.func.count()).select_from(items_t)).scalar_one())
            block = conn.execute(
                sa.select(feature_blocks_t.c.format, feature_blocks_t.c.data).limit(1)
            ).first()
            if block is not None:
                old = (
                    sp.load_npz(io.BytesIO(block.data))
                    if block.format == "npz"
                    else np.load(io.BytesIO(block.data), allow_pickle=False)
                )
                if old.shape[1] != X.shape[1] or (block.format == "npz") != sp.issparse(X):
                    raise StoreError(
                        f"The new items have {X.shape[1]} feature columns "
                        f"({'sparse' if sp.issparse(X) else 'dense'}); the project's have "
                        f"{old.shape[1]} ({'sparse' if block.format == 'npz' else 'dense'})."
                    )
            new_ids = [str(r["external_id"]) for r in rows]
            taken: list[str] = []
            for lo in range(0, len(new_ids), 5000):  # one query per 5,000 ids
                chunk = new_ids[lo : lo + 5000]
                taken += (
                    conn.execute(
                        sa.select(items_t.c.external_id).where(items_t.c.external_id.in_(chunk))
                    )
                    .scalars()
                    .all()
                )
            if taken:
                raise StoreError(
                    f"{len(taken)} of the new items' ids "
                    f"{'is' if len(taken) == 1 else 'are'} in the project already (e.g. "
                    f"{sorted(taken)[:3]}); give the new items ids of their own."
                )
            _insert_items(conn, rows, first)
            _insert_feature_blocks(conn, X, first)
        return first

    def load_features(self) -> Any:
        """The feature matrix, in pool order."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(feature_blocks_t.c.format, feature_blocks_t.c.data).order_by(
                    feature_blocks_t.c.start
                )
            ).all()
        if not rows:
            raise StoreError("The project has no features stored.")
        parts = [
            sp.load_npz(io.BytesIO(r.data))
            if r.format == "npz"
            else np.load(io.BytesIO(r.data), allow_pickle=False)
            for r in rows
        ]
        return sp.vstack(parts, format="csr") if rows[0].format == "npz" else np.vstack(parts)

    def save_artifact(self, name: str, data: bytes) -> None:
        """Store a named blob (e.g. the fitted featuriser)."""
        with self._write(durable=False) as conn:
            conn.execute(artifacts_t.delete().where(artifacts_t.c.name == name))
            conn.execute(artifacts_t.insert().values(name=name, data=data))

    def artifact(self, name: str) -> bytes | None:
        """A named blob, or ``None``."""
        row = self._read_one(sa.select(artifacts_t.c.data).where(artifacts_t.c.name == name))
        return None if row is None else bytes(row[0])

    # ---------------------------------------------------------- annotators
    def add_annotator(self, name: str, *, with_token: bool = True) -> tuple[Annotator, str | None]:
        """Add an annotator; returns it and its token (shown once, only its hash is kept)."""
        name = name.strip()
        if not name or len(name) > 128:
            raise StoreError("An annotator name must be 1 to 128 characters.")
        token = secrets.token_urlsafe(32) if with_token else None
        try:
            with self._write() as conn:
                _serialise_annotator_names(conn)
                names = conn.execute(sa.select(annotators_t.c.name)).scalars().all()
                twin = next(
                    (n for n in names if n != name and n.casefold() == name.casefold()), None
                )
                if twin is not None:  # "Ada" and "ada" would count as two people
                    raise StoreError(
                        f"{name!r} differs from the annotator {twin!r} only in case; use "
                        f"{twin!r} (the same person) or another name."
                    )
                res = conn.execute(
                    annotators_t.insert().values(
                        name=name,
                        token_hash=None if token is None else hash_token(token),
                        created_at=time.time(),
                    )
                )
                new_id = int(res.inserted_primary_key[0])
        except IntegrityError as exc:
            raise StoreError(
                f"An annotator named {name!r} exists already; pick another name, or give "
                f"them a new token with activelab annotator token PROJECT {name!r}."
            ) from exc
        return self.annotator(new_id), token

    def annotator(self, annotator_id: int) -> Annotator:
        """An annotator by id."""
        row = self._read_one(sa.select(annotators_t).where(annotators_t.c.id == annotator_id))
        if row is None:
            raise StoreError(f"No annotator with id {annotator_id}.")
        return _annotator(row)

    def annotator_by_name(self, name: str) -> Annotator | None:
        """An annotator by name, or ``None``."""
        row = self._read_one(sa.select(annotators_t).where(annotators_t.c.name == name))
        return None if row is None else _annotator(row)

    def annotators(self) -> list[Annotator]:
        """All annotators, oldest first."""
        with self._read() as conn:
            rows = conn.execute(sa.select(annotators_t).order_by(annotators_t.c.id)).all()
        return [_annotator(r) for r in rows]

    def revoke_annotator(self, name: str) -> Annotator:
        """Revoke an annotator's token; their events stay in the log, and the items they
        hold unanswered are given back at once (in the same transaction)."""
        with self._write() as conn:
            found = conn.execute(
                sa.select(annotators_t.c.id).where(
                    annotators_t.c.name == name, annotators_t.c.revoked_at.is_(None)
                )
            ).first()
            if found is not None:
                # a lease of theirs under way either commits first (and is given back
                # here) or waits and then sees them revoked (Store.lease)
                _serialise_leases(conn, int(found.id))
                res = conn.execute(
                    annotators_t.update()
                    .where(annotators_t.c.id == found.id, annotators_t.c.revoked_at.is_(None))
                    .values(revoked_at=time.time())
                )
                if res.rowcount != 1:  # a revoke at the same time came first
                    found = None
            if found is not None:
                conn.execute(_release_leases(int(found.id), after=0.0))
        if found is None:
            found = self.annotator_by_name(name)
            if found is not None and found.revoked:
                raise StoreError(f"Annotator {name!r} is revoked already.")
            raise StoreError(f"No annotator named {name!r}.")
        found = self.annotator_by_name(name)
        assert found is not None
        return found

    def new_token(self, name: str) -> tuple[Annotator, str]:
        """Give annotator ``name`` a new token: their old one is refused from now on, and a
        revoked annotator is active again. Their labels stay theirs. Returns the annotator
        and the token (shown once, only its hash is kept)."""
        token = secrets.token_urlsafe(32)
        with self._write() as conn:
            res = conn.execute(
                annotators_t.update()
                .where(annotators_t.c.name == name)
                .values(token_hash=hash_token(token), revoked_at=None)
            )
        if res.rowcount != 1:
            raise StoreError(f"No annotator named {name!r}; add one with activelab annotator add.")
        found = self.annotator_by_name(name)
        assert found is not None
        return found, token

    def make_owner(self, name: str, owner: bool = True) -> Annotator:
        """Give annotator ``name`` the owner's rights (the project's quality page and API),
        or take them back with ``owner=False``.

        Owners are listed by name in the settings under ``owners``.
        """
        found = self.annotator_by_name(name)
        if found is None:
            raise StoreError(f"No annotator named {name!r}.")
        owners = set(self.refresh_settings().get("owners", []))
        owners = owners | {found.name} if owner else owners - {found.name}
        self.update_settings(owners=sorted(owners))
        return found

    def is_owner(self, annotator: Annotator) -> bool:
        """Whether ``annotator`` is an owner of the project (settings read afresh, so a
        running server sees an owner added from the command line)."""
        return annotator.name in self.refresh_settings().get("owners", [])

    def refresh_settings(self) -> dict[str, Any]:
        """The settings as stored now (another process may have changed them)."""
        self._settings = None
        return self.settings

    def authenticate(self, token: str | None) -> Annotator | None:
        """The active annotator holding ``token``, else ``None``."""
        if not token or len(token) > 256:
            return None
        digest = hash_token(token)
        with self._read() as conn:
            row = conn.execute(_AUTH, {"p_hash": digest}).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        return _annotator(row)

    # -------------------------------------------------------------- events
    def append_event(
        self,
        item_id: int,
        annotator_id: int,
        kind: str,
        *,
        label: str | None = None,
        request_id: str | None = None,
        undoes: int | None = None,
        strategy: str | None = None,
        score: float | None = None,
        model_version: int | None = None,
        require_lease: bool = False,
        seconds: float | None = None,
        overlap: int | None = None,
        created_at: float | None = None,
    ) -> Event:
        """Append a label or skip event (idempotent on ``request_id``) and close its lease.

        A retried request (same annotator, same ``request_id``, same body) returns the
        event stored the first time instead of appending a second one; the same
        ``request_id`` with a different body raises :class:`ConflictError`.

        A label is refused (:class:`ConflictError`) when the annotator has a live label
        on the item already, or when the item holds as many live labels as the
        project's ``overlap``. The check and the insert run in one serialised write
        transaction (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL), so
        no retry, crash or race leaves an item with more live labels than that.

        With ``require_lease=True`` (the service's answers and skips) the annotator
        must hold the item's lease: handed out to them, not answered, released or
        skipped, and not taken over by someone else after it expired.

        ``seconds`` (how long the answer took) defaults to the time since the
        annotator's open lease on the item began. ``overlap`` overrides the project's
        for this item (the service raises it for double-annotated items and second
        opinions). ``created_at`` (Unix seconds) is when the answer was given, if
        not now: the time a labelling tool's file recorded for an imported answer.
        """
        item_id, annotator_id = int(item_id), int(annotator_id)
        undoes, score, model_version = (
            _opt(int, undoes),
            _opt(float, score),
            _opt(int, model_version),
        )
        if kind not in ("label", "skip"):
            raise StoreError(f"Event kind must be 'label' or 'skip', got {kind!r}.")
        if kind == "label" and label is None:
            raise StoreError("A label event needs a label.")
        if overlap is None:
            overlap = int(self.settings.get("overlap", 1))
        try:
            with self._write() as conn:
                _serialise_events(conn)
                if request_id is not None:
                    old = self._event_by_request(conn, annotator_id, request_id)
                    if old is not None:
                        _same_request(old, request_id, kind, item_id, label)
                        return old
                lease = conn.execute(
                    sa.select(assignments_t).where(
                        assignments_t.c.item_id == item_id,
                        assignments_t.c.annotator_id == annotator_id,
                    )
                ).first()
                if require_lease:
                    _check_lease(conn, lease, item_id, kind)
                if kind == "label":
                    _check_room(conn, item_id, annotator_id, overlap)
                if lease is not None and strategy is None:
                    strategy, score, model_version = (
                        lease.strategy,
                        lease.score,
                        lease.model_version,
                    )
                now = time.time() if created_at is None else float(created_at)
                if seconds is None and lease is not None and lease.expires_at < _FOREVER:
                    seconds = max(now - lease.leased_at, 0.0)
                res = conn.execute(
                    events_t.insert().values(
                        item_id=item_id,
                        annotator_id=annotator_id,
                        kind=kind,
                        label=label,
                        undoes=undoes,
                        request_id=request_id,
                        strategy=strategy,
                        score=score,
                        model_version=model_version,
                        created_at=now,
                        seconds=_opt(float, seconds),
                    )
                )
                event_id = int(res.inserted_primary_key[0])
                # an answered item keeps its slot (not handed out again); a skipped one
                # is given back (0: free, and no longer a lease its annotator may answer on)
                conn.execute(
                    assignments_t.update()
                    .where(
                        assignments_t.c.item_id == item_id,
                        assignments_t.c.annotator_id == annotator_id,
                    )
                    .values(expires_at=_FOREVER if kind == "label" else 0.0)
                )
        except IntegrityError as exc:
            if request_id is not None:
                with self._read() as conn:
                    old = self._event_by_request(conn, annotator_id, request_id)
                if old is not None:
                    _same_request(old, request_id, kind, item_id, label)
                    return old
            raise StoreError(f"Cannot record the event for item {item_id}: {exc.orig}") from exc
        return Event(
            event_id,
            item_id,
            annotator_id,
            kind,
            label,
            undoes,
            request_id,
            strategy,
            score,
            model_version,
            now,
            _opt(float, seconds),
        )

    def import_labels(
        self,
        annotator_id: int,
        labels: Mapping[int, str],
        times: Mapping[int, float] | None = None,
    ) -> int:
        """Record labels a new project's file already held, in one transaction.

        For items that have no event yet (a new project's file at ``init``, new
        items at ``add``); each becomes a label event of ``annotator_id``, in item
        order, with no strategy (not asked by the loop), given at ``times[item]``
        (Unix seconds) where the file said when, else now. Returns how many were
        recorded.

        Examples
        --------
        >>> store = Store.create("sqlite://", {"labels": ["a", "b"], "kind": "text"})
        >>> store.add_items([{"external_id": str(i), "kind": "text",
        ...                   "content": {"text": str(i)}} for i in range(3)])
        >>> who, _ = store.add_annotator("imported:file", with_token=False)
        >>> store.import_labels(who.id, {2: "b", 0: "a"})
        2
        >>> {i: c.label for i, c in store.current_labels().items()}
        {0: 'a', 2: 'b'}
        """
        now = time.time()
        rows = [
            {
                "item_id": int(i),
                "annotator_id": int(annotator_id),
                "kind": "label",
                "label": str(lab),
                "created_at": float((times or {}).get(i, now)),
            }
            for i, lab in sorted(labels.items())
        ]
        with self._write() as conn:
            _serialise_events(conn)
            ids = [r["item_id"] for r in rows]
            for lo in range(0, len(ids), 5000):
                busy = conn.execute(
                    sa.select(events_t.c.item_id).where(events_t.c.item_id.in_(ids[lo : lo + 5000]))
                ).first()
                if busy is not None:
                    raise StoreError(
                        f"Item {busy.item_id} has answers already; labels from a file are "
                        "imported for items without any."
                    )
            if rows:
                conn.execute(events_t.insert(), rows)
        return len(rows)

    def undo_last(
        self, annotator_id: int, request_id: str | None = None, *, seconds: float | None = None
    ) -> Event:
        """Undo the annotator's latest label or skip that is not undone yet.

        Returns the new undo event (its ``undoes`` names the undone one); the item is
        leased to the annotator again when its slot is free, for ``seconds`` (default:
        the project's ``lease_seconds``, 600 when unset). Raises
        :class:`StoreError` when there is nothing to undo, and :class:`ConflictError`
        when ``request_id`` was used by this annotator for another kind of request.
        """
        annotator_id = int(annotator_id)
        if seconds is None:
            seconds = float(self.settings.get("lease_seconds", 600.0))
        with self._write() as conn:
            _serialise_events(conn)
            if request_id is not None:
                old = self._event_by_request(conn, annotator_id, request_id)
                if old is not None:
                    _same_request(old, request_id, "undo", old.item_id, None)
                    return old
            target = conn.execute(
                _undoable(annotator_id).order_by(events_t.c.id.desc()).limit(1)
            ).first()
            if target is None:
                raise StoreError("Nothing to undo: you have no label or skip left to take back.")
            event = _insert_undo(conn, target, annotator_id, request_id)
            now = event.created_at
            # hand the item straight back to the same annotator: their own slot, or a
            # free one (a skipped item's slot may have gone to someone else meanwhile)
            params = {
                "p_item": target.item_id,
                "p_ann": annotator_id,
                "p_now": now,
                "p_expires": now + seconds,
                "p_strategy": target.strategy,
                "p_score": target.score,
                "p_version": target.model_version,
            }
            back = conn.execute(
                assignments_t.update()
                .where(
                    assignments_t.c.item_id == target.item_id,
                    assignments_t.c.annotator_id == annotator_id,
                )
                .values(expires_at=now + seconds, leased_at=now)
            ).rowcount
            for slot in range(int(self.settings.get("overlap", 1))):
                if back:
                    break
                params["p_slot"] = slot
                back = conn.execute(_CLAIM_FREE[self.dialect], params).first() is not None
                back = back or bool(conn.execute(_TAKE_EXPIRED, params).rowcount)
            return event

    def undo_event(self, event_id: int, annotator_id: int) -> Event:
        """Undo one live label or skip of an annotator, not only their latest (an
        adjudicator changing an earlier decision).

        Returns the new undo event. Unlike :meth:`undo_last`, no item is leased back.
        Raises :class:`StoreError` when the event is not a label or skip of this
        annotator, or is undone already.
        """
        event_id, annotator_id = int(event_id), int(annotator_id)
        with self._write() as conn:
            _serialise_events(conn)
            target = conn.execute(_undoable(annotator_id).where(events_t.c.id == event_id)).first()
            if target is None:
                raise StoreError(
                    f"Event {event_id} is no live label or skip of annotator {annotator_id}; "
                    "nothing to undo."
                )
            return _insert_undo(conn, target, annotator_id, None)

    @staticmethod
    def _event_by_request(conn: Connection, annotator_id: int, request_id: str) -> Event | None:
        row = conn.execute(
            sa.select(events_t).where(
                events_t.c.annotator_id == annotator_id, events_t.c.request_id == request_id
            )
        ).first()
        return None if row is None else _event(row)

    def event(self, event_id: int) -> Event:
        """One event by id."""
        row = self._read_one(sa.select(events_t).where(events_t.c.id == event_id))
        if row is None:
            raise StoreError(f"No event with id {event_id}.")
        return _event(row)

    def events(self, after: int = 0, limit: int | None = None) -> list[Event]:
        """Events with id greater than ``after``, oldest first."""
        stmt = _EVENTS_AFTER if limit is None else _EVENTS_AFTER.limit(limit)
        with self._read() as conn:
            return [_event(r) for r in conn.execute(stmt, {"p_after": after})]

    def last_event_id(self) -> int:
        """The id of the latest event (0 when none)."""
        row = self._read_one(sa.select(sa.func.max(events_t.c.id)))
        return int(row[0] or 0)

    def current_labels(self) -> dict[int, CurrentLabel]:
        """Item id → its label now: the latest label event not undone (skips don't label)."""
        undone = events_t.alias("undone")
        live = (
            sa.select(events_t.c.item_id, sa.func.max(events_t.c.id).label("eid"))
            .where(
                events_t.c.kind == "label",
                ~sa.exists().where(undone.c.undoes == events_t.c.id),
            )
            .group_by(events_t.c.item_id)
            .subquery()
        )
        stmt = (
            sa.select(
                events_t.c.item_id,
                events_t.c.label,
                annotators_t.c.name,
                events_t.c.created_at,
                events_t.c.id,
            )
            .join(live, live.c.eid == events_t.c.id)
            .join(annotators_t, annotators_t.c.id == events_t.c.annotator_id)
            .order_by(events_t.c.item_id)
        )
        with self._read() as conn:
            return {r[0]: CurrentLabel(*r) for r in conn.execute(stmt)}

    def live_answers(self, kinds: Sequence[str] = ("label",)) -> list[Event]:
        """Every label event not undone, oldest first: all answers of all annotators
        (an item answered by three annotators appears three times).

        Parameters
        ----------
        kinds : sequence of {"label", "skip"}, default ("label",)
            The kinds of events to give: ``("label", "skip")`` adds the skips not undone.
        """
        wrong = sorted(set(kinds) - {"label", "skip"})
        if wrong:
            raise ValueError(f"kinds must name 'label' or 'skip', got {wrong}.")
        undone = events_t.alias("undone")
        stmt = (
            sa.select(events_t)
            .where(
                events_t.c.kind.in_(list(kinds)),
                ~sa.exists().where(undone.c.undoes == events_t.c.id),
            )
            .order_by(events_t.c.id)
        )
        with self._read() as conn:
            return [_event(r) for r in conn.execute(stmt)]

    def skips_by_annotator(self) -> dict[int, int]:
        """Annotator id → their skips not undone (an annotator who never skipped is absent)."""
        undone = events_t.alias("undone")
        stmt = (
            sa.select(events_t.c.annotator_id, sa.func.count())
            .where(
                events_t.c.kind == "skip",
                ~sa.exists().where(undone.c.undoes == events_t.c.id),
            )
            .group_by(events_t.c.annotator_id)
        )
        with self._read() as conn:
            return {int(a): int(n) for a, n in conn.execute(stmt)}

    def count_events(self) -> dict[str, int]:
        """Number of events of each kind."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(events_t.c.kind, sa.func.count()).group_by(events_t.c.kind)
            ).all()
        return {k: 0 for k in EVENT_KINDS} | {r[0]: int(r[1]) for r in rows}

    # -------------------------------------------------------------- leases
    def lease(
        self,
        item_id: int,
        annotator_id: int,
        *,
        seconds: float,
        overlap: int = 1,
        strategy: str | None = None,
        score: float | None = None,
        model_version: int | None = None,
    ) -> bool:
        """Try to hand ``item_id`` to an annotator for ``seconds``.

        An item has ``overlap`` slots; a slot is free when nobody holds it or its
        lease has expired. Safe across processes: the primary key (item, slot)
        decides who wins, and one annotator's leases run one at a time, so an
        annotator never holds two slots of one item. A revoked annotator gets
        nothing, even when revoked while the request was on its way.
        """
        item_id, annotator_id = int(item_id), int(annotator_id)
        score, model_version = _opt(float, score), _opt(int, model_version)
        now = time.time()
        params = {
            "p_item": item_id,
            "p_ann": annotator_id,
            "p_now": now,
            "p_expires": now + seconds,
            "p_strategy": strategy,
            "p_score": score,
            "p_version": model_version,
            "p_forever": _FOREVER,
        }
        try:
            with self._write(durable=False) as conn:
                _serialise_leases(conn, annotator_id)
                if conn.execute(_ACTIVE, params).first() is None:
                    return False  # revoked, perhaps while this request was on its way
                if conn.execute(_RENEW, params).rowcount:
                    return True
                if conn.execute(_ANSWERED, params).first() is not None:
                    return False  # one annotator never answers the same item twice
                for slot in range(overlap):
                    params["p_slot"] = slot
                    if conn.execute(_CLAIM_FREE[self.dialect], params).first() is not None:
                        return True
                    if conn.execute(_TAKE_EXPIRED, params).rowcount:
                        return True
        except IntegrityError:  # e.g. an item or annotator that does not exist
            return False
        return False

    def release(self, item_id: int, annotator_id: int) -> None:
        """Give an unanswered item back."""
        item_id, annotator_id = int(item_id), int(annotator_id)
        with self._write(durable=False) as conn:
            conn.execute(
                assignments_t.update()
                .where(
                    assignments_t.c.item_id == item_id,
                    assignments_t.c.annotator_id == annotator_id,
                    assignments_t.c.expires_at < _FOREVER,
                )
                .values(expires_at=0.0)
            )

    def release_held(self, annotator_id: int) -> list[int]:
        """Give back every item the annotator holds unanswered, in one statement.

        The item on screen and those that were on screen when an undo brought an
        earlier item back: every unexpired lease of theirs on an unanswered item.

        Returns
        -------
        list of int
            The items given back, in increasing order.

        Examples
        --------
        >>> store = Store.create("sqlite://", {"labels": ["a", "b"], "kind": "text"})
        >>> store.add_items(
        ...     [{"external_id": str(i), "kind": "text", "content": {"text": "x"}} for i in (0, 1)]
        ... )
        >>> ada = store.add_annotator("ada")[0]
        >>> [store.lease(i, ada.id, seconds=60) for i in (0, 1)]
        [True, True]
        >>> store.release_held(ada.id), store.held_item(ada.id)
        ([0, 1], None)
        """
        with self._write(durable=False) as conn:
            rows = conn.execute(_release_leases(int(annotator_id), after=time.time())).all()
        return sorted({int(r[0]) for r in rows})

    def held_item(self, annotator_id: int) -> int | None:
        """The unanswered item an annotator holds an unexpired lease on, if any."""
        with self._read() as conn:
            row = conn.execute(
                _HELD, {"p_ann": annotator_id, "p_now": time.time(), "p_forever": _FOREVER}
            ).first()
        return None if row is None else int(row[0])

    def leased_items(self, items: Sequence[int] | None = None) -> dict[int, int]:
        """Item → annotator for every unexpired lease on an unanswered item (among
        ``items`` only, when given)."""
        return {int(item): int(who) for item, who in self._live_leases(items)}

    def lease_holders(self, items: Sequence[int]) -> dict[int, set[int]]:
        """Item → every annotator holding an unexpired lease on it, among ``items``
        (unanswered items only; an item nobody holds is absent).

        Examples
        --------
        >>> store = Store.create("sqlite://", {"labels": ["a", "b"], "kind": "text"})
        >>> store.add_items([{"external_id": "0", "kind": "text", "content": {"text": "x"}}])
        >>> ada, _ = store.add_annotator("ada")
        >>> bob, _ = store.add_annotator("bob")
        >>> [store.lease(0, who.id, seconds=60, overlap=2) for who in (ada, bob)]
        [True, True]
        >>> store.lease_holders([0]) == {0: {ada.id, bob.id}}
        True
        """
        out: dict[int, set[int]] = {}
        for item, who in self._live_leases(items):  # one row per lease: a few, never the pool
            out.setdefault(int(item), set()).add(int(who))
        return out

    def _live_leases(self, items: Sequence[int] | None) -> list[Any]:
        """(item, annotator) rows of the unexpired leases on unanswered items (among
        ``items`` only, when given)."""
        stmt = sa.select(assignments_t.c.item_id, assignments_t.c.annotator_id).where(
            assignments_t.c.expires_at > time.time(),
            assignments_t.c.expires_at < _FOREVER,
        )
        if items is not None:
            stmt = stmt.where(assignments_t.c.item_id.in_([int(i) for i in items]))
        with self._read() as conn:
            return list(conn.execute(stmt).all())

    # -------------------------------------------------------- models, queue
    def save_model_version(
        self,
        *,
        n_labels: int,
        last_event_id: int,
        strategy: str,
        metrics: dict[str, Any],
        model: bytes | None,
        queue: tuple[np.ndarray, np.ndarray | None] | None = None,
        queue_limit: int = 2000,
        stop_predictions: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> int:
        """Record a trained model and the head of its queue; returns its version.

        The queue head is one compact blob (item ids, scores), so the write is
        short and never holds up the annotators' writes. ``stop_predictions``
        (item ids, the model's prediction of each as a string) is kept with the
        version for the next round's stopping check (:meth:`stop_predictions`).
        """
        blob = None
        if queue is not None:
            items, scores = queue
            arrays = {"items": np.asarray(items[:queue_limit], dtype=np.int64)}
            if scores is not None:
                arrays["scores"] = np.asarray(scores[:queue_limit], dtype=np.float64)
            buf = io.BytesIO()
            np.savez(buf, **arrays)
            blob = buf.getvalue()
        stop = None
        if stop_predictions is not None:
            items, predicted = stop_predictions
            buf = io.BytesIO()
            np.savez_compressed(
                buf,
                items=np.asarray(items, dtype=np.int64),
                predictions=np.asarray(predicted).astype(str),
            )
            stop = buf.getvalue()
        with self._write(durable=False) as conn:
            res = conn.execute(
                models_t.insert().values(
                    created_at=time.time(),
                    n_labels=n_labels,
                    last_event_id=last_event_id,
                    strategy=strategy,
                    metrics=json.dumps(metrics),
                    model=model,
                    queue=blob,
                    stop_predictions=stop,
                )
            )
        return int(res.inserted_primary_key[0])

    def model_versions(self, with_model: bool = False) -> list[ModelVersion]:
        """All model versions, oldest first (``with_model``: with the model bytes).

        Examples
        --------
        >>> store = Store.create("sqlite://", {"labels": ["no", "yes"]})
        >>> _ = store.save_model_version(
        ...     n_labels=0, last_event_id=0, strategy="cold start", metrics={}, model=None)
        >>> [(v.version, v.has_model) for v in store.model_versions()]
        [(1, False)]
        """
        blobs = ("model", "queue", "stop_predictions")
        cols = [c for c in models_t.c if with_model or c.name not in blobs]
        cols.append(models_t.c.model.is_not(None).label("has_model"))
        with self._read() as conn:
            rows = conn.execute(sa.select(*cols).order_by(models_t.c.version)).all()
        return [_model(r) for r in rows]

    def latest_version(self) -> int | None:
        """The number of the latest model version, or ``None``."""
        row = self._read_one(sa.select(sa.func.max(models_t.c.version)))
        return None if row[0] is None else int(row[0])

    def latest_model(self) -> ModelVersion | None:
        """The latest model version, with its model bytes."""
        cols = [c for c in models_t.c if c.name != "stop_predictions"]
        cols.append(models_t.c.model.is_not(None).label("has_model"))
        row = self._read_one(sa.select(*cols).order_by(models_t.c.version.desc()).limit(1))
        return None if row is None else _model(row)

    def stop_predictions(self, version: int) -> tuple[np.ndarray, np.ndarray] | None:
        """A model version's predictions on the stop set: item ids and one string per item.

        ``None`` for a version stored without them (a cold start, or a version
        trained before they were kept).

        Examples
        --------
        >>> store = Store.create("sqlite://", {"labels": ["no", "yes"]})
        >>> v = store.save_model_version(
        ...     n_labels=2, last_event_id=2, strategy="margin", metrics={}, model=None,
        ...     stop_predictions=(np.array([0, 3]), np.array(["no", "yes"])))
        >>> items, predicted = store.stop_predictions(v)
        >>> items.tolist(), predicted.tolist()
        ([0, 3], ['no', 'yes'])
        """
        row = self._read_one(
            sa.select(models_t.c.stop_predictions).where(models_t.c.version == version)
        )
        if row is None or row[0] is None:
            return None
        with np.load(io.BytesIO(bytes(row[0])), allow_pickle=False) as z:
            return z["items"], z["predictions"]

    def queue(
        self, version: int | None = None
    ) -> tuple[np.ndarray, np.ndarray | None, str, int | None]:
        """The head of the queue of a model version (default: the latest): item ids by
        rank, their scores (or ``None``), the strategy that ranked them and the version."""
        stmt = sa.select(models_t.c.queue, models_t.c.strategy, models_t.c.version)
        if version is None:
            stmt = stmt.order_by(models_t.c.version.desc()).limit(1)
        else:
            stmt = stmt.where(models_t.c.version == version)
        row = self._read_one(stmt)
        if row is None or row.queue is None:
            return np.empty(0, dtype=np.int64), None, "", None
        with np.load(io.BytesIO(row.queue), allow_pickle=False) as z:
            scores = z["scores"] if "scores" in z.files else None
            return z["items"], scores, row.strategy, row.version


def _annotator(row: Any) -> Annotator:
    return Annotator(
        row.id, row.name, row.created_at, row.revoked_at is not None, row.token_hash is not None
    )


def _event(row: Any) -> Event:
    return Event(
        row.id,
        row.item_id,
        row.annotator_id,
        row.kind,
        row.label,
        row.undoes,
        row.request_id,
        row.strategy,
        row.score,
        row.model_version,
        row.created_at,
        row._mapping.get("seconds"),
    )


def _same_request(old: Event, request_id: str, kind: str, item_id: int, label: str | None) -> None:
    """Refuse a request id reused for a different request (a retry repeats the body)."""
    if (old.kind, old.item_id, old.label) == (kind, item_id, label):
        return
    what = f"a {old.kind}" + (f" {old.label!r}" if old.label is not None else "")
    raise ConflictError(
        f"The request id {request_id!r} was used already for {what} of item {old.item_id}; "
        "a retry must repeat the same request: send a new request id for a new one."
    )


def _check_lease(conn: Connection, lease: Any, item_id: int, kind: str) -> None:
    """Refuse an answer or skip for an item the annotator does not hold."""
    if lease is not None and 0.0 < lease.expires_at < _FOREVER:
        return  # held (an expired lease nobody took over still counts)
    if lease is not None and lease.expires_at >= _FOREVER:
        raise ConflictError(
            f"You have answered item {item_id} already; undo it to change the answer."
        )
    raise ConflictError(
        f"Item {item_id} is not leased to you, so you cannot {kind} it: it was never handed "
        "to you, you skipped or released it, or someone else took it over. Ask for your "
        "next item (GET /api/next)."
    )


def _insert_items(conn: Connection, rows: Sequence[dict[str, Any]], first: int) -> None:
    """Insert items with the pool ids ``first``, ``first + 1``, ... (5,000 rows per statement)."""
    payload = [
        {
            "id": first + i,
            "external_id": str(r["external_id"]),
            "kind": r["kind"],
            "content": json.dumps(r.get("content", {})),
            "blob": r.get("blob"),
            "media_type": r.get("media_type"),
        }
        for i, r in enumerate(rows)
    ]
    for lo in range(0, len(payload), 5000):
        conn.execute(items_t.insert(), payload[lo : lo + 5000])


def _insert_feature_blocks(conn: Connection, X: Any, offset: int) -> None:
    """Write ``X`` as blocks of rows, its first row being pool item ``offset``."""
    for lo in range(0, X.shape[0], _FEATURE_BLOCK):
        hi = min(lo + _FEATURE_BLOCK, X.shape[0])
        buf = io.BytesIO()
        if sp.issparse(X):
            sp.save_npz(buf, sp.csr_matrix(X[lo:hi]))
            fmt = "npz"
        else:
            np.save(buf, np.ascontiguousarray(X[lo:hi]), allow_pickle=False)
            fmt = "npy"
        conn.execute(
            feature_blocks_t.insert().values(
                start=offset + lo, stop=offset + hi, format=fmt, data=buf.getvalue()
            )
        )


def _check_room(conn: Connection, item_id: int, annotator_id: int, overlap: int) -> None:
    """Refuse a label when it would give the item a second live label of this annotator,
    or more live labels than the project's overlap."""
    undone = events_t.alias("undone")
    rows = conn.execute(
        sa.select(events_t.c.annotator_id).where(
            events_t.c.item_id == item_id,
            events_t.c.kind == "label",
            ~sa.exists().where(undone.c.undoes == events_t.c.id),
        )
    ).all()
    if any(r[0] == annotator_id for r in rows):
        raise ConflictError(
            f"You have answered item {item_id} already; undo it to change the answer."
        )
    if len(rows) >= overlap:
        raise ConflictError(
            f"Item {item_id} is answered already ({len(rows)} of {overlap} answer(s) the "
            "project asks for); ask for your next item."
        )


def _model(row: Any) -> ModelVersion:
    m = row._mapping
    return ModelVersion(
        m["version"],
        m["created_at"],
        m["n_labels"],
        m["last_event_id"],
        m["strategy"],
        json.loads(m["metrics"]),
        None if m.get("model") is None else bytes(m["model"]),
        bool(m["has_model"]) if "has_model" in m else m.get("model") is not None,
    )
