"""Read and write labelling files by format name, and tell a file's format from its name.

==================  ===============================================  ==========================
format              file                                             module
==================  ===============================================  ==========================
``label-studio``    ``*.json``: a list of Label Studio tasks         :mod:`.label_studio`
``prodigy``         ``*.jsonl`` with Prodigy's fields                :mod:`.prodigy`
``parquet``         ``*.parquet``                                    :mod:`.tabular`
``hf``              a folder written by ``Dataset.save_to_disk``     :mod:`.tabular`
==================  ===============================================  ==========================

Examples
--------
>>> import tempfile, pathlib
>>> from activelab.interop.records import Answer, Record
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> records = [Record("1", {"text": "good"}, [Answer(["pos"])]), Record("2", {"text": "bad"})]
>>> write_tasks(records, d / "tasks.json", "label-studio")
>>> detect_format(d / "tasks.json")
'label-studio'
>>> [r.final_labels() for r in read_tasks(d / "tasks.json")]
[['pos'], None]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from activelab.interop.records import FormatError, Record

__all__ = ["FORMATS", "detect_format", "read_tasks", "write_tasks"]

#: the formats activelab reads and writes
FORMATS = ("label-studio", "prodigy", "parquet", "hf")


def detect_format(path: str | Path) -> str | None:
    """The format of a file or folder, or ``None`` for activelab's own CSV/JSONL/images.

    ``*.json`` is Label Studio, ``*.parquet`` Parquet, a folder holding
    ``dataset_info.json`` or ``dataset_dict.json`` a Hugging Face dataset, and a
    ``*.jsonl`` whose lines carry Prodigy's fields (``answer``,
    ``_input_hash``, ``accept``, ``options`` …) Prodigy.
    """
    path = Path(path)
    if path.is_dir():
        if (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file():
            return "hf"
        return None
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "label-studio"
    if suffix == ".parquet":
        return "parquet"
    if suffix in (".jsonl", ".ndjson") and path.is_file():
        from activelab.interop.prodigy import looks_like_prodigy

        return "prodigy" if looks_like_prodigy(path) else None
    return None


def read_tasks(path: str | Path, fmt: str | None = None) -> list[Record]:
    """Read a labelling file into records (the format from the name when not given)."""
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt == "label-studio":
        from activelab.interop.label_studio import read_label_studio

        return read_label_studio(path)
    if fmt == "prodigy":
        from activelab.interop.prodigy import read_prodigy

        return read_prodigy(path)
    if fmt == "parquet":
        from activelab.interop.tabular import read_parquet

        return read_parquet(path)
    if fmt == "hf":
        from activelab.interop.tabular import read_hf

        return read_hf(path)
    raise FormatError(f"{path}: unknown format {fmt!r}; use one of {list(FORMATS)}.")


def write_tasks(
    records: list[Record],
    path: str | Path,
    fmt: str,
    *,
    labels: list[str] | None = None,
    multilabel: bool | None = None,
    **kwargs: Any,
) -> None:
    """Write records in a format.

    ``labels`` (the label set, in order) gives Prodigy its ``options`` and a
    Hugging Face dataset its ``ClassLabel``; ``multilabel`` chooses a list
    column for Parquet and Hugging Face; ``kwargs`` go to the format's writer
    (Label Studio: ``from_name``, ``to_name``).
    """
    path = Path(path)
    if fmt == "label-studio":
        from activelab.interop.label_studio import write_label_studio

        path.write_text(write_label_studio(records, **kwargs), encoding="utf-8")
    elif fmt == "prodigy":
        from activelab.interop.prodigy import write_prodigy

        path.write_text(write_prodigy(records, labels=labels), encoding="utf-8")
    elif fmt == "parquet":
        from activelab.interop.tabular import write_parquet

        write_parquet(records, path, multilabel=multilabel)
    elif fmt == "hf":
        from activelab.interop.tabular import write_hf

        write_hf(records, path, label_names=labels, multilabel=multilabel)
    else:
        raise FormatError(f"unknown format {fmt!r}; use one of {list(FORMATS)}.")
