"""What the operator saw (``kill_seen``) is checked against the transaction's snapshot: on
every backend it must agree however long the history is (PostgreSQL reads only the
newest entries under its lock), and still refuse after a new kill."""

from __future__ import annotations

import pytest

from nija.domain.errors import StateChanged
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.ports import Store
from nija.store.postgres.rows import TX_HISTORY
from nija.testing import FakeClock

ALICE = Who("alice@host", "cli")


def test_a_deactivation_after_a_long_history_is_not_refused_as_changed(store: Store) -> None:
    clock = FakeClock()
    svc = SafetyService(store, clock=clock)
    for n in range(TX_HISTORY // 2 + 1):  # more kill-history entries than a transaction reads
        svc.activate_kill(f"drill {n}", ALICE)
        clock.advance(seconds=1)
        svc.deactivate_kill(f"drill {n} over", ALICE, expected=svc.kill_seen())
        clock.advance(seconds=1)
    svc.activate_kill("the real one", ALICE)
    done = svc.deactivate_kill("fixed", ALICE, expected=svc.kill_seen())
    assert not done.kill_active


def test_a_kill_raised_after_the_look_still_refuses(store: Store) -> None:
    clock = FakeClock()
    svc = SafetyService(store, clock=clock)
    svc.activate_kill("first", ALICE)
    seen = svc.kill_seen()
    clock.advance(seconds=1)
    svc.activate_kill("second", ALICE)
    with pytest.raises(StateChanged):
        svc.deactivate_kill("fixed", ALICE, expected=seen)
    assert svc.status().kill_active
