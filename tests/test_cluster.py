"""The Dask backend returns exactly the in-process answers, on a real LocalCluster."""

from __future__ import annotations

import warnings
from pathlib import Path

import click
import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from activelab import ActiveLearner  # noqa: E402
from activelab.cluster import DaskBackend, connect  # noqa: E402


@pytest.fixture(scope="module")
def client():
    c = connect("local")
    yield c
    cluster = c.cluster
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30_000, 8))
    X[1000] = X[2000]  # exact duplicates: ties must break the same way
    X[5000] = X[2000]
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.7, size=len(X)) > 0).astype(int)
    y = y + (X[:, 2] > 1.0)
    return X, y


def _pair(strategy, X, y, client, estimator=None):
    init = np.arange(0, 40)
    est = estimator if estimator is not None else LogisticRegression(max_iter=500)
    local = ActiveLearner(est, strategy, random_state=0).fit(X, init, y[init])
    pool = da.from_array(X, chunks=(4_096, X.shape[1]))
    remote = ActiveLearner(est, strategy, random_state=0, backend=DaskBackend(client))
    remote.fit(pool, init, y[init])
    return local, remote


@pytest.mark.parametrize("strategy", ["margin", "entropy", "least_confident"])
@pytest.mark.parametrize("n", [1, 100])
def test_dask_equals_in_process(client, data, strategy, n):
    X, y = data
    local, remote = _pair(strategy, X, y, client)
    for _ in range(2):
        a, b = local.query(n), remote.query(n)
        assert a.tolist() == b.tolist()
        local.teach(a, y[a])
        remote.teach(b, y[b])


def test_bald_on_dask_equals_in_process():
    pytest.importorskip("torch")
    from activelab.models.deep import TorchMLPClassifier

    # threads, not processes: workers importing torch took most of a minute on a busy machine
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    client = distributed.Client(cluster)
    try:
        _bald_pair(client, TorchMLPClassifier)
    finally:
        client.close()
        cluster.close()


def _bald_pair(client, TorchMLPClassifier):

    rng = np.random.default_rng(3)
    X = rng.normal(size=(3_000, 6))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = TorchMLPClassifier(hidden_layer_sizes=(16,), epochs=1, min_steps=20, random_state=0)
    init = np.arange(30)
    local = ActiveLearner(model, "bald", random_state=0).fit(X, init, y[init])
    pool = da.from_array(X, chunks=(700, 6))  # blocks that do not divide the pool
    remote = ActiveLearner(model, "bald", random_state=0, backend=DaskBackend(client))
    remote.fit(pool, init, y[init])  # was refused: "cannot run on a Dask pool"
    for _ in range(2):
        a, b = local.query(25), remote.query(25)
        assert a.tolist() == b.tolist()
        local.teach(a, y[a])
        remote.teach(b, y[b])


def test_a_learner_on_a_client_pickles(client, data):
    import pickle

    X, y = data
    local, remote = _pair("margin", X[:2_000], y, client)
    remote.query(5)
    # was "Can't pickle local object 'coroutine.<locals>.wrapper...'" from the client
    again = pickle.loads(pickle.dumps(remote))
    assert again.backend.client is None and remote.backend.client is client
    assert again.query(10).tolist() == remote.query(10).tolist() == local.query(10).tolist()


def test_a_dask_backend_with_an_in_memory_pool_is_one_line(data):
    from activelab.ranking import rank_pool

    X, y = data
    X = X[:300]
    # was "AttributeError: 'numpy.ndarray' object has no attribute 'chunks'" at query time
    learner = ActiveLearner(LogisticRegression(), "margin", backend=DaskBackend())
    with pytest.raises(ValueError, match=r"this pool is a numpy\.ndarray: make it one"):
        learner.fit(X, [0, 1], y[:2])
    model = LogisticRegression().fit(X, y[:300])
    with pytest.raises(ValueError, match="leave out backend="):
        rank_pool(model, X, 3, backend=DaskBackend())


