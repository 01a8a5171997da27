"""Chunked pool scoring in bounded memory.

A pool of millions of rows is never scored at once: :func:`map_chunks` walks the
requested rows in chunks of ``chunk_size``, calls a per-chunk function and keeps
only its one-dimensional result. Peak memory is therefore
O(chunk_size × n_classes) for the model's output plus one float per row scored.

The in-process backend (:data:`IN_PROCESS`) lives here; the Dask backend
(:class:`activelab.cluster.DaskBackend`) implements the same two methods,
``map_chunks`` and ``select_top``, so a strategy never knows where it runs.

:func:`top_k` is the one selection rule of activelab: score descending, then
pool index ascending.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "IN_PROCESS",
    "InProcessBackend",
    "iter_chunks",
    "map_chunks",
    "take_rows",
    "top_k",
]

#: Rows scored at a time. 16,384 rows × 10 classes × 8 bytes ≈ 1.3 MB per array.
DEFAULT_CHUNK_SIZE = 16_384


def take_rows(X: Any, rows: np.ndarray) -> Any:
    """Rows of a dense array, a sparse matrix or a DataFrame, as the model expects them.

    A contiguous ascending run of rows is taken as a slice (no copy for numpy).

    Examples
    --------
    >>> take_rows(np.arange(10).reshape(5, 2), np.array([1, 2]))
    array([[2, 3],
           [4, 5]])
    """
    rows = np.asarray(rows)
    if (
        rows.size
        and rows[-1] - rows[0] == rows.size - 1
        and (rows.size < 3 or np.all(np.diff(rows) == 1))
    ):
        sl = slice(int(rows[0]), int(rows[-1]) + 1)
        if hasattr(X, "iloc"):
            return X.iloc[sl]
        return X[sl]
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    return X[rows]


def iter_chunks(
    X: Any,
    rows: np.ndarray,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[tuple[np.ndarray, Any]]:
    """Yield ``(positions, X[rows[positions]])`` in chunks of at most ``chunk_size`` rows.

    Examples
    --------
    >>> X = np.arange(10).reshape(10, 1)
    >>> [pos.tolist() for pos, _ in iter_chunks(X, np.array([0, 3, 4, 9]), 3)]
    [[0, 1, 2], [3]]
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}.")
    rows = np.asarray(rows, dtype=np.int64)
    for start in range(0, rows.shape[0], chunk_size):
        pos = np.arange(start, min(start + chunk_size, rows.shape[0]))
        yield pos, take_rows(X, rows[pos])


def map_chunks(
    func: Callable[[Any], np.ndarray],
    X: Any,
    rows: np.ndarray,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> np.ndarray:
    """Apply ``func`` to chunks of ``X[rows]`` and concatenate its 1-D outputs.

    Parameters
    ----------
    func : callable
        Maps a chunk of rows to an array of shape (len(chunk),) or (len(chunk), k).
    X : array-like or sparse matrix
        The pool.
    rows : ndarray of int
        The rows to score, in the order of the result.
    chunk_size : int
        Rows per call of ``func``.

    Returns
    -------
    ndarray
        ``func`` applied to every row, in the order of ``rows``.

    Examples
    --------
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> map_chunks(lambda c: c.sum(axis=1), X, np.array([5, 0, 1]), chunk_size=2)
    array([21.,  1.,  5.])
    """
    rows = np.asarray(rows, dtype=np.int64)
    out: np.ndarray | None = None
    for pos, chunk in iter_chunks(X, rows, chunk_size):
        part = np.asarray(func(chunk))
        if out is None:
            out = np.empty((rows.shape[0], *part.shape[1:]), dtype=part.dtype)
        out[pos[0] : pos[-1] + 1] = part
    if out is None:
        return np.empty(0, dtype=float)
    return out


def top_k(scores: np.ndarray, k: int, index: np.ndarray | None = None) -> np.ndarray:
    """Positions of the ``k`` best scores: score descending, then index ascending.

    Runs in O(n) time with :func:`numpy.argpartition`; only the selected ``k``
    entries are sorted. Ties at the cut are resolved towards the smallest index,
    so the result does not depend on the partition algorithm.

    Parameters
    ----------
    scores : ndarray of shape (n,)
        Higher is better. NaN (a model that could not score a row) ranks last,
        as ``-inf`` does.
    k : int
        How many positions to return, ``0 <= k <= n``.
    index : ndarray of shape (n,), optional
        The pool index of each score, used for the tie-break. Defaults to
        ``arange(n)``. Must be strictly increasing when given (candidate
        indices are kept sorted), which lets ties be cut by position.

    Returns
    -------
    ndarray of int64, shape (k,)
        Positions into ``scores``, best first.

    Examples
    --------
    >>> top_k(np.array([0.2, 0.9, 0.9, 0.1]), 2)
    array([1, 2])
    >>> top_k(np.array([0.5, 0.5, 0.5]), 2, index=np.array([7, 3, 5]))
    array([1, 2])
    >>> top_k(np.array([np.nan, 0.2, np.nan]), 2)
    array([1, 0])
    """
    scores = np.asarray(scores, dtype=float)
    nan = np.isnan(scores)
    if nan.any():  # NaN would poison the cut (every comparison with it is False)
        scores = np.where(nan, -np.inf, scores)
    n = scores.shape[0]
    if not 0 <= k <= n:
        raise ValueError(f"top_k needs 0 <= k <= {n}, got k={k}.")
    if k == 0:
        return np.empty(0, dtype=np.int64)
    if index is None:
        index = np.arange(n)
        monotone = True
    else:
        index = np.asarray(index)
        monotone = n < 2 or bool(np.all(index[1:] > index[:-1]))
    if not monotone:
        order = np.lexsort((index, -scores))
        return order[:k].astype(np.int64)
    if k < n:
        part = np.argpartition(-scores, k - 1)[:k]
        threshold = scores[part].min()
        above = np.flatnonzero(scores > threshold)
        ties = np.flatnonzero(scores == threshold)[: k - above.shape[0]]
        chosen = np.concatenate([above, ties])
    else:
        chosen = np.arange(n)
    order = np.lexsort((index[chosen], -scores[chosen]))
    return chosen[order].astype(np.int64)


class InProcessBackend:
    """Scores chunks of the pool in this process (the default backend)."""

    def map_chunks(
        self,
        func: Callable[[Any], np.ndarray],
        X: Any,
        rows: np.ndarray,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> np.ndarray:
        """See :func:`map_chunks`."""
        return map_chunks(func, X, rows, chunk_size)

    def select_top(
        self,
        func: Callable[[Any], np.ndarray],
        X: Any,
        candidates: np.ndarray,
        n: int,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> np.ndarray:
        """Pool indices of the ``n`` best-scored ``candidates`` (sorted), best first.

        Examples
        --------
        >>> X = np.array([[0.3], [0.9], [0.1], [0.9]])
        >>> IN_PROCESS.select_top(lambda c: c[:, 0], X, np.array([0, 2, 3]), 2)
        array([3, 0])
        """
        scores = map_chunks(func, X, candidates, chunk_size)
        return candidates[top_k(scores, n, candidates)]

    def __repr__(self) -> str:
        return "InProcessBackend()"


#: The default backend: chunks scored here, one after another.
IN_PROCESS = InProcessBackend()
