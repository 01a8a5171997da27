"""The streams that ship inside installed packages, as arrays in arrival order.

========================  =============================================================
``phishing``              river's Phishing (1,250 web pages, 9 features, 2 classes).
``sea-drift``             river's SEA generator: ``x1 + x2 <= 8`` (variant 0) turning
                          into ``x1 + x2 <= 9.5`` (variant 3) halfway, through
                          ``ConceptDriftStream``; 3 features, the third is noise.
``agrawal-drift``         river's Agrawal loan generator (9 features): classification
                          function 0 (a rule on age) turning into function 4 (a
                          rule on the loan, far from the first rule's boundary).
========================  =============================================================

Needs the ``[data]`` extra (river). Nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["STREAMS", "Stream", "load_stream"]

STREAMS = ("phishing", "sea-drift", "agrawal-drift")


@dataclass
class Stream:
    """A labelled stream, in arrival order.

    Attributes
    ----------
    name : str
    X : ndarray of shape (n_items, n_features)
    y : ndarray of shape (n_items,)
    feature_names : list of str
    classes : ndarray
    drift_at : int or None
        The centre of the concept drift (None when there is none).
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    feature_names: list[Any]
    classes: np.ndarray
    drift_at: int | None = None

    def __len__(self) -> int:
        return len(self.y)


def _river() -> Any:
    try:
        import river  # noqa: F401
    except ModuleNotFoundError as exc:  # pragma: no cover - exercised without the extra
        raise ModuleNotFoundError(
            "The bundled streams need river: pip install 'activelab[data]'"
        ) from exc
    import river.datasets

    return river.datasets


def _to_arrays(pairs: Any) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    xs, ys = [], []
    names: list[Any] | None = None
    for x, y in pairs:
        if names is None:
            names = list(x)
        xs.append([x[k] for k in names])
        ys.append(y)
    return np.asarray(xs, dtype=float), np.asarray(ys), names or []


def load_stream(
    name: str,
    *,
    n_items: int | None = None,
    seed: int = 0,
    drift_width: int = 50,
) -> Stream:
    """Load a bundled stream by name.

    Parameters
    ----------
    name : {"phishing", "sea-drift", "agrawal-drift"}
    n_items : int, optional
        Items of a synthetic stream (default 20,000; the drift is at its
        middle). Phishing has 1,250 items; a smaller ``n_items`` cuts it.
    seed : int, default=0
        Seeds the synthetic generators.
    drift_width : int, default=50
        Items over which the synthetic drift happens (at least ``n_items / 350``:
        river's drift sigmoid overflows for sharper drifts far into a stream).

    Examples
    --------
    >>> s = load_stream("phishing")
    >>> s.X.shape, s.classes.tolist()
    ((1250, 9), [False, True])
    >>> load_stream("sea-drift", n_items=1000, seed=1).drift_at
    500
    """
    ds = _river()
    if name == "phishing":
        X, y, names = _to_arrays(ds.Phishing())
        if n_items is not None:
            X, y = X[:n_items], y[:n_items]
        return Stream(name, X, y, names, np.unique(y))
    if name not in STREAMS:
        raise ValueError(f"Unknown stream {name!r}; choose one of {list(STREAMS)} or a CSV file.")
    n = 20_000 if n_items is None else int(n_items)
    if n < 2:
        raise ValueError(f"n_items must be at least 2, got {n_items!r}.")
    at = n // 2
    synth = ds.synth
    if name == "sea-drift":
        before = synth.SEA(variant=0, seed=seed)
        after = synth.SEA(variant=3, seed=seed + 1)
    else:
        before = synth.Agrawal(classification_function=0, seed=seed)
        after = synth.Agrawal(classification_function=4, seed=seed + 1)
    # river's sigmoid overflows math.exp when position / width > ~177: widen the drift then
    width = max(int(drift_width), -(-4 * at // 700))
    gen = synth.ConceptDriftStream(
        stream=before, drift_stream=after, position=at, width=width, seed=seed
    )
    X, y, names = _to_arrays(gen.take(n))
    return Stream(name, X, y, names, np.unique(y), drift_at=at)