def test_ties_break_to_lowest_index_across_blocks(client, data):
    X, y = data
    # a model that scores every row the same: the answer is the n lowest candidates
    X0 = np.zeros_like(X)
    local, remote = _pair("margin", X0, y, client)
    expected = local.unlabelled_[:50]
    assert remote.query(50).tolist() == expected.tolist() == local.query(50).tolist()


def test_pipeline_model_on_dask(client, data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    local, remote = _pair("margin", X, y, client, estimator=pipe)
    assert local.query(20).tolist() == remote.query(20).tolist()


def test_dask_dataframe_pool(client, data):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y = data
    frame = dd.from_pandas(
        pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]), npartitions=5
    )
    init = np.arange(40)
    remote = ActiveLearner(
        LogisticRegression(max_iter=500), "margin", backend=DaskBackend(client)
    ).fit(frame, init, y[init])
    local = ActiveLearner(LogisticRegression(max_iter=500), "margin").fit(X, init, y[init])
    assert remote.query(10).tolist() == local.query(10).tolist()


def test_map_chunks_gathers_in_order(client, data):
    X, _ = data
    pool = da.from_array(X, chunks=(3_000, X.shape[1]))
    rows = np.array([29_999, 0, 15_000, 3_000, 2_999])
    got = DaskBackend(client).map_chunks(lambda c: c[:, 0] * 2, pool, rows)
    assert np.array_equal(got, X[rows, 0] * 2)


def test_non_finite_dask_pool_names_the_row():
    X = np.ones((1000, 3))
    X[777, 2] = np.nan
    with pytest.raises(ValueError, match="row 777"):
        ActiveLearner(LogisticRegression()).fit(da.from_array(X, chunks=(100, 3)))


def test_strategy_that_would_gather_the_pool_is_refused():
    X = da.ones((100, 3), chunks=(50, 3))
    with pytest.raises(ValueError, match="cannot run on a Dask pool"):
        ActiveLearner(LogisticRegression(), "typicality").fit(X)


def test_rank_pool_refuses_what_the_learner_refuses_on_dask():
    from activelab.ranking import rank_pool

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    model = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    pool = da.from_array(X, chunks=(50, 3))
    # typicality clustered the whole pool on the client: gathered, not refused
    with pytest.raises(ValueError, match="'typicality' cannot run on a Dask pool"):
        rank_pool(model, pool, 5, strategy="typicality")
    assert rank_pool(model, pool, 5).tolist() == rank_pool(model, X, 5).tolist()


def test_zero_labels_on_dask_cold_starts_randomly():
    X = da.from_array(np.random.default_rng(1).normal(size=(500, 3)), chunks=(100, 3))
    learner = ActiveLearner(LogisticRegression(), "margin", random_state=0).fit(X)
    idx = learner.query(5)
    assert learner.history_[-1].strategy == "random" and len(set(idx.tolist())) == 5


def test_connect_rejects_unknown_setting():
    with pytest.raises(ValueError, match="tcp://HOST:PORT"):
        connect("somewhere")


def _server(reply: bytes | None):
    """A TCP server on a free port that answers once with ``reply`` (``None``: never)."""
    import socket
    import threading

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()

    def serve():
        conn, _ = sock.accept()
        conn.recv(1024)
        if reply is not None:
            conn.sendall(reply)
            conn.close()
        else:  # keeps the connection open and silent
            threading.Event().wait(5)

    threading.Thread(target=serve, daemon=True).start()
    return sock, f"tcp://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize("reply", [b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", None])
def test_connect_to_a_server_that_is_not_a_scheduler_is_one_line(reply):
    # the dashboard's port or another service: an HTTP reply was read as a frame length
    # (a MemoryError traceback), a silent server made the handshake wait forever
    sock, address = _server(reply)
    try:
        with pytest.raises(OSError, match="but not as a Dask scheduler") as info:
            connect(address, timeout=0.5)
    finally:
        sock.close()
    assert address in str(info.value) and "\n" not in str(info.value)


