"""Read the items of a new project and turn them into features.

Three inputs are understood:

- a CSV file or a JSON Lines file of **texts** (a text column, featurised by
  the all-MiniLM-L6-v2 sentence embedding when it is installed, else TF-IDF;
  see ``text_features``) or of **table rows** (numeric feature columns,
  standardised);
- a folder of **images** (PNG or JPEG), featurised by their grey-level pixels
  after resizing to a small fixed square.

Every problem is reported as an :class:`IngestError` that names the file, the
line or the column, and what to do.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "items.csv").write_text("id,text\\n1,good film\\n2,bad film\\n")
>>> data = read_items(d / "items.csv", text_features="tfidf")
>>> data.kind, data.X.shape[0], data.rows[1]["content"]["text"], data.settings["featuriser"]
('text', 2, 'bad film', 'tfidf')
>>> _ = (d / "bad.csv").write_text("id,text\\n1,good film\\n1,bad film\\n")
>>> read_items(d / "bad.csv")
Traceback (most recent call last):
...
activelab.app.ingest.IngestError: ...bad.csv, line 3: duplicate id '1' (first seen on line 2)...
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from activelab._jsonl import blank, json_lines_of
from activelab.data.csvfile import (
    csv_format,
    past_header_refusal,
    refuse_repeated_columns,
    refuse_unnamed_value,
    unnamed_columns,
)
from activelab.data.features import (
    MODEL_NAME,
    MissingTextModelError,
    TextEmbedder,
    resolve_text_features,
)

__all__ = [
    "IMAGE_PIXELS",
    "IMAGE_SUFFIXES",
    "MAX_IMAGE_PIXELS",
    "Dataset",
    "ImagePixels",
    "IngestError",
    "as_shown",
    "grey_levels",
    "image_files",
    "item_source",
    "project_image_pixels",
    "read_items",
    "shown_fields",
]

#: The column of a CSV/JSONL that says when its labels were given (``activelab export``'s).
_TIME_COLUMN = "labelled_at"
#: Image file suffixes a project ingests, with their media types.
IMAGE_SUFFIXES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
#: How new projects read images into grey levels (:func:`grey_levels`); a project records
#: its own under ``image_pixels`` (without it: 1, as projects made before read them).
IMAGE_PIXELS = 2
#: How projects made before ``image_pixels`` was recorded read their images.
_FIRST_IMAGE_PIXELS = 1


def project_image_pixels(settings: dict[str, Any]) -> int:
    """How a project reads its images (:func:`grey_levels`): its ``image_pixels``, or the
    first way for a project made before that was recorded.

    Examples
    --------
    >>> project_image_pixels({"image_pixels": 2}), project_image_pixels({})
    (2, 1)
    """
    return int(settings.get("image_pixels", _FIRST_IMAGE_PIXELS))


_MAX_TEXT = 100_000
#: images over this many pixels are refused (a decompression bomb unpacks to gigabytes)
MAX_IMAGE_PIXELS = 40_000_000


def item_source(content: dict[str, Any]) -> dict[str, Any]:
    """What a labelling tool's file said of an item besides its data (answers, predictions,
    other fields), kept for the export; ``{}`` for an item of a CSV, JSONL or image folder.

    Table items of projects made before it was kept beside the fields (not among them)
    are read too.

    Examples
    --------
    >>> item_source({"text": "nice", "_source": {"format": "prodigy"}})
    {'format': 'prodigy'}
    >>> item_source({"fields": {"x": 1}})
    {}
    """
    found = content.get("_source") or content.get("fields", {}).get("_source")
    return found if isinstance(found, dict) else {}


def shown_fields(kind: str, content: dict[str, Any]) -> dict[str, str]:
    """The fields of an item an annotator sees beside its text or image: its data, never
    what a labelling tool's file said of it (earlier answers would sway the next one).

    Examples
    --------
    >>> shown_fields("table", {"fields": {"x": 1.5, "_source": {"answers": []}}})
    {'x': '1.5'}
    >>> shown_fields("text", {"text": "nice", "lang": "en", "_source": {}})
    {'lang': 'en'}
    >>> shown_fields("text", {"text": "x", "n": None, "ok": True, "tags": ["a"], "v": float("nan")})
    {'n': '', 'ok': 'true', 'tags': '["a"]', 'v': ''}
    """
    if kind == "image":
        return {"file": str(content.get("filename", ""))}
    fields = content.get("fields", {}) if kind == "table" else content
    hidden = {"_source"} if kind == "table" else {"_source", "text"}
    return {str(k): _shown(v) for k, v in fields.items() if k not in hidden}


def _shown(value: Any) -> str:
    """A field's value as a person reads it: a missing one (``null``, NaN) empty, the rest
    as in the JSON file (``true``, ``["a", "b"]``), not as Python writes it (``None``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class IngestError(ValueError):
    """The input data cannot become a project; the message says where and why."""


@dataclass
class Dataset:
    """Items ready for the store.

    Attributes
    ----------
    kind : str
        ``"text"``, ``"table"`` or ``"image"``.
    rows : list of dict
        One dict per item (``external_id``, ``kind``, ``content``, optional ``blob``
        and ``media_type``), in pool order.
    X : ndarray or sparse matrix
        The features, one row per item.
    featuriser : object or None
        The fitted transformer from raw input to ``X`` (TF-IDF, scaler), if any.
    settings : dict
        How the features were made (recorded in the project settings).
    given_labels : dict of int to (str or list of str)
        Labels the file already holds (its label column), by row index: a label,
        or a list of labels (a JSON list, or a CSV cell for a multi-label
        project). Rows without one are absent. The project records them as
        answers (:func:`~activelab.app.project.create_project`).
    given_lines : dict of int to int
        The file line of each given label, for error messages.
    given_times : dict of int to float
        When each given label was given (Unix seconds), by row index, from the
        file's ``labelled_at`` column (what ``activelab export`` writes); rows
        without one are absent (they take the import time).
    source : str
        The file the items were read from (for error messages).
    """

    kind: str
    rows: list[dict[str, Any]]
    X: Any
    featuriser: Any = None
    settings: dict[str, Any] = field(default_factory=dict)
    given_labels: dict[int, str | list[str]] = field(default_factory=dict)
    given_lines: dict[int, int] = field(default_factory=dict, repr=False)
    given_times: dict[int, float] = field(default_factory=dict, repr=False)
    source: str = field(default="", repr=False)
    #: the label names the file declares, in its order (a Hugging Face ``ClassLabel``)
    label_names: list[str] | None = None


def read_items(
    path: str | Path,
    *,
    text_column: str | None = None,
    id_column: str | None = None,
    feature_columns: list[str] | None = None,
    image_size: int = 16,
    image_pixels: int = IMAGE_PIXELS,
    text_features: str | None = None,
    progress: bool = False,
    label_column: str | None = None,
    label_folders: bool = False,
    featuriser: Any = None,
) -> Dataset:
    """Read a CSV, JSON Lines file or image folder and featurise it.

    Parameters
    ----------
    path : str or Path
        ``*.csv``, ``*.jsonl`` (or ``*.ndjson``), an Excel ``*.xlsx`` (its first sheet),
        or a folder of images; or a
        labelling tool's file (:func:`activelab.interop.formats.detect_format`):
        Label Studio ``*.json``, Prodigy ``*.jsonl``, ``*.parquet``, or a Hugging
        Face dataset folder. Their other fields, answers and predictions are kept
        with each item (``content["_source"]``) for the export.
    text_column : str, optional
        The column holding the text (default: ``text`` if present).
    id_column : str, optional
        The column holding a unique id (default: ``id`` if present, else the
        row number).
    feature_columns : list of str, optional
        Numeric columns to use as features for a table (default: every
        numeric column except the id).
    image_size : int, default=16
        Images are resized to ``image_size × image_size`` grey levels.
    image_pixels : {1, 2}, default=2
        How images become grey levels (:func:`grey_levels`): 2 turns them upright by
        their EXIF orientation and lays transparent pixels on white, as the labelling
        page shows them; 1 is how projects made before that read them (kept for them,
        so that their new items are read as their first ones were).
    text_features : {"auto", "tfidf", "minilm"}, optional
        How texts become features: ``"minilm"`` embeds each text once with
        :class:`~activelab.data.features.TextEmbedder` (384 dense float32 columns,
        cached on disk by content), ``"tfidf"`` fits a TF-IDF vocabulary on the
        texts, ``"auto"`` is ``"minilm"`` when its packages are installed, else
        ``"tfidf"``. ``None`` (default) reads ``$ACTIVELAB_TEXT_FEATURES``, else
        ``"auto"``. Ignored for tables and images.
    progress : bool, default=False
        Show a progress bar while embedding texts.
    label_column : str, optional
        The column of a CSV or JSON Lines file holding labels already given
        (default: ``label`` when there is such a column and it is not the text,
        the id or a named feature, else ``labels`` on the same terms, the column a
        multi-label export writes; ``""``: none, every column is data). An empty
        cell (or a JSON ``null``) leaves its item unlabelled. The column is never
        a feature and is not shown with the item; its values land in
        :attr:`Dataset.given_labels`. Labelling tools' files bring their answers
        instead, so naming a column for them (or for images) is an error.
    label_folders : bool, default=False
        A folder of images sorted into one sub-folder per label (``pets/cat/1.png``,
        as ``torchvision``'s ``ImageFolder`` reads them): the top-level sub-folder's
        name is each image's given label; images at the top level are unlabelled.
    featuriser : object, optional
        An existing project's fitted featuriser (its TF-IDF vectoriser, or the scaler
        of its feature columns): the rows are put through it (``transform``), not
        through one fitted on them, so that a new batch lands in the project's feature
        space (:func:`activelab.app.extend.read_new_items`). A text without any of the
        vocabulary's words is then a row of zeros. Ignored for images and sentence
        embeddings, which are not fitted.

    Returns
    -------
    Dataset

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.csv").write_text("id,size,weight,label\\na,1,2,big\\nb,3,1,\\nc,2,2,small\\n")
    >>> data = read_items(d / "t.csv")
    >>> data.settings["feature_columns"], data.given_labels
    (['size', 'weight'], {0: 'big', 2: 'small'})
    """
    path = Path(path)
    if not path.exists():
        raise IngestError(f"{path}: no such file or folder.")
    from activelab.interop.formats import detect_format

    fmt = detect_format(path)
    if label_column and (fmt is not None or path.is_dir()):
        what = f"{fmt} files (their answers are imported)" if fmt else "a folder of images"
        raise IngestError(f"{path}: --label-column does not apply to {what}; leave it out.")
    if label_folders and (fmt is not None or not path.is_dir()):
        raise IngestError(f"{path}: --label-folders applies to a folder of images; leave it out.")
    if fmt is not None:  # Label Studio, Prodigy, Parquet, Hugging Face
        return _read_tasks_file(
            path,
            fmt,
            text_column,
            id_column,
            feature_columns,
            image_size,
            text_features,
            progress,
            featuriser,
            image_pixels,
        )
    if path.is_dir():
        return _read_images(path, image_size, label_folders, image_pixels)
    suffix = path.suffix.lower()
    decimal = "."  # a semicolon-separated CSV's is the comma
    if suffix in (".csv", ".tsv"):
        header, records, decimal = _read_csv(path)
    elif suffix in (".jsonl", ".ndjson"):
        header, records = _read_jsonl(path)
    elif suffix == ".xlsx":
        header, records = _read_excel(path)
    else:
        raise IngestError(
            f"{path}: unsupported file type {suffix or '(none)'!r}; give a .csv (or .tsv), a "
            ".jsonl, an Excel .xlsx or a folder of PNG/JPEG images."
        )
    return _from_records(
        path,
        header,
        records,
        text_column,
        id_column,
        feature_columns,
        text_features,
        progress,
        label_column=label_column,
        featuriser=featuriser,
        decimal=decimal,
    )


# ---------------------------------------------------------------- readers
def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]], str]:
    """The header, the rows (line number, cells) and the decimal mark of a CSV file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(f"{path}: not UTF-8 text ({exc}); save the file as UTF-8.") from exc
    if not text.strip():
        raise IngestError(f"{path}: the file is empty; it needs a header row and items.")
    sep, decimal = csv_format(path, text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    try:
        header = [h.strip() for h in next(reader)]
        if not any(header):
            raise IngestError(f"{path}, line 1: the header row is empty.")
        _refuse_repeated(header, f"{path}, line 1")
        unnamed = unnamed_columns(header)
        records = []
        for fields in reader:
            line = reader.line_num
            if not fields or all(not f.strip() for f in fields):
                continue
            if len(fields) > len(header):  # a spreadsheet's trailing empty cells
                refusal = past_header_refusal(len(header), fields, f"{path}, line {line}")
                if refusal is not None:
                    raise IngestError(refusal)
                fields = fields[: len(header)]
            if len(fields) != len(header):
                raise IngestError(
                    f"{path}, line {line}: expected {len(header)} fields ({', '.join(header)}) "
                    f"but found {len(fields)}; quote values that contain commas."
                )
            if unnamed:
                _refuse_unnamed_value(header, unnamed, fields, f"{path}, line {line}", "to_csv")
                records.append((line, {h: f for h, f in zip(header, fields, strict=True) if h}))
            else:
                records.append((line, dict(zip(header, fields, strict=True))))
    except csv.Error as exc:
        raise IngestError(f"{path}, line {reader.line_num}: malformed CSV ({exc}).") from exc
    if not records:
        raise IngestError(f"{path}: a header but no items.")
    return [h for h in header if h], records, decimal


def _read_jsonl(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    header: list[str] = []
    records = []
    with path.open(encoding="utf-8") as fh:
        for line_no, obj in json_lines_of(path, fh, IngestError):
            if not isinstance(obj, dict):
                raise IngestError(f"{path}, line {line_no}: expected a JSON object per line.")
            for k in obj:
                if k not in header:
                    header.append(k)
            records.append((line_no, obj))
    if not records:
        raise IngestError(f"{path}: the file is empty; it needs one JSON object per line.")
    return header, records


def _read_excel(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """The first sheet of an Excel workbook: its first row names the columns."""
    try:
        import openpyxl
    except ModuleNotFoundError as exc:
        raise IngestError(
            f"{path}: reading Excel files needs openpyxl: pip install 'activelab[app]' (or "
            "save the sheet as CSV)."
        ) from exc
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a file it cannot read
        raise IngestError(f"{path}: not a readable Excel .xlsx workbook ({exc}).") from exc
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        first = next(rows, None)
        if first is None or not any(v is not None for v in first):
            raise IngestError(f"{path}: the first sheet is empty; it needs a header row and items.")
        header = [str(v).strip() if v is not None else "" for v in first]
        _refuse_repeated(header, f"{path}, row 1")
        unnamed = unnamed_columns(header)
        records = []
        for number, values in enumerate(rows, start=2):  # reading rows, not a pool scan
            cells = list(values) + [None] * (len(header) - len(values))
            _refuse_unnamed_value(header, unnamed, cells, f"{path}, row {number}", "to_excel")
            if all(blank(v) for v in cells):
                continue
            fields = {h: _cell(v) for h, v in zip(header, cells, strict=False) if h}
            records.append((number, fields))
        header = [h for h in header if h]
    finally:
        book.close()
    if not records:
        raise IngestError(f"{path}: a header but no items.")
    return header, records


def _refuse_repeated(header: list[str], where: str) -> None:
    """:func:`~activelab.data.csvfile.refuse_repeated_columns` as an :class:`IngestError`."""
    try:
        refuse_repeated_columns(header, where)
    except ValueError as exc:
        raise IngestError(str(exc)) from None


def _refuse_unnamed_value(
    header: list[str], unnamed: list[int], cells: list[Any], where: str, saver: str
) -> None:
    """:func:`~activelab.data.csvfile.refuse_unnamed_value` as an :class:`IngestError`."""
    try:
        refuse_unnamed_value(header, unnamed, cells, where, saver)
    except ValueError as exc:
        raise IngestError(str(exc)) from None


def _cell(value: Any) -> Any:
    """An Excel cell as a CSV or JSON value: numbers stay numbers, dates become ISO text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def image_files(folder: Path) -> list[Path]:
    """The PNG and JPEG files under ``folder`` (sub-folders too), sorted; :class:`IngestError`
    when there is none. The order of an image project's items, and of a folder ranked by
    ``activelab query``.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "b.png").write_bytes(b""), (d / "a.txt").write_text("x")
    >>> [p.name for p in image_files(d)]
    ['b.png']
    """
    files = sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )
    if not files:
        raise IngestError(f"{folder}: no PNG or JPEG images found.")
    return files


