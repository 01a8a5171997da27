"""The Label Studio ML backend at the protocol level, driven by a fake Label Studio (HTTP test
client): setup, predict, webhooks, training in the background, multi-label, images, basic auth,
and a clear 4xx for every payload it cannot read."""

from __future__ import annotations

import base64
import io
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from activelab.app.training import make_estimator
from activelab.interop.label_studio import label_config
from activelab.interop.ls_backend import Backend, create_app
from activelab.learner import ActiveLearner

WORDS = {
    "pos": ["great", "lovely", "superb", "fine", "excellent", "wonderful", "charming"],
    "neg": ["awful", "poor", "dreadful", "bad", "terrible", "boring", "tedious"],
}
LABELS = ["pos", "neg"]


def _tasks(n: int, seed: int = 0) -> tuple[list[dict], list[str]]:
    rng = np.random.default_rng(seed)
    tasks, truth = [], []
    for i in range(n):
        lab = LABELS[i % 2]
        other = LABELS[1 - i % 2]
        words = [*rng.choice(WORDS[lab], size=3), *rng.choice(WORDS[other], size=1)]
        tasks.append({"id": 1000 + i, "data": {"text": f"review {i}: " + " ".join(words)}})
        truth.append(lab)
    return tasks, truth


def _annotation(ann_id: int, labels: list[str], from_name: str = "label") -> dict:
    return {
        "id": ann_id,
        "result": [
            {"from_name": from_name, "to_name": "text", "type": "choices",
             "value": {"choices": labels}}
        ],
        "was_cancelled": False,
    }  # fmt: skip


def _hook(client: TestClient, action: str, project: int, **fields: object) -> object:
    return client.post("/webhook", json={"action": action, "project": {"id": project}, **fields})


def _wait_trained(client: TestClient, key: str, n_labels: int, timeout: float = 30.0) -> dict:
    t0 = time.time()
    while time.time() - t0 < timeout:
        st = client.get(f"/projects/{key}").json()
        if st["trained_on"] == n_labels and not st["training"] and not st["stale"]:
            return st
        time.sleep(0.05)
    raise AssertionError(f"not retrained on {n_labels} labels in {timeout} s: {st}")


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(Backend()))


def _setup(client: TestClient, key: str = "7.1700000000", cfg: str | None = None) -> None:
    cfg = cfg or label_config("text", LABELS)
    r = client.post(
        "/setup", json={"project": key, "schema": cfg, "hostname": "", "access_token": ""}
    )
    assert r.status_code == 200 and r.json() == {"model_version": "activelab-v0"}


def test_text_loop_scores_follow_activelab_query(client: TestClient) -> None:
    _setup(client)
    tasks, truth = _tasks(60)
    r = _hook(client, "TASKS_CREATED", 7, tasks=tasks)
    assert r.status_code == 201 and r.json()["new_tasks"] == 60
    chosen = list(range(12))  # 6 of each label
    for k, i in enumerate(chosen[:12]):
        ann = _annotation(500 + k, [truth[i]])
        r = _hook(client, "ANNOTATION_CREATED", 7, task=tasks[i], annotation=ann)
        assert r.status_code == 201, r.text
    st = _wait_trained(client, "7", 12)
    assert (
        st["annotated"] == 12
        and not st["cold_start"]
        and st["model_version"].startswith("activelab-v")
    )
    r = client.post("/predict", json={"tasks": tasks, "project": "7.1700000000",
                                      "label_config": label_config("text", LABELS)})  # fmt: skip
    assert r.status_code == 200
    results = r.json()["results"]
    assert len(results) == 60
    annotated = {tasks[i]["id"] for i in chosen[:12]}
    for task, res in zip(tasks, results, strict=True):
        assert res["model_version"] == st["model_version"]
        (region,) = res["result"]
        assert region["from_name"] == "label" and region["to_name"] == "text"
        assert region["value"]["choices"][0] in LABELS
        assert 0.0 <= res["uncertainty"] <= 0.5
        assert region["score"] == pytest.approx(1.0 - res["uncertainty"])  # shown by the region
        if task["id"] in annotated:
            assert res["score"] == 0.0 and res["priority"] is None
        else:
            assert 0.0 < res["score"] <= 1.0
    scores = np.array([res["score"] for res in results])
    top = tasks[int(np.argmax(scores))]["id"]
    assert client.get("/projects/7/query").json()["task_ids"] == [top]
    # the same query made directly through the library, on the same features and labels
    from sklearn.feature_extraction.text import HashingVectorizer

    X = HashingVectorizer(n_features=2**18, ngram_range=(1, 2), alternate_sign=False).transform(
        [t["data"]["text"] for t in tasks]
    )
    idx = np.array(chosen[:12])
    learner = ActiveLearner(make_estimator(), "margin", classes=LABELS, random_state=0)
    learner.fit(X, idx, np.array([truth[i] for i in idx], dtype=object))
    assert tasks[int(learner.query(1)[0])]["id"] == top
    # higher score = less margin: the order is the strategy's
    unl = [i for i, t in enumerate(tasks) if t["id"] not in annotated]
    pri = np.array([results[i]["priority"] for i in unl])
    assert np.all(np.diff(pri[np.argsort(-scores[unl], kind="stable")]) <= 1e-12)
    # the model learned something: most guesses right on the unannotated tasks
    guesses = [results[i]["result"][0]["value"]["choices"][0] for i in unl]
    assert np.mean([g == truth[i] for g, i in zip(guesses, unl, strict=True)]) > 0.8