def test_connect_to_nothing_names_the_address():
    import socket

    with socket.socket() as sock:  # a free port; nothing listens there once closed
        sock.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(OSError, match=r"No Dask scheduler answered at tcp://127\.0\.0\.1:"):
        connect(address, timeout=0.3)


@pytest.mark.parametrize(
    ("address", "needle"),
    [
        ("http://127.0.0.1:1", "unknown address scheme 'http'"),
        ("tcp://127.0.0.1", "missing port number"),
        ("tls://127.0.0.1:1", "TLS configuration"),  # was "something answered"
    ],
)
def test_connect_to_an_address_dask_cannot_open_is_a_value_error(address, needle):
    with pytest.raises(ValueError, match=needle) as info:
        connect(address, timeout=0.3)
    assert str(info.value).startswith(f"{address}: ")


def test_connect_to_a_running_scheduler(client):
    other = connect(client.scheduler.address, timeout=5)
    try:
        assert other.scheduler_info()["address"] == client.scheduler.address
    finally:
        other.close()
    bare = client.scheduler.address.removeprefix("tcp://")  # HOST:PORT, as dask takes it
    other = connect(bare, timeout=5)
    try:
        assert other.scheduler_info()["address"] == client.scheduler.address
    finally:
        other.close()


def test_cli_query_in_process_and_on_the_cluster(client, data, tmp_path):
    joblib = pytest.importorskip("joblib")
    pd = pytest.importorskip("pandas")
    from click.testing import CliRunner

    from activelab.cli import main

    X, y = data
    model = LogisticRegression(max_iter=500).fit(X[:200], y[:200])
    joblib.dump(model, tmp_path / "model.joblib")
    pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]).to_parquet(
        tmp_path / "pool.parquet"
    )
    (tmp_path / "done.txt").write_text("\n".join(map(str, range(200))))
    args = [
        "query",
        "--model",
        str(tmp_path / "model.joblib"),
        "--pool",
        str(tmp_path / "pool.parquet"),
        "-n",
        "7",
        "--exclude",
        str(tmp_path / "done.txt"),
    ]
    here = CliRunner().invoke(main, args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        there = CliRunner().invoke(main, [*args, "--dask", client.scheduler_info()["address"]])
    # the model was fitted on an array: no warning about the file's column names
    assert not [w for w in caught if "feature names" in str(w.message)]
    assert here.exit_code == 0, here.output
    assert there.exit_code == 0, there.output
    picks = [int(v) for v in here.stdout.split()]
    assert picks == [int(v) for v in there.stdout.split()]
    assert len(picks) == 7 and min(picks) >= 200


def test_cli_query_reads_a_npy_pool_on_the_workers(client, data, tmp_path, monkeypatch):
    import pickle

    joblib = pytest.importorskip("joblib")
    from click.testing import CliRunner

    from activelab.cli import main
    from activelab.cli import query as query_module

    X, y = data
    X = X[:5_000].astype(np.float32)
    np.save(tmp_path / "pool.npy", X)
    monkeypatch.setattr(query_module, "_BLOCK_BYTES", 1_000 * X.shape[1] * 4)
    pool = query_module._read_pool(tmp_path / "pool.npy", (), True)
    graph = pickle.dumps(dict(pool.__dask_graph__()))
    assert len(graph) < X.nbytes / 10  # the workers read the file: the rows are not in the graph
    assert pool.chunks[0] == (1_000,) * 5 and pool.dtype == np.float32
    assert np.array_equal(pool.compute(), X)
    joblib.dump(LogisticRegression(max_iter=500).fit(X[:200], y[:200]), tmp_path / "m.joblib")
    args = ["query", "--model", str(tmp_path / "m.joblib"), "--pool", str(tmp_path / "pool.npy")]
    here = CliRunner().invoke(main, [*args, "-n", "9"])
    there = CliRunner().invoke(
        main, [*args, "-n", "9", "--dask", client.scheduler_info()["address"]]
    )
    assert here.exit_code == 0 and there.exit_code == 0, here.output + there.output
    assert here.stdout.split() == there.stdout.split()


def test_a_csv_pool_whose_whole_numbers_turn_decimal_further_on_is_read_on_dask(tmp_path):
    from activelab.cli.query import _read_pool

    rows = 40_000  # more than Dask's sample of the file's first bytes
    whole = [f"{i % 7},{i * 0.5}\n" for i in range(rows)]
    (tmp_path / "pool.csv").write_text("a,b\n" + "".join(whole) + "2.5,1.0\n")
    pool = _read_pool(tmp_path / "pool.csv", (), True)
    values = pool.compute()
    assert values.shape == (rows + 1, 2) and values["a"].iloc[-1] == 2.5


@pytest.mark.parametrize("name", ["pool.parquet", "parts", "parts/*.parquet"])
def test_a_folder_of_parquet_parts_is_numbered_alike_in_process_and_on_dask(tmp_path, name):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    from activelab.cli.query import _read_pool

    frame = pd.DataFrame({"a": np.arange(240.0), "b": np.arange(240.0) % 7})
    folder = tmp_path / name.split("/")[0]
    dd.from_pandas(frame, npartitions=12).to_parquet(folder, write_index=False)  # part.0 .. 11
    here = _read_pool(tmp_path / name, (), False)
    there = _read_pool(tmp_path / name, (), True).compute().to_numpy()
    assert np.array_equal(here, frame.to_numpy())  # part.10 after part.9, not after part.1
    assert np.array_equal(there, frame.to_numpy())


def test_a_pattern_of_csv_parts_is_read_in_process_numbered_as_on_dask(tmp_path, data):
    """``--pool 'parts/*.csv'`` failed without --dask ("cannot be read as CSV text"); Dask
    read the parts in the order of their names (10.csv before 2.csv)."""
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    joblib = pytest.importorskip("joblib")
    from click.testing import CliRunner

    from activelab.cli import main
    from activelab.cli.query import _read_pool

    frame = pd.DataFrame({"a": np.arange(240.0), "b": np.arange(240.0) % 7})
    (tmp_path / "parts").mkdir()
    dd.from_pandas(frame, npartitions=12).to_csv(tmp_path / "parts" / "*.csv", index=False)
    pattern = tmp_path / "parts" / "*.csv"
    here = _read_pool(pattern, (), False)
    there = _read_pool(pattern, (), True).compute().to_numpy()
    assert np.array_equal(here, frame.to_numpy())  # 10.csv after 9.csv, not after 1.csv
    assert np.array_equal(there, frame.to_numpy())
    X, y = data
    model = LogisticRegression().fit(pd.DataFrame(X[:100, :2], columns=["a", "b"]), y[:100])
    joblib.dump(model, tmp_path / "m.joblib")
    args = ["query", "--model", str(tmp_path / "m.joblib"), "--pool", str(pattern), "-n", "5"]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 0, run.output
    assert len(run.stdout.split()) == 5


def test_csv_parts_with_another_header_are_refused_in_one_line(tmp_path):
    from activelab.cli.query import _read_pool

    (tmp_path / "0.csv").write_text("a,b\n1,2\n")
    (tmp_path / "1.csv").write_text("a,b\n3,4\n")
    (tmp_path / "2.csv").write_text("b,a\n5,6\n")
    (tmp_path / "10.csv").write_text("a,c\n7,8\n")
    for on_dask in (False, True):
        with pytest.raises(click.ClickException) as err:
            _read_pool(tmp_path / "*.csv", (), on_dask)
        assert err.value.message == (
            f"{tmp_path / '2.csv'}: its header row ['b', 'a'] differs from 0.csv's ['a', 'b']; "
            "every part of a CSV pool needs the same columns in the same order."
        )
    (tmp_path / "2.csv").write_text("")
    with pytest.raises(click.ClickException, match=r"2\.csv is empty; every part"):
        _read_pool(tmp_path / "*.csv", (), False)
    with pytest.raises(click.BadParameter, match=r"no \.csv file there"):
        _read_pool(tmp_path / "none" / "*.csv", (), False)


def test_cli_query_seed_repeats_a_random_ranking(tmp_path, data):
    joblib = pytest.importorskip("joblib")
    from click.testing import CliRunner

    from activelab.cli import main

    X, y = data
    joblib.dump(LogisticRegression().fit(X[:100], y[:100]), tmp_path / "m.joblib")
    np.save(tmp_path / "pool.npy", X[:500])
    args = ["query", "--model", str(tmp_path / "m.joblib"), "--pool", str(tmp_path / "pool.npy")]
    args += ["--strategy", "random", "-n", "20"]

    def run(*extra):
        out = CliRunner().invoke(main, [*args, *extra])
        assert out.exit_code == 0, out.output
        return out.output

    assert run("--seed", "3") == run("--seed", "3") != run("--seed", "4")


def test_cli_query_names_a_missing_column(tmp_path, data):
    joblib = pytest.importorskip("joblib")
    pd = pytest.importorskip("pandas")
    from click.testing import CliRunner

    from activelab.cli import main

    X, y = data
    joblib.dump(LogisticRegression().fit(X[:100], y[:100]), tmp_path / "m.joblib")
    pd.DataFrame(X[:50], columns=[f"f{i}" for i in range(X.shape[1])]).to_csv(
        tmp_path / "pool.csv", index=False
    )
    out = CliRunner().invoke(
        main,
        [
            "query",
            "--model",
            str(tmp_path / "m.joblib"),
            "--pool",
            str(tmp_path / "pool.csv"),
            "--column",
            "nope",
        ],
    )
    assert out.exit_code != 0 and "no column 'nope'" in out.output


def test_cli_query_reads_the_columns_in_the_model_s_order(tmp_path, data):
    """A model fitted on named columns gets them in its order, whatever order --column has."""
    joblib = pytest.importorskip("joblib")
    pd = pytest.importorskip("pandas")
    from click.testing import CliRunner

    from activelab.cli import main

    X, y = data
    frame = pd.DataFrame(X[:400, :3], columns=["a", "b", "c"])
    joblib.dump(LogisticRegression().fit(frame[:100], y[:100]), tmp_path / "m.joblib")
    frame.assign(x=X[:400, 3], y=X[:400, 4]).to_csv(tmp_path / "pool.csv", index=False)
    base = ["query", "--model", str(tmp_path / "m.joblib"), "--pool", str(tmp_path / "pool.csv")]

    def run(*columns):
        return CliRunner().invoke(main, [*base, "-n", "20", *(f"--column={c}" for c in columns)])

    own = run()
    assert own.exit_code == 0, own.output
    shuffled = run("c", "a", "b")
    assert shuffled.exit_code == 0 and shuffled.output == own.output
    for columns, needle in [
        (("a", "b"), "2 column(s) given, ['a', 'b'], but the model reads 3"),
        (("b", "x", "y"), "'b' is column 2 of the model's ['a', 'b', 'c'] but given as column 1"),
    ]:
        out = run(*columns)
        assert out.exit_code == 2 and needle in out.output, out.output


@pytest.mark.parametrize("n_labelled", [0, 40, 300])
def test_kcenter_blocked_equals_in_process(client, data, n_labelled):
    X, y = data
    X = X[:8_000]
    init = np.arange(n_labelled)
    local = ActiveLearner(
        LogisticRegression(max_iter=300), "kcenter", random_state=5, cold_start="random"
    )
    remote = ActiveLearner(
        LogisticRegression(max_iter=300),
        "kcenter",
        random_state=5,
        cold_start="random",
        backend=DaskBackend(client),
    )
    local.fit(X, init, y[init]) if n_labelled else local.fit(X)
    pool = da.from_array(X, chunks=(1_500, X.shape[1]))
    remote.fit(pool, init, y[init]) if n_labelled else remote.fit(pool)
    a, b = local.query(25), remote.query(25)
    assert a.tolist() == b.tolist()


def test_kcenter_blocked_converts_a_float32_block_a_step_at_a_time():
    import tracemalloc

    from activelab.cluster import _kc_init, _kc_update

    rng = np.random.default_rng(3)
    block = rng.normal(size=(20_000, 20)).astype(np.float32)
    centre = rng.normal(size=(1, 20))
    mask = np.ones(block.shape[0], dtype=bool)
    tracemalloc.start()
    try:
        state = _kc_init(block, mask, [centre], 1_000)
        tracemalloc.reset_peak()
        state = _kc_update(state, block[:1].astype(float), 0, 1_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < block.nbytes  # a float64 copy of the block would be twice its size
    assert state[0] is block  # kept as it is, float32, for the picks that follow
    wide = block.astype(float)
    expected = np.minimum(((wide - centre) ** 2).sum(axis=1), ((wide - wide[0]) ** 2).sum(axis=1))
    expected[0] = -np.inf
    np.testing.assert_allclose(state[2], expected, atol=1e-9)


_READS: dict[int, int] = {}


def _counted_block(X: np.ndarray, b: int, size: int) -> np.ndarray:
    """Block ``b`` of ``X``, counted: a block read from a file, as a pool of parts is."""
    _READS[b] = _READS.get(b, 0) + 1
    return X[b * size : (b + 1) * size]


def test_kcenter_on_dask_reads_each_block_of_the_pool_a_fixed_number_of_times(data):
    """Each pick read every block again (its update, and the picked row): 25 picks, 27 reads."""
    import dask

    from activelab.ranking import rank_pool

    X, y = data
    X, size = X[:6_000], 1_500
    model = LogisticRegression(max_iter=300).fit(X[:100], y[:100])
    blocks = [
        da.from_delayed(
            dask.delayed(_counted_block)(X, b, size), shape=(size, X.shape[1]), dtype=X.dtype
        )
        for b in range(4)
    ]
    _READS.clear()
    with dask.config.set(scheduler="synchronous"):
        picks = rank_pool(
            model, da.concatenate(blocks), 25, strategy="kcenter", exclude=np.arange(100)
        )
    assert (
        picks.tolist()
        == rank_pool(model, X, 25, strategy="kcenter", exclude=np.arange(100)).tolist()
    )
    # the finite check, the k-center pass; block 0 also gives the labelled rows (centres)
    assert _READS == {0: 3, 1: 2, 2: 2, 3: 2}


@pytest.mark.parametrize("similarity", ["kmeans", "cosine", "rbf"])
def test_density_blocked_matches_in_process(client, data, similarity):
    from activelab.strategies import get_strategy

    X, y = data
    init = np.arange(40)
    strat = dict(similarity=similarity)
    local = ActiveLearner(
        LogisticRegression(max_iter=300), get_strategy("density", **strat), random_state=2
    ).fit(X, init, y[init])
    remote = ActiveLearner(
        LogisticRegression(max_iter=300),
        get_strategy("density", **strat),
        random_state=2,
        backend=DaskBackend(client),
    )
    remote.fit(da.from_array(X, chunks=(4_096, X.shape[1])), init, y[init])
    assert local.query(30).tolist() == remote.query(30).tolist()


def test_density_without_its_weight_is_plain_uncertainty_on_dask(client, data):
    from activelab.strategies import get_strategy

    X, y = data
    init = np.arange(40)
    local = ActiveLearner(LogisticRegression(max_iter=300), "margin", random_state=2)
    local.fit(X, init, y[init])
    remote = ActiveLearner(
        LogisticRegression(max_iter=300),
        get_strategy("density", beta=0.0),
        random_state=2,
        backend=DaskBackend(client),
    )
    remote.fit(da.from_array(X, chunks=(4_096, X.shape[1])), init, y[init])
    assert local.query(30).tolist() == remote.query(30).tolist()


def test_a_table_with_categories_is_featurised_on_the_workers(client, tmp_path):
    # a table project's model reads a column of categories; a Dask pool holds numbers only
    joblib = pytest.importorskip("joblib")
    pd = pytest.importorskip("pandas")
    from click.testing import CliRunner
    from sklearn.pipeline import make_pipeline

    from activelab.cli import main
    from activelab.data.tables import TableFeatures

    rng = np.random.default_rng(1)
    table = pd.DataFrame(
        {"age": rng.integers(20, 70, 3000), "city": rng.choice(["lyon", "nice", "paris"], 3000)}
    )
    y = np.where((table.city == "nice") | (table.age > 60), "churn", "stay")
    model = make_pipeline(TableFeatures(["age"], ["city"]), LogisticRegression())
    model.fit(table.iloc[:100], y[:100])
    joblib.dump(model, tmp_path / "model.joblib")
    table.to_csv(tmp_path / "pool.csv", index=False)
    args = ["query", "--model", tmp_path / "model.joblib", "--pool", tmp_path / "pool.csv", "-n", 6]
    args = [str(a) for a in args]
    here = CliRunner().invoke(main, args)
    there = CliRunner().invoke(main, [*args, "--dask", client.scheduler_info()["address"]])
    assert here.exit_code == 0 and there.exit_code == 0, here.output + there.output
    assert here.stdout.split() == there.stdout.split() and len(here.stdout.split()) == 6


def test_a_dask_frame_with_a_text_column_is_refused_by_name():
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    from activelab.cluster import as_dask_array

    frame = pd.DataFrame({"a": [1.0, 2.0], "note": pd.array(["x", "y"], dtype="string")})
    with pytest.raises(ValueError, match=r"must be numeric; column 'note' is not"):
        as_dask_array(dd.from_pandas(frame, npartitions=1))


def test_rank_pool_reads_a_dask_frame_by_the_model_s_column_names():
    import dask

    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    from activelab.ranking import rank_pool

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(400, 4)), columns=list("abcd"))
    y = (frame["a"] + 0.3 * frame["b"] > 0).astype(int)
    model = LogisticRegression().fit(frame.iloc[:50], y[:50])
    expected = rank_pool(model, frame, 5).tolist()
    pool = dd.from_pandas(frame, npartitions=3)
    with dask.config.set(scheduler="synchronous"):
        # columns in another order (and one more): scored by name, not by position
        assert rank_pool(model, pool[list("dcba")].assign(e=1.0), 5).tolist() == expected
        with pytest.raises(ValueError, match=r"lacks 2 of the columns .* \('c', 'd'\)"):
            rank_pool(model, pool[["a", "b"]], 5)


