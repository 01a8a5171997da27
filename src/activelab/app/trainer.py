"""The supervised trainer process: started, watched, restarted and stopped by its server.

The server (``activelab serve``, ``activelab label``) trains in a separate process so
training never competes with request handling. :class:`TrainerSupervisor` runs that
process and keeps it honest:

- **a pipe, not shared locks.** Server and trainer talk over one
  :func:`multiprocessing.Pipe` (no semaphores, so nothing can leak when either side is
  killed). The trainer sends a heartbeat every half second, ``busy`` while it trains, its
  last error, and each model version it stores.
- **the trainer dies with its server.** A thread of the trainer blocks reading the pipe;
  when the server dies — even by ``SIGKILL`` — the pipe closes and the trainer exits at
  once (``os._exit``), mid-round if need be; it also checks, right before it stores a
  model, that its server is still its parent, so an orphan never writes one.
- **restart with back-off.** When the trainer exits unasked (killed, crashed) or stops
  beating for :data:`STALL_SECONDS`, the supervisor logs it, records the exit as the last
  error and starts a new one after 0.5 s, 1 s, 2 s ... (at most 30 s; back to 0.5 s once
  a trainer has run a minute).
- **state everywhere.** :meth:`TrainerSupervisor.state` feeds ``/healthz``, the page's
  progress and, stored in the project (:data:`STATUS_ARTIFACT`), ``activelab status``.

Examples
--------
>>> describe_state({"state": "idle", "restarts": 0, "last_error": None, "pid": 7})
'idle (pid 7)'
>>> describe_state({"state": "restarting", "restarts": 2, "last_error": "killed by SIGKILL",
...                 "pid": None})
'restarting (2 restarts; last error: killed by SIGKILL)'
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from typing import Any

from activelab._signals import sigint_handled

__all__ = ["STALL_SECONDS", "STATUS_ARTIFACT", "TrainerSupervisor", "describe_state"]

_log = logging.getLogger(__name__)

#: a trainer silent for this long is taken for hung, killed and restarted
STALL_SECONDS = 30.0
#: the store artifact holding the trainer's last published state (JSON)
STATUS_ARTIFACT = "trainer_status"
_BEAT = 0.5
_BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0)


def describe_state(state: dict[str, Any] | None) -> str:
    """One line for people: the trainer's state, restarts and last error."""
    if not state:
        return "not started"
    parts = []
    if state.get("pid"):
        parts.append(f"pid {state['pid']}")
    if state.get("restarts"):
        parts.append(f"{state['restarts']} restart{'s' if state['restarts'] != 1 else ''}")
    if state.get("last_error"):
        parts.append(f"last error: {state['last_error']}")
    return f"{state.get('state', '?')}" + (f" ({'; '.join(parts)})" if parts else "")


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "stopped answering (no heartbeat)"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