def test_update_delete_and_start_training(client: TestClient) -> None:
    _setup(client, "3")
    tasks, truth = _tasks(20)
    for k in range(4):
        _hook(client, "ANNOTATION_CREATED", 3, task=tasks[k], annotation=_annotation(k, [truth[k]]))
    _wait_trained(client, "3", 4)
    backend: Backend = client.app.state.backend
    proj = backend.projects["3"]
    assert proj.labels_of(tasks[0]["id"]) == ["pos"]
    r = _hook(client, "ANNOTATION_UPDATED", 3, task=tasks[0], annotation=_annotation(0, ["neg"]))
    assert r.json()["changed"] == 1
    assert proj.labels_of(tasks[0]["id"]) == ["neg"]
    r = _hook(client, "ANNOTATIONS_DELETED", 3, annotations=[{"id": 0}, {"id": 1}])
    assert r.status_code == 201 and r.json()["deleted"] == 2
    st = _wait_trained(client, "3", 2)
    rounds = st["rounds"]
    r = client.post("/webhook", json={"action": "START_TRAINING", "project": {"id": 3}})
    assert r.status_code == 201 and r.json()["status"] == "training"
    backend.wait("3")
    assert client.get("/projects/3").json()["rounds"] == rounds + 1
    # a cancelled (skipped) annotation is no label
    skipped = {"id": 9, "result": [], "was_cancelled": True}
    _hook(client, "ANNOTATION_CREATED", 3, task=tasks[5], annotation=skipped)
    assert proj.labels_of(tasks[5]["id"]) is None
    # acknowledged, not acted on
    r = client.post("/webhook", json={"action": "PROJECT_UPDATED", "project": {"id": 3}})
    assert r.status_code == 201 and r.json()["status"] == "ignored"
    # Label Studio's older training call: every annotated task at once
    body = {"project": "3.1", "label_config": label_config("text", LABELS),
            "annotations": [{**tasks[k], "annotations": [_annotation(100 + k, [truth[k]])]}
                            for k in range(6, 10)]}  # fmt: skip
    assert client.post("/train", json=body).status_code == 201
    backend.wait("3")
    assert client.get("/projects/3").json()["trained_on"] == 6


def test_no_tasks_is_an_empty_answer_not_an_error(client: TestClient) -> None:
    """An empty /predict, a training call on a project without tasks, and every task
    deleted: empty answers, no training error, no deleted task asked about."""
    _setup(client, "4")
    r = client.post("/predict", json={"project": "4.1", "tasks": []})
    assert r.status_code == 200 and r.json() == {"results": [], "model_version": "activelab-v0"}
    assert client.post("/train", json={"project": "4.1", "annotations": []}).status_code == 201
    backend: Backend = client.app.state.backend
    backend.wait("4")
    assert client.get("/projects/4").json()["error"] is None
    tasks, _ = _tasks(3)
    r = client.post("/predict", json={"project": "4.1", "tasks": tasks})
    assert r.status_code == 200 and len(r.json()["results"]) == 3
    assert len(client.get("/projects/4/query?n=3").json()["task_ids"]) == 3
    r = _hook(client, "TASKS_DELETED", 4, tasks=[{"id": t["id"]} for t in tasks])
    assert r.status_code == 201 and r.json() == {"status": "ok", "deleted": 3, "training": False}
    backend.wait("4")
    st = client.get("/projects/4").json()
    assert (st["tasks"], st["error"]) == (0, None)
    assert client.get("/projects/4/query?n=3").json()["task_ids"] == []