def _read_images(
    folder: Path, size: int, label_folders: bool = False, pixels: int = IMAGE_PIXELS
) -> Dataset:
    try:
        from PIL import Image, UnidentifiedImageError
    except ModuleNotFoundError as exc:  # pragma: no cover - Pillow is in the [app] extra
        raise IngestError("Reading images needs Pillow: pip install 'activelab[app]'.") from exc
    if not 2 <= size <= 256:
        raise IngestError(f"image size must be between 2 and 256 pixels, got {size}.")
    files = image_files(folder)
    root = folder.resolve()
    for p in files:  # a link may not bring in a file from elsewhere on the machine
        if not p.resolve().is_relative_to(root):
            raise IngestError(
                f"{p}: a symbolic link to {p.resolve()}, outside the image folder {folder}; "
                "copy the file into the folder instead."
            )
    rows: list[dict[str, Any]] = []
    X = np.empty((len(files), size * size), dtype=np.float64)
    for i, p in enumerate(files):  # one decode per file: inherent, not a pool scan
        data = p.read_bytes()
        X[i] = _decode(p, data, size, Image, UnidentifiedImageError, pixels)
        rel = p.relative_to(folder).as_posix()
        rows.append(
            {
                "external_id": rel,
                "kind": "image",
                "content": {"filename": rel},
                "blob": data,
                "media_type": IMAGE_SUFFIXES[p.suffix.lower()],
            }
        )
    settings = {"featuriser": "pixels", "image_size": size, "image_pixels": pixels}
    data = Dataset("image", rows, X, None, settings)
    if label_folders:  # pets/cat/1.png is a cat; pets/2.png has no label yet
        parts = [p.relative_to(folder).parts for p in files]
        data.given_labels = {i: q[0] for i, q in enumerate(parts) if len(q) > 1}
        data.source = str(folder)
        data.settings["label_column"] = "the folder"
    return data


