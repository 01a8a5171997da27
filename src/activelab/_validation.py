"""Checks at the door: bad pools, bad indices and bad labels are refused with a message
that names the offending row, index or value and says what to do."""

from __future__ import annotations

import sys
from numbers import Integral
from typing import Any

import numpy as np
import scipy.sparse as sp

from activelab.scoring import DEFAULT_CHUNK_SIZE

__all__ = [
    "check_count",
    "check_indices",
    "check_label_values",
    "check_pool",
    "check_seconds",
    "check_seed",
    "check_threads",
    "non_numeric_columns",
]


def non_numeric_columns(X: Any) -> list[str]:
    """The names of a table's columns that do not hold numbers (boolean, integer or float
    columns do); ``[]`` for what is not a table (an array, a sparse matrix).

    Examples
    --------
    >>> import pandas as pd
    >>> non_numeric_columns(pd.DataFrame({"text": ["a"], "n": [1], "ok": [True]}))
    ['text']
    >>> non_numeric_columns(np.zeros((2, 2)))
    []
    """
    if not (hasattr(X, "columns") and hasattr(X, "dtypes")):
        return []
    return [str(c) for c, dtype in X.dtypes.items() if dtype.kind not in "biuf"]


def check_pool(X: Any, *, chunk_size: int = DEFAULT_CHUNK_SIZE, allow_nan: bool = False) -> Any:
    """Validate a pool and return it in the form the learner keeps.

    Dense input becomes a 2-D float ndarray (no copy when it already is one),
    sparse input a CSR matrix, a pandas DataFrame is kept as it is (its numeric
    columns are checked). NaN and infinity are refused, naming the first row;
    with ``allow_nan``, NaN is let through as a missing value (for an estimator
    that imputes it or takes it) and only infinity is refused.

    Examples
    --------
    >>> check_pool([[0.0, 1.0], [2.0, 3.0]]).shape
    (2, 2)
    >>> check_pool([[0.0, 1.0], [np.nan, 3.0]])
    Traceback (most recent call last):
    ...
    ValueError: The pool has a non-finite value (nan) at row 1, column 0. ...
    >>> check_pool([[0.0, 1.0], [np.nan, 3.0]], allow_nan=True)[1, 0]
    np.float64(nan)
    """
    return pool_and_nan(X, chunk_size=chunk_size, allow_nan=allow_nan)[0]


def pool_and_nan(
    X: Any, *, chunk_size: int = DEFAULT_CHUNK_SIZE, allow_nan: bool = False
) -> tuple[Any, bool]:
    """:func:`check_pool`, also saying whether the pool holds NaN (only with ``allow_nan``).

    Parameters
    ----------
    X : array-like, sparse matrix, DataFrame or Dask collection
        The pool.
    chunk_size : int
        Rows checked at a time.
    allow_nan : bool
        Let NaN through (infinity is refused all the same); a Dask pool refuses it.

    Returns
    -------
    X : ndarray, sparse matrix, DataFrame or Dask array
        As :func:`check_pool` returns it.
    has_nan : bool
        Whether some value is NaN.
    """
    if type(X).__module__.startswith("dask"):
        return _check_dask_pool(X), False
    if hasattr(X, "iloc") and hasattr(X, "columns"):
        if X.shape[0] == 0:
            raise ValueError("The pool is empty: pass at least one row.")
        numeric = [i for i, kind in enumerate(X.dtypes) if kind.kind in "biuf"]
        if not numeric:
            return X, False
        return X, _check_finite_dense(
            X, chunk_size, columns=numeric, rows=X.index, allow_nan=allow_nan
        )
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        if X.ndim != 2 or X.shape[0] == 0:
            raise ValueError(f"The pool must be a non-empty 2-D matrix, got shape {X.shape}.")
        nan = np.isnan(X.data) if allow_nan else np.zeros(X.data.shape, dtype=bool)
        bad = np.flatnonzero(~(np.isfinite(X.data) | nan))
        if bad.size:
            row = int(np.searchsorted(X.indptr, bad[0], side="right") - 1)
            col = int(X.indices[bad[0]])
            raise ValueError(_non_finite(X.data[bad[0]], f"row {row}, column {col}", allow_nan))
        return X, bool(nan.any())
    try:
        arr = np.asarray(X)
    except ValueError as exc:  # numpy: "inhomogeneous shape"
        raise ValueError(
            "The pool's rows must all have the same number of features; some rows are longer "
            f"than others ({exc})."
        ) from exc
    texts = arr.dtype == object and arr.size and isinstance(arr.flat[0], str)
    if arr.dtype.kind in "US" or texts:
        raise ValueError(
            f"The pool holds texts (such as {str(arr.flat[0])[:40]!r}); the learner needs numbers "
            "per item. Featurise them first: X = TextEmbedder().fit_transform(texts) "
            "(activelab.data.features; pip install 'activelab[text]') or scikit-learn's "
            "TfidfVectorizer; or pass a pandas DataFrame with a Pipeline that encodes its columns."
        )
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
    return arr, _check_finite_dense(arr, chunk_size, allow_nan=allow_nan)


