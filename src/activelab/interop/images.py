"""Image references in task data: ``data:`` URIs, files, and (with a fetcher) web addresses.

Examples
--------
>>> import base64
>>> png = base64.b64decode(
...     "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==")
>>> data, kind = load_image_ref("data:image/png;base64," + base64.b64encode(png).decode())
>>> data == png, kind
(True, 'image/png')
>>> load_image_ref("https://example.org/a.png")
Traceback (most recent call last):
...
activelab.interop.images.ImageRefError: 'https://example.org/a.png' is a web address; activelab reads images from files or data: URIs here (download them and give relative paths).
"""  # noqa: E501

from __future__ import annotations

import base64
import binascii
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["IMAGE_KEYS", "ImageRefError", "image_key", "load_image_ref"]

#: task data fields that may hold an image, in the order they are looked for
IMAGE_KEYS = ("image", "img", "image_url", "picture", "photo")
_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


class ImageRefError(ValueError):
    """An image reference cannot be read."""


#: paths of Label Studio's own storage (uploads and local-files) in its task data
_LS_STORAGE = ("/data/upload/", "/data/local-files/")


def image_key(data: dict[str, Any]) -> str:
    """The data field holding the image.

    Examples
    --------
    >>> image_key({"img": "a.png", "text": "caption"})
    'img'
    """
    return next(k for k in IMAGE_KEYS if isinstance(data.get(k), str))


def load_image_ref(
    ref: str,
    *,
    base: Path | None = None,
    fetch: Callable[[str], bytes] | None = None,
) -> tuple[bytes, str]:
    """The bytes and media type of an image named by a task.

    ``ref`` is a ``data:`` URI, a ``file://`` URL, a path (relative to
    ``base``), or — only when ``fetch`` is given — a web address or a
    server-relative one such as Label Studio's ``/data/upload/…``.
    """
    if ref.startswith("data:"):
        head, _, payload = ref.partition(",")
        if ";base64" not in head:
            raise ImageRefError(f"{ref[:40]!r}...: only base64 data: URIs are read.")
        try:
            return base64.b64decode(payload, validate=True), head[5:].split(";")[0] or "image/png"
        except binascii.Error as exc:
            raise ImageRefError(f"{ref[:40]!r}...: bad base64 ({exc}).") from exc
    parsed = urllib.parse.urlparse(ref)
    if parsed.scheme in ("http", "https") or (ref.startswith("/data/") and fetch is not None):
        if fetch is None:
            raise ImageRefError(
                f"{ref!r} is a web address; activelab reads images from files or data: URIs "
                "here (download them and give relative paths)."
            )
        return fetch(ref), _TYPES.get(Path(parsed.path).suffix.lower(), "image/png")
    path = Path(urllib.parse.unquote(parsed.path) if parsed.scheme == "file" else ref)
    if not path.is_absolute() and base is not None:
        path = base / path
    if not path.is_file():
        if ref.startswith(_LS_STORAGE):
            raise ImageRefError(
                f"{ref!r} is a file on the Label Studio server; copy the images here and give "
                "their paths (relative to the task file) or data: URIs, or label them through "
                "activelab ls-backend, which fetches them."
            )
        if len(parsed.scheme) > 1 and parsed.scheme != "file":  # s3://, gs://; not C:\
            raise ImageRefError(
                f"{ref!r} is in {parsed.scheme}:// storage; download the images and give their "
                "paths (relative to the task file) or data: URIs."
            )
        raise ImageRefError(f"{ref!r}: no such image file ({path}).")
    return path.read_bytes(), _TYPES.get(path.suffix.lower(), "image/png")