class ImagePixels(TransformerMixin, BaseEstimator):
    """Image files to the grey levels an image project learns from: a scikit-learn transformer.

    Each image (a path, or its bytes) is decoded, turned grey, resized to ``size × size``
    and flattened to values in [0, 1], exactly as ``activelab init`` read the project's
    images; ``activelab model`` puts it before an image project's classifier, so that the
    saved model predicts from image files.

    Parameters
    ----------
    size : int, default=16
        The project's ``--image-size``.
    pixels : {1, 2}, default=2
        The project's ``image_pixels`` (:func:`grey_levels`).

    Examples
    --------
    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO(); Image.new("L", (40, 30), color=255).save(buf, format="PNG")
    >>> ImagePixels(size=4).fit_transform([buf.getvalue()]).shape
    (1, 16)
    """

    def __init__(self, size: int = 16, pixels: int = IMAGE_PIXELS) -> None:
        self.size = size
        self.pixels = pixels

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A model saved before ``pixels`` existed read its images the first way."""
        super().__setstate__({"pixels": _FIRST_IMAGE_PIXELS, **state})

    def fit(self, X: Any = None, y: Any = None) -> ImagePixels:
        """Nothing to learn; returns itself."""
        return self

    def __sklearn_is_fitted__(self) -> bool:
        """Stateless: always ready (a pipeline sliced before it does not ask for a fit)."""
        return True

    def transform(self, X: Any) -> np.ndarray:
        """The ``(len(X), size * size)`` grey levels of the images (paths or bytes)."""
        from PIL import Image, UnidentifiedImageError

        if isinstance(X, str | bytes | Path):
            raise TypeError("ImagePixels.transform takes a list of images; wrap one: [image].")
        items = _image_items(X, self.size)
        out = np.empty((len(items), self.size * self.size), dtype=np.float64)
        for i, item in enumerate(items):  # one decode per image: inherent, not a pool scan
            path = Path("(bytes)") if isinstance(item, bytes) else Path(item)
            data = item if isinstance(item, bytes) else path.read_bytes()
            out[i] = _decode(path, data, self.size, Image, UnidentifiedImageError, self.pixels)
        return out


def _image_items(X: Any, size: int) -> list[Any]:
    """The images of ``X`` as a list; refused, in one line, unless they are paths or bytes.

    Pixel values already read (a numeric array, such as a project's features) are the
    commonest mistake: the message says how to predict from them instead.

    Returns
    -------
    list
        The images, in order.

    Raises
    ------
    TypeError
        Naming what was given and what to give.
    """
    kind = getattr(getattr(X, "dtype", None), "kind", "O")
    if kind in "biuf" and np.ndim(X) >= 1:
        raise TypeError(
            f"ImagePixels reads image files (paths or bytes), got a numeric array of shape "
            f"{np.shape(X)}: pixels already read go to the model's classifier, without this "
            f"step (model[-1].predict(X), {size * size} grey levels in [0, 1] per row)."
        )
    items = list(X)
    for i, item in enumerate(items):
        if not isinstance(item, str | bytes | os.PathLike):
            raise TypeError(
                f"ImagePixels reads image files (paths or bytes), got {type(item).__name__} "
                f"at position {i}; pass the file's path or its bytes."
            )
    return items


def as_shown(im: Any) -> Any:
    """An open Pillow image as the labelling page shows it: upright by its EXIF orientation,
    and its transparent pixels on white.

    Examples
    --------
    >>> from PIL import Image
    >>> as_shown(Image.new("RGBA", (1, 1), (0, 0, 0, 0))).getpixel((0, 0))
    (255, 255, 255, 255)
    """
    from PIL import Image, ImageOps

    im = ImageOps.exif_transpose(im)
    if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    return im


def grey_levels(im: Any, size: int, pixels: int = IMAGE_PIXELS) -> np.ndarray:
    """The ``size × size`` grey levels in [0, 1] of an open Pillow image, flattened.

    Parameters
    ----------
    im : PIL.Image.Image
        The image, as opened.
    size : int
        Its side after resizing (bilinear).
    pixels : {1, 2}, default=2
        2: the image is turned upright by its EXIF orientation (a phone's photo is
        stored sideways) and its transparent pixels are laid on white, as the
        labelling page shows it; 1: neither (transparency dropped, so a black drawing
        on a transparent background read as all black), as projects made before read
        their images. A 16-bit grey image keeps its full range either way.

    Examples
    --------
    >>> from PIL import Image
    >>> ink = Image.new("LA", (4, 4), (0, 0))  # black, but wholly transparent
    >>> grey_levels(ink, 2).tolist(), grey_levels(ink, 2, pixels=1).tolist()
    ([1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0])
    """
    from PIL import Image

    if pixels not in (1, 2):
        raise ValueError(f"pixels must be 1 or 2, got {pixels!r}.")
    if pixels == 2:
        im = as_shown(im)
    if im.mode.startswith("I"):  # 16-bit grey: "L" would clip every level above 255
        wide = im.convert("F").resize((size, size), Image.Resampling.BILINEAR)
        return np.asarray(wide, dtype=np.float64).ravel() / 65535.0
    grey = im.convert("L").resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(grey, dtype=np.float64).ravel() / 255.0


def _decode(
    p: Path, data: bytes, size: int, image: Any, unidentified: Any, pixels: int = IMAGE_PIXELS
) -> np.ndarray:
    """The grey levels of one image file, resized; a clear error naming the file otherwise."""
    if not data:
        raise IngestError(f"{p}: the file is empty (0 bytes); remove it or replace it.")
    try:
        with image.open(io.BytesIO(data)) as im:
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                raise IngestError(
                    f"{p}: {w}×{h} pixels is over the limit of {MAX_IMAGE_PIXELS:,} pixels "
                    "(a decompression bomb, or a scan far larger than labelling needs); "
                    "scale it down first."
                )
            return grey_levels(im, size, pixels)
    except IngestError:
        raise
    except unidentified as exc:
        raise IngestError(
            f"{p}: not a readable PNG or JPEG image (unknown or damaged format); "
            "remove it or replace it."
        ) from exc
    except image.DecompressionBombError as exc:
        raise IngestError(f"{p}: over the pixel limit ({exc}); scale it down first.") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise IngestError(f"{p}: a damaged image ({exc}); remove it or replace it.") from exc


# ---------------------------------------------------------- featurising
def _ids(path: Path, records: list[tuple[int, dict[str, Any]]], id_column: str | None) -> list[str]:
    if id_column is None:
        return [str(i) for i in range(1, len(records) + 1)]
    seen: dict[str, int] = {}
    out = []
    for line, rec in records:
        raw = rec.get(id_column)
        value = "" if raw is None else str(raw).strip()
        if not value:
            raise IngestError(f"{path}, line {line}: the id column {id_column!r} is empty.")
        if len(value) > 512:
            raise IngestError(f"{path}, line {line}: id longer than 512 characters.")
        if value in seen:
            raise IngestError(
                f"{path}, line {line}: duplicate id {value!r} (first seen on line "
                f"{seen[value]}); ids must be unique."
            )
        seen[value] = line
        out.append(value)
    return out


def _label_column(
    path: Path,
    header: list[str],
    label_column: str | None,
    text_column: str | None,
    id_column: str | None,
    feature_columns: list[str] | None,
) -> str | None:
    """The column of given labels: named; by default ``label``, else ``labels`` (the column
    a multi-label export writes); or none (``""``)."""
    taken = {
        "--text-column": [text_column],
        "--id-column": [id_column],
        "--feature-columns": feature_columns or [],
    }
    if label_column is None:  # the default: "label", else "labels", that nothing else claims
        claimed = {c for cols in taken.values() for c in cols}
        return next((c for c in ("label", "labels") if c in header and c not in claimed), None)
    if not label_column:
        return None
    if label_column not in header:
        raise IngestError(
            f"{path}: --label-column {label_column!r} is not a column; columns: {header}."
        )
    for name, cols in taken.items():
        if label_column in cols:
            raise IngestError(
                f"{path}: column {label_column!r} is both the label column and {name}; "
                "a column holds labels or data, not both."
            )
    return label_column


def _given_labels(
    path: Path, records: list[tuple[int, dict[str, Any]]], column: str
) -> tuple[dict[int, str | list[str]], dict[int, int]]:
    """The labels a file already holds, by row index, and their lines."""
    given: dict[int, str | list[str]] = {}
    lines: dict[int, int] = {}
    for i, (line, rec) in enumerate(records):  # one value per row: reading, not a pool scan
        raw = rec.get(column)
        if raw is None:
            continue
        if isinstance(raw, list) and all(_is_label(v) for v in raw):
            value: str | list[str] = [str(v).strip() for v in raw]
        elif _is_label(raw):
            value = str(raw).strip()
            if not value:
                continue
        else:
            raise IngestError(
                f"{path}, line {line}, column {column!r}: {raw!r} is not a label or a list "
                "of labels."
            )
        given[i], lines[i] = value, line
    return given, lines


def _given_times(
    path: Path, records: list[tuple[int, dict[str, Any]]], given: dict[int, Any]
) -> dict[int, float]:
    """When each given label was given, from the file's :data:`_TIME_COLUMN`, by row index.

    Parameters
    ----------
    path : Path
        The file, for messages.
    records : list of (int, dict)
        The file's rows: line number and cells.
    given : dict
        The rows that hold a label (:func:`_given_labels`); only theirs are read.

    Returns
    -------
    dict of int to float
        Unix seconds; a row whose cell is empty is absent (it takes the import time).

    Raises
    ------
    IngestError
        Naming the first cell that is not a time, and its line.
    """
    from activelab.interop.records import time_seconds

    times: dict[int, float] = {}
    for i in given:  # one cell per labelled row: reading, not a pool scan
        line, rec = records[i]
        raw = rec.get(_TIME_COLUMN)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        when = time_seconds(raw)
        if when is None:
            raise IngestError(
                f"{path}, line {line}, column {_TIME_COLUMN!r}: {raw!r} is not a time; give "
                "ISO 8601 (2024-05-01T12:00:00Z; no zone: UTC) or Unix seconds, or leave the "
                "cell empty for the import time."
            )
        times[i] = when
    return times


def _is_label(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _as_float(value: Any, decimal: str = ".") -> float | None:
    """A cell as a number, or ``None``; ``decimal`` is the file's decimal mark (``","`` in a
    semicolon-separated spreadsheet export: ``"1,5"`` is 1.5)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if decimal != "." and "." not in text:
        text = text.replace(decimal, ".")
    try:
        return float(text)
    except ValueError:
        return None


