"""Scoring pools on a Dask cluster when one machine is not enough (extra ``[dask]``).

A pool that is a Dask array (or a Dask DataFrame of numeric columns) stays where
it lives — on the workers — and only small things travel:

- the fitted model, sent **once** per query as a single graph key that every
  block task depends on;
- each block's slice of the candidate mask;
- back from each block, its own top ``n`` (score, pool index) pairs.

The client merges the per-block winners under the same rule as in-process
selection (score descending, then index ascending), so the result equals the
in-process one exactly whenever the per-row scores are the same. (BLAS may
round the last bit differently for very small blocks; blocks of thousands of
rows, as Dask uses, score identically to activelab's in-process chunks.)

Client memory is O(pool) bytes for the candidate mask and index (9 bytes per
row) plus O(blocks × n) for the winners — never the pool itself.

Examples
--------
>>> import dask.array as da
>>> from sklearn.linear_model import LogisticRegression
>>> from activelab import ActiveLearner
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(2_000, 5)); y = (X[:, 0] > 0).astype(int)
>>> pool = da.from_array(X, chunks=(500, 5))
>>> learner = ActiveLearner(LogisticRegression(), "margin", random_state=0)
>>> learner = learner.fit(pool, [0, 1, 2, 3], y[:4])
>>> local = ActiveLearner(LogisticRegression(), "margin").fit(X, [0, 1, 2, 3], y[:4])
>>> bool(np.array_equal(learner.query(10), local.query(10)))
True
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from activelab._progress import _ProgressBar
from activelab.scoring import DEFAULT_CHUNK_SIZE, top_k

__all__ = ["DaskBackend", "as_dask_array", "connect", "is_dask_collection"]


def _require_dask() -> Any:
    try:
        import dask
        import dask.array
    except ModuleNotFoundError as exc:  # pragma: no cover - exercised without the extra
        raise ModuleNotFoundError(
            "Scoring on Dask needs the [dask] extra: pip install 'activelab[dask]'"
        ) from exc
    return dask


def is_dask_collection(X: Any) -> bool:
    """True for a Dask array or DataFrame (without importing Dask when it is absent)."""
    return type(X).__module__.startswith("dask") and hasattr(X, "__dask_graph__")


def as_dask_array(X: Any, *, check_finite: bool = False) -> Any:
    """A 2-D float Dask array with one chunk across the columns.

    A Dask DataFrame becomes the array of its values (numeric columns only; the
    partition lengths are computed once), and so do the block lengths of an
    array whose lengths are unknown (e.g. rows selected by a mask,
    ``X[X[:, 0] > 0]``): pool indices need them. Anything that is not a Dask
    collection (a numpy array, a pandas DataFrame) is refused with a
    ``ValueError`` naming the way to make it one.

    Parameters
    ----------
    X : dask.array.Array or dask.dataframe.DataFrame
        The pool.
    check_finite : bool, default=False
        Also refuse a pool with a NaN or infinite value, naming its row. The
        lengths and the check are found in the same pass over the pool, so a
        pool read from files is read once for both.

    Raises
    ------
    ValueError
        For a pool that is not a Dask collection, not 2-D, has a column that is not
        numeric, or (with ``check_finite``) a non-finite value.
    """
    _require_dask()
    if not is_dask_collection(X):
        raise ValueError(_not_a_dask_pool(X))
    if hasattr(X, "to_dask_array"):
        from pandas.api.types import is_numeric_dtype  # numpy cannot read pandas' own dtypes

        non_numeric = [c for c, t in X.dtypes.items() if not is_numeric_dtype(t)]
        if non_numeric:
            raise ValueError(
                f"A Dask DataFrame pool must be numeric; column {non_numeric[0]!r} is not. "
                "Encode it on the workers (map_partitions) before building the pool."
            )
        X = X.to_dask_array()  # lengths unknown until the pass below
    if X.ndim != 2:
        raise ValueError(f"The pool must be 2-D (n_items, n_features), got shape {X.shape}.")
    if np.isnan(X.shape[0]) or check_finite:  # one pass on the workers for both
        X = _lengths_and_finite(X, check_finite)
    if not np.issubdtype(X.dtype, np.floating):
        X = X.astype(float)
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X


def _lengths_and_finite(X: Any, check_finite: bool) -> Any:
    """``X`` with its block lengths known, found in one pass with its first non-finite row.

    Raises
    ------
    ValueError
        With ``check_finite``, for a non-finite value, naming its row.
    """
    import dask
    import dask.array as da

    blocks = X.to_delayed().ravel().tolist()
    stats = np.array(
        dask.compute(*[dask.delayed(_block_stats, pure=True)(b, check_finite) for b in blocks]),
        dtype=np.int64,
    ).reshape(-1, 2)
    lengths = tuple(int(v) for v in stats[:, 0])
    if np.isnan(X.shape[0]):
        X = da.Array(X.dask, X.name, chunks=(lengths, X.chunks[1]), meta=X._meta)
    bad = np.flatnonzero(stats[:, 1] >= 0)
    if bad.size:
        row = int(np.concatenate([[0], np.cumsum(lengths)])[bad[0]] + stats[bad[0], 1])
        raise ValueError(
            f"The pool has a non-finite value at row {row}. Impute or drop such rows on the "
            "workers (e.g. with map_blocks) before building the pool."
        )
    return X


def _block_stats(block: Any, check_finite: bool) -> tuple[int, int]:
    """A block's (row count, first row with a NaN or infinite value, else -1)."""
    block = np.asarray(block)
    if not check_finite or block.size == 0:
        return block.shape[0], -1
    if not np.issubdtype(block.dtype, np.floating):
        block = block.astype(float)
    bad = np.flatnonzero(~np.isfinite(block).all(axis=1))
    return block.shape[0], int(bad[0]) if bad.size else -1