def test_multilabel_choices(client: TestClient) -> None:
    names = ["funny", "sad", "long"]
    cfg = label_config("text", names, multilabel=True)
    _setup(client, "5", cfg)
    rng = np.random.default_rng(1)
    vocab = {"funny": "joke laugh", "sad": "tears grief", "long": "endless slow"}
    tasks, sets = [], []
    for i in range(40):
        on = [n for n in names if rng.random() < 0.5]
        tasks.append({"id": i, "data": {"text": f"t{i} " + " ".join(vocab[n] for n in on) + " x"}})
        sets.append(on)
    _hook(client, "TASKS_CREATED", 5, tasks=tasks)
    for i in range(15):
        _hook(client, "ANNOTATION_CREATED", 5, task=tasks[i], annotation=_annotation(i, sets[i]))
    st = _wait_trained(client, "5", 15)
    assert st["multilabel"] and st["strategy"] == "mmc"
    res = client.post("/predict", json={"tasks": tasks, "project": "5"}).json()["results"]
    top = max(range(40), key=lambda i: res[i]["score"])
    assert client.get("/projects/5/query").json()["task_ids"] == [tasks[top]["id"]]
    for i in range(15, 40):
        assert set(res[i]["result"][0]["value"]["choices"]) <= set(names)
        assert res[i]["score"] > 0 and res[i]["priority"] is not None
    right = np.mean(
        [set(res[i]["result"][0]["value"]["choices"]) == set(sets[i]) for i in range(15, 40)]
    )
    assert right > 0.6


def _png(level: int) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (8, 8), color=level).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_image_classification(client: TestClient) -> None:
    cfg = label_config("image", ["dark", "light"])
    _setup(client, "9", cfg)
    tasks = [
        {"id": i, "data": {"image": _png(20 + 10 * (i % 5) + 160 * (i % 2))}} for i in range(20)
    ]
    truth = ["light" if i % 2 else "dark" for i in range(20)]
    for i in range(6):
        ann = _annotation(i, [truth[i]])
        ann["result"][0]["to_name"] = "image"
        _hook(client, "ANNOTATION_CREATED", 9, task=tasks[i], annotation=ann)
    _wait_trained(client, "9", 6)
    res = client.post("/predict", json={"tasks": tasks, "project": "9"}).json()["results"]
    guesses = [r["result"][0]["value"]["choices"][0] for r in res]
    assert guesses == truth
    assert res[0]["result"][0]["to_name"] == "image"


def test_cold_start_predictions_rank_without_a_model(client: TestClient) -> None:
    _setup(client, "4")
    tasks, _ = _tasks(12)
    res = client.post("/predict", json={"tasks": tasks, "project": "4"}).json()["results"]
    assert all(r["result"] == [] for r in res)  # no guess before two labels are known
    assert sorted(r["score"] for r in res)[-1] == 1.0
    assert client.get("/projects/4").json()["cold_start"]


def test_basic_auth() -> None:
    client = TestClient(create_app(Backend(), basic_auth=("ls", "s3cret")))
    assert client.get("/health").status_code == 401
    assert client.get("/health", auth=("ls", "wrong")).status_code == 401
    assert client.get("/health", auth=("ls", "s3cret")).json()["status"] == "UP"


