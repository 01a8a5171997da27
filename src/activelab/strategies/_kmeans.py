"""How many clusters k-means can find in a pool: at most its distinct rows.

scikit-learn's :class:`~sklearn.cluster.KMeans` warns ("Number of distinct
clusters found smaller than n_clusters") when asked for more clusters than the
data has distinct points, as on a pool with repeated rows. The strategies that
cluster cap their cluster count with :func:`cap_clusters` first, so the fit is
well posed and no warning reaches the user; a pool without repeated rows keeps
the count it asked for, and so its picks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["cap_clusters", "distinct_rows"]

#: values hashed at a time (8 MiB of float64 per temporary)
_BLOCK = 1 << 20
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: scatters 64-bit keys (wrapping arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def _row_hashes(Z: Any) -> np.ndarray:
    """One 64-bit key per row; equal rows always share it, distinct ones almost never.

    Each stored value is keyed by its column and its float64 bits (``-0.0`` taken
    as ``0.0``) and the keys are summed per row in wrapping integer arithmetic,
    which is exact and independent of the order of the terms. Costs O(nnz); a dense
    array is hashed in blocks of rows, so the temporaries stay small.
    """
    with np.errstate(over="ignore"):
        if sp.issparse(Z):
            Z = sp.csr_matrix(Z, dtype=np.float64, copy=True)
            Z.sum_duplicates()
            Z.eliminate_zeros()
            bits = (Z.data + 0.0).view(np.uint64)
            keys = _mix(bits ^ _mix(Z.indices.astype(np.uint64) + np.uint64(1)))
            total = np.concatenate([np.zeros(1, dtype=np.uint64), np.cumsum(keys)])
            return total[Z.indptr[1:]] - total[Z.indptr[:-1]]
        D = np.asarray(Z)
        D = D.reshape(D.shape[0], -1)
        column = _mix(np.arange(1, D.shape[1] + 1, dtype=np.uint64))
        step = max(1, _BLOCK // max(D.shape[1], 1))  # bounded temporaries on a wide pool
        out = np.empty(D.shape[0], dtype=np.uint64)
        for start in range(0, D.shape[0], step):
            block = np.ascontiguousarray(D[start : start + step], dtype=np.float64) + 0.0
            keys = _mix(block.view(np.uint64) ^ column)
            out[start : start + step] = keys.sum(axis=1, dtype=np.uint64)
        return out


def distinct_rows(Z: Any) -> int:
    """The number of distinct rows of a dense array or sparse matrix.

    Parameters
    ----------
    Z : array-like or sparse matrix of shape (n_rows, n_features)
        Numeric rows.

    Returns
    -------
    int
        How many rows differ from all others (a 64-bit hash collision, which
        is vanishingly rare, can only make it smaller).

    Examples
    --------
    >>> distinct_rows(np.array([[0.0, 1.0], [0.0, 1.0], [-0.0, 2.0]]))
    2
    """
    if Z.shape[0] == 0:
        return 0
    return int(np.unique(_row_hashes(Z)).shape[0])


def cap_clusters(k: int, Z: Any) -> int:
    """``k``, or the number of distinct rows of ``Z`` where that is smaller.

    Parameters
    ----------
    k : int
        Clusters wanted.
    Z : array-like or sparse matrix of shape (n_rows, n_features)
        The rows to be clustered.

    Returns
    -------
    int
        At least 1 (for a non-empty ``Z``) and at most ``k``.

    Examples
    --------
    >>> cap_clusters(5, np.repeat([[0.0], [1.0]], 4, axis=0))
    2
    >>> cap_clusters(2, np.arange(6.0).reshape(-1, 1))
    2
    """
    k = min(int(k), Z.shape[0])
    if k <= 1:
        return 1
    return max(1, min(k, distinct_rows(Z)))