def _gathers(name: str) -> str:
    """Why strategy ``name`` is refused on a Dask pool, and what runs there instead."""
    return (
        f"Strategy {name!r} cannot run on a Dask pool without gathering it; use a scoring "
        "strategy (margin, entropy, least_confident, bald ...), 'kcenter', 'density' or "
        "'random', or pass the pool as a numpy array."
    )


def _not_a_dask_pool(X: Any) -> str:
    """Why a Dask backend cannot score ``X``, and the two ways out."""
    return (
        f"A DaskBackend scores a Dask pool, but this pool is a {type(X).__module__}."
        f"{type(X).__name__}: make it one (dask.array.from_array(X, chunks=...), or better "
        "read it on the workers with dask.dataframe.read_parquet), or leave out backend= to "
        "score it in process."
    )


def connect(spec: Any = None, timeout: float | None = None) -> Any:
    """A Dask ``Client`` from a specification, or ``None`` for in-process work.

    Parameters
    ----------
    spec : None, "local", "tcp://HOST:PORT" (or "HOST:PORT") or a ``distributed.Client``
        ``None`` keeps everything in-process (no cluster); ``"local"`` starts a
        ``LocalCluster`` on this machine (one thread per worker process);
        an address connects to a running scheduler; a ``Client`` is used as is.
    timeout : float, optional
        Seconds to wait for a scheduler at an address; by default Dask's
        ``distributed.comm.timeouts.connect`` (30 s).

    Raises
    ------
    ValueError
        For a setting that is none of the above.
    OSError
        When no scheduler answers at the address in time, or what answers
        there is not a Dask scheduler (a web server, the dashboard's port):
        one line naming the address.
    """
    if spec is None:
        return None
    try:
        from distributed import Client, LocalCluster
    except ModuleNotFoundError as exc:  # pragma: no cover
        raise ModuleNotFoundError(
            "A Dask cluster needs the [dask] extra: pip install 'activelab[dask]'"
        ) from exc
    if isinstance(spec, Client):
        return spec
    if spec == "local":
        cluster = LocalCluster(threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster)
    if isinstance(spec, str) and re.fullmatch(r"[\w.-]+:\d+|\[[0-9a-fA-F:]+\]:\d+", spec):
        spec = f"tcp://{spec}"  # HOST:PORT, as dask's own Client takes it
    if isinstance(spec, str) and "://" in spec:
        seconds = _connect_timeout(timeout)
        _check_scheduler(spec, seconds)
        return Client(spec, timeout=seconds)
    raise ValueError(
        f"Unknown Dask setting {spec!r}: use 'local', 'tcp://HOST:PORT' or a distributed.Client."
    )


