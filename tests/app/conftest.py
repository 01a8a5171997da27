"""Fixtures of the labelling-app tests: small projects, a real server in a subprocess, and the
databases the store's tests run on (SQLite, and PostgreSQL started by
``scripts/start-postgres.sh``).

PostgreSQL: the URL comes from ``ACTIVELAB_TEST_POSTGRES_URL`` when set, else from running
``scripts/start-postgres.sh`` (as root it installs and starts Debian's server). Every test gets a
fresh database of its own, dropped afterwards. A PostgreSQL test FAILS when no server can be had,
unless ``ACTIVELAB_SKIP_POSTGRES=1`` is set, which skips them with that reason.
"""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

# app tests featurise texts with TF-IDF (fast); the one embedding test removes this itself
os.environ.setdefault("ACTIVELAB_TEXT_FEATURES", "tfidf")

import httpx
import numpy as np
import pytest

from activelab.app.ingest import read_items
from activelab.app.project import create_project, open_project

_REPO = Path(__file__).resolve().parents[2]
_SRC = _REPO / "src"
_START_POSTGRES = _REPO / "scripts" / "start-postgres.sh"
#: the database back ends the store's tests run on
BACKENDS = ("sqlite", "postgresql")


def _postgres_server() -> str:
    """The admin URL of a PostgreSQL server for the tests, or raise with the reason."""
    url = os.environ.get("ACTIVELAB_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        done = subprocess.run(
            ["bash", str(_START_POSTGRES)],
            capture_output=True,
            text=True,
            timeout=600,  # a first run may apt-get install the server
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"{_START_POSTGRES} did not finish: {exc!r}") from exc
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not lines[-1].startswith("postgresql"):
        raise RuntimeError(
            f"{_START_POSTGRES} failed (exit {done.returncode}): "
            f"{(done.stderr or done.stdout).strip()[-2000:]}"
        )
    return lines[-1]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The admin URL of a running PostgreSQL server (started once per session)."""
    import sqlalchemy as sa

    reason = None
    try:
        url = _postgres_server()
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any failure: its text goes into the message
        reason = (
            f"PostgreSQL is not available for the store's tests: {exc}. Run "
            "`sudo bash scripts/start-postgres.sh` (or set ACTIVELAB_TEST_POSTGRES_URL to a "
            "server where the user may CREATE DATABASE); set ACTIVELAB_SKIP_POSTGRES=1 to skip "
            "the PostgreSQL tests on purpose."
        )
    if reason is not None:  # outside the handler: the message alone, no chained traceback
        if os.environ.get("ACTIVELAB_SKIP_POSTGRES") == "1":
            pytest.skip(f"ACTIVELAB_SKIP_POSTGRES=1: {reason}")
        pytest.fail(reason, pytrace=False)
    try:
        yield url
    finally:
        engine.dispose()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped at the end."""
    import sqlalchemy as sa

    name = f"activelab_test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL, once on SQLite (a file) and once on PostgreSQL."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'p.db'}"


def write_table_csv(path: Path, n: int, seed: int = 0) -> Path:
    """A CSV of ``n`` rows: an id, four numeric features and a note."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).round(4)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "a", "b", "c", "d", "note"])
        for i in range(n):  # writing a test file
            w.writerow([f"item-{i:05d}", *X[i].tolist(), f"row {i}"])
    return path


@pytest.fixture
def table_project(tmp_path: Path) -> Callable[..., Path]:
    """Make a table project of ``n`` items with labels low/high."""

    def make(n: int = 200, **kwargs: object) -> Path:
        data = read_items(write_table_csv(tmp_path / f"items-{n}.csv", n))
        return create_project(tmp_path / f"proj-{n}", data, ["low", "high"], **kwargs)

    return make


def _add_tokens(project: Path, names: list[str]) -> dict[str, str]:
    store = open_project(project)
    try:
        return {name: store.add_annotator(name)[1] for name in names}  # type: ignore[misc]
    finally:
        store.close()


@pytest.fixture
def add_tokens() -> Callable[[Path, list[str]], dict[str, str]]:
    """Add annotators to a project; returns name -> token."""
    return _add_tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``activelab serve`` in a subprocess on a free local port."""

    def __init__(self, project: Path, *extra: str) -> None:
        self.project = project
        self.extra = extra
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> Server:
        env = {**os.environ, "PYTHONPATH": f"{_SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        env.setdefault("OMP_NUM_THREADS", "1")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "activelab",
                "serve",
                str(self.project),
                "--port",
                str(self.port),
                *self.extra,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"server exited with {self.proc.returncode}: {err}")
            try:
                if httpx.get(self.url + "/openapi.json", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError("server did not start in time")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def server() -> Iterator[Callable[..., Server]]:
    """Start servers; every one is stopped at the end of the test."""
    started: list[Server] = []

    def start(project: Path, *extra: str) -> Server:
        s = Server(project, *extra).start()
        started.append(s)
        return s

    yield start
    for s in started:
        s.kill()


@pytest.fixture(params=BACKENDS)
def project_db(request: pytest.FixtureRequest) -> str | None:
    """The ``db_url`` of a new project: ``None`` (SQLite in the folder) or a PostgreSQL URL."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return None


@contextmanager
def _serve_in_thread(service: object, run_trainer: bool = True) -> Iterator[str]:
    """Serve a LabellingService with uvicorn on a free port in this process; yields its URL."""
    import uvicorn

    from activelab.app.api import create_app

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(service, run_trainer=run_trainer),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


@pytest.fixture
def serve_in_thread() -> Callable[..., object]:
    """``with serve_in_thread(service) as url:`` — the page and API on a local port."""
    return _serve_in_thread


@pytest.fixture
def labelled_table(tmp_path: Path) -> Callable[..., Path]:
    """A maker of ``id,a,b,label`` CSV files: two well-separated clusters (odd and even rows),
    with the given label, or "" for none, per row."""

    def make(labels: list[str], name: str = "items.csv") -> Path:
        rng = np.random.default_rng(0)
        lines = ["id,a,b,label"]
        for i, lab in enumerate(labels):
            x = rng.normal(size=2) + (3.0 if i % 2 else -3.0)
            lines.append(f"r{i},{x[0]:.4f},{x[1]:.4f},{lab}")
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n")
        return path

    return make