@pytest.mark.parametrize(
    ("route", "body", "status", "message"),
    [
        ("/webhook", {"project": {"id": 7}}, 422, "field 'action' is missing"),
        ("/webhook", {"action": "TASK_EXPLODED", "project": {"id": 7}}, 422, "unknown action"),
        ("/webhook", {"action": "ANNOTATION_CREATED", "project": {"id": 7}}, 422,
         "field 'annotation' is missing"),
        ("/webhook", {"action": "ANNOTATION_CREATED", "project": {"id": 7},
                      "task": {"id": 1, "data": {"text": "a"}}, "annotation": {"result": []}}, 422,
         "field 'annotation.id' is missing"),
        ("/webhook", {"action": "ANNOTATION_CREATED", "project": {"id": 7},
                      "task": {"id": 1, "data": {"text": "a"}},
                      "annotation": _annotation(1, ["meh"])}, 422, "not in the label config"),
        ("/webhook", {"action": "ANNOTATION_CREATED", "project": {"id": 7},
                      "task": {"id": 1, "data": {"txt": "a"}},
                      "annotation": _annotation(1, ["pos"])},
         422, "has no 'text' field"),
        ("/webhook", {"action": "ANNOTATIONS_DELETED", "project": {"id": 7}, "annotations": ["x"]},
         422, "not an object"),
        ("/webhook", {"action": "START_TRAINING", "project": {"id": 99}}, 404, "not set up here"),
        ("/webhook", {"action": "START_TRAINING"}, 422, "field 'project' is missing"),
        ("/predict", {"project": "7"}, 422, "field 'tasks' must be a list"),
        ("/predict", {"project": "7", "tasks": [{"data": {"text": "a"}}]}, 422, "needs an 'id'"),
        ("/setup", {"project": "8"}, 422, "field 'schema'"),
        ("/setup", {"project": "8", "schema": "<View><Text name='t' value='$text'/></View>"}, 422,
         "no <Choices> tag"),
        ("/setup", {"project": "8", "schema": "<View"}, 422, "not valid XML"),
        ("/train", {"project": "7"}, 422, "field 'annotations' must be a list"),
    ],
)  # fmt: skip
def test_payloads_it_cannot_read_get_a_clear_4xx(client, route, body, status, message) -> None:
    _setup(client)
    r = client.post(route, json=body)
    assert r.status_code == status, r.text
    assert message in r.json()["detail"], r.json()


@pytest.mark.parametrize(
    ("route", "body", "message"),
    [
        ("/predict", {"project": "7", "tasks": [{"id": 1.5, "data": {"text": "a"}}]},
         "tasks[0].id must be an integer, got 1.5"),
        ("/predict", {"project": "7", "tasks": [{"id": True, "data": {"text": "a"}}]},
         "tasks[0].id must be an integer, got True"),
        ("/webhook", {"action": "ANNOTATION_CREATED", "project": {"id": 7},
                      "task": {"id": 1, "data": {"text": "a"}}, "annotation": [5]},
         "field 'annotation' must be an annotation object, got 5"),
        ("/webhook", {"action": "ANNOTATION_CREATED", "project": {"id": 7},
                      "task": {"id": 1, "data": {"text": "a"}},
                      "annotation": {**_annotation(1, ["pos"]), "id": {"a": 1}}},
         "annotation.id must be an integer"),
        ("/train", {"project": "7", "annotations": [{"id": 3, "data": {"text": "a"},
                                                     "annotations": [5]}]},
         "annotations[0].annotations[0]' must be an annotation object"),
        ("/train", {"project": "7", "annotations": [{"id": 3, "data": {"text": "a"},
                                                     "annotations": [{"id": "x", "result": []}]}]},
         "annotations[0].annotations[0].id must be an integer, got 'x'"),
    ],
)  # fmt: skip
def test_ids_that_are_not_integers_get_422_not_500_nor_another_tasks_id(
    route, body, message
) -> None:
    client = TestClient(create_app(Backend()), raise_server_exceptions=False)
    _setup(client)
    r = client.post(route, json=body)
    assert r.status_code == 422, r.text
    assert message in r.json()["detail"], r.json()
    assert client.get("/projects/7").json()["tasks"] == 0  # nothing was taken in


def test_a_project_id_that_names_no_journal_file_gets_422(tmp_path) -> None:
    client = TestClient(create_app(Backend(state_dir=tmp_path)), raise_server_exceptions=False)
    cfg = label_config("text", LABELS)
    for ref in ["a/b", "x y", [7], "[7]"]:
        r = client.post("/setup", json={"project": ref, "schema": cfg})
        assert r.status_code == 422 and "must be a Label Studio project id" in r.text, r.text
    _setup(client, " 7.1700000000")  # the same project as "7"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project-7.jsonl"]


