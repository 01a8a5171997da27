"""Meet labelling tools where the labels already are.

- :mod:`~activelab.interop.formats`: read and write Label Studio task JSON,
  Prodigy JSONL, Parquet and Hugging Face datasets through one
  :class:`~activelab.interop.records.Record` shape that keeps every field;
- :mod:`~activelab.interop.ls_backend`: a Label Studio ML backend whose
  predictions carry activelab's priorities (``activelab ls-backend``).
"""

from activelab.interop.formats import FORMATS, detect_format, read_tasks, write_tasks
from activelab.interop.records import Answer, FormatError, Prediction, Record

__all__ = [
    "FORMATS",
    "Answer",
    "FormatError",
    "Prediction",
    "Record",
    "detect_format",
    "read_tasks",
    "write_tasks",
]
