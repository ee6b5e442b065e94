"""The store contract: the same transitions, refusals, races and diagnosis on every
backend (memory, JSON files, PostgreSQL), driven through the real SafetyService."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from nija.domain.change import Change
from nija.domain.errors import KillSwitchActive, LiveRequestRefused, SafetyRefusal
from nija.domain.permission import Permission
from nija.domain.records import Heartbeat, KillRecord, TradingRecord, Unreadable
from nija.domain.states import TradingState
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.ports import PermissionView, Store
from tests.contract.backends import Backend

WHO = Who("tester@host", "test")
OFF, DRY, STOP = TradingState.OFF, TradingState.DRY_RUN, TradingState.EMERGENCY_STOP


def service(store: Store) -> SafetyService:
    return SafetyService(store)


def eventually(view: PermissionView, wanted: Callable[[Permission], bool]) -> Permission:
    """Wait for the view to show a change (the PostgreSQL view is pushed, not read)."""
    deadline = time.monotonic() + 60
    answer = view.check()
    while not wanted(answer) and time.monotonic() < deadline:
        time.sleep(0.005)
        answer = view.check()
    return answer


def close(view: PermissionView) -> None:
    stop = getattr(view, "close", None)
    if stop is not None:
        stop()


def assert_chains(record: TradingRecord | Unreadable) -> None:
    assert isinstance(record, TradingRecord)
    previous = OFF
    for entry in record.history:
        assert entry.from_state is previous, f"{entry} does not start where the previous entry ended"
        previous = entry.to_state
    assert previous is record.current_state


def test_when_fresh_then_off_without_kill_and_consistent(store: Store) -> None:
    report = service(store).status()
    assert report.state is OFF
    assert not report.kill_active
    assert report.inconsistencies == ()
    assert not report.can_trade


def test_when_restored_then_dry_run_is_recorded_with_who_and_why(store: Store) -> None:
    outcome = service(store).restore(WHO)
    assert (outcome.before, outcome.after) == (OFF, DRY)
    snap = store.load()
    assert snap.state is DRY
    assert isinstance(snap.trading, TradingRecord)
    entry = snap.trading.history[-1]
    assert (entry.from_state, entry.to_state, entry.actor, entry.source) == (OFF, DRY, WHO.actor, WHO.source)
    assert entry.reason


def test_when_killed_then_stopped_refused_and_recorded(store: Store) -> None:
    svc = service(store)
    svc.restore(WHO)
    svc.activate_kill("exchange outage", WHO)
    snap = store.load()
    assert snap.state is STOP
    assert snap.kill_active
    assert isinstance(snap.kill, KillRecord)
    assert snap.kill.last_activation is not None
    assert snap.kill.last_activation.reason == "exchange outage"
    with pytest.raises(KillSwitchActive):
        svc.restore(WHO)
    with pytest.raises(SafetyRefusal, match="needs a reason"):
        svc.deactivate_kill("  ", WHO)
    assert svc.status().inconsistencies == ()


def test_when_kill_deactivated_then_off_and_restore_resumes_dry_run(store: Store) -> None:
    svc = service(store)
    svc.activate_kill("drill", WHO)
    outcome = svc.deactivate_kill("drill over", WHO)
    assert (outcome.after, outcome.kill_active) == (OFF, False)
    assert svc.restore(WHO).after is DRY
    transitions, kills = svc.history()
    assert [k.action for k in kills] == ["activate", "deactivate"]
    assert [t.to_state for t in transitions] == [STOP, OFF, DRY]


def test_when_only_the_flag_is_raised_then_killed_and_diagnosed_then_adopted(store: Store) -> None:
    svc = service(store)
    svc.restore(WHO)
    store.raise_kill_flag("touched", WHO, datetime.now(UTC))
    report = svc.status()
    assert report.kill_active
    assert not report.can_trade
    assert "KILL_FILE_WITHOUT_RECORD" in {i.code for i in report.inconsistencies}
    assert svc.adopt_kill_flag(WHO) is not None
    assert svc.status().inconsistencies == ()
    assert store.load().state is STOP


def test_when_illegal_then_refused_and_nothing_written(store: Store) -> None:
    svc = service(store)
    svc.restore(WHO)
    before = store.load()
    with pytest.raises(LiveRequestRefused, match="no pending request"):
        svc.confirm_live("CODE", "I understand", WHO)
    assert store.load().trading == before.trading


def test_permission_view_follows_restore_kill_and_deactivation(store: Store) -> None:
    svc = service(store)
    view = store.permission_view()
    try:
        assert not eventually(view, lambda p: p.code == "STATE_OFF").allowed
        svc.restore(WHO)
        assert eventually(view, lambda p: p.allowed).code == "DRY_RUN"
        svc.activate_kill("stop", WHO)
        assert eventually(view, lambda p: not p.allowed).code == "KILL_SWITCH_ACTIVE"
        svc.deactivate_kill("ok", WHO)
        assert eventually(view, lambda p: p.code == "STATE_OFF").code == "STATE_OFF"
    finally:
        close(view)


def test_raising_the_kill_never_waits_for_a_transaction(backend: Backend, store: Store) -> None:
    other = backend.another(store)
    raised = threading.Event()

    def raise_kill() -> None:
        other.raise_kill_flag("while locked", WHO, datetime.now(UTC))
        raised.set()

    with store.transaction():
        worker = threading.Thread(target=raise_kill)
        worker.start()
        assert raised.wait(30), "raise_kill_flag waited for the transaction's lock"
    worker.join()
    assert store.load().kill_active


def test_a_kill_raised_after_the_snapshot_refuses_the_deactivation(backend: Backend, store: Store) -> None:
    svc = service(store)
    svc.activate_kill("first", WHO)
    other = backend.another(store)
    from nija.domain import killswitch

    with store.transaction() as tx:
        change = killswitch.deactivate(tx.snapshot, "fixed", WHO, datetime.now(UTC))
        time.sleep(0.01)  # a new kill file must differ from the one seen (mtime resolution)
        other.raise_kill_flag("second", WHO, datetime.now(UTC))
        with pytest.raises(SafetyRefusal) as refused:
            tx.commit(change)
    assert refused.value.code == "KILL_RAISED_DURING_DEACTIVATION"
    assert store.load().kill_active


def test_racing_transitions_lose_nothing(backend: Backend, store: Store) -> None:
    rounds, workers = 15, 4
    done: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        svc = service(backend.another(store))
        count = 0
        try:
            for _ in range(rounds):
                count += len(svc.restore(WHO).transitions)
                count += len(svc.reset(WHO).transitions)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        done.append(count)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    snap = store.load()
    assert isinstance(snap.trading, TradingRecord)
    assert len(snap.trading.history) == sum(done)
    assert_chains(snap.trading)


@pytest.mark.parametrize("bad", ["BANANA", "LIVE_ACTIVE"])
def test_hand_edited_state_fails_closed_and_is_diagnosed(backend: Backend, store: Store, bad: str) -> None:
    backend.tamper_state(store, bad)
    svc = service(store)
    report = svc.status()
    assert not report.can_trade
    codes = {i.code for i in report.inconsistencies}
    if bad == "BANANA":
        assert report.kill_active
        assert report.state is STOP
        assert "STATE_FILE_CORRUPT" in codes
        svc.deactivate_kill("repaired by hand", WHO)  # the documented repair path
        assert store.load().state is OFF
    else:
        assert "HISTORY_MISMATCH" in codes
        assert report.permission.code == "LIVE_NOT_VERIFIED"  # a stored LIVE_ACTIVE alone never trades


def test_empty_change_and_heartbeat(store: Store) -> None:
    with store.transaction() as tx:
        tx.commit(Change())
    now = datetime.now(UTC)
    store.beat(Heartbeat(pid=4242, host="h", last_beat=now, started_at=now))
    beat = store.load().heartbeat
    assert beat is not None
    assert (beat.pid, beat.host) == (4242, "h")


def test_a_gate_may_ask_for_the_view_before_every_order(store: Store) -> None:
    service(store).restore(WHO)
    first = store.permission_view()
    try:
        assert eventually(first, lambda p: p.allowed).allowed
        for _ in range(100):
            assert store.permission_view().check().allowed
    finally:
        close(first)
