"""The Yeast multi-label data set, bundled with river (no download)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

__all__ = ["YEAST_LABELS", "load_yeast"]

#: Label names of Yeast, in the column order of :func:`load_yeast`'s ``Y``.
YEAST_LABELS: tuple[str, ...] = tuple(f"Class{i}" for i in range(1, 15))
_YEAST_FEATURES: tuple[str, ...] = tuple(f"Att{i}" for i in range(1, 104))


def load_yeast() -> tuple[np.ndarray, np.ndarray]:
    """Yeast gene functions: 2,417 genes × 103 features, 14 functional classes.

    Read from the CSV file bundled inside the ``river`` package (Elisseeff &
    Weston 2002; the MULAN version), the same values ``river.datasets.Yeast()``
    yields, parsed with numpy (a fraction of a second; river itself is not
    imported). Columns are in a fixed order, looked up by name: features
    ``Att1 … Att103``, labels ``Class1 … Class14`` (:data:`YEAST_LABELS`).

    Returns
    -------
    X : ndarray of float64, shape (2417, 103)
    Y : ndarray of int64, shape (2417, 14)
        0/1 indicator matrix.

    Raises
    ------
    ImportError
        When river is not installed, with the install command.

    Examples
    --------
    >>> X, Y = load_yeast()
    >>> X.shape, Y.shape
    ((2417, 103), (2417, 14))
    >>> Y[:, :3].sum(axis=0).tolist()
    [762, 1038, 983]
    """
    import gzip

    path = _yeast_path()
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        header = fh.readline().strip().split(",")
        missing = [c for c in (*_YEAST_FEATURES, *YEAST_LABELS) if c not in header]
        if missing:
            raise ValueError(f"{path} lacks the columns {missing[:3]}; reinstall river.")
        table = np.loadtxt(fh, delimiter=",", dtype=np.float64, ndmin=2)
    X = table[:, [header.index(c) for c in _YEAST_FEATURES]]
    Y = table[:, [header.index(c) for c in YEAST_LABELS]]
    # river reads a label as present when its field is exactly "1".
    return np.ascontiguousarray(X), (Y == 1).astype(np.int64)


def _yeast_path() -> Path:
    """The bundled CSV, found without importing river (whose import takes seconds)."""
    spec = importlib.util.find_spec("river")
    if spec is None:
        raise ImportError(
            "load_yeast reads the copy of Yeast bundled with river, which is not installed; "
            "install it with `pip install 'activelab[data]'` (or `pip install river`)."
        )
    for root in spec.submodule_search_locations or ():
        candidate = Path(root) / "datasets" / "yeast.csv.gz"
        if candidate.is_file():
            return candidate
    from river import datasets  # an unusual layout: ask river itself

    return Path(datasets.Yeast().path)