def test_a_dask_pool_of_unknown_block_lengths_is_ranked_like_in_process():
    import dask

    from activelab.ranking import rank_pool

    X = np.random.default_rng(0).normal(size=(300, 3))
    model = LogisticRegression().fit(X, X[:, 0] + X[:, 1] > 0)
    pool = da.from_array(X, chunks=(70, 3))
    kept = X[X[:, 2] > 0]
    with dask.config.set(scheduler="synchronous"):
        # rows picked by a mask: the lengths are NaN (was "cannot convert float NaN to integer")
        got = rank_pool(model, pool[pool[:, 2] > 0], 5)
    assert got.tolist() == rank_pool(model, kept, 5).tolist()


def test_rank_pool_refuses_a_chunk_size_of_zero():
    from activelab.ranking import rank_pool

    X = np.random.default_rng(0).normal(size=(50, 2))
    model = LogisticRegression().fit(X, X[:, 0] > 0)
    with pytest.raises(ValueError, match="chunk_size must be >= 1, got 0"):  # was the default
        rank_pool(model, X, 3, chunk_size=0)


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_query_on_dask_reads_each_part_of_the_pool_twice_not_three_times(
    tmp_path, data, monkeypatch, suffix
):
    """Counting the part lengths, the non-finite check and the scoring each read the pool."""
    import collections

    import fsspec.implementations.local as local_fs
    from click.testing import CliRunner
    from distributed import LocalCluster

    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    joblib = pytest.importorskip("joblib")
    from activelab.cli import main

    X, y = data
    frame = pd.DataFrame(X[:3_000], columns=[f"f{i}" for i in range(X.shape[1])])
    write = dd.from_pandas(frame, npartitions=3)
    if suffix == "parquet":
        write.to_parquet(tmp_path / "parts", write_index=False)
    else:
        (tmp_path / "parts").mkdir()
        write.to_csv(tmp_path / "parts" / "*.csv", index=False)
    joblib.dump(LogisticRegression().fit(X[:200], y[:200]), tmp_path / "m.joblib")
    opened: collections.Counter[str] = collections.Counter()
    real = local_fs.LocalFileSystem._open

    def counting(self, path, *args, **kwargs):
        opened[Path(path).name] += 1
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(local_fs.LocalFileSystem, "_open", counting)
    # threads in this process, so that the spy sees the workers' reads
    with LocalCluster(processes=False, n_workers=1, dashboard_address=None) as cluster:
        pool = str(tmp_path / "parts" / f"*.{suffix}")
        args = ["query", "--model", str(tmp_path / "m.joblib"), "--pool", pool, "-n", "5"]
        result = CliRunner().invoke(main, [*args, "--dask", cluster.scheduler_address])
    assert result.exit_code == 0, result.output
    parts = sorted(opened)
    assert len(parts) == 3
    # the lengths and the check in one pass, the scores in another; the first part is
    # opened once more for the model's prediction of the first row (and CSV's sample)
    assert [opened[p] for p in parts[1:]] == [2, 2], opened