def _check_dask_pool(X: Any) -> Any:
    """A Dask pool as a float array of known block lengths, refused if not finite.

    The lengths (a Dask DataFrame's partitions) and the check take one pass over the
    pool, so a pool read from files is read once here, not once for each.
    """
    from activelab.cluster import as_dask_array

    X = as_dask_array(X, check_finite=True)
    if X.shape[0] == 0:
        raise ValueError("The pool is empty: pass at least one row.")
    return X


def _check_finite_dense(
    arr: Any,
    chunk_size: int,
    *,
    columns: list[int] | None = None,
    rows: Any = None,
    allow_nan: bool = False,
) -> bool:
    """Refuse NaN and infinity, naming the first such value's row and column.

    The pool is read ``chunk_size`` rows at a time: a DataFrame's numbers are
    converted to float one chunk at a time, never as a copy of the whole pool.

    Parameters
    ----------
    arr : ndarray or pandas.DataFrame of shape (n, d)
        The pool.
    chunk_size : int
        Rows checked at a time.
    columns : list of int, optional
        For a DataFrame, the positions of its numeric columns (the only ones
        checked); a value is named by its column's name rather than a position
        that would count the other columns out.
    rows : pandas.Index, optional
        The DataFrame's index, whose label is named next to the row's position.
    allow_nan : bool, default=False
        Let NaN through; infinity is refused all the same.

    Returns
    -------
    bool
        Whether some value is NaN (``False`` unless ``allow_nan``).
    """
    has_nan = False
    for start in range(0, arr.shape[0], chunk_size):
        if columns is None:
            block = arr[start : start + chunk_size]
        else:
            block = arr.iloc[start : start + chunk_size, columns].to_numpy(dtype=float)
        finite = np.isfinite(block)
        if finite.all():
            continue
        nan = np.isnan(block) if allow_nan else np.zeros(block.shape, dtype=bool)
        has_nan = has_nan or bool(nan.any())
        if not (finite | nan).all():
            r, c = np.argwhere(~(finite | nan))[0]
            row = start + int(r)
            where = f"row {row}, column {c}"
            if columns is not None:
                label = rows[row] if rows is not None else row
                shown = "" if label == row else f" (index {label!r})"
                where = f"row {row}{shown}, column {arr.columns[columns[c]]!r}"
            raise ValueError(_non_finite(block[r, c], where, allow_nan))
    return has_nan


