"""Interop tests featurise texts with TF-IDF (fast, no model package needed)."""

from __future__ import annotations

import os

os.environ.setdefault("ACTIVELAB_TEXT_FEATURES", "tfidf")