def _connect_timeout(timeout: float | None) -> float:
    """``timeout`` in seconds, else Dask's configured connect timeout."""
    if timeout is not None:
        return float(timeout)
    import dask.config
    from dask.utils import parse_timedelta

    return float(parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), "s"))


def _check_scheduler(address: str, timeout: float) -> None:
    """Raise a one-line ``OSError`` unless a Dask scheduler answers at ``address``.

    ``distributed.Client`` bounds the connection but not the handshake after it:
    a server that accepts the connection without speaking Dask's protocol (the
    dashboard's HTTP port, another service) made it wait forever, or read an
    HTTP reply as a frame length and fail allocating exabytes. This opens one
    connection and completes the handshake under a deadline, in a thread of its
    own so that it works under a running event loop (a notebook) too.

    Parameters
    ----------
    address : str
        The scheduler's address, ``tcp://HOST:PORT``.
    timeout : float
        Seconds allowed for the connection; the handshake gets as many again, at
        most :data:`_HANDSHAKE_S` more.

    Raises
    ------
    ValueError
        For an address Dask cannot parse (an unknown scheme, no port) or cannot
        open as configured (``tls://`` without TLS settings).
    OSError
        When nothing answers, or what answers is not a Dask scheduler.
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from distributed.comm import connect as open_comm
    from distributed.security import Security

    args = Security().get_connection_args("client")
    deadline = timeout + min(timeout, _HANDSHAKE_S)

    async def _handshake() -> None:
        comm = await asyncio.wait_for(open_comm(address, timeout=timeout, **args), deadline)
        await comm.close()

    with ThreadPoolExecutor(1) as pool:
        try:
            pool.submit(asyncio.run, _handshake()).result()
        except OSError as exc:
            if type(exc) is OSError:  # distributed's "Timed out trying to connect"
                raise OSError(
                    f"No Dask scheduler answered at {address} within {timeout:g} s; start it, "
                    "check the address, or use 'local' (a LocalCluster on this machine)."
                ) from None
            if isinstance(exc, TimeoutError):
                reason = f"no handshake within {deadline:g} s"
            else:
                reason = "it closed the connection"
            raise _not_a_scheduler(address, reason) from None
        except (TypeError, ValueError) as exc:
            if type(exc).__module__.startswith("msgpack"):  # a reply that is not Dask's frames
                raise _not_a_scheduler(address, "it replied in another protocol") from None
            # a malformed address, an unknown scheme, TLS without its configuration
            raise ValueError(f"{address}: {exc}") from None
        except Exception:  # any reply that is not Dask's protocol
            raise _not_a_scheduler(address, "it replied in another protocol") from None


#: seconds a reachable server has to complete Dask's handshake
_HANDSHAKE_S = 5.0


def _not_a_scheduler(address: str, reason: str) -> OSError:
    return OSError(
        f"Something answered at {address}, but not as a Dask scheduler ({reason}); is that "
        "the dashboard's port? A scheduler listens on tcp://HOST:8786 by default."
    )


def _block_top(
    block: np.ndarray,
    func: Callable[[Any], np.ndarray],
    start: int,
    mask: np.ndarray,
    n: int,
    chunk_size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The block's own top ``n`` candidates: (scores, pool indices)."""
    pos = np.flatnonzero(mask)
    if pos.size == 0:
        return np.empty(0), np.empty(0, dtype=np.int64)
    scores = np.empty(pos.size)
    for s in range(0, pos.size, chunk_size):
        sub = pos[s : s + chunk_size]
        rows = block[sub[0] : sub[-1] + 1] if sub[-1] - sub[0] == sub.size - 1 else block[sub]
        scores[s : s + sub.size] = func(rows)
    index = start + pos
    keep = top_k(scores, min(n, pos.size), index)
    return scores[keep], index[keep]