def _non_finite(value: Any, where: str, allow_nan: bool) -> str:
    """The message for a refused value: NaN without ``allow_nan``, else infinity.

    Parameters
    ----------
    value : float
        The value refused.
    where : str
        Its row and column, as the message names them.
    allow_nan : bool
        Whether NaN was let through (so the value is an infinity).

    Returns
    -------
    str
    """
    if allow_nan:
        return (
            f"The pool has an infinite value ({value}) at {where}. NaN is taken as a missing "
            "value, infinity is not: replace it (with np.nan, or a bound) before building the pool."
        )
    return (
        f"The pool has a non-finite value ({value}) at {where}. Impute or drop such rows "
        "before building the pool, or give the learner an estimator that takes NaN: a Pipeline "
        "that imputes first (make_pipeline(SimpleImputer(), ...), sklearn.impute) or one such as "
        "HistGradientBoostingClassifier."
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
    if idx.dtype == bool:
        raise TypeError(
            f"Indices must be integers, got a boolean array of {idx.shape[0]} values; for a mask "
            "over the pool pass its positions, np.flatnonzero(mask)."
        )
    if not np.issubdtype(idx.dtype, np.integer):
        if np.issubdtype(idx.dtype, np.floating) and np.all(np.mod(idx, 1) == 0):
            idx = idx.astype(np.int64)
        else:
            raise TypeError(
                f"Indices must be integers, got {idx.dtype} values such as {idx[:1].tolist()[0]!r}."
            )
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


def _kind(v: Any) -> int:
    if v is None or (isinstance(v, float) and v != v) or _is_pandas_missing(v):
        return 2
    if isinstance(v, bool | int | float | np.number | np.bool_):
        return 0
    return 1 if isinstance(v, str) else 3


def _is_pandas_missing(v: Any) -> bool:
    """``pd.NA`` or ``pd.NaT``: pandas' missing values (a nullable column's empty cells)."""
    pd = sys.modules.get("pandas")  # not a dependency: without it loaded, neither exists
    return pd is not None and (v is pd.NA or v is pd.NaT)


def _kinds(y: np.ndarray) -> np.ndarray:
    """Per label: 0 number, 1 text, 2 missing (None or NaN), 3 anything else."""
    if y.dtype.kind in "biu":
        return np.zeros(y.shape[0], dtype=int)
    if y.dtype.kind == "f":
        return np.where(np.isnan(y), 2, 0)
    if y.dtype.kind in "US":
        return np.ones(y.shape[0], dtype=int)
    return np.asarray([_kind(v) for v in y.tolist()], dtype=int)  # object: the taught batch


def check_label_values(y: np.ndarray, previous: np.ndarray) -> None:
    """Refuse missing labels and labels of another type than the earlier ones (1-D labels).

    A label is a number or a text; ``None`` (no answer) is refused, and so is
    text taught to a learner whose labels so far are numbers (or the reverse),
    which would otherwise turn every prediction into text.

    Examples
    --------
    >>> check_label_values(np.asarray([1, None], dtype=object), np.asarray([]))
    Traceback (most recent call last):
    ...
    ValueError: Label at position 1 is None: every taught item needs an answer; leave ...
    >>> check_label_values(np.asarray(["cat"]), np.asarray([0, 1]))
    Traceback (most recent call last):
    ...
    ValueError: Label 'cat' at position 0 is text, but the labels so far are numbers ...
    """
    if y.ndim != 1 or y.size == 0:
        return
    kinds = _kinds(y)
    values = y.tolist()  # plain Python values, for the messages
    missing = np.flatnonzero(kinds == 2)
    if missing.size:
        i = int(missing[0])
        raise ValueError(
            f"Label at position {i} is {values[i]!r}: every taught item needs an answer; leave "
            "unanswered items out of the indices (they stay in the pool)."
        )
    odd = np.flatnonzero(kinds == 3)
    if odd.size:
        i = int(odd[0])
        raise ValueError(
            f"Label {values[i]!r} at position {i} is a {type(values[i]).__name__}; labels "
            "are numbers or texts."
        )
    word = {0: "a number", 1: "text"}
    if (kinds != kinds[0]).any():
        i = int(np.flatnonzero(kinds != kinds[0])[0])
        raise ValueError(
            f"Label {values[i]!r} at position {i} is {word[int(kinds[i])]}, but label "
            f"{values[0]!r} is {word[int(kinds[0])]}; use one type for every label."
        )
    if previous.ndim == 1 and previous.size:
        before = int(_kinds(previous[:1])[0])
        if before != kinds[0]:
            plural = {0: "numbers", 1: "text"}
            raise ValueError(
                f"Label {values[0]!r} at position 0 is {word[int(kinds[0])]}, but the labels "
                f"so far are {plural[before]} (e.g. {previous[:1].tolist()[0]!r}); use one "
                "type, or create the learner with classes=[...] listing every label."
            )


def check_seconds(values: Any, n: int, *, name: str = "cost") -> np.ndarray:
    """Seconds per item (the cost of an answer) as floats: ``n`` finite numbers above 0.

    A cost of zero, below zero, NaN or infinite would turn value per second into
    nonsense (a division by zero, a ranking turned upside down), so it is refused
    with a one-line ``ValueError`` naming the first such item.

    Examples
    --------
    >>> check_seconds([1, 2.5], 2).tolist()
    [1.0, 2.5]
    >>> check_seconds([1.0, -2.0, float("nan")], 3)
    Traceback (most recent call last):
    ...
    ValueError: cost must be seconds per item, finite and above 0; item 1 has -2.0 (2 items such).
    """
    s = np.asarray(values, dtype=float)
    if s.shape != (n,):
        raise ValueError(f"{name} must give one value per pool item ({n}), got shape {s.shape}.")
    bad = ~(np.isfinite(s) & (s > 0))
    if bad.any():
        i = int(np.argmax(bad))
        many = f" ({int(bad.sum())} items such)" if bad.sum() > 1 else ""
        raise ValueError(
            f"{name} must be seconds per item, finite and above 0; "
            f"item {i} has {float(s[i])!r}{many}."
        )
    return s


def check_seed(seed: Any, *, name: str = "seed") -> int:
    """A seed as a plain int; ``None`` draws a fresh one (as in numpy and scikit-learn).

    The fresh seed is returned so that a run can record it and be replayed.

    Examples
    --------
    >>> check_seed(3)
    3
    >>> 0 <= check_seed(None) < 2**32
    True
    >>> check_seed(1.5)
    Traceback (most recent call last):
    ...
    ValueError: seed must be a whole number >= 0, or None for a fresh seed; got 1.5.
    """
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(
            f"{name} must be a whole number >= 0, or None for a fresh seed; got {seed!r}."
        )
    return int(seed)


def check_count(value: Any, name: str, *, minimum: int = 1) -> int:
    """A count (``n_items``, ``batch_size``, ...) as a plain int, refusing fractions.

    Examples
    --------
    >>> check_count(10, "n_items")
    10
    >>> check_count(10.5, "n_items")
    Traceback (most recent call last):
    ...
    ValueError: n_items must be a positive whole number, got 10.5.
    >>> check_count(1, "n_items", minimum=2)
    Traceback (most recent call last):
    ...
    ValueError: n_items must be a whole number >= 2, got 1.
    """
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        what = "a positive whole number" if minimum == 1 else f"a whole number >= {minimum}"
        raise ValueError(f"{name} must be {what}, got {value!r}.")
    return int(value)


def check_threads(n: Any) -> None:
    """A one-line ``ValueError`` for a torch thread count torch would refuse.

    Parameters
    ----------
    n : int or None
        Threads asked for; ``None`` keeps torch's setting.

    Raises
    ------
    ValueError
        For 0 or a negative count (``-1`` means "all cores" to scikit-learn's
        ``n_jobs``, but torch refuses it with a ``RuntimeError``).

    Examples
    --------
    >>> check_threads(None), check_threads(2)
    (None, None)
    >>> check_threads(0)
    Traceback (most recent call last):
    ...
    ValueError: n_threads must be >= 1 or None (keep torch's setting), got 0.
    """
    if n is not None and int(n) < 1:
        raise ValueError(f"n_threads must be >= 1 or None (keep torch's setting), got {n}.")