def _refuse_nul(path: Path, records: list[tuple[int, dict[str, Any]]]) -> None:
    """Refuse NUL characters: no text holds one on purpose, and PostgreSQL cannot store it."""
    for line, rec in records:  # one pass over the rows being read
        for key, value in rec.items():
            if "\x00" in str(key) or (isinstance(value, str) and "\x00" in value):
                raise IngestError(
                    f"{path}, line {line}: column {str(key).replace(chr(0), '')!r} holds a NUL "
                    "character (\\x00), which is not text; remove it (e.g. tr -d '\\000')."
                )


def _from_records(
    path: Path,
    header: list[str],
    records: list[tuple[int, dict[str, Any]]],
    text_column: str | None,
    id_column: str | None,
    feature_columns: list[str] | None,
    text_features: str | None,
    progress: bool,
    label_column: str | None = "",
    featuriser: Any = None,
    decimal: str = ".",
) -> Dataset:
    """The Dataset of a file's rows (line number, cells), the last steps of every reader
    but the image folder's: ``text_features`` as :func:`read_items` takes it, and
    ``label_column`` as the user gave it (``None``: ``label`` when nothing else claims it;
    ``""``: none)."""
    try:
        text_features = resolve_text_features(text_features)
    except ValueError as exc:
        raise IngestError(f"{exc} (--text-features)") from exc
    label_column = _label_column(
        path, header, label_column, text_column, id_column, feature_columns
    )
    given: dict[int, str | list[str]] = {}
    lines: dict[int, int] = {}
    times: dict[int, float] = {}
    if label_column is not None:  # the labels leave the data: never a feature, never shown
        given, lines = _given_labels(path, records, label_column)
        answer = {label_column}
        if _TIME_COLUMN in header and _TIME_COLUMN not in (
            text_column,
            id_column,
            *(feature_columns or []),
        ):  # when each answer was given: the answer's, not the item's
            times = _given_times(path, records, given)
            answer.add(_TIME_COLUMN)
        records = [(n, {k: v for k, v in r.items() if k not in answer}) for n, r in records]
        header = [h for h in header if h not in answer]
    for name, col in (("--text-column", text_column), ("--id-column", id_column)):
        if col is not None and col not in header:
            raise IngestError(f"{path}: {name} {col!r} is not a column; columns: {header}.")
    if feature_columns:
        missing = [c for c in feature_columns if c not in header]
        if missing:
            raise IngestError(f"{path}: --feature-columns {missing} not found; columns: {header}.")
    if id_column is None and "id" in header:
        id_column = "id"
    _refuse_nul(path, records)
    ids = _ids(path, records, id_column)
    if text_column is None and not feature_columns and "text" in header:
        text_column = "text"
    if text_column is not None:
        data = _text(path, records, ids, text_column, text_features, progress, featuriser)
    else:
        data = _table(path, header, records, ids, id_column, feature_columns, featuriser, decimal)
    data.settings["id_column"] = id_column  # None: the ids are row numbers
    if label_column is not None:
        data.given_labels, data.given_lines, data.source = given, lines, str(path)
        data.given_times = times
        data.settings["label_column"] = label_column
    return data