def _block_map(
    block: np.ndarray, func: Callable[[Any], np.ndarray], rows: np.ndarray, chunk_size: int
) -> np.ndarray:
    parts = [func(block[rows[s : s + chunk_size]]) for s in range(0, rows.size, chunk_size)]
    return np.concatenate(parts) if parts else np.empty(0)


def _block_sum(block: np.ndarray, func: Callable[[Any], Any], chunk_size: int) -> np.ndarray:
    total = None
    for s in range(0, block.shape[0], chunk_size):
        part = np.asarray(func(block[s : s + chunk_size]).sum(axis=0)).ravel()
        total = part if total is None else total + part
    return total if total is not None else np.zeros(block.shape[1])


def _identity(block: np.ndarray) -> np.ndarray:
    return np.asarray(block, dtype=float)


def _kc_init(
    block: np.ndarray, mask: np.ndarray, centres: list[np.ndarray], chunk_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the block, squared norms, min squared distance to the centres; -inf where not a
    candidate).

    The block is kept in the state so that the picks that follow read it from the
    worker's memory: a pool read from files is read once per query, not once per pick.
    """
    from activelab.strategies._greedy import pass_rows, sq_norms

    block = np.asarray(block)
    step = pass_rows(chunk_size)
    sq = np.empty(block.shape[0])
    for s in range(0, block.shape[0], step):
        sq[s : s + step] = sq_norms(np.asarray(block[s : s + step], dtype=float))
    D = np.full(block.shape[0], np.inf)
    for C in centres:
        np.minimum(D, _block_min_sq(block, sq, C, chunk_size), out=D)
    D[~mask] = -np.inf
    return block, sq, D


def _kc_best(state: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[float, int]:
    D = state[2]
    if D.size == 0:
        return -np.inf, 0
    pos = int(np.argmax(D))  # first maximum: the lowest index
    return float(D[pos]), pos


def _kc_row(state: tuple[np.ndarray, np.ndarray, np.ndarray], i: int) -> np.ndarray:
    """Row ``i`` of the block of ``state``, the next centre."""
    return np.asarray(state[0][i : i + 1], dtype=float)


def _kc_update(
    state: tuple[np.ndarray, np.ndarray, np.ndarray],
    C: np.ndarray,
    picked: int,
    chunk_size: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    block, sq, D = state
    D = np.minimum(D, _block_min_sq(block, sq, C, chunk_size))
    if picked >= 0:
        D[picked] = -np.inf
    return block, sq, D


def _block_min_sq(block: np.ndarray, sq: np.ndarray, C: np.ndarray, chunk_size: int) -> np.ndarray:
    """Each row's min squared distance to ``C``, a step of rows at a time.

    A float32 block is converted to float64 one step at a time, never as a whole: k-center
    greedy calls this once per pick, on every block.
    """
    from activelab.strategies._greedy import min_sq_dist, pass_rows

    step = pass_rows(chunk_size)
    c2 = np.einsum("ij,ij->i", C, C)
    out = np.empty(block.shape[0])
    for s in range(0, block.shape[0], step):
        rows = np.asarray(block[s : s + step], dtype=float)
        out[s : s + step] = min_sq_dist(rows, sq[s : s + step], C, c2)
    return out


class DaskBackend:
    """Scores a Dask pool block by block on the workers; the same answers as in-process.

    Parameters
    ----------
    client : distributed.Client, optional
        The cluster to use; by default Dask's current scheduler (the client
        made most recently, else local threads).
    progress : bool, default=False
        Show a progress bar on standard error (``rich``, the ``cli`` extra) for
        the long steps: the blocks scored, the k-center picks made. With a
        ``client`` only (a bar counts the tasks that come back from it).

    Notes
    -----
    A backend pickles without its client (a connection cannot be saved): an
    :class:`~activelab.ActiveLearner` saved with ``joblib.dump`` loads with a
    backend on Dask's current scheduler: connect a ``Client`` (it becomes the
    current one) before querying, else the blocks are scored by local threads.
    """

    def __init__(self, client: Any = None, progress: bool = False) -> None:
        self.client = client
        self.progress = progress

    def __getstate__(self) -> dict[str, Any]:
        """The state without the client: a live connection does not pickle."""
        return {**self.__dict__, "client": None}

    def _shows_progress(self) -> bool:
        return bool(getattr(self, "progress", False)) and self.client is not None

    def _compute(self, *tasks: Any, what: str | None = None) -> Any:
        """The results of ``tasks``; with ``what``, a bar counts the tasks as they finish."""
        dask = _require_dask()
        if self.client is None:
            return dask.compute(*tasks)
        if what is None or not self._shows_progress():
            return self.client.compute(list(tasks), sync=True)
        from distributed import as_completed

        futures = self.client.compute(list(tasks))
        with _ProgressBar(True, what, len(futures), stderr=True, transient=True) as advance:
            for _ in as_completed(futures):
                advance()
        return self.client.gather(futures)

    def _blocks(self, X: Any) -> tuple[list[Any], np.ndarray]:
        X = as_dask_array(X)
        blocks = X.to_delayed().ravel().tolist()
        starts = np.concatenate([[0], np.cumsum(X.chunks[0])])
        return blocks, starts

    def select_top(
        self,
        func: Callable[[Any], np.ndarray],
        X: Any,
        candidates: np.ndarray,
        n: int,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> np.ndarray:
        """Pool indices of the ``n`` best-scored candidates, best first, ties to the lowest."""
        dask = _require_dask()
        if n == 0:
            return np.empty(0, dtype=np.int64)
        blocks, starts = self._blocks(X)
        mask = np.zeros(int(starts[-1]), dtype=bool)
        mask[candidates] = True
        func_d = dask.delayed(func, pure=True, traverse=False)  # sent once, shared by tasks
        tasks = []
        for b, block in enumerate(blocks):
            lo, hi = int(starts[b]), int(starts[b + 1])
            if not mask[lo:hi].any():
                continue
            tasks.append(
                dask.delayed(_block_top, pure=True)(block, func_d, lo, mask[lo:hi], n, chunk_size)
            )
        parts = self._compute(*tasks, what="scoring the pool's blocks")
        scores = np.concatenate([p[0] for p in parts])
        index = np.concatenate([p[1] for p in parts])
        order = np.argsort(index, kind="stable")
        scores, index = scores[order], index[order]
        return index[top_k(scores, n, index)]

    def sum_rows(
        self, func: Callable[[Any], Any], X: Any, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> np.ndarray:
        """The column sums of ``func`` applied to every row block, summed on the workers."""
        dask = _require_dask()
        blocks, _ = self._blocks(X)
        func_d = dask.delayed(func, pure=True, traverse=False)
        parts = self._compute(
            *[dask.delayed(_block_sum, pure=True)(block, func_d, chunk_size) for block in blocks]
        )
        return np.sum(parts, axis=0)

    def farthest_first(
        self,
        X: Any,
        candidates: np.ndarray,
        labelled: np.ndarray,
        n: int,
        rng: np.random.Generator,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> np.ndarray:
        """k-center greedy on the workers: per-block min-distance vectors, updated per pick.

        Each block keeps, on its worker, its rows and the squared distance of
        its candidates to the nearest centre (labelled or picked). A pick asks
        every block for its own maximum (ties: the lowest index), takes the
        global one under the same rule as in-process, and has that row sent
        from its block to every block (not through the client), which lowers
        its distances in O(block × features). The pool is read once: a pool
        read from files is not read again at each pick.
        """
        dask = _require_dask()
        from activelab.strategies._greedy import BLOCK

        blocks, starts = self._blocks(X)
        n_pool = int(starts[-1])
        mask = np.zeros(n_pool, dtype=bool)
        mask[candidates] = True
        labelled = np.asarray(labelled, dtype=np.int64)  # grouped as in-process
        centres = [
            self.map_chunks(_identity, X, labelled[s : s + BLOCK], chunk_size)
            for s in range(0, labelled.shape[0], BLOCK)
        ]
        state = [
            dask.delayed(_kc_init, pure=True)(
                block, mask[starts[b] : starts[b + 1]], centres, chunk_size
            )
            for b, block in enumerate(blocks)
        ]
        state = self._persist(state)
        chosen: list[int] = []
        progress = _ProgressBar(
            self._shows_progress(), "k-center picks", n, stderr=True, transient=True
        )
        with progress as advance:
            for t in range(n):
                if t == 0 and labelled.shape[0] == 0:
                    j = int(candidates[int(rng.integers(candidates.shape[0]))])
                else:
                    tops = self._compute(*[dask.delayed(_kc_best)(st) for st in state])
                    values = np.array([v for v, _ in tops])
                    local = np.array([p for _, p in tops])
                    best = np.flatnonzero(values == values.max())[0]  # blocks are in index order
                    if not np.isfinite(values[best]) and values[best] < 0:
                        raise ValueError("No candidate left to pick.")
                    j = int(starts[best] + local[best])
                chosen.append(j)
                advance()
                if t == n - 1:
                    break
                b = int(np.searchsorted(starts, j, side="right") - 1)
                # the new centre goes from its block's worker to the others: not via the client
                C = dask.delayed(_kc_row, pure=True)(state[b], j - int(starts[b]))
                state = self._persist(
                    [
                        dask.delayed(_kc_update, pure=True)(
                            st, C, j - int(starts[k]) if k == b else -1, chunk_size
                        )
                        for k, st in enumerate(state)
                    ]
                )
        return np.asarray(chosen, dtype=np.int64)

    def _persist(self, items: list[Any]) -> list[Any]:
        dask = _require_dask()
        if self.client is not None:
            return list(self.client.persist(items))
        return list(dask.persist(*items))

    def map_chunks(
        self,
        func: Callable[[Any], np.ndarray],
        X: Any,
        rows: np.ndarray,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> np.ndarray:
        """``func`` applied to ``X[rows]`` on the workers, gathered in the order of ``rows``."""
        dask = _require_dask()
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return np.empty(0)
        blocks, starts = self._blocks(X)
        which = np.searchsorted(starts, rows, side="right") - 1
        order = np.argsort(which, kind="stable")
        owner_blocks, first = np.unique(which[order], return_index=True)
        last = np.append(first[1:], rows.size)
        func_d = dask.delayed(func, pure=True, traverse=False)
        tasks, owners = [], []
        for b, f, e in zip(owner_blocks, first, last, strict=True):
            sel = order[f:e]
            tasks.append(
                dask.delayed(_block_map, pure=True)(
                    blocks[b], func_d, rows[sel] - starts[b], chunk_size
                )
            )
            owners.append(sel)
        parts = [np.asarray(p) for p in self._compute(*tasks)]
        out = np.empty((rows.size, *parts[0].shape[1:]), dtype=parts[0].dtype)
        for sel, part in zip(owners, parts, strict=True):
            out[sel] = part
        return out

    def __repr__(self) -> str:
        return f"DaskBackend(client={self.client!r})"
