"""Read your own writes on a cached view: ``catch_up`` waits for a reading begun after it
was asked, never for one that was already under way (it may predate the change)."""

from __future__ import annotations

import threading

from nija.domain.permission import Permission
from nija.store.postgres.view import NOT_CHECKED, CachedPermission

DRY_RUN = Permission(True, None, "DRY_RUN", "simulated")
OFF = Permission(False, None, "STATE_OFF", "off")


class ManualView(CachedPermission):
    """A cached view whose readings the test makes, on a clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0
        self._clock = lambda: self.now
        self.stale_after_s = 3600.0
        self._permission = NOT_CHECKED
        self._confirmed_at = float("-inf")
        self._problem = "not read yet"
        self.changed_ns = 0

    def reading(self, begun_at: float, permission: Permission) -> None:
        self._set(permission)
        self._confirmed_at = begun_at


def test_a_reading_begun_before_the_question_does_not_count() -> None:
    view = ManualView()
    view.reading(99.0, OFF)  # read before the change this process just made
    assert view.catch_up(0.05) is False
    assert view.check() == OFF


def test_the_answer_waits_for_a_reading_begun_after_the_question() -> None:
    view = ManualView()
    view.reading(99.0, OFF)
    asked = threading.Event()
    original = view._clock

    def clock() -> float:
        asked.set()  # catch_up has taken its "asked" time
        return original()

    view._clock = clock

    def reader() -> None:
        asked.wait(10)
        view.now = 101.0
        view.reading(100.5, DRY_RUN)

    worker = threading.Thread(target=reader)
    worker.start()
    assert view.catch_up(30.0) is True
    worker.join()
    assert view.check() == DRY_RUN
