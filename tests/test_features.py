"""Text features: the offline sentence-embedding model, its disk cache, TF-IDF and the loaders."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import activelab.data.features as features
from activelab.data.bundled import load_fashion_mnist, load_movie_reviews
from activelab.data.features import (
    EmbeddingCache,
    MissingTextModelError,
    TextEmbedder,
    default_cache_dir,
    default_text_featurizer,
    make_text_featurizer,
)

SENTENCES = [
    "A wonderful, moving film with superb acting.",
    "This movie was a delight from start to finish.",
    "The quarterly earnings report disappointed investors.",
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("embeddings")


@pytest.fixture(scope="module")
def embedded(cache_dir):
    """The real model, loaded offline once for this module (about 10 s)."""
    emb = TextEmbedder(cache_dir=cache_dir)
    Z = emb.transform(SENTENCES)
    return emb, Z


def test_the_offline_model_embeds_sentences(embedded):
    emb, Z = embedded
    assert Z.shape == (3, 384) and Z.dtype == np.float32
    assert np.allclose(np.linalg.norm(Z, axis=1), 1.0, atol=1e-5)
    assert emb.n_encoded_ == 3 and emb.n_cache_hits_ == 0
    # two film reviews are closer to each other than to finance news
    assert Z[0] @ Z[1] > Z[0] @ Z[2] + 0.2


def test_normalize_false_gives_the_pooled_vectors_not_unit_ones(embedded, tmp_path):
    _, Z = embedded
    # the model ends in a Normalize layer: normalize=False once returned unit vectors too
    raw = TextEmbedder(normalize=False, cache_dir=tmp_path).transform(SENTENCES)
    norms = np.linalg.norm(raw, axis=1)
    assert (norms > 2.0).all()
    assert np.allclose(raw / norms[:, None], Z, atol=1e-5)  # the same directions
    again = TextEmbedder(normalize=False, cache_dir=tmp_path).transform(SENTENCES)
    assert np.array_equal(again, raw)  # cached apart from the unit vectors


def test_second_call_hits_the_cache_and_new_text_misses(embedded, cache_dir):
    emb, Z = embedded
    again = emb.transform(SENTENCES[::-1])
    assert emb.n_cache_hits_ == 3 and emb.n_encoded_ == 0
    assert np.array_equal(again, Z[::-1])
    # a fresh embedder on the same directory reads the cache from disk
    other = TextEmbedder(cache_dir=cache_dir)
    mixed = other.transform(
        [SENTENCES[1], "  A wonderful, moving   film with superb acting. ", "new"]
    )
    assert other.n_cache_hits_ == 2 and other.n_encoded_ == 1
    assert np.array_equal(mixed[1], Z[0])  # whitespace is normalised before hashing
    assert len(list(cache_dir.glob("*.npz"))) == 2


def test_embedder_in_a_pipeline(embedded, cache_dir):
    texts = ["great fun", "loved it", "a masterpiece", "boring", "awful mess", "dreadful"]
    y = [1, 1, 1, 0, 0, 0]
    pipe = make_pipeline(TextEmbedder(cache_dir=cache_dir), LogisticRegression(C=10))
    pipe.fit(texts, y)
    assert pipe.predict(["truly great", "utterly dreadful"]).tolist() == [1, 0]
    assert clone(pipe[0]).get_params()["cache_dir"] == cache_dir


def test_cache_disabled_writes_nothing(tmp_path, embedded):
    emb = TextEmbedder(cache=False, cache_dir=tmp_path)
    emb.transform(SENTENCES[:1])
    assert emb.n_encoded_ == 1 and not list(tmp_path.iterdir())


def test_missing_package_gives_the_install_command(monkeypatch, tmp_path):
    real = importlib.import_module

    def fake(name, *args, **kwargs):
        if name == "sentence_transformers":
            raise ModuleNotFoundError("No module named 'sentence_transformers'", name=name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(features.importlib, "import_module", fake)
    monkeypatch.setattr(features, "_MODELS", {})
    with pytest.raises(MissingTextModelError, match=r"pip install 'activelab\[text\]'"):
        TextEmbedder(cache_dir=tmp_path).transform(["a text not in any cache"])
    with pytest.raises(ImportError, match="sentence_transformers"):
        TextEmbedder().fit(["x"])


def test_loading_the_model_draws_no_progress_bar_and_restores_the_setting(monkeypatch, capfd):
    from transformers.utils import logging as hf_logging

    monkeypatch.setattr(features, "_MODELS", {})  # load again from disk
    for enabled in (True, False):
        (hf_logging.enable_progress_bar if enabled else hf_logging.disable_progress_bar)()
        features._MODELS.clear()
        features._load_model("cpu")
        assert hf_logging.is_progress_bar_enabled() is enabled
        assert "Loading weights" not in capfd.readouterr().err
    hf_logging.enable_progress_bar()


def test_default_featurizer_falls_back_to_tfidf(monkeypatch):
    monkeypatch.setattr(features.importlib.util, "find_spec", lambda name: None)
    assert not features.text_embedding_available()
    assert type(default_text_featurizer()).__name__ == "TfidfVectorizer"


def test_default_featurizer_is_the_embedder_when_installed():
    assert features.text_embedding_available()
    assert isinstance(default_text_featurizer(progress=True), TextEmbedder)
    assert isinstance(make_text_featurizer("minilm"), TextEmbedder)


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ACTIVELAB_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path / "embeddings"
    monkeypatch.delenv("ACTIVELAB_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "activelab" / "embeddings"


def test_cache_keys_depend_on_the_model(tmp_path):
    a = EmbeddingCache(tmp_path, "model-a")
    b = EmbeddingCache(tmp_path, "model-b")
    a.put(a.keys(["x"]), np.ones((1, 3), dtype=np.float32))
    found, _ = b.get(b.keys(["x"]))
    assert not found[0]
    (tmp_path / "junk.npz").write_bytes(b"not a numpy file")  # ignored, not fatal
    found, rows = EmbeddingCache(tmp_path, "model-a").get(a.keys(["x"]))
    assert found[0] and rows[0].tolist() == [1.0, 1.0, 1.0]


def test_bad_input_is_refused():
    with pytest.raises(TypeError, match="single string"):
        TextEmbedder().transform("just one text")
    with pytest.raises(ValueError, match="1-D list of texts"):
        TextEmbedder().transform(np.array([["a", "b"], ["c", "d"]], dtype=object))
    # a missing text was embedded as the empty one (TF-IDF refuses it)
    with pytest.raises(ValueError, match=r"Text 1 is missing \(None; 2 of 3 texts are\)"):
        TextEmbedder(cache=False).transform(["a film", None, np.nan])
    # a pandas "string" column's pd.NA was embedded as the text "<NA>"
    pd = pytest.importorskip("pandas")
    texts = pd.Series(["a film", pd.NA, "a plot"], dtype="string")
    with pytest.raises(ValueError, match=r"Text 1 is missing \(<NA>; 1 of 3 texts are\)"):
        TextEmbedder(cache=False).transform(texts)
    # torch's "set_num_threads expects a positive integer"; -1 is "all cores" elsewhere
    for n in (0, -1):
        with pytest.raises(ValueError, match=r"n_threads must be >= 1 or None"):
            TextEmbedder(cache=False, n_threads=n).transform(["a film"])


@pytest.mark.parametrize(
    ("device", "needle"),
    [("cuda", r"finds no CUDA GPU here .*use device='cpu'"), ("gpu", "Unknown torch device 'gpu'")],
)
def test_an_absent_or_unknown_device_is_one_line(monkeypatch, device, needle):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # as on a machine with no GPU
    # before: "AssertionError: Torch not compiled with CUDA enabled" from inside torch
    with pytest.raises(ValueError, match=needle) as info:
        TextEmbedder(cache=False, device=device).transform(["a film"])
    assert "\n" not in str(info.value)


def test_movie_reviews_load():
    texts, y = load_movie_reviews()
    assert len(texts) == 12808 and int(y.sum()) == 7403
    assert all(isinstance(t, str) and t for t in texts[:50])


def test_fashion_mnist_missing_names_the_apt_package(monkeypatch, tmp_path):
    import activelab.data.bundled as dd

    monkeypatch.setattr(dd, "_FASHION_DIRS", (tmp_path,))
    monkeypatch.setattr(dd.subprocess, "run", lambda *a, **k: (_ for _ in ()).throw(OSError()))
    with pytest.raises(FileNotFoundError, match="apt-get install -y dataset-fashion-mnist"):
        load_fashion_mnist("test")


def test_blocks_are_cached_as_they_finish(tmp_path, embedded):
    emb = TextEmbedder(cache_dir=tmp_path, write_every=2, progress=True)
    Z = emb.transform([*SENTENCES, SENTENCES[0]])
    assert emb.n_encoded_ == 3 and len(list(tmp_path.glob("*.npz"))) == 2
    assert np.allclose(Z[:3], embedded[1], atol=1e-5) and np.array_equal(Z[3], Z[0])


def test_cache_round_trips_every_digest(tmp_path):
    # about one sha256 digest in 256 ends with a zero byte; those must be found too
    cache = EmbeddingCache(tmp_path, "toy")
    texts = [f"text {i}" for i in range(2000)]
    keys = cache.keys(texts)
    assert any(k.endswith(b"\0") for k in keys)
    rows = np.arange(2000 * 2, dtype=np.float32).reshape(2000, 2)
    cache.put(keys, rows)
    found, back = EmbeddingCache(tmp_path, "toy").get(keys)
    assert found.all() and np.array_equal(back, rows)


def test_a_cache_shared_with_a_model_of_another_width_serves_this_models_rows(tmp_path):
    # the rows took the width of whichever vector the directory listed first: another
    # model's 5-wide vectors made a hit of this model fail to broadcast (or the whole
    # cache be passed over by TextEmbedder, which re-encoded everything)
    wide, narrow = EmbeddingCache(tmp_path, "wide"), EmbeddingCache(tmp_path, "narrow")
    wide.put(wide.keys(["x", "y"]), np.ones((2, 5), dtype=np.float32))
    narrow.put(narrow.keys(["x"]), np.full((1, 3), 2.0, dtype=np.float32))
    for shard in tmp_path.glob("*.npz"):  # the other model's shard is read first
        with np.load(shard) as data:
            first = data["emb"].shape[1] == 5
        shard.rename(tmp_path / f"{'a' if first else 'b'}-{shard.name}")
    found, rows = EmbeddingCache(tmp_path, "narrow").get(narrow.keys(["x", "z"]))
    assert found.tolist() == [True, False] and rows.tolist() == [[2.0] * 3, [0.0] * 3]
    found, rows = EmbeddingCache(tmp_path, "narrow").get(narrow.keys(["z"]))
    assert not found.any() and rows.shape == (1, 0)
