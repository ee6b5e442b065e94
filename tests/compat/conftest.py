"""The compat tests run the original bot's modules in the test process: what a process
exit would end (its runs, their kill listeners and views) ends with each test instead."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _compat_backends_end_with_the_test() -> Iterator[None]:
    yield
    from nija.compat import backend

    with backend._backends_lock:
        ended = list(backend._backends.values())
        backend._backends.clear()
    for done in ended:
        if done.run is not None:
            done.run.stop()  # CompatRun.stop, as at exit: beats end, listener and view close
        else:
            close = getattr(done.view, "close", None)
            if close is not None:
                close()  # a reader's fleet view: its connection and thread
