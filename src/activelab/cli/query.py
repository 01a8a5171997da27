"""``activelab query``: rank a pool file with a fitted model, in-process or on Dask."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import click

from activelab._text import count
from activelab.cli._outfile import plain_out

__all__ = ["query"]

#: The strategy used when ``--strategy`` is not given, by the model's task. Regression takes
#: the simulator's default (``gsx``); for multi-label the simulator's ``mmc`` fits models of
#: its own, which a saved model cannot serve, so ``mean_entropy`` (which also beat random on
#: the multi-label benchmark of docs/multilabel.md) ranks instead; classification keeps
#: ``margin``, which needs only the fitted model (``auto`` learns from labels it lacks here).
_DEFAULT_STRATEGY = {
    "classification": "margin",
    "regression": "gsx",
    "multilabel": "mean_entropy",
}


def _stderr_is_terminal() -> bool:
    """Whether standard error is a terminal (a progress bar is shown there, not in a log)."""
    import sys

    return sys.stderr.isatty()


def _task_of(model: Any, X: Any) -> str:
    """The task of a fitted ``model``: ``"regression"``, ``"multilabel"`` or ``"classification"``.

    A regressor says so itself; a multi-label classifier is told by its prediction for the
    pool's first row (an indicator row is 2-D), as :func:`activelab.ranking.rank_pool` does.
    A row the model cannot predict reads as classification: ranking the pool then names
    what is wrong with it.

    Parameters
    ----------
    model : estimator
        The fitted model, as it scores the pool.
    X : array-like
        The pool, as the model reads it.

    Returns
    -------
    str
        The task, a key of :data:`_DEFAULT_STRATEGY`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> X = np.arange(8.0).reshape(4, 2)
    >>> _task_of(LinearRegression().fit(X, [0.0, 1, 2, 3]), X)
    'regression'
    >>> _task_of(LogisticRegression().fit(X, [0, 0, 1, 1]), X)
    'classification'
    """
    from sklearn.base import is_regressor

    from activelab.multilabel._model import _predicts_label_sets

    if is_regressor(model):
        return "regression"
    with warnings.catch_warnings():  # the columns were picked by name
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        # a Dask frame's first row comes back named, where the workers score its values
        warnings.filterwarnings("ignore", message="X has feature names, but")
        try:
            multi = _predicts_label_sets(model, X)
        except (ValueError, TypeError):  # a bad pool: ranking it says what is wrong
            return "classification"
    return "multilabel" if multi else "classification"


def _in_model_order(columns: tuple[str, ...], named: list[str] | None) -> list[str]:
    """``--column`` as the model reads it: its own columns in its order, or one per column.

    A model that names its columns (``feature_names_in_``) is fed a matrix, so the
    given columns must line up with its own: the same names in another order are put
    in the model's order; other names (a pool whose columns are named otherwise) are
    taken place by place, and a model column given at another place is refused, as is
    a count that differs from the model's.

    Parameters
    ----------
    columns : tuple of str
        ``--column``, in the order given.
    named : list of str or None
        The model's own columns, in order; None when it does not name them.

    Returns
    -------
    list of str
        The pool's columns to read, in the order the model reads them.

    Examples
    --------
    >>> _in_model_order(("age", "amount"), ["amount", "age"])
    ['amount', 'age']
    >>> _in_model_order(("amt", "years"), ["amount", "age"])
    ['amt', 'years']
    """
    given = list(columns)
    if named is None or given == named:
        return given
    if len(given) != len(named):
        raise click.BadParameter(
            f"{len(given)} column(s) given, {given}, but the model reads {len(named)}: {named}. "
            "Leave out --column to read the model's own, or give one column per model column, "
            "in its order.",
            param_hint="--column",
        )
    if sorted(given) == sorted(named):
        return list(named)
    moved = [c for i, c in enumerate(given) if c in named and named.index(c) != i]
    if moved:
        raise click.BadParameter(
            f"{moved[0]!r} is column {named.index(moved[0]) + 1} of the model's {named} but "
            f"given as column {given.index(moved[0]) + 1}; give the columns in the model's order.",
            param_hint="--column",
        )
    return given


def _read_pool(
    path: Path,
    columns: tuple[str, ...],
    on_dask: bool,
    named: list[str] | None = None,
    categorical: list[str] | None = None,
) -> Any:
    """The pool's feature matrix: ``columns``, else the model's ``named`` columns, else all.

    With ``categorical`` (a table project's model reads columns of categories), the table
    itself, those columns kept as they are.
    """
    import numpy as np

    from activelab._validation import non_numeric_columns

    parts, suffix = _parts_and_suffix(path, ".parquet, .csv or .npy file")
    if suffix == ".npy":
        array = _unreadable_as_one_line(path, "a NumPy .npy array", np.load, path, mmap_mode="r")
        if on_dask:
            return _npy_on_workers(path, array)
        return array
    if suffix not in (".parquet", ".csv"):
        raise click.BadParameter(f"{path}: use a .parquet, .csv or .npy file.", param_hint="--pool")
    if suffix == ".parquet":
        _refuse_repeated_parquet_columns(parts if parts is not None else [path])
    if on_dask:
        import dask.dataframe as dd

        read = dd.read_parquet if suffix == ".parquet" else dd.read_csv
    else:
        import pandas as pd

        read = pd.read_parquet if suffix == ".parquet" else pd.read_csv
    csv_options, header, width = _csv_start(path)
    options: dict[str, Any] = {**csv_options}
    if on_dask and suffix == ".csv":
        # Dask guesses each column's type from the file's first rows; a column of whole
        # numbers there and a decimal (or an empty cell) further on failed the query on a
        # worker. The pool is read as floats in the end, so integers are read as floats.
        options["assume_missing"] = True
    if suffix == ".csv":
        options.update(_names_past_header(header, width))
    if parts is None or (on_dask and suffix == ".parquet"):
        source: Any = path  # Dask orders Parquet parts by their numbers itself
    else:
        source = [str(p) for p in parts]  # Dask reads CSV parts in the order given
    if parts is not None and suffix == ".csv":
        _same_csv_header(parts, options.get("sep", ","))
    if parts is not None and suffix == ".csv" and not on_dask:
        frame = _read_parts(parts, _KINDS[".csv"], read, options)  # a bad part is named
    else:
        frame = _unreadable_as_one_line(path, _KINDS[suffix], read, source, **options)
    frame = _without_unnamed(frame, path, on_dask, header)
    if suffix == ".csv":
        frame = _stripped_names(frame, path)
    if not on_dask:  # a Dask pool's rows are counted where it is scored
        _refuse_no_rows(frame, path)
    if columns:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise click.BadParameter(
                f"{path} has no column {missing[0]!r}; it has {list(frame.columns)}.",
                param_hint="--column",
            )
        frame = frame[_in_model_order(columns, named)]
    elif named:
        missing = [c for c in named if c not in frame.columns]
        if missing:
            raise click.ClickException(
                f"{path} lacks the model's feature column(s) {missing}; it has "
                f"{list(frame.columns)}. Give the columns in the model's order with --column."
            )
        frame = frame[named]
    bad = [c for c in non_numeric_columns(frame) if c not in (categorical or [])]
    if bad:
        raise click.ClickException(
            f"{path}: column(s) {bad} are not numeric; name the feature columns with --column "
            "(repeat it)."
        )
    if on_dask or categorical:
        return frame
    return frame.to_numpy(dtype=_float_dtype(frame))


def _float_dtype(frame: Any) -> Any:
    """``float32`` for a table whose columns are all float32, else ``float`` (float64).

    A float32 pool (embeddings, features saved as float32) is ranked as it is stored, as
    a float32 ``.npy`` pool is, rather than as a float64 copy twice its size.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> _float_dtype(pd.DataFrame({"a": np.zeros(2, np.float32)}))
    <class 'numpy.float32'>
    >>> _float_dtype(pd.DataFrame({"a": np.zeros(2, np.float32), "b": [1, 2]}))
    <class 'float'>
    """
    import numpy as np

    kinds = {str(dtype) for dtype in frame.dtypes}
    return np.float32 if kinds == {"float32"} else float


def _parts_and_suffix(path: Path, files: str) -> tuple[list[Path] | None, str]:
    """``--pool``'s parts (:func:`_pool_parts`) and the suffix of the files it names.

    Parameters
    ----------
    path : Path
        ``--pool``: a file, a folder of Parquet parts or a pattern of parts.
    files : str
        The single files the command reads (".parquet, .csv or .npy file"), named when
        ``path`` names none.

    Raises
    ------
    click.BadParameter
        For a path that does not exist, or a folder or pattern without parts.
    """
    suffix = path.suffix.lower()
    if not path.exists() and "*" not in str(path):
        raise click.BadParameter(f"{path} does not exist.", param_hint="--pool")
    parts = _pool_parts(path)
    if parts is not None:
        suffix = ".csv" if "*" in str(path) and suffix == ".csv" else ".parquet"
        if not parts:
            raise click.BadParameter(
                f"{path}: no {suffix} file there; give a {files}, or a folder or pattern of "
                "parts (parts/*.parquet, parts/*.csv).",
                param_hint="--pool",
            )
    elif "*" in str(path):
        raise click.BadParameter(
            f"{path}: a pattern names parts of a .parquet or .csv pool (parts/*.parquet, "
            f"parts/*.csv); give a {files}, or save the parts as .parquet or .csv.",
            param_hint="--pool",
        )
    return parts, suffix


def _pool_parts(path: Path) -> list[Path] | None:
    """The files of a pool given as parts (a folder of Parquet parts, or a pattern of
    Parquet or CSV parts), in Dask's order of the parts as they were written.

    Parts are numbered as they were written (``part.0.parquet`` ... ``part.11.parquet``, as
    ``dask.dataframe.to_parquet`` writes them, ``0.csv`` ... ``11.csv`` by ``to_csv``); read
    in the order of their names, part 10 would come before part 2, and the row numbers of a
    query in this process would not be those of the same query with ``--dask``. Both read
    the parts in natural order (numbers in names compared as numbers), as Dask reads
    Parquet parts; CSV parts are handed to Dask in that order.

    Parameters
    ----------
    path : Path
        ``--pool``.

    Returns
    -------
    list of Path or None
        The parts (empty when there are none); None for a single file, a folder of Hive
        partitions (read by pyarrow as it is), or a pattern of other files.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for i in (0, 1, 2, 10):
    ...     _ = (folder / f"part.{i}.parquet").write_bytes(b"")
    ...     _ = (folder / f"{i}.csv").write_bytes(b"")
    >>> [p.name for p in _pool_parts(folder)]
    ['part.0.parquet', 'part.1.parquet', 'part.2.parquet', 'part.10.parquet']
    >>> [p.name for p in _pool_parts(folder / "*.csv")]
    ['0.csv', '1.csv', '2.csv', '10.csv']
    """
    import re

    if "*" in str(path):
        if path.suffix.lower() not in (".parquet", ".csv"):
            return None
        found = [p for p in path.parent.glob(path.name) if p.is_file()]
    elif path.is_dir():
        if any(p.is_dir() and not p.name.startswith((".", "_")) for p in path.iterdir()):
            return None  # partitioned by the values of columns: pyarrow reads them
        found = [
            p
            for p in path.iterdir()
            if p.is_file() and p.suffix.lower() == ".parquet" and not p.name.startswith((".", "_"))
        ]
    else:
        return None

    def natural(p: Path) -> list[Any]:
        return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(p))]

    return sorted(found, key=natural)


def _same_csv_header(parts: list[Path], sep: str) -> None:
    """Refuse CSV parts whose header rows differ, naming the first part that differs.

    Each part of a CSV pool starts with its header row (as ``dask.dataframe.to_csv``
    writes them); parts with other columns, or the same in another order, would be read
    into the wrong columns, or as rows of text.

    Raises
    ------
    click.ClickException
        Naming the part, its header and the first part's.
    """

    def header(part: Path) -> list[str]:
        if part.stat().st_size == 0:
            raise click.ClickException(
                f"{part} is empty; every part of a CSV pool starts with its header row."
            )
        return _header_row(part, sep)

    first = header(parts[0])
    for part in parts[1:]:
        other = header(part)
        if other != first:
            raise click.ClickException(
                f"{part}: its header row {other} differs from {parts[0].name}'s {first}; every "
                "part of a CSV pool needs the same columns in the same order."
            )


def _read_parts(parts: list[Path], kind: str, read: Any, options: dict[str, Any]) -> Any:
    """The parts read one after the other into one table, numbered 0, 1, ... throughout
    (a part that cannot be read as ``kind`` is named in one line)."""
    import pandas as pd

    frames = [_unreadable_as_one_line(p, kind, read, p, **options) for p in parts]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _killed_worker() -> tuple[type[BaseException], ...]:
    """Dask's ``KilledWorker`` (a task whose every worker died), or nothing without Dask."""
    try:
        from distributed import KilledWorker
    except ModuleNotFoundError:  # pragma: no cover - without the [dask] extra
        return ()
    return (KilledWorker,)


def _worker_died(spec: str | None, exc: Any) -> str:
    """One line for a query whose task killed every worker that ran it (``KilledWorker``).

    Parameters
    ----------
    spec : str or None
        ``--dask`` as given.
    exc : distributed.KilledWorker
        The error: its task, its last worker and how many times the task was retried.

    Returns
    -------
    str
        What happened, the likely cause (memory) with the worker's limit, and the fixes.
    """
    from dask.utils import format_bytes

    limit = getattr(exc.last_worker, "memory_limit", None)
    shown = format_bytes(limit) if limit else None
    tries = exc.allowed_failures + 1  # Dask's distributed.scheduler.allowed-failures, plus one
    if tries == 1:
        died, within = "the worker died the one time it ran", f" (its limit: {shown})"
    else:
        died, within = (
            f"a worker died each of the {tries} times it ran",
            f" (their limit: {shown} each)",
        )
    within = within if shown else ""
    return (
        f"--dask {spec}: {died} one "
        f"task of the query ({str(exc.task)[:60]}), most often by running out of memory"
        f"{within}; give the workers more memory (dask worker --memory-limit) or store the pool "
        "in smaller parts (Parquet row groups or files; a .npy pool is read in blocks of at "
        "most 128 MiB)."
    )


#: the most rows in one block of a pool read on the workers, and the most bytes
_BLOCK_ROWS = 250_000
_BLOCK_BYTES = 128 * 2**20


def _npy_on_workers(path: Path, array: Any) -> Any:
    """A .npy pool as a Dask array whose blocks the workers read from the file itself.

    ``dask.array.from_array`` on the memory-mapped file would put the whole pool into the
    task graph, sent from this machine; here each block is a task that opens the file
    (at the same path on every worker, as a Parquet or CSV pool is read) and reads its
    own rows. A block holds at most :data:`_BLOCK_ROWS` rows and :data:`_BLOCK_BYTES`
    bytes, so a wide pool (embeddings) is cut into more blocks.

    Parameters
    ----------
    path : Path
        The .npy file.
    array : numpy.memmap
        The file opened in this process (its shape and dtype; nothing is read from it).

    Returns
    -------
    dask.array.Array
        The pool, as the file holds it.
    """
    import dask
    import dask.array as da

    if array.ndim != 2:  # refused, in one line, where the pool is checked
        return da.from_array(array)
    n, width = array.shape
    rows = max(1, min(_BLOCK_ROWS, _BLOCK_BYTES // max(1, width * array.dtype.itemsize)))
    where = str(path.resolve())
    blocks = [
        da.from_delayed(
            dask.delayed(_npy_rows, pure=True)(where, lo, min(lo + rows, n)),
            shape=(min(lo + rows, n) - lo, width),
            dtype=array.dtype,
        )
        for lo in range(0, n, rows)
    ]
    return da.concatenate(blocks, axis=0) if blocks else da.from_array(array)


def _npy_rows(path: str, start: int, stop: int) -> Any:
    """Rows ``start`` to ``stop`` of the .npy file at ``path``, read on a worker."""
    import numpy as np

    return np.array(np.load(path, mmap_mode="r")[start:stop])


#: what a pool file of each suffix should be, for the one-line error when it cannot be read
_KINDS = {
    ".csv": "CSV text with a header row",
    ".parquet": "a Parquet file",
    ".jsonl": "JSON Lines text",
    ".ndjson": "JSON Lines text",
}


def _without_unnamed(
    frame: Any, path: Path, on_dask: bool = False, header: list[str] | None = None
) -> Any:
    """A pool table without its columns that have no name, refusing one that holds values.

    A CSV's header row is read as it is (pandas names an empty header cell ``Unnamed: N``,
    and the index ``DataFrame.to_csv()`` writes first is one); a Parquet file's columns that
    pandas named so have no name either (a JSON Lines key without a name is refused, or
    left out, as the file is read: :func:`activelab._jsonl.json_lines`). See
    :func:`activelab.data.csvfile.without_unnamed_columns`; on Dask a value is named by its
    column only, as finding its row would read the pool once more. ``header`` is a CSV
    pool's header row as it is written (:func:`_csv_start`).

    Raises
    ------
    click.ClickException
        Naming the row, the column and the fix.
    """
    from activelab.data.csvfile import unnamed_columns, unnamed_value_message
    from activelab.data.csvfile import without_unnamed_columns as without

    suffix = path.suffix.lower()
    names = [str(c) for c in frame.columns]
    written: list[Any] = names
    saver, pandas_names = None, False
    if suffix == ".csv":
        written, saver = _csv_header(header, len(names)), "to_csv"
    elif suffix == ".parquet":  # no header row is left: the names pandas gave
        pandas_names = True
    unnamed = unnamed_columns(written, pandas_names=pandas_names)
    if not unnamed:
        return frame
    try:
        if not on_dask:
            where = lambda r: f"{path}, data row {r + 1}"  # noqa: E731
            return without(frame, written, where, saver, pandas_names=pandas_names)
        filled = frame[[names[c] for c in unnamed]].notnull().any().compute().to_numpy()
        if filled.any():
            column = unnamed[int(filled.argmax())]
            raise ValueError(unnamed_value_message(str(path), column, written, saver))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    return frame[[n for c, n in enumerate(names) if c not in unnamed]]


def _csv_header(header: list[str] | None, width: int) -> list[Any]:
    """The names a CSV pool's header row writes (``header``, of the first file of a
    pattern), as they are: ``""`` for a column without one, and for the cells past the
    header of rows wider than it. ``width`` names when it was not read."""
    if header is None:
        return ["name"] * width
    if len(header) < width:  # read with the names of :func:`_names_past_header`
        header = [*header, *[""] * (width - len(header))]
    return header if len(header) == width else ["name"] * width


def _names_past_header(header: list[str] | None, width: int) -> dict[str, Any]:
    """``read_csv`` options naming the cells past the header of a CSV pool whose first row
    (``width`` cells) is wider than its ``header`` row (a spreadsheet's trailing empty
    cells), else none.

    Read without them, pandas and Dask take the first cells of each row for the index
    and every column is shifted; named ``Unnamed: N`` they are columns without a name,
    left out when empty (:func:`_without_unnamed`)."""
    if not header or width <= len(header):
        return {}
    names = [h if h.strip() else f"Unnamed: {j}" for j, h in enumerate(header)]
    past = [f"Unnamed: {j}" for j in range(len(header), width)]
    return {"header": 0, "names": [*names, *past]}


def _header_row(file: Path, sep: str) -> list[str]:
    """A CSV file's first row as it is written (``[]`` for an empty file)."""
    import csv

    with file.open(newline="", encoding="utf-8-sig", errors="replace") as f:
        return next(csv.reader(f, delimiter=sep), [])


def _first_file(path: Path) -> Path | None:
    """``path``, or the first file its pattern names; ``None`` when there is none."""
    first = path if path.exists() else next(iter(sorted(path.parent.glob(path.name))), None)
    return first if first is not None and first.is_file() else None


def _csv_start(path: Path) -> tuple[dict[str, str], list[str] | None, int]:
    """What a CSV pool's first file (the first file of a pattern) opens with, read once.

    Returns
    -------
    (dict, list or None, int)
        ``sep`` and ``decimal`` as the project's other readers take them
        (:func:`activelab.data.csvfile.csv_format`), the header row as it is written, and
        the number of cells of the first row after it (blank lines passed over, as
        :func:`activelab.data.csvfile.first_row_width` counts them); ``({}, None, 0)``
        for a pool that is no CSV, or a pattern that names no file.
    """
    if path.suffix.lower() != ".csv":
        return {}, None, 0
    import csv
    import itertools

    from activelab.data.csvfile import csv_format

    first = _first_file(path)
    if first is None:
        return {}, None, 0
    with first.open(newline="", encoding="utf-8-sig", errors="replace") as f:
        line = f.readline()
        sep, decimal = csv_format(first, line)
        rows = csv.reader(itertools.chain([line], f), delimiter=sep)
        header = next(rows, [])
        width = len(next((row for row in rows if row), []))
    return {"sep": sep, "decimal": decimal}, header, width


def _refuse_repeated_parquet_columns(files: list[Path]) -> None:
    """Stop in one line on a Parquet file (a pool, or a part of one) naming a column twice,
    before pyarrow's many-line refusal; each file's schema is its footer alone."""
    from activelab.data.csvfile import refuse_repeated_parquet_columns

    try:
        for file in files:
            refuse_repeated_parquet_columns(file)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _unreadable_as_one_line(path: Path, kind: str, read: Any, *args: Any, **kwargs: Any) -> Any:
    """``read(*args, **kwargs)``, a file that cannot be read as ``kind`` stopping in one line.

    Parameters
    ----------
    path : Path
        The file, named in the error.
    kind : str
        What the file should be ("CSV text with a header row"), named in the error.
    read : callable
        The reader (``pandas.read_csv``, ``numpy.load`` ...).
    *args, **kwargs
        Passed to ``read``.

    Returns
    -------
    Any
        What ``read`` returns.

    Raises
    ------
    click.ClickException
        When the file is empty, not UTF-8 text, or not of its kind.
    """
    if path.is_file() and path.stat().st_size == 0:
        raise click.ClickException(f"{path} is empty; the pool needs {kind}.")
    try:
        return read(*args, **kwargs)
    except UnicodeDecodeError as exc:
        raise click.ClickException(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save the file as UTF-8."
        ) from None
    except (ValueError, OSError) as exc:  # pandas/pyarrow/numpy parse errors subclass these
        if isinstance(exc, OSError) and exc.filename is not None and not path.exists():
            raise
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise click.ClickException(
            f"{path} cannot be read as {kind} ({detail}); check the file, or save the pool "
            "as .parquet, .csv or .npy."
        ) from None


def _load_model(path: Path) -> Any:
    """The fitted model in the joblib file ``path``; anything else stops in one line.

    Parameters
    ----------
    path : Path
        A file written by ``joblib.dump`` (``activelab model`` writes one).

    Returns
    -------
    Any
        The model: an object with ``predict``.

    Raises
    ------
    click.ClickException
        When the file is not a joblib file, or holds something other than a model.
    ModuleNotFoundError
        When the model needs a package that is not installed (an optional extra: the
        command line names the pip command).
    """
    import joblib

    from activelab.cli._extras import extra_for

    fix = "give a model saved with joblib, e.g. by `activelab model PROJECT --out model.joblib`"
    try:
        model = joblib.load(path)
    except ModuleNotFoundError as exc:
        if extra_for(exc, "query") is not None:
            raise
        if all(part.isidentifier() for part in str(exc.name).split(".")):
            raise click.ClickException(
                f"{path}: the model needs the module {exc.name!r}, which is not installed; "
                "install it, or save the model where it was fitted with the same packages."
            ) from None
        raise click.ClickException(f"{path} is not a joblib model file; {fix}.") from None
    except IsADirectoryError:
        raise click.ClickException(f"--model {path} is a folder; {fix}.") from None
    except Exception as exc:  # pickle raises many kinds on a file that is not a pickle
        raise click.ClickException(
            f"{path} is not a joblib model file ({type(exc).__name__}); {fix}."
        ) from None
    if not hasattr(model, "predict"):
        raise click.ClickException(
            f"{path} holds a {type(model).__name__}, not a fitted model; {fix}."
        )
    return model


def _capped(n: int, X: Any, skip: Any) -> int:
    """``n``, or the number of rows left to rank when the pool has fewer (said on stderr)."""
    import numpy as np

    rows = X.shape[0] if hasattr(X, "shape") else None
    if not isinstance(rows, int | np.integer):
        return n  # a Dask collection of unknown length: the strategy checks
    rows = int(rows)
    skip = np.asarray([] if skip is None else skip, dtype=np.int64)
    excluded = skip[(skip >= 0) & (skip < rows)].size
    left = rows - excluded
    if 0 < left < n:
        click.echo(
            f"The pool has {count(left, 'row')} to rank, fewer than -n {n}: "
            f"{'that one' if left == 1 else 'all of them'}.",
            err=True,
        )
        return left
    return n


def _read_exclude(path: Path) -> Any:
    """The pool row numbers listed in ``path``, one per line (blank lines skipped).

    Parameters
    ----------
    path : Path
        A text file of whole numbers.

    Returns
    -------
    numpy.ndarray
        The row numbers, as int64.

    Raises
    ------
    click.ClickException
        Naming the first line that is not a whole number.
    """
    import numpy as np

    try:
        # utf-8-sig: a byte-order mark (Windows Notepad's UTF-8) before the first number
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise click.ClickException(
            f"--exclude {path}: not UTF-8 text; give a text file of pool row numbers, one per line."
        ) from None
    rows: list[int] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(int(line.strip()))
        except ValueError:
            raise click.ClickException(
                f"--exclude {path}, line {number}: {line.strip()[:40]!r} is not a row number; "
                "the file lists pool row numbers (0, 1, ...), one per line."
            ) from None
    return np.unique(np.asarray(rows, dtype=np.int64))  # a row listed twice is left out once


def _raw_input(model: Any) -> str | None:
    """How a model of raw items takes its pool: ``"pipeline"`` (a text featuriser, then the
    classifier: featurise once, rank with the classifier), ``"frame"`` (a one-column
    DataFrame of texts), ``"images"`` (image files, read by the model's first step), or
    None for a model of numeric features."""
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        first = model.steps[0][1]
        if type(first).__name__ == "ImagePixels":
            return "images"
        if hasattr(first, "vocabulary_") or type(first).__name__ == "TextEmbedder":
            return "pipeline"
        return None
    return "frame" if type(model).__name__ == "FineTunedTextClassifier" else None


def _categorical(model: Any) -> list[str]:
    """The columns of categories a table project's model reads (its first step's), else []."""
    steps = getattr(model, "steps", None)
    first = steps[0][1] if steps else None
    return [str(c) for c in getattr(first, "categorical", ()) or ()]


def _featurise_on_workers(frame: Any, model: Any) -> tuple[Any, Any]:
    """A Dask table put through the model's first step partition by partition, and the rest.

    A table project's model reads columns of categories, which a Dask pool (numbers only)
    cannot hold: each partition becomes its feature matrix on the workers.
    """
    import numpy as np
    import pandas as pd

    first = model.steps[0][1]
    names = [str(n) for n in first.get_feature_names_out()]

    def features(part: Any) -> Any:
        return pd.DataFrame(first.transform(part), index=part.index, columns=names)

    meta = pd.DataFrame({n: np.empty(0, dtype=np.float64) for n in names})
    return frame.map_partitions(features, meta=meta), model[1:]


def _image_files(folder: Path) -> list[str]:
    """The PNG/JPEG files under ``folder``, relative to it and sorted, as init lists them."""
    from activelab.app.ingest import IngestError, image_files

    if not folder.is_dir():
        raise click.BadParameter(
            f"{folder}: an image model ranks a folder of PNG/JPEG images; give the folder.",
            param_hint="--pool",
        )
    try:
        return [p.relative_to(folder).as_posix() for p in image_files(folder)]
    except IngestError as exc:
        raise click.ClickException(str(exc)) from exc


def _read_texts(path: Path, column: str) -> list[str]:
    """The texts of a pool file's ``column`` (CSV, JSON Lines or Parquet)."""
    import pandas as pd

    files = ".csv, .jsonl or .parquet file"
    parts, suffix = _parts_and_suffix(path, files)
    options, header, width = _csv_start(path)  # none but for a CSV
    lines = None  # the line of each row of a JSON Lines file
    if suffix == ".parquet":
        _refuse_repeated_parquet_columns(parts if parts is not None else [path])
        if parts is not None:  # in the order they are numbered, as a numeric pool's
            frame = _read_parts(parts, _KINDS[suffix], pd.read_parquet, {})
        else:
            frame = _unreadable_as_one_line(path, _KINDS[suffix], pd.read_parquet, path)
    elif suffix in (".jsonl", ".ndjson"):
        from activelab._jsonl import json_records

        # the one reader of JSON Lines: pandas' would keep the last value of a key given twice
        lines, records = json_records(path, click.ClickException)
        frame = pd.DataFrame.from_records(records)
    elif suffix == ".csv":
        options = {"keep_default_na": False, **options}
        options.update(_names_past_header(header, width))
        if parts is not None:
            _same_csv_header(parts, options.get("sep", ","))
            frame = _read_parts(parts, _KINDS[suffix], pd.read_csv, options)
        else:
            frame = _unreadable_as_one_line(path, _KINDS[suffix], pd.read_csv, path, **options)
    else:
        raise click.BadParameter(
            f"{path}: a text model's pool is a .csv, .jsonl or .parquet file with a "
            f"{column!r} column.",
            param_hint="--pool",
        )
    frame = _without_unnamed(frame, path, header=header)
    if suffix == ".csv":
        frame = _stripped_names(frame, path)
    _refuse_no_rows(frame, path)
    if column not in frame.columns:
        raise click.ClickException(
            f"{path} has no text column {column!r}; it has {list(frame.columns)}. The model "
            "predicts from raw texts: name their column with --text-column."
        )
    texts = frame[column]
    missing = texts.isna().to_numpy()  # a JSON record without the key, or with null
    if missing.any():
        r = int(missing.argmax())
        where = f"line {lines[r]}" if lines is not None else f"data row {r + 1}"
        raise click.ClickException(
            f"{path}, {where}: no text in column {column!r} ({count(int(missing.sum()), 'row')} "
            "without one); give every row of the pool a text, or leave the row out."
        )
    return texts.astype(str).tolist()


def _stripped_names(frame: Any, path: Path) -> Any:
    """A CSV pool's table with the spaces around its column names taken off (``a, b``
    names ``b``), as ``activelab init`` read the project's items, whose names a table
    project's model keeps (:func:`activelab.data.csvfile.stripped_names`); two names that
    become one are refused."""
    from activelab.data.csvfile import stripped_names

    try:
        return stripped_names(frame, str(path))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _refuse_no_rows(frame: Any, path: Path) -> None:
    """Refuse a pool table without a row (a header row alone), in one line."""
    if len(frame) == 0:
        raise click.ClickException(f"{path}: a header but no rows; the pool needs rows to rank.")


def _raw_pool(model: Any, raw: str, path: Path, text_column: str) -> tuple[Any, Any, Any]:
    """A pool of raw items read for a model of raw items (:func:`_raw_input`): the pool as
    the classifier scores it, that classifier, and the image files' names (None for texts)."""
    if raw == "images":  # an image project's model: the folder's images, read as at init
        names = _image_files(path)
        try:
            return model[:-1].transform([path / f for f in names]), model[-1], names
        except ValueError as exc:  # a damaged image, named
            raise click.ClickException(str(exc)) from exc
    texts = _read_texts(path, text_column)
    if raw == "pipeline":  # a text project's model: featurise the texts once, as it would
        return model[:-1].transform(texts), model[-1], None
    import pandas as pd

    return pd.DataFrame({"text": texts}), model, None


@click.command()
@click.option(
    "--model",
    "model_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A fitted model saved with joblib (e.g. by `activelab model`).",
)
@click.option(
    "--pool",
    "--data",
    "pool_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The pool: .parquet (a file, or a folder or pattern of parts), .csv (a file, or a "
    "pattern of parts with the same header row) or .npy; parts are read in the order they "
    "are numbered (part.2 before part.10), with --dask and without; for a text "
    "project's model a .csv, .jsonl or .parquet file (or parts, as above) with a text column, "
    "for an image project's a folder of images.",
)
@click.option(
    "--column",
    "columns",
    multiple=True,
    help="A feature column; repeat it. A model that names its columns reads them in its own "
    "order; other names are read place by place  [default: the model's own columns when it "
    "names them (a table project's model does), else all].",
)
@click.option(
    "--strategy",
    default=None,
    help="A strategy that needs only a fitted model  [default: by the model's task: margin "
    "for a classifier, mean_entropy for a multi-label one, gsx for a regressor; the one used "
    "is named on stderr].",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seeds strategies that draw at random (random, bald, batchbald, badge), so that the "
    "same command ranks the same rows  [default: a fresh draw each run].",
)
@click.option(
    "-n",
    "--n",
    "n",
    default=100,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many items to return (all the pool's rows when it has fewer).",
)
@click.option(
    "--exclude",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A text file of pool row numbers to leave out (one per line).",
)
@click.option(
    "--dask",
    "dask_spec",
    default=None,
    help="Score on Dask: 'local' starts a LocalCluster, or tcp://HOST:PORT (or HOST:PORT).",
)
@click.option(
    "--text-column",
    default="text",
    show_default=True,
    help="For a model of raw texts (a text project's): the pool's column of texts.",
)
@click.option(
    "--out", type=click.Path(path_type=Path), callback=plain_out, help="Write the row numbers here."
)
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="No progress bar. With --dask one is shown on standard error while the blocks are "
    "scored (and the k-center picks made), when standard error is a terminal.",
)
def query(
    model_path: Path,
    pool_path: Path,
    columns: tuple[str, ...],
    text_column: str,
    strategy: str | None,
    seed: int | None,
    n: int,
    exclude: Path | None,
    dask_spec: str | None,
    out: Path | None,
    quiet: bool,
) -> None:
    """Rank the rows of a pool file by how much the model needs their labels.

    With --dask the file is read on the workers (Parquet, CSV or .npy, at the
    same path on every worker), so the pool never passes through this machine;
    only the winners come back.
    """
    from activelab.cluster import DaskBackend, connect
    from activelab.ranking import rank_pool

    model = _load_model(model_path)
    named = getattr(model, "feature_names_in_", None)  # a model fitted on named columns
    named = [str(c) for c in named] if named is not None else None
    raw = _raw_input(model)
    if raw is not None and (dask_spec or columns):
        what = "image files" if raw == "images" else "raw texts"
        raise click.UsageError(
            f"The model predicts from {what}: leave out --column and --dask (they are ranked "
            "in-process)."
        )
    names: list[str] | None = None  # an image folder's files, named instead of numbered
    try:
        client = connect(dask_spec)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--dask") from None
    except OSError as exc:  # no scheduler at that address, or not a Dask scheduler there
        raise click.ClickException(f"--dask {dask_spec}: {exc}") from None
    try:
        if raw is None:
            categorical = _categorical(model)
            X = _read_pool(pool_path, columns, client is not None, named, categorical)
            if client is not None and categorical:  # featurised on the workers
                X, model = _featurise_on_workers(X, model)
        else:
            X, model, names = _raw_pool(model, raw, pool_path, text_column)
        skip = _read_exclude(exclude) if exclude else None
        n = _capped(n, X, skip)
        progress = not quiet and _stderr_is_terminal()
        backend = DaskBackend(client, progress=progress) if client is not None else None
        try:
            task = _task_of(model, X) if strategy is None else None
            with warnings.catch_warnings():  # the columns were picked by name above
                warnings.filterwarnings("ignore", message="X does not have valid feature names")
                picks = rank_pool(
                    model,
                    X,
                    n,
                    strategy=strategy or _DEFAULT_STRATEGY[task or "classification"],
                    exclude=skip,
                    backend=backend,
                    random_state=seed,
                )
            if task is not None:
                what = {"multilabel": "multi-label model", "regression": "regressor"}
                click.echo(
                    f"Strategy: {_DEFAULT_STRATEGY[task]} (the default for a "
                    f"{what.get(task, 'classifier')}; choose another with --strategy).",
                    err=True,
                )
        except (ValueError, TypeError, IndexError) as exc:
            raise click.ClickException(str(exc)) from exc
    except _killed_worker() as exc:
        raise click.ClickException(_worker_died(dask_spec, exc)) from None
    finally:
        if client is not None:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None and dask_spec == "local":
                cluster.close()
    text = "\n".join(str(int(i)) if names is None else names[int(i)] for i in picks)
    if out:
        out.write_text(text + "\n")
        what = "row numbers" if names is None else "names of image files"
        click.echo(f"Wrote the {what} ranked first ({len(picks)}) to {out}.")
    else:
        click.echo(text)
