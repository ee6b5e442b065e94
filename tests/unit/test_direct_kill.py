"""A kill held in memory is written to disk once, whichever threads ask to write it: the
bot's beats, its reads (a stopped compat run), or several of them at once."""

from __future__ import annotations

import threading
import time

import pytest

from nija.domain.transitions import Who
from nija.runtime import direct_kill
from nija.runtime.direct_kill import DirectKill


class Later:
    """The clock once the first write has taken longer than the retry interval."""

    @staticmethod
    def monotonic() -> float:
        return time.monotonic() + 10 * direct_kill.RECORD_RETRY_S


def test_a_held_kill_is_written_once_while_several_threads_try(monkeypatch: pytest.MonkeyPatch) -> None:
    kill = DirectKill()
    kill.latch("disk trouble", "alice@host", "cli")
    entered, release = threading.Event(), threading.Event()
    writes: list[tuple[str, Who]] = []

    def slow_write(reason: str, who: Who) -> None:  # the store's lock is held by another process
        writes.append((reason, who))
        entered.set()
        assert release.wait(60)

    first: list[bool] = []
    writer = threading.Thread(target=lambda: first.append(kill.try_record(slow_write)))
    writer.start()
    assert entered.wait(60)
    monkeypatch.setattr(direct_kill, "time", Later)  # the write outlasts the retry interval
    assert kill.try_record(slow_write) is False  # one attempt at a time: no second activation
    release.set()
    writer.join(60)
    assert first == [True]
    assert writes == [("disk trouble", Who("alice@host", "cli"))]
    assert kill.active is False  # written: the disk's latch holds it now
    assert kill.try_record(slow_write) is False
    assert len(writes) == 1


def test_a_failed_write_keeps_the_kill_held_for_the_next_try() -> None:
    kill = DirectKill()
    kill.latch("disk full", "alice@host", "cli")

    def full_disk(reason: str, who: Who) -> None:
        raise OSError(28, "No space left on device")

    assert kill.try_record(full_disk) is False
    assert kill.active is True
    assert kill.recorded is False
