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

from collections.abc import Callable
from typing import Any

import numpy as np

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


def as_dask_array(X: Any) -> Any:
    """A 2-D float Dask array with one chunk across the columns.

    A Dask DataFrame becomes the array of its values (numeric columns only; the
    partition lengths are computed once).
    """
    _require_dask()
    if hasattr(X, "to_dask_array"):
        non_numeric = [c for c, t in X.dtypes.items() if not np.issubdtype(t, np.number)]
        if non_numeric:
            raise ValueError(
                f"A Dask DataFrame pool must be numeric; column {non_numeric[0]!r} is not. "
                "Encode it on the workers (map_partitions) before building the pool."
            )
        X = X.to_dask_array(lengths=True)
    if X.ndim != 2:
        raise ValueError(f"The pool must be 2-D (n_items, n_features), got shape {X.shape}.")
    if not np.issubdtype(X.dtype, np.floating):
        X = X.astype(float)
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X


def connect(spec: Any = None) -> Any:
    """A Dask ``Client`` from a specification, or ``None`` for in-process work.

    Parameters
    ----------
    spec : None, "local", "tcp://HOST:PORT" or a ``distributed.Client``
        ``None`` keeps everything in-process (no cluster); ``"local"`` starts a
        ``LocalCluster`` on this machine (one thread per worker process);
        an address connects to a running scheduler; a ``Client`` is used as is.
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
    if isinstance(spec, str) and "://" in spec:
        return Client(spec)
    raise ValueError(
        f"Unknown Dask setting {spec!r}: use 'local', 'tcp://HOST:PORT' or a distributed.Client."
    )


def _block_top(block: np.ndarray, func: Callable[[Any], np.ndarray], start: int,
               mask: np.ndarray, n: int, chunk_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The block's own top ``n`` candidates: (scores, pool indices)."""
    pos = np.flatnonzero(mask)
    if pos.size == 0:
        return np.empty(0), np.empty(0, dtype=np.int64)
    scores = np.empty(pos.size)
    for s in range(0, pos.size, chunk_size):
        sub = pos[s: s + chunk_size]
        rows = block[sub[0]: sub[-1] + 1] if sub[-1] - sub[0] == sub.size - 1 else block[sub]
        scores[s: s + sub.size] = func(rows)
    index = start + pos
    keep = top_k(scores, min(n, pos.size), index)
    return scores[keep], index[keep]


def _block_map(block: np.ndarray, func: Callable[[Any], np.ndarray], rows: np.ndarray,
               chunk_size: int) -> np.ndarray:
    parts = [func(block[rows[s: s + chunk_size]]) for s in range(0, rows.size, chunk_size)]
    return np.concatenate(parts) if parts else np.empty(0)


class DaskBackend:
    """Scores a Dask pool block by block on the workers; the same answers as in-process.

    Parameters
    ----------
    client : distributed.Client, optional
        The cluster to use; by default Dask's current scheduler (the client
        made most recently, else local threads).
    """

    def __init__(self, client: Any = None) -> None:
        self.client = client

    def _compute(self, *tasks: Any) -> Any:
        dask = _require_dask()
        if self.client is not None:
            return self.client.compute(list(tasks), sync=True)
        return dask.compute(*tasks)

    def _blocks(self, X: Any) -> tuple[list[Any], np.ndarray]:
        X = as_dask_array(X)
        blocks = X.to_delayed().ravel().tolist()
        starts = np.concatenate([[0], np.cumsum(X.chunks[0])])
        return blocks, starts

    def select_top(self, func: Callable[[Any], np.ndarray], X: Any, candidates: np.ndarray,
                   n: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> np.ndarray:
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
            tasks.append(dask.delayed(_block_top, pure=True)(
                block, func_d, lo, mask[lo:hi], n, chunk_size))
        parts = self._compute(*tasks)
        scores = np.concatenate([p[0] for p in parts])
        index = np.concatenate([p[1] for p in parts])
        order = np.argsort(index, kind="stable")
        scores, index = scores[order], index[order]
        return index[top_k(scores, n, index)]

    def map_chunks(self, func: Callable[[Any], np.ndarray], X: Any, rows: np.ndarray,
                   chunk_size: int = DEFAULT_CHUNK_SIZE) -> np.ndarray:
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
            tasks.append(dask.delayed(_block_map, pure=True)(
                blocks[b], func_d, rows[sel] - starts[b], chunk_size))
            owners.append(sel)
        parts = [np.asarray(p) for p in self._compute(*tasks)]
        out = np.empty((rows.size, *parts[0].shape[1:]), dtype=parts[0].dtype)
        for sel, part in zip(owners, parts, strict=True):
            out[sel] = part
        return out

    def __repr__(self) -> str:
        return f"DaskBackend(client={self.client!r})"
