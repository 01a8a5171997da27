"""Exact greedy farthest-point selection in bounded memory (private).

Shared by k-center greedy and ranked batch. The squared distance of every
candidate to its nearest *centre* (labelled item or item picked earlier in the
batch) is kept in one vector. The first pass (candidates × labelled) runs in
chunks of candidates against blocks of centres. After each pick, instead of
recomputing all distances (O(pool × features) per pick), the selection is
*lazy*: a stored distance is an upper bound on the current one (adding centres
only shrinks it), so only the candidates whose bound could still win are
brought up to date, and a pick is accepted once its exact value beats every
other candidate's bound. The result is the same as the plain greedy's, with the
same tie-break (lowest candidate position first).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from activelab.scoring import iter_chunks, take_rows

#: Centres compared at a time in the first pass (memory: chunk × block floats).
BLOCK = 256


def sq_norms(Z: Any) -> np.ndarray:
    """Squared Euclidean norm of each row of a dense or sparse matrix."""
    if sp.issparse(Z):
        return np.asarray(Z.multiply(Z).sum(axis=1)).ravel()
    return np.einsum("ij,ij->i", Z, Z)


def _dense(Z: Any) -> np.ndarray:
    return Z.toarray() if sp.issparse(Z) else np.asarray(Z, dtype=float)


def sq_dist(A: Any, a2: np.ndarray, C: np.ndarray, c2: np.ndarray) -> np.ndarray:
    """Squared distances between the rows of ``A`` (dense or sparse) and of ``C``."""
    cross = np.asarray(A @ C.T)
    return np.maximum(a2[:, None] - 2.0 * cross + c2[None, :], 0.0)


class FarthestPoints:
    """Min squared distance of candidates to a growing set of centres.

    Parameters
    ----------
    Z : ndarray or sparse matrix
        The embedding of the pool (or of the rows ``rows`` refers to).
    rows : ndarray of int
        Rows of ``Z`` that are the candidates, in candidate order.
    chunk_size : int
        Candidates per chunk in the first pass.
    """

    def __init__(self, Z: Any, rows: np.ndarray, chunk_size: int) -> None:
        self.Z = Z
        self.rows = np.asarray(rows, dtype=np.int64)
        self.chunk_size = chunk_size
        m = self.rows.shape[0]
        self.sq = np.empty(m)
        for pos, chunk in iter_chunks(Z, self.rows, chunk_size):
            self.sq[pos[0] : pos[-1] + 1] = sq_norms(chunk)
        self.bound = np.full(m, np.inf)
        self.stamp = np.zeros(m, dtype=np.int64)
        self.available = np.ones(m, dtype=bool)
        self.centres: list[np.ndarray] = []

    def add_fixed_centres(self, centre_rows: np.ndarray) -> None:
        """Exact min distance of every candidate to these rows of ``Z`` (chunk × block)."""
        centre_rows = np.asarray(centre_rows, dtype=np.int64)
        if centre_rows.size == 0:
            return
        for start in range(0, centre_rows.shape[0], BLOCK):
            C = _dense(take_rows(self.Z, centre_rows[start : start + BLOCK]))
            c2 = np.einsum("ij,ij->i", C, C)
            for pos, chunk in iter_chunks(self.Z, self.rows, self.chunk_size):
                sl = slice(pos[0], pos[-1] + 1)
                d2 = sq_dist(chunk, self.sq[sl], C, c2).min(axis=1)
                np.minimum(self.bound[sl], d2, out=self.bound[sl])

    def pick(self, position: int) -> None:
        """Make candidate ``position`` a centre."""
        self.available[position] = False
        self.bound[position] = -np.inf
        self.centres.append(_dense(take_rows(self.Z, self.rows[[position]]))[0])
        if len(self.centres) == 1 and np.isinf(self.bound[self.available]).any():
            # first centre with no labelled items: one exact pass gives finite bounds
            self._refresh(np.flatnonzero(self.available))

    def _refresh(self, positions: np.ndarray) -> None:
        if positions.size == 0 or not self.centres:
            return
        start = int(self.stamp[positions].min())
        if start >= len(self.centres):
            return
        C = np.asarray(self.centres[start:])
        c2 = np.einsum("ij,ij->i", C, C)
        for s in range(0, positions.shape[0], self.chunk_size):
            part = positions[s : s + self.chunk_size]
            A = take_rows(self.Z, self.rows[part])
            d2 = sq_dist(A, self.sq[part], C, c2).min(axis=1)
            self.bound[part] = np.minimum(self.bound[part], d2)
        self.stamp[positions] = len(self.centres)

    def argmax(self, key: Callable[[np.ndarray, Any], np.ndarray] | None = None) -> int:
        """Position of the candidate with the largest exact ``key(min sq. distance, where)``.

        ``key(d2, where)`` scores the candidates at positions ``where`` (a slice
        or an index array) from their squared distances ``d2``; it must be
        non-decreasing in the distance (default: the distance itself). Ties go
        to the lowest position.
        """
        m_avail = int(self.available.sum())
        if m_avail == 0:
            raise ValueError("No candidate left to pick.")
        frontier = min(m_avail, 1024)
        while True:
            k = self.bound.copy() if key is None else key(np.maximum(self.bound, 0.0), slice(None))
            k[~self.available] = -np.inf
            if frontier >= k.shape[0]:
                top, out_max = np.arange(k.shape[0]), -np.inf
            else:
                part = np.argpartition(-k, frontier)
                top, out_max = part[:frontier], float(k[part[frontier]])
            top = top[self.available[top]]
            self._refresh(top)
            kt = self.bound[top] if key is None else key(np.maximum(self.bound[top], 0.0), top)
            best_i = np.lexsort((top, -kt))[0]
            best, value = int(top[best_i]), float(kt[best_i])
            if value > out_max:
                return best
            if value == out_max:
                outside = np.ones(k.shape[0], dtype=bool)
                outside[top] = False
                ties = np.flatnonzero(outside & (k == out_max))
                if ties.size == 0 or best < ties[0]:
                    return best
            if frontier >= m_avail:  # pragma: no cover - exact values everywhere
                return best
            frontier = min(m_avail, frontier * 4)