def test_non_json_body_is_400(client: TestClient) -> None:
    r = client.post("/webhook", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "not JSON" in r.json()["detail"]
    r = client.post("/predict", json=[1, 2])
    assert r.status_code == 400 and "JSON object" in r.json()["detail"]


def test_a_changed_choice_list_keeps_the_tasks_and_annotations(tmp_path) -> None:
    """A Choice added in Label Studio (or one removed) keeps the pool and the annotations,
    on disk too; annotations of a removed choice wait out of training; a config showing
    another field starts the project afresh."""
    client = TestClient(create_app(Backend(state_dir=tmp_path)))
    _setup(client, "5")
    tasks, truth = _tasks(12)
    _hook(client, "TASKS_CREATED", 5, tasks=tasks)
    for k in range(4):
        _hook(client, "ANNOTATION_CREATED", 5, task=tasks[k], annotation=_annotation(k, [truth[k]]))
    _wait_trained(client, "5", 4)
    version = client.get("/projects/5").json()["model_version"]
    grown = label_config("text", [*LABELS, "mixed"])
    r = client.post("/setup", json={"project": "5.2", "schema": grown})
    assert r.json() == {"model_version": version}  # versions go on, never back
    st = _wait_trained(client, "5", 4)
    assert (st["labels"], st["tasks"], st["annotated"]) == ([*LABELS, "mixed"], 12, 4)
    _hook(client, "ANNOTATION_CREATED", 5, task=tasks[4], annotation=_annotation(4, ["mixed"]))
    _wait_trained(client, "5", 5)
    client.post("/setup", json={"project": "5.3", "schema": label_config("text", LABELS)})
    assert _wait_trained(client, "5", 4)["annotated"] == 4  # 'mixed' waits out of training
    again = TestClient(create_app(Backend(state_dir=tmp_path)))  # a restarted backend
    st = _wait_trained(again, "5", 4)
    assert (st["labels"], st["tasks"]) == (LABELS, 12)
    other = label_config("text", LABELS, data_key="body")
    again.post("/setup", json={"project": "5.4", "schema": other})
    assert again.get("/projects/5").json()["tasks"] == 0


def test_state_dir_journal_survives_a_restart(tmp_path) -> None:
    client = TestClient(create_app(Backend(state_dir=tmp_path)))
    _setup(client, "6")
    tasks, truth = _tasks(30)
    _hook(client, "TASKS_CREATED", 6, tasks=tasks)
    for k in range(8):
        _hook(client, "ANNOTATION_CREATED", 6, task=tasks[k], annotation=_annotation(k, [truth[k]]))
    _hook(client, "ANNOTATION_UPDATED", 6, task=tasks[0], annotation=_annotation(0, ["neg"]))
    _hook(client, "ANNOTATIONS_DELETED", 6, annotations=[{"id": 7}])
    _hook(client, "TASKS_DELETED", 6, tasks=[{"id": tasks[29]["id"]}])
    before = _wait_trained(client, "6", 7)
    labels = client.app.state.backend.projects["6"].labelled()
    query = client.get("/projects/6/query?n=3").json()["task_ids"]

    again = TestClient(create_app(Backend(state_dir=tmp_path)))  # a restarted backend
    after = _wait_trained(again, "6", 7)
    assert again.app.state.backend.projects["6"].labelled() == labels
    assert labels[tasks[0]["id"]] == ["neg"] and tasks[7]["id"] not in labels
    assert after["tasks"] == before["tasks"] == 29
    assert again.get("/projects/6/query?n=3").json()["task_ids"] == query

    (tmp_path / "project-8.jsonl").write_text("{not json\n")
    with pytest.raises(ValueError, match=r"project-8.jsonl: not a backend journal"):
        Backend(state_dir=tmp_path)


def test_predict_serves_the_version_setup_announced(client: TestClient) -> None:
    _setup(client, "2")
    tasks, truth = _tasks(20)
    _hook(client, "TASKS_CREATED", 2, tasks=tasks)
    for k in range(4):
        _hook(client, "ANNOTATION_CREATED", 2, task=tasks[k], annotation=_annotation(k, [truth[k]]))
    _wait_trained(client, "2", 4)
    cfg = label_config("text", LABELS)
    announced = client.post("/setup", json={"project": "2.1", "schema": cfg}).json()
    _hook(client, "ANNOTATION_CREATED", 2, task=tasks[4], annotation=_annotation(4, [truth[4]]))
    newer = _wait_trained(client, "2", 5)["model_version"]
    assert newer != announced["model_version"]
    # Label Studio keeps the version /setup gave it: predictions must carry that one
    res = client.post("/predict", json={"tasks": tasks, "project": "2.1"}).json()
    assert {r["model_version"] for r in res["results"]} == {announced["model_version"]}
    assert client.post("/setup", json={"project": "2.1", "schema": cfg}).json() == {
        "model_version": newer
    }
    res = client.post("/predict", json={"tasks": tasks, "project": "2.1"}).json()
    assert {r["model_version"] for r in res["results"]} == {newer}


def test_concurrent_requests_add_each_task_once() -> None:
    from concurrent.futures import ThreadPoolExecutor

    backend = Backend()
    client = TestClient(create_app(backend))
    _setup(client, "1")
    tasks, _ = _tasks(50)
    with ThreadPoolExecutor(4) as pool:
        codes = list(
            pool.map(
                lambda k: _hook(client, "TASKS_CREATED", 1, tasks=tasks[k : k + 30]).status_code,
                [0, 10, 20, 5],
            )
        )
    assert codes == [201] * 4
    proj = backend.projects["1"]
    assert sorted(proj.task_ids()) == [t["id"] for t in tasks]
    assert proj._pool().shape[0] == 50


def test_cli_refuses_bad_options_clearly() -> None:
    from click.testing import CliRunner

    from activelab.cli import main

    r = CliRunner().invoke(main, ["ls-backend", "--basic-auth", "nocolon"])
    assert r.exit_code == 1 and "--basic-auth must be USER:PASSWORD" in r.output
    r = CliRunner().invoke(main, ["ls-backend", "--strategy", "nope"])
    assert r.exit_code == 1 and "Unknown strategy 'nope'" in r.output
    assert "Traceback" not in r.output


def test_guesses_name_the_right_label_before_every_label_is_used(client: TestClient) -> None:
    cfg = label_config("text", [*LABELS, "mixed"])  # "mixed" is never used below
    _setup(client, cfg=cfg)
    tasks, truth = _tasks(40)
    _hook(client, "TASKS_CREATED", 7, tasks=tasks)
    for k in range(12):
        ann = _annotation(500 + k, [truth[k]])
        assert (
            _hook(client, "ANNOTATION_CREATED", 7, task=tasks[k], annotation=ann).status_code == 201
        )
    _wait_trained(client, "7", 12)
    r = client.post(
        "/predict", json={"tasks": tasks, "project": "7.1700000000", "label_config": cfg}
    )
    guesses = [res["result"][0]["value"]["choices"][0] for res in r.json()["results"]]
    # the model knows pos and neg; its columns were read against pos, neg and mixed
    assert "mixed" not in guesses
    assert np.mean([g == t for g, t in zip(guesses[12:], truth[12:], strict=True)]) > 0.8


def test_the_first_setup_loads_nothing_label_studio_would_wait_for() -> None:
    """Label Studio gives /setup 3 s (ML_TIMEOUT_SETUP) when a model is connected; the
    strategies (seconds to import on a busy machine) load when the backend starts, so the
    first /setup of a fresh backend is as quick as the next ones."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from fastapi.testclient import TestClient\n"
        "from activelab.interop.label_studio import label_config\n"
        "from activelab.interop.ls_backend import Backend, create_app\n"
        "client = TestClient(create_app(Backend()))\n"
        "assert client.get('/health').status_code == 200\n"
        "before = set(sys.modules)\n"
        "for multi in (False, True):\n"
        "    config = label_config('text', ['pos', 'neg'], multilabel=multi)\n"
        "    r = client.post('/setup', json={'project': 2 + multi, 'schema': config})\n"
        "    assert r.status_code == 200, r.text\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout
