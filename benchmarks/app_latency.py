"""Latency of "next item" in the labelling app on a 100,000-item project while a retrain runs.

Two measurements, on the same project:

1. **in-process**, through the service layer every door uses
   (:class:`activelab.app.service.LabellingService`): a thread retrains the model
   and re-ranks the queue in a loop while annotators ask for their next item and
   answer it; only the ``next_item`` calls are timed;
2. **over HTTP**, against ``activelab serve`` running in a subprocess on
   127.0.0.1 with its background trainer set to retrain after every answer, so
   it is training nearly all the time; the client times ``GET /api/next``;
3. **concurrent annotators over HTTP**: ``--concurrent`` (default 10) annotators,
   each a thread with its own token and connection, label at once against the
   same server while it retrains; every ``GET /api/next`` is timed. Twice: with a
   think time of ``--think-ms`` (default 1,000 ms, a fast human) between an answer and
   the next request, and back to back (no think time: a stress test, where latency is
   queueing behind the other nine).

Run::

    python3 benchmarks/app_latency.py                      # 100,000 items
    python3 benchmarks/app_latency.py --items 20000 --requests 200   # quicker

Writes ``benchmarks/results/app_latency.json`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from _machine import cpu_model as _cpu  # noqa: E402
from activelab.app.ingest import Dataset  # noqa: E402
from activelab.app.project import create_project, open_project  # noqa: E402
from activelab.app.service import LabellingService  # noqa: E402


def _percentiles(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms)
    return {
        "n": int(a.size),
        "p50_ms": round(float(np.percentile(a, 50)), 2),
        "p90_ms": round(float(np.percentile(a, 90)), 2),
        "p99_ms": round(float(np.percentile(a, 99)), 2),
        "max_ms": round(float(a.max()), 2),
    }


def _summary(runs: list[dict]) -> dict:
    """Median over repeated runs of each percentile, and every run."""
    keys = ("p50_ms", "p90_ms", "p99_ms", "max_ms")
    return {
        **{f"median_{k}": round(float(np.median([r[k] for r in runs])), 2) for k in keys},
        "runs": runs,
    }


def _project(folder: Path, n: int, d: int, seed: int) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w = rng.normal(size=d)
    truth = np.where(X @ w > 0, "yes", "no")
    rows = [
        {"external_id": f"item-{i}", "kind": "table", "content": {"fields": {"i": i}}}
        for i in range(n)
    ]
    data = Dataset("table", rows, X, None, {"featuriser": "given", "n_features": d})
    return create_project(folder / "bench", data, ["no", "yes"]), truth


def _seed_labels(project: Path, truth: np.ndarray, n_labels: int, seed: int) -> None:
    store = open_project(project)
    ann, _ = store.add_annotator("seed", with_token=False)
    idx = np.random.default_rng(seed).choice(truth.shape[0], n_labels, replace=False)
    for i in idx.tolist():  # a few hundred seed labels
        store.append_event(i, ann.id, "label", label=str(truth[i]))
    LabellingService(store).retrain()
    store.close()


def in_process(
    project: Path, truth: np.ndarray, requests: int, annotators: int, repeats: int
) -> dict:
    store = open_project(project)
    people = [store.add_annotator(f"inproc-{k}", with_token=False)[0] for k in range(annotators)]
    versions_before = len(store.model_versions())
    svc = LabellingService(store, retrain_every=1, retrain_seconds=0.5)
    svc.start()  # the trainer process, as `activelab serve` runs it
    deadline = time.monotonic() + 120
    while not svc.training and time.monotonic() < deadline:
        svc.answer(people[0], svc.next_item(people[0]).id, "no")  # give it work
        time.sleep(0.05)
    runs = []
    during: list[bool] = []
    t0 = time.perf_counter()
    for rep in range(repeats):
        lat: list[float] = []
        for r in range(requests):
            who = people[r % annotators]
            training = svc.training
            t = time.perf_counter()
            item = svc.next_item(who)
            lat.append((time.perf_counter() - t) * 1000)
            during.append(training or svc.training)
            svc.answer(who, item.id, str(truth[item.id]), request_id=f"ip-{rep}-{r}")
        runs.append(_percentiles(lat))
    wall = time.perf_counter() - t0
    svc.stop()
    versions = store.model_versions()[versions_before:]
    store.close()
    return {
        **_summary(runs),
        "share_of_requests_during_a_retrain": round(float(np.mean(during)), 3),
        "retrain_rounds": len(versions),
        "retrain_seconds_median": round(
            float(np.median([v.metrics["seconds"] for v in versions])), 3
        )
        if versions
        else None,
        "wall_seconds": round(wall, 2),
    }


def _serve(project: Path) -> tuple[subprocess.Popen, str]:
    """``activelab serve`` in a subprocess, retraining after every answer; (process, url)."""
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "activelab",
            "serve",
            str(project),
            "--port",
            str(port),
            "--retrain-every",
            "1",
            "--retrain-seconds",
            "0.5",
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(url + "/healthz", timeout=1).raise_for_status()
            return proc, url
        except httpx.HTTPError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("server did not start") from None
            time.sleep(0.2)


def concurrent_http(
    project: Path, truth: np.ndarray, annotators: int, requests: int, think_s: float, tag: str
) -> dict:
    """``annotators`` threads label at once over HTTP; every GET /api/next is timed."""
    import threading

    import httpx

    store = open_project(project)
    tokens = [store.add_annotator(f"{tag}-{k}")[1] for k in range(annotators)]
    versions_before = len(store.model_versions())
    store.close()
    proc, url = _serve(project)
    lat: list[float] = []
    training: list[bool] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(annotators)

    def work(k: int, token: str) -> None:
        mine: list[float] = []
        try:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
                c.get("/api/progress")  # open the connection
                start.wait()
                rng = np.random.default_rng(k)
                for r in range(requests):
                    if think_s:  # a person reads the item: 0.5x to 1.5x the think time
                        time.sleep(think_s * rng.uniform(0.5, 1.5))
                    t = time.perf_counter()
                    item = c.get("/api/next").json()["item"]
                    mine.append((time.perf_counter() - t) * 1000)
                    c.post(
                        "/api/answer",
                        json={
                            "item_id": item["id"],
                            "label": str(truth[item["id"]]),
                            "request_id": f"{tag}-{k}-{r}",
                        },
                    ).raise_for_status()
                    if k == 0 and r % 5 == 0:
                        training.append(c.get("/api/progress").json()["training"])
        except Exception as exc:  # reported in the result
            errors.append(f"annotator {k}: {exc!r}")
        with lock:
            lat.extend(mine)

    try:
        t0 = time.perf_counter()
        threads = [threading.Thread(target=work, args=(k, t)) for k, t in enumerate(tokens)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - t0
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    store = open_project(project)
    versions = store.model_versions()[versions_before:]
    labels = [e for e in store.events() if e.kind == "label"]
    per_item = np.bincount([e.item_id for e in labels])
    store.close()
    return {
        **_percentiles(lat),
        "annotators": annotators,
        "requests_per_annotator": requests,
        "think_ms": round(think_s * 1000),
        "errors": errors[:5],
        "items_with_two_live_labels": int(np.count_nonzero(per_item > 1)),
        "retrain_rounds": len(versions),
        "share_of_progress_polls_seeing_training": round(float(np.mean(training)), 3)
        if training
        else None,
        "wall_seconds": round(wall, 2),
    }


def over_http(project: Path, truth: np.ndarray, requests: int, repeats: int) -> dict:
    import httpx

    store = open_project(project)
    _, token = store.add_annotator("http")
    versions_before = len(store.model_versions())
    store.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "activelab",
            "serve",
            str(project),
            "--port",
            str(port),
            "--retrain-every",
            "1",
            "--retrain-seconds",
            "0.5",
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(url + "/openapi.json", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.2)
        training: list[bool] = []
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
            for _ in range(10):  # warm up connections
                c.get("/api/progress")
            deadline = time.monotonic() + 180
            while not c.get("/api/progress").json()["training"]:  # the trainer process is up
                if time.monotonic() > deadline:
                    raise RuntimeError("the trainer never started")
                item = c.get("/api/next").json()["item"]
                c.post("/api/answer", json={"item_id": item["id"], "label": "no"})
                time.sleep(0.05)
            t0 = time.perf_counter()
            runs = []
            for rep in range(repeats):
                lat: list[float] = []
                for r in range(requests):
                    t = time.perf_counter()
                    item = c.get("/api/next").json()["item"]
                    lat.append((time.perf_counter() - t) * 1000)
                    c.post(
                        "/api/answer",
                        json={
                            "item_id": item["id"],
                            "label": str(truth[item["id"]]),
                            "request_id": f"http-{rep}-{r}",
                        },
                    ).raise_for_status()
                    if r % 10 == 0:
                        training.append(c.get("/api/progress").json()["training"])
                runs.append(_percentiles(lat))
            wall = time.perf_counter() - t0
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    store = open_project(project)
    versions = store.model_versions()[versions_before:]
    store.close()
    busy = sum(v.metrics.get("seconds", 0.0) for v in versions)
    return {
        **_summary(runs),
        "retrain_rounds": len(versions),
        "retrain_seconds_median": round(
            float(np.median([v.metrics["seconds"] for v in versions])), 3
        )
        if versions
        else None,
        "share_of_wall_time_training": round(min(1.0, busy / wall), 3),
        "share_of_progress_polls_seeing_training": round(float(np.mean(training)), 3),
        "wall_seconds": round(wall, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--seed-labels", type=int, default=500)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--annotators", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3, help="measurement runs of each kind")
    parser.add_argument(
        "--concurrent", type=int, default=10, help="annotators labelling at once over HTTP"
    )
    parser.add_argument(
        "--concurrent-requests", type=int, default=100, help="next items per concurrent annotator"
    )
    parser.add_argument(
        "--think-ms", type=float, default=1000.0, help="mean think time of concurrent annotators"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/app_latency.json")
    args = parser.parse_args()
    import sklearn
    import sqlalchemy

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        project, truth = _project(Path(tmp), args.items, args.features, 0)
        create_s = time.perf_counter() - t
        _seed_labels(project, truth, args.seed_labels, 1)
        print(f"project of {args.items} items created in {create_s:.1f} s", flush=True)
        ip = in_process(project, truth, args.requests, args.annotators, args.repeats)
        print("in-process next_item while retraining:", json.dumps(ip), flush=True)
        http = over_http(project, truth, args.requests, args.repeats)
        print("HTTP GET /api/next while retraining:   ", json.dumps(http), flush=True)
        crowd = concurrent_http(
            project, truth, args.concurrent, args.concurrent_requests, args.think_ms / 1000, "crowd"
        )
        print(f"{args.concurrent} annotators at once over HTTP:", json.dumps(crowd), flush=True)
        stress = concurrent_http(
            project, truth, args.concurrent, args.concurrent_requests, 0.0, "stress"
        )
        print(f"{args.concurrent} annotators back to back:", json.dumps(stress), flush=True)
    result = {
        "benchmark": "app_latency",
        "command": "python3 benchmarks/app_latency.py " + " ".join(sys.argv[1:]),
        "items": args.items,
        "features": args.features,
        "seed_labels": args.seed_labels,
        "database": "SQLite (WAL) in a temporary folder",
        "in_process": ip,
        "http": http,
        "concurrent_http": crowd,
        "concurrent_http_back_to_back": stress,
        "requests_per_run": args.requests,
        "repeats": args.repeats,
        "annotators_in_process": args.annotators,
        "target_p99_ms": 50,
        "machine": {
            "cpu": _cpu(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
            "sqlalchemy": sqlalchemy.__version__,
        },
        "created_s": round(create_s, 1),
        # other jobs on the machine: 1-minute load average before and after the run
        "load_average_before": round(load_before[0], 1),
        "load_average_after": round(os.getloadavg()[0], 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for name, r in (("in-process", ip), ("over HTTP", http)):
        verdict = "under" if r["median_p99_ms"] < 50 else "NOT under"
        print(
            f"{name}: p99 {r['median_p99_ms']} ms (median of {args.repeats} runs of "
            f"{args.requests}), {verdict} the 50 ms target"
        )
    for name, r in (("thinking", crowd), ("back to back", stress)):
        verdict = "under" if r["p99_ms"] < 50 else "NOT under"
        print(
            f"{args.concurrent} annotators at once over HTTP, {name}: p99 {r['p99_ms']} ms over "
            f"{r['n']} requests, {verdict} the 50 ms target"
        )
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