def _text(
    path: Path,
    records: list[tuple[int, dict[str, Any]]],
    ids: list[str],
    text_column: str,
    text_features: str,
    progress: bool,
    featuriser: Any = None,
) -> Dataset:
    texts = []
    rows = []
    for (line, rec), ext in zip(records, ids, strict=True):
        raw = rec.get(text_column)
        text = "" if raw is None else str(raw)
        if not text.strip():
            raise IngestError(
                f"{path}, line {line}: column {text_column!r} is empty; every item needs a text."
            )
        if len(text) > _MAX_TEXT:
            raise IngestError(f"{path}, line {line}: text longer than {_MAX_TEXT} characters.")
        texts.append(text)
        fields = {k: v for k, v in rec.items() if k != text_column}
        rows.append({"external_id": ext, "kind": "text", "content": {"text": text, **fields}})
    if text_features == "minilm":
        return _embed(path, rows, texts, text_column, progress)
    if featuriser is not None:  # an existing project's vocabulary
        vec, X = featuriser, featuriser.transform(texts)
    else:
        vec, X = _fit_tfidf(path, texts)
    return Dataset(
        "text",
        rows,
        X,
        vec,
        {"featuriser": "tfidf", "text_column": text_column, "n_features": int(X.shape[1])},
    )


def _fit_tfidf(path: Path, texts: list[str]) -> tuple[Any, Any]:
    """A TF-IDF vocabulary fitted on the texts, and the texts through it."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(
        sublinear_tf=True, ngram_range=(1, 2), max_features=2**18, dtype=np.float32
    )
    try:
        return vec, vec.fit_transform(texts)
    except ValueError as exc:
        raise IngestError(f"{path}: the texts hold no words to learn from ({exc}).") from exc


def _embed(
    path: Path, rows: list[dict[str, Any]], texts: list[str], text_column: str, progress: bool
) -> Dataset:
    """The sentence embeddings of the texts: computed once here (and cached on disk)."""
    embedder = TextEmbedder(progress=progress)
    try:
        X = embedder.fit_transform(texts)
    except MissingTextModelError as exc:
        raise IngestError(
            f"{path}: --text-features minilm needs the sentence-embedding model. {exc} "
            "Or choose --text-features tfidf."
        ) from exc
    embedder.set_params(progress=False)  # the stored featuriser predicts quietly
    return Dataset(
        "text",
        rows,
        X,
        embedder,
        {
            "featuriser": "minilm",
            "embedding_model": MODEL_NAME,
            "text_column": text_column,
            "n_features": int(X.shape[1]),
        },
    )


def _table(
    path: Path,
    header: list[str],
    records: list[tuple[int, dict[str, Any]]],
    ids: list[str],
    id_column: str | None,
    feature_columns: list[str] | None,
    featuriser: Any = None,
    decimal: str = ".",
) -> Dataset:
    from sklearn.preprocessing import StandardScaler

    from activelab.data.tables import TableFeatures, category_columns, category_value

    other: list[str] = []
    categorical: list[str] = []
    rows_only = [rec for _, rec in records]
    if isinstance(featuriser, TableFeatures):  # a batch added to a project: the project's columns
        feature_columns, categorical = list(featuriser.numeric), list(featuriser.categorical)
        missing = [c for c in [*feature_columns, *categorical] if c not in header]
        if missing:
            raise IngestError(
                f"{path}: the project's column(s) {missing} are missing; columns: {header}."
            )
    elif not feature_columns:
        first = records[0][1]
        feature_columns = [
            c for c in header if c != id_column and _as_float(first.get(c), decimal) is not None
        ]
        texts = [c for c in header if c not in feature_columns and c not in (id_column, "_source")]
        categorical, other = category_columns(rows_only, texts)
        if not feature_columns and not categorical:
            raise IngestError(
                f"{path}: no text column, no numeric column and no column of categories found; "
                "name the text with --text-column or the features with --feature-columns."
            )
    elif featuriser is None:  # named by the user: a column of words is a column of categories
        first = records[0][1]
        categorical = [c for c in feature_columns if _as_float(first.get(c), decimal) is None]
        feature_columns = [c for c in feature_columns if c not in categorical]
        for col in categorical:
            distinct = len({category_value(rec.get(col)) for rec in rows_only})
            if distinct > _MAX_NAMED_CATEGORIES:
                raise IngestError(
                    f"{path}: --feature-columns names {col!r}, whose first value is not a number "
                    f"and which holds {distinct} distinct values; a column of categories may hold "
                    f"at most {_MAX_NAMED_CATEGORIES}. Leave it out, or fix its numbers."
                )
    X = np.empty((len(records), len(feature_columns)), dtype=np.float64)
    rows = []
    for i, ((line, rec), ext) in enumerate(zip(records, ids, strict=True)):
        for j, col in enumerate(feature_columns):  # loop over columns of one row
            value = _as_float(rec.get(col), decimal)
            if value is None or not math.isfinite(value):
                raise IngestError(
                    f"{path}, line {line}, column {col!r}: {rec.get(col)!r} is not a finite "
                    "number; fix the value or leave the column out of --feature-columns."
                )
            X[i, j] = value
        fields = {k: ("" if v is None else v) for k, v in rec.items() if k != "_source"}
        content: dict[str, Any] = {"fields": fields}
        if "_source" in rec:  # a labelling tool's file: kept beside the data, as for texts
            content["_source"] = rec["_source"]
        rows.append({"external_id": ext, "kind": "table", "content": content})
    settings: dict[str, Any] = {
        "featuriser": "standardised columns",
        "feature_columns": feature_columns,
        "other_columns": other,
    }
    if categorical:
        import pandas as pd

        frame = pd.DataFrame(X, columns=feature_columns)
        for col in categorical:
            frame[col] = [category_value(rec.get(col)) for rec in rows_only]
        fitted = (
            featuriser
            if featuriser is not None
            else TableFeatures(feature_columns, categorical).fit(frame)
        )
        settings["featuriser"] = "standardised columns and one-hot categories"
        settings["category_columns"] = categorical
        return Dataset("table", rows, fitted.transform(frame), fitted, settings)
    scaler = StandardScaler().fit(X) if featuriser is None else featuriser
    return Dataset("table", rows, scaler.transform(X), scaler, settings)


_MAX_NAMED_CATEGORIES = 200


# ------------------------------------------------- labelling tools' files
def _read_tasks_file(
    path: Path,
    fmt: str,
    text_column: str | None,
    id_column: str | None,
    feature_columns: list[str] | None,
    image_size: int,
    text_features: str | None,
    progress: bool,
    featuriser: Any = None,
    image_pixels: int = IMAGE_PIXELS,
) -> Dataset:
    """A Dataset from a Label Studio, Prodigy, Parquet or Hugging Face file.

    Each item keeps what the file said besides its data (answers, predictions,
    other fields) under ``content["_source"]``, so that an export in the same
    format gives it back.
    """
    from activelab.interop.records import FormatError

    try:
        records, declared = _read_tool_file(path, fmt)
    except FormatError as exc:
        raise IngestError(str(exc)) from exc
    if id_column is not None:
        raise IngestError(f"{path}: --id-column does not apply to {fmt} files; their ids are used.")
    sources = [
        {
            "format": fmt,
            "id": rec.id,
            "keys": list(rec.data),
            "answers": [_plain(a) for a in rec.answers],
            "predictions": [_plain(p) for p in rec.predictions],
            "extra": rec.extra,
        }
        for rec in records
    ]
    kinds = {rec.kind for rec in records}
    if kinds == {"image"}:
        images = _task_images(path, records, sources, image_size, image_pixels)
        images.label_names = declared
        return images
    header: list[str] = ["id"]
    flat = []
    for rec, src in zip(records, sources, strict=True):
        for k in rec.data:
            if k not in header:
                header.append(k)
        if "id" in rec.data:
            src["data_id"] = rec.data["id"]
        flat.append((rec.line, {**rec.data, "id": rec.id, "_source": src}))
    header.append("_source")
    data = _from_records(
        path,
        header,
        flat,
        text_column,
        "id",
        feature_columns,
        text_features,
        progress,
        label_column="",  # a tool's answers are imported, not read from a column
        featuriser=featuriser,
    )
    data.settings["source_format"] = fmt
    data.label_names = declared
    if not _own_ids(fmt, records):
        data.settings["id_column"] = None  # numbered in the file's order, like a CSV's rows
    return data


def _read_tool_file(path: Path, fmt: str) -> tuple[list[Any], list[str] | None]:
    """The records of a labelling tool's file and the label names it declares (a Hugging
    Face dataset's ``ClassLabel``; ``None`` for other formats), the file read once."""
    if fmt == "hf":
        from activelab.interop.tabular import read_hf_with_label_names

        return read_hf_with_label_names(path)
    from activelab.interop.formats import read_tasks

    return read_tasks(path, fmt), None