class TrainerSupervisor:
    """Run the trainer process for a project and restart it when it dies.

    Parameters
    ----------
    url : str
        The project's database URL (a file or a server: the trainer opens it too).
    retrain_every, retrain_seconds
        Passed to the trainer's :class:`~activelab.app.service.LabellingService`.
    factory : callable
        ``factory(url, retrain_every, retrain_seconds)`` opens the project in the trainer
        process and returns its :class:`~activelab.app.service.LabellingService`; a
        module-level function (it is sent to the new process by reference).
    publish : callable, optional
        Called with the state dict whenever it changes (and every few seconds), e.g.
        to store it for ``activelab status``.
    """

    def __init__(
        self,
        url: str,
        retrain_every: int,
        retrain_seconds: float,
        factory: Any,
        publish: Any = None,
    ) -> None:
        self.url = url
        self.factory = factory
        self.retrain_every = retrain_every
        self.retrain_seconds = retrain_seconds
        self._publish = publish
        self._ctx = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._proc: Any = None
        self._conn: Any = None
        self._state: dict[str, Any] = {
            "state": "stopped",
            "pid": None,
            "restarts": 0,
            "last_error": None,
            "last_error_at": None,
            "last_heartbeat": None,
            "started_at": None,
            "busy": False,
        }

    # ------------------------------------------------------------ public
    @property
    def busy(self) -> bool:
        """True while the trainer process runs a training round."""
        return bool(self._state["busy"]) and self._state["state"] == "training"

    def state(self) -> dict[str, Any]:
        """A copy of the trainer's state: state, pid, restarts, last error, heartbeat age."""
        with self._lock:
            out = dict(self._state)
        beat = out.get("last_heartbeat")
        out["heartbeat_age"] = None if beat is None else max(0.0, time.time() - beat)
        return out

    def start(self) -> None:
        """Start the trainer process and the thread that supervises it."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._spawn()
        self._thread = threading.Thread(
            target=self._supervise, name="activelab-trainer-supervisor", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the trainer: ask it, wait up to ``timeout`` seconds, then kill it.

        A round in progress is abandoned (the model is derived state: the next start
        retrains), so shutting down never waits for training.
        """
        self._stopping.set()
        proc, conn = self._proc, self._conn
        if proc is not None:
            with contextlib.suppress(OSError, ValueError):
                conn.send("stop")
            proc.join(timeout)
            if proc.is_alive():
                proc.kill()
                proc.join(2.0)
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
        self._close()
        self._set(state="stopped", pid=None, busy=False)

    # ----------------------------------------------------------- private
    def _set(self, **changes: Any) -> None:
        with self._lock:
            changed = any(self._state.get(k) != v for k, v in changes.items())
            self._state.update(changes)
            snapshot = dict(self._state)
        # idle <-> training flips with every round: those go out with the periodic publish,
        # so a trainer retraining after every answer adds no writes to the annotators' store
        routine = set(changes) <= {"last_heartbeat", "busy", "state"} and snapshot["state"] in (
            "idle",
            "training",
        )
        if changed and self._publish is not None and not routine:
            self._safe_publish(snapshot)

    def _safe_publish(self, snapshot: dict[str, Any]) -> None:
        try:
            self._publish(snapshot)
        except Exception:  # a busy database must not stop the supervision
            _log.debug("could not publish the trainer state", exc_info=True)

    def _spawn(self) -> None:
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(
            target=_trainer_main,
            args=(
                self.factory,
                self.url,
                self.retrain_every,
                self.retrain_seconds,
                child,
                os.getpid(),
            ),
            name="activelab-trainer",
            daemon=True,
        )
        # the new process inherits Ctrl+C ignored from its first line, so one that reaches
        # the whole process group while it still imports its libraries (the first seconds
        # of `activelab label` or `serve`) prints no traceback: it never handles Ctrl+C, its
        # server stops it (a restart from the supervising thread starts it as it is)
        with sigint_handled(signal.SIG_IGN):
            proc.start()
        child.close()  # the server keeps only its end: the trainer sees EOF when it dies
        self._proc, self._conn = proc, parent
        now = time.time()
        self._set(state="starting", pid=proc.pid, started_at=now, last_heartbeat=now, busy=False)

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
        self._conn = None
        if self._proc is not None:
            with contextlib.suppress(ValueError):  # still running: a kill not landed yet
                self._proc.close()
        self._proc = None

    def _supervise(self) -> None:
        failures = 0
        last_publish = 0.0
        while not self._stopping.is_set():
            proc, conn = self._proc, self._conn
            self._drain(conn)
            now = time.time()
            if self._stopping.is_set():
                break
            stalled = (
                proc.is_alive() and now - (self._state["last_heartbeat"] or now) > STALL_SECONDS
            )
            if not proc.is_alive() or stalled:
                if stalled:
                    proc.kill()
                proc.join(2.0)
                reason = _exit_reason(None if stalled else proc.exitcode)
                ran = now - (self._state["started_at"] or now)
                failures = 0 if ran > 60.0 else failures + 1
                delay = _BACKOFF[min(failures, len(_BACKOFF)) - 1] if failures else _BACKOFF[0]
                _log.warning(
                    "activelab trainer (pid %s) %s; restarting it in %.1f s",
                    proc.pid,
                    reason,
                    delay,
                )
                self._close()
                self._set(
                    state="restarting",
                    pid=None,
                    busy=False,
                    restarts=self._state["restarts"] + 1,
                    last_error=f"trainer {reason}",
                    last_error_at=now,
                )
                if self._stopping.wait(delay):
                    break
                self._spawn()
                continue
            if now - last_publish > 5.0 and self._publish is not None:
                last_publish = now
                self._safe_publish(self.state())

    def _drain(self, conn: Any) -> None:
        """Read the trainer's messages for up to a quarter of a second."""
        deadline = time.monotonic() + 0.25
        while True:
            left = deadline - time.monotonic()
            try:
                if left <= 0 or not conn.poll(left):
                    return
                kind, value = conn.recv()
            except (EOFError, OSError, ValueError):
                time.sleep(max(0.0, deadline - time.monotonic()))
                return  # the process is gone: the loop notices and restarts it
            now = time.time()
            if kind == "beat":
                self._set(last_heartbeat=now)
                if self._state["state"] == "starting":
                    self._set(state="idle")
            elif kind == "busy":
                self._set(busy=bool(value), state="training" if value else "idle")
            elif kind == "error":
                _log.warning("activelab trainer: training round failed: %s", value)
                self._set(last_error=str(value), last_error_at=now)


def _trainer_main(
    factory: Any,
    url: str,
    retrain_every: int,
    retrain_seconds: float,
    conn: Any,
    parent_pid: int,
) -> None:
    """The trainer process: retrain when the store has enough new answers, until told to
    stop; exit at once when the server is gone (the pipe closes)."""
    if hasattr(os, "nice"):
        os.nice(10)  # background work: requests of the serving process come first
    # Ctrl+C reaches the whole process group: the server stops its trainer itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop = threading.Event()
    send_lock = threading.Lock()

    def send(message: tuple[str, Any]) -> None:
        with send_lock:
            try:
                conn.send(message)
            except (OSError, ValueError):
                os._exit(0)  # the server is gone

    def listen() -> None:
        try:
            while conn.recv() != "stop":
                pass
            stop.set()
        except (EOFError, OSError):
            os._exit(0)  # the server died: no further model version from an orphan

    def beat() -> None:
        while not stop.wait(_BEAT):
            send(("beat", time.time()))

    threading.Thread(target=listen, name="server-watch", daemon=True).start()
    send(("beat", time.time()))
    threading.Thread(target=beat, name="heartbeat", daemon=True).start()
    svc = factory(url, retrain_every, retrain_seconds)  # after the first heartbeat
    svc._may_save = lambda: not stop.is_set() and os.getppid() == parent_pid
    try:
        while not stop.is_set():
            try:
                svc.sync()
                if svc._needs_training():
                    send(("busy", 1))
                    try:
                        svc.retrain()
                    finally:
                        send(("busy", 0))
            except Exception as exc:
                _log.exception("training round failed")
                send(("error", f"{type(exc).__name__}: {exc}"[:500]))
                stop.wait(5.0)
            stop.wait(0.25)
    finally:
        svc.store.close()
    # leave without the interpreter's teardown of the loaded libraries (seconds): the
    # store is closed, nothing else needs finishing, and the server waits for this exit
    os._exit(0)
