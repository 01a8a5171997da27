"""Ctrl-C handled another way while a block runs."""

from __future__ import annotations

import signal
import threading

import pytest

from activelab._signals import sigint_handled


def test_the_old_handler_comes_back_when_the_block_raises():
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(RuntimeError), sigint_handled(signal.SIG_IGN):
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        raise RuntimeError
    assert signal.getsignal(signal.SIGINT) is before


def test_outside_the_main_thread_the_block_runs_as_it_is():
    seen: list[object] = []

    def work() -> None:
        with sigint_handled(signal.SIG_IGN):  # signal.signal would raise ValueError here
            seen.append(signal.getsignal(signal.SIGINT))

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert seen == [signal.getsignal(signal.SIGINT)] and seen[0] is not signal.SIG_IGN