def _own_ids(fmt: str, records: list[Any]) -> bool:
    """Whether a labelling tool's file gives its items ids of their own: the ``id`` of
    every Label Studio task's data (or, without them, the task ids), an ``id`` column of a Parquet
    file or dataset; Prodigy's are its input hashes. Without them the items are numbered in
    the file's order, and ``activelab add`` numbers a new batch on from the project's last
    item, as for a CSV file without an id column."""
    return fmt == "prodigy" or any("id" in rec.extra or rec.id != str(rec.line) for rec in records)


def _plain(obj: Any) -> dict[str, Any]:
    """An answer or prediction as JSON (its fields, the source object included)."""
    from dataclasses import asdict

    return asdict(obj)


def _task_images(
    path: Path,
    records: list[Any],
    sources: list[dict[str, Any]],
    size: int,
    pixels: int = IMAGE_PIXELS,
) -> Dataset:
    from PIL import Image, UnidentifiedImageError

    from activelab.interop.images import ImageRefError, image_key, load_image_ref

    if not 2 <= size <= 256:
        raise IngestError(f"image size must be between 2 and 256 pixels, got {size}.")
    X = np.empty((len(records), size * size), dtype=np.float64)
    rows = []
    for i, (rec, src) in enumerate(zip(records, sources, strict=True)):  # one decode per image
        key = image_key(rec.data)
        try:
            data, media_type = load_image_ref(rec.data[key], base=path.parent)
            with Image.open(io.BytesIO(data)) as im:
                X[i] = grey_levels(im, size, pixels)
        except ImageRefError as exc:
            raise IngestError(f"{path}, item {rec.line}, field {key!r}: {exc}") from exc
        except (UnidentifiedImageError, OSError) as exc:
            raise IngestError(
                f"{path}, item {rec.line}, field {key!r}: not a readable image ({exc})."
            ) from exc
        src["data"] = rec.data
        rows.append(
            {
                "external_id": rec.id,
                "kind": "image",
                "content": {"filename": rec.id, "_source": src},
                "blob": data,
                "media_type": media_type,
            }
        )
    fmt = sources[0]["format"]
    settings = {
        "featuriser": "pixels",
        "image_size": size,
        "image_pixels": pixels,
        "source_format": fmt,
    }
    if not _own_ids(fmt, records):
        settings["id_column"] = None
    return Dataset("image", rows, X, None, settings)
