"""Checks at the door: bad pools, bad indices and bad labels are refused with a message
that names the offending row, index or value and says what to do."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from activelab.scoring import DEFAULT_CHUNK_SIZE

__all__ = ["check_indices", "check_pool"]


def check_pool(X: Any, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Any:
    """Validate a pool and return it in the form the learner keeps.

    Dense input becomes a 2-D float ndarray (no copy when it already is one),
    sparse input a CSR matrix, a pandas DataFrame is kept as it is (its numeric
    columns are checked). NaN and infinity are refused, naming the first row.

    Examples
    --------
    >>> check_pool([[0.0, 1.0], [2.0, 3.0]]).shape
    (2, 2)
    >>> check_pool([[0.0, 1.0], [np.nan, 3.0]])
    Traceback (most recent call last):
    ...
    ValueError: The pool has a non-finite value (nan) at row 1, column 0. ...
    """
    if type(X).__module__.startswith("dask"):
        return _check_dask_pool(X)
    if hasattr(X, "iloc") and hasattr(X, "columns"):
        if X.shape[0] == 0:
            raise ValueError("The pool is empty: pass at least one row.")
        numeric = X.select_dtypes(include="number")
        if numeric.shape[1]:
            _check_finite_dense(numeric.to_numpy(dtype=float), chunk_size)
        return X
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        if X.ndim != 2 or X.shape[0] == 0:
            raise ValueError(f"The pool must be a non-empty 2-D matrix, got shape {X.shape}.")
        bad = np.flatnonzero(~np.isfinite(X.data))
        if bad.size:
            row = int(np.searchsorted(X.indptr, bad[0], side="right") - 1)
            col = int(X.indices[bad[0]])
            raise ValueError(
                f"The pool has a non-finite value ({X.data[bad[0]]}) at row {row}, column {col}. "
                "Impute or drop such rows (e.g. sklearn.impute.SimpleImputer) before building "
                "the pool."
            )
        return X
    arr = np.asarray(X)
    if arr.dtype == object:
        raise ValueError(
            "The pool must be numeric; got an object array. Featurise text or mixed columns "
            "first, or pass a pandas DataFrame together with a Pipeline that encodes it."
        )
    if arr.ndim == 1:
        raise ValueError(
            f"The pool must be 2-D (n_items, n_features), got a 1-D array of {arr.shape[0]} "
            "values; reshape it with X.reshape(-1, 1) if it is a single feature."
        )
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"The pool must be a non-empty 2-D array, got shape {arr.shape}.")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(float)
    _check_finite_dense(arr, chunk_size)
    return arr


def _check_dask_pool(X: Any) -> Any:
    import dask.array as da

    from activelab.cluster import as_dask_array

    X = as_dask_array(X)
    if X.shape[0] == 0:
        raise ValueError("The pool is empty: pass at least one row.")
    bad_rows = (~da.isfinite(X)).any(axis=1)
    if bool(bad_rows.any().compute()):
        row = int(da.argmax(bad_rows).compute())
        raise ValueError(
            f"The pool has a non-finite value at row {row}. Impute or drop such rows on the "
            "workers (e.g. with map_blocks) before building the pool."
        )
    return X


def _check_finite_dense(arr: np.ndarray, chunk_size: int) -> None:
    for start in range(0, arr.shape[0], chunk_size):
        block = arr[start : start + chunk_size]
        finite = np.isfinite(block)
        if not finite.all():
            r, c = np.argwhere(~finite)[0]
            raise ValueError(
                f"The pool has a non-finite value ({block[r, c]}) at row {start + r}, column {c}. "
                "Impute or drop such rows (e.g. sklearn.impute.SimpleImputer) before building "
                "the pool."
            )


def check_indices(indices: Any, n_pool: int, *, what: str = "index") -> np.ndarray:
    """Validate pool indices: integers, in range, no repeats.

    Examples
    --------
    >>> check_indices([3, 1], 5)
    array([3, 1])
    >>> check_indices([1, 7], 5)
    Traceback (most recent call last):
    ...
    IndexError: index 7 is out of range for a pool of 5 items (valid: 0 to 4).
    """
    idx = np.atleast_1d(np.asarray(indices))
    if idx.ndim != 1:
        raise ValueError(f"Indices must be one-dimensional, got shape {idx.shape}.")
    if idx.size == 0:
        return idx.astype(np.int64)
    if idx.dtype == bool or not np.issubdtype(idx.dtype, np.integer):
        if np.issubdtype(idx.dtype, np.floating) and np.all(np.mod(idx, 1) == 0):
            idx = idx.astype(np.int64)
        else:
            raise TypeError(f"Indices must be integers, got {idx.dtype} values such as {idx[0]!r}.")
    idx = idx.astype(np.int64)
    bad = np.flatnonzero((idx < 0) | (idx >= n_pool))
    if bad.size:
        raise IndexError(
            f"{what} {idx[bad[0]]} is out of range for a pool of {n_pool} items "
            f"(valid: 0 to {n_pool - 1})."
        )
    uniq, counts = np.unique(idx, return_counts=True)
    if np.any(counts > 1):
        raise ValueError(f"{what} {uniq[counts > 1][0]} appears more than once in one call.")
    return idx
