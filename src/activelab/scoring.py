"""Chunked pool scoring in bounded memory.

A pool of millions of rows is never scored at once: :func:`map_chunks` walks the
requested rows in chunks of ``chunk_size``, calls a per-chunk function and keeps
only its one-dimensional result. Peak memory is therefore
O(chunk_size × n_classes) for the model's output plus one float per row scored.

The in-process backend lives here; the Dask backend (:mod:`activelab.dask`)
implements the same ``scorer(func, X, rows, chunk_size)`` signature.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["DEFAULT_CHUNK_SIZE", "iter_chunks", "map_chunks", "take_rows"]

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