@pytest.mark.parametrize("strategy", ["margin", "kcenter"])
def test_query_on_dask_shows_progress_on_a_terminal_and_hides_it_with_quiet(
    client, data, tmp_path, monkeypatch, strategy
):
    joblib = pytest.importorskip("joblib")
    from click.testing import CliRunner

    from activelab.cli import main
    from activelab.cli import query as query_module

    X, y = data
    np.save(tmp_path / "pool.npy", X[:4_000])
    monkeypatch.setattr(query_module, "_BLOCK_BYTES", 1_000 * X.shape[1] * 8)  # 4 blocks
    joblib.dump(LogisticRegression().fit(X[:200], y[:200]), tmp_path / "m.joblib")
    args = ["query", "--model", str(tmp_path / "m.joblib"), "--pool", str(tmp_path / "pool.npy")]
    args += ["-n", "3", "--strategy", strategy, "--dask", client.scheduler_info()["address"]]
    what = "scoring the pool's blocks" if strategy == "margin" else "k-center picks"

    not_a_terminal = CliRunner().invoke(main, args)
    monkeypatch.setattr(query_module, "_stderr_is_terminal", lambda: True)
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich draws on the runner's stream as on a terminal
    shown = CliRunner().invoke(main, args)
    quiet = CliRunner().invoke(main, [*args, "--quiet"])
    for result in (not_a_terminal, shown, quiet):
        assert result.exit_code == 0, result.output
        assert len(result.stdout.split()) == 3  # the bar never mixes into the row numbers
    assert what in shown.stderr
    assert what not in not_a_terminal.stderr and what not in quiet.stderr
