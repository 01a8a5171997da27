"""The supervised trainer: restarted after ``kill -9``, reported in /healthz and ``activelab
status``, gone with its server, and a clean shutdown in under two seconds."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from activelab.app.api import create_app
from activelab.app.project import open_project
from activelab.app.service import LabellingService
from activelab.cli import main

pytestmark = pytest.mark.timeout(150)


def _wait(predicate, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def _label(svc: LabellingService, who, n: int) -> None:
    for _ in range(n):
        item = svc.next_item(who)
        svc.answer(who, item.id, "high" if item.id % 2 else "low")


def test_trainer_restarts_after_kill_9_and_the_model_advances_again(table_project) -> None:
    project = table_project(120)
    store = open_project(project)
    ada, _ = store.add_annotator("ada")
    svc = LabellingService(store, retrain_every=3, retrain_seconds=1)
    svc.start()
    try:
        assert _wait(lambda: svc.trainer_state()["state"] in ("idle", "training"), 60)
        _label(svc, ada, 4)
        assert _wait(lambda: svc.progress(ada).model_labels == 4, 60)
        before = svc.progress(ada).model_version
        pid = svc.trainer_state()["pid"]
        os.kill(pid, signal.SIGKILL)
        # the supervisor sees the death, says why, and starts a new trainer
        assert _wait(lambda: svc.trainer_state()["restarts"] == 1, 10)
        state = svc.trainer_state()
        assert "SIGKILL" in state["last_error"] and state["pid"] != pid
        assert not svc.training  # no "training…" left behind by the dead process
        p = svc.progress(ada)
        assert p.trainer_error is not None and "SIGKILL" in p.trainer_error
        killed_at = time.monotonic()
        _label(svc, ada, 4)
        assert _wait(lambda: (svc.progress(ada).model_version or 0) > before, 30)
        assert time.monotonic() - killed_at < 30
        assert svc.progress(ada).model_labels == 8 or _wait(
            lambda: svc.progress(ada).model_labels == 8, 10
        )
        # the state is stored for `activelab status`, run from another process
        result = CliRunner().invoke(main, ["status", str(project), "--json"])
        assert result.exit_code == 0, result.output
        trainer = json.loads(result.output)["trainer"]
        assert trainer["restarts"] == 1 and "SIGKILL" in trainer["last_error"]
        text = CliRunner().invoke(main, ["status", str(project)]).output
        assert "trainer:" in text and "1 restart" in text
    finally:
        t0 = time.monotonic()
        svc.stop()
        assert time.monotonic() - t0 < 2.0
    assert svc.trainer_state() is None and not svc.training
    assert _wait(lambda: not Path(f"/proc/{state['pid']}").exists(), 5)
    store.close()


def test_healthz_reports_store_trainer_and_model_version(table_project) -> None:
    project = table_project(40)
    store = open_project(project)
    svc = LabellingService(store, retrain_every=2, retrain_seconds=1)
    with TestClient(create_app(svc)) as client:  # starts the trainer process
        assert _wait(lambda: client.get("/healthz").json()["trainer"]["state"] == "idle", 60)
        h = client.get("/healthz").json()
        assert h["ok"] is True and h["store"] == "ok"
        assert h["trainer"]["mode"] == "process" and h["trainer"]["heartbeat_age"] < 5
        assert _wait(lambda: client.get("/healthz").json()["model_version"] is not None, 60)
        assert client.get("/healthz").json()["labelled"] == 0
    store.close()


def test_server_shuts_down_in_under_two_seconds_without_leaks(
    table_project, server, add_tokens
) -> None:
    project = table_project(60)
    token = add_tokens(project, ["ada"])["ada"]
    srv = server(project, "--retrain-every", "2", "--retrain-seconds", "1")
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=srv.url, headers=auth, timeout=10) as client:
        assert _wait(lambda: client.get("/healthz").json()["trainer"]["state"] == "idle", 60)
        trainer_pid = client.get("/healthz").json()["trainer"]["pid"]
        for _ in range(3):
            item = client.get("/api/next").json()["item"]
            client.post("/api/answer", json={"item_id": item["id"], "label": "low"})
    t0 = time.monotonic()
    srv.proc.send_signal(signal.SIGINT)
    srv.proc.wait(10)
    took = time.monotonic() - t0
    err = srv.proc.stderr.read().decode() if srv.proc.stderr else ""
    assert took < 2.0, f"shutdown took {took:.2f} s"
    assert "leaked" not in err and "Traceback" not in err, err
    assert _wait(lambda: not Path(f"/proc/{trainer_pid}").exists(), 5)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_the_trainer_ignores_ctrl_c_from_its_first_line(table_project) -> None:
    """Ctrl+C reaches the whole process group; a trainer still importing its libraries
    must not print a KeyboardInterrupt traceback over the terminal labeller."""
    store = open_project(table_project(20))
    svc = LabellingService(store)
    svc.start()
    try:
        pid = svc.trainer_state()["pid"]
        status = Path(f"/proc/{pid}/status").read_text()  # at once: still starting up
        ignored = int(
            next(x for x in status.splitlines() if x.startswith("SigIgn:")).split()[1], 16
        )
        assert ignored & (1 << (signal.SIGINT - 1))
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # ours is back
    finally:
        svc.stop()
        store.close()
