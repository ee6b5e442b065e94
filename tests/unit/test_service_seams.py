"""The service's seams: what it is given stays as given (its live flow and its transaction
plumbing see the same values), and a wired live request reads the clock once."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from nija.assembly import wire
from nija.domain.events import Event, EventKind
from nija.domain.live import ACKNOWLEDGMENT_PHRASE
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.memory import MemoryStore
from nija.testing import FakeClock, HeartbeatBot

ALICE = Who("alice@host", "cli")


class CountingClock(FakeClock):
    """Each read moves time on, so two reads in one operation would show in the records."""

    reads = 0

    def __call__(self) -> datetime:
        self.reads += 1
        return self.advance(microseconds=1)


@pytest.mark.parametrize("name", ["clock", "policy", "config_problem", "recorder", "store", "credentials"])
def test_what_the_service_was_given_cannot_be_reassigned(name: str) -> None:
    service = SafetyService(MemoryStore())
    with pytest.raises(AttributeError):
        setattr(service, name, getattr(service, name))


def test_a_listener_appended_after_construction_hears_every_change() -> None:
    service = SafetyService(MemoryStore(), clock=FakeClock())
    heard: list[Event] = []
    service.listeners.append(heard.append)
    service.restore(ALICE)  # a transaction's events, then a published one
    assert heard[-1].kind is EventKind.RESTORE
    # One transition event per history entry, with the entry's own time.
    assert [t.timestamp for t in service.history()[0]] == [e.timestamp for e in heard[:-1]]


def test_a_wired_live_request_and_confirm_read_the_clock_once_each(tmp_path: Path) -> None:
    (tmp_path / "nija.toml").write_text("[live]\nmin_dry_run_minutes = 0\n")
    clock = CountingClock()
    service = wire(tmp_path, clock=clock).service
    assert service.live_request_checks  # the exchange-side check runs, at the request's time
    service.restore(ALICE)
    bot = HeartbeatBot(service.store, clock, data_dir=tmp_path)
    clock.reads = 0
    request = service.request_live(ALICE, credentials_configured=True)
    assert clock.reads == 1
    assert request.expires_at - request.outcome.transitions[-1].timestamp == service.policy.confirmation_window
    bot.step()  # the running bot acknowledges the request
    clock.reads = 0
    confirmed = service.confirm_live(request.code, ACKNOWLEDGMENT_PHRASE, ALICE)
    assert clock.reads == 1
    assert confirmed.after.is_live


def test_threads_that_first_need_the_lazy_parts_together_share_one_of_each(tmp_path: Path) -> None:
    """The audit trail, the live flow and the default policy are built at first use; the API
    server and a bot use one service from several threads, and a second trail (or flow) would
    keep its own memory of what it recovered (or of the live request)."""
    import threading

    from nija.assembly import audit_trail

    service = wire(tmp_path).service
    start = threading.Barrier(8)
    seen: list[tuple[object, object, object]] = []

    def first_use() -> None:
        start.wait()
        seen.append((audit_trail(service), service.policy, service._live_flow()))

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(seen) == 8
    assert len({id(part) for parts in seen for part in parts}) == 3
    assert service.policy.phrase == ACKNOWLEDGMENT_PHRASE  # the domain's default, as before
