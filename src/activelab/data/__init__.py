"""Data: the real data sets that ship inside installed packages, and features for them.

- :mod:`~activelab.data.datasets`: :func:`load` by name (scikit-learn, river, mlxtend, …) and
  :func:`load_table` for a CSV or Parquet file of your own;
- :mod:`~activelab.data.bundled`: the larger bundled sets of the transfer-learning benchmarks
  (Fashion-MNIST, MNIST, movie reviews);
- :mod:`~activelab.data.features`: pretrained text embeddings (MiniLM, offline, cached) and
  TF-IDF;
- :mod:`~activelab.data.chem`: molecules from SMILES (RDKit fingerprints and descriptors) and
  the bundled ChEMBL series.

Examples
--------
>>> from activelab.data import load
>>> load("iris").X.shape
(150, 4)
"""

from __future__ import annotations

from activelab.data.datasets import (
    Dataset,
    DatasetUnavailableError,
    available,
    load,
    load_table,
)
from activelab.data.features import TextEmbedder, make_text_featurizer

__all__ = [
    "Dataset",
    "DatasetUnavailableError",
    "TextEmbedder",
    "available",
    "load",
    "load_table",
    "make_text_featurizer",
]
