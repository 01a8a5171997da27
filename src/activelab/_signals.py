"""Ctrl-C handled another way while a block runs, where Python can change its handler."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["sigint_handled"]


@contextlib.contextmanager
def sigint_handled(handler: Callable[[int, Any], Any] | signal.Handlers) -> Iterator[None]:
    """Handle SIGINT (Ctrl-C) with ``handler`` while the block runs, then restore the old one.

    Only the main thread may set a handler (and Python delivers signals to it
    alone): elsewhere the block runs as it is.

    Parameters
    ----------
    handler : callable or signal.Handlers
        What :func:`signal.signal` takes: a function of ``(signum, frame)``, or
        ``signal.SIG_IGN``.

    Examples
    --------
    >>> import signal
    >>> with sigint_handled(signal.SIG_IGN):
    ...     signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    True
    >>> signal.getsignal(signal.SIGINT) is signal.default_int_handler
    True
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)
