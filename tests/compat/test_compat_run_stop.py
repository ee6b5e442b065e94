"""A process that stops being the store's bot run before it exits (a bot embedding the
compat modules that shuts down, a test that removes its directory): its beats end, its
stopped heartbeat is the last thing they write, it still hears kills, and the live trading
granted to its run is no longer its own."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nija.assembly import build_service
from nija.compat.backend import backend_for
from nija.compat.run import beat_thread_name
from nija.compat.trading_state_machine import TradingState, TradingStateMachine
from nija.domain.transitions import Who
from nija.kill_channel import tell_bots
from nija.store.postgres.connect import connect
from nija.store.postgres.testing import admin_dsn, temporary_database
from tests.runtime.live_process import go_live
from tests.runtime.runtime_helpers import wait_for

ALICE = Who("alice@host", "cli")
STATE = ".nija_trading_state.json"


@pytest.fixture
def fleet(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fleet database this process uses (NIJA_STORE), as a fleet bot's would."""
    with temporary_database() as url:
        monkeypatch.setenv("NIJA_STORE", url)
        monkeypatch.setenv("NIJA_BOT", "original-bot")
        yield url


@pytest.fixture(params=["files", "postgresql"])
def store(request: pytest.FixtureRequest) -> str:
    """ "files", or the URL of the fleet database this process uses."""
    return "files" if request.param == "files" else str(request.getfixturevalue("fleet"))


def view_connections(url: str) -> int:
    """The fleet database connections of this process's permission views (pushed kills)."""
    with connect(admin_dsn()) as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name LIKE 'nija-view:%%'",
            (url.rsplit("/", 1)[1],),
        ).fetchone()
    assert row is not None
    count = row[0]
    assert isinstance(count, int)
    return count


def beating(directory: Path) -> bool:
    return any(t.name == beat_thread_name(directory) and t.is_alive() for t in threading.enumerate())


def last_heartbeat_is_stopped(directory: Path) -> bool:
    beat = build_service(directory).snapshot().heartbeat
    return beat is not None and beat.stopped and beat.pid == os.getpid()


def test_a_stopped_bot_run_beats_no_more_never_trades_live_and_still_hears_kills(data_dir: Path, store: str) -> None:
    build_service(data_dir).restore(ALICE)
    machine = TradingStateMachine(data_dir / STATE)
    assert beating(data_dir)  # this process is the store's bot run
    go_live(data_dir)  # requested for this process's run, acknowledged in its beat, confirmed
    wait_for(machine.is_live_trading_active, what="live verified for this process's run")

    views = 0 if store == "files" else view_connections(store)
    assert backend_for(data_dir).stop_run() is True

    assert not beating(data_dir)
    if store != "files":  # the run's view still listens for pushed kills: it was not closed
        assert view_connections(store) == views
    assert last_heartbeat_is_stopped(data_dir)
    assert machine.get_current_state() is TradingState.LIVE_ACTIVE  # the record, for display
    assert machine.is_live_trading_active() is False
    assert machine.can_make_broker_calls() is False
    assert machine.get_state_summary()["permission"]["code"] == "LIVE_BLOCKED"
    # Another process's kill still reaches it, as fast as before (its view stays open).
    build_service(data_dir).activate_kill("kill after the run stopped", ALICE)
    wait_for(machine.is_emergency_stopped, what="the kill seen after the run stopped")
    assert machine.is_trading_allowed() is False
    assert backend_for(data_dir).stop_run() is True  # again: nothing more to stop
    assert last_heartbeat_is_stopped(data_dir)


def test_a_stop_while_this_thread_holds_the_beats_lock_still_ends_with_the_stopped_heartbeat(data_dir: Path) -> None:
    """A signal handler that stops the run while the process is in one of its own changes:
    the beat waiting for that change's lock must not land after the stopped heartbeat."""
    build_service(data_dir).restore(ALICE)
    TradingStateMachine(data_dir / STATE)
    backend = backend_for(data_dir)
    with backend._adopt_lock:  # what a change of this process holds
        time.sleep(0.5)  # a beat comes due meanwhile and waits for the lock (or not: either way)
        backend.stop_run()
    wait_for(lambda: not beating(data_dir), what="the beating thread ending")
    assert last_heartbeat_is_stopped(data_dir)


def test_a_process_that_never_became_the_run_has_nothing_to_stop(data_dir: Path) -> None:
    assert backend_for(data_dir).stop_run() is True  # no state machine started: a reader
    assert not beating(data_dir)
    assert build_service(data_dir).snapshot().heartbeat is None


def test_a_kill_sent_straight_to_a_stopped_run_is_heard_and_written_by_its_next_read(data_dir: Path) -> None:
    """No beats write it now: the bot's own reads do (``kill activate`` sends it straight to
    the bots when the disk cannot take it; here the disk can, so the next read writes it)."""
    build_service(data_dir).restore(ALICE)
    machine = TradingStateMachine(data_dir / STATE)
    assert backend_for(data_dir).stop_run() is True
    assert tell_bots(data_dir, "disk trouble", ALICE, datetime.now(UTC)) == (os.getpid(),)
    assert machine.is_emergency_stopped()  # held in memory, and written by this read
    assert build_service(data_dir).store.load().kill_active is True


def test_a_fleet_bot_whose_data_directory_is_removed_says_it_stopped_and_never_trades_live(
    data_dir: Path, fleet: str
) -> None:
    """Its records are in the database: the removal ends its beats there with the stopped
    heartbeat; its view stays open for kills."""
    build_service(data_dir).restore(ALICE)
    machine = TradingStateMachine(data_dir / STATE)
    go_live(data_dir)
    wait_for(machine.is_live_trading_active, what="live verified for this process's run")
    shutil.rmtree(data_dir)
    wait_for(lambda: not beating(data_dir), what="the beats ending")
    assert last_heartbeat_is_stopped(data_dir)
    assert machine.is_live_trading_active() is False
    build_service(data_dir).activate_kill("after the directory went", ALICE)
    wait_for(machine.is_emergency_stopped, what="the kill seen")


def test_a_run_that_could_not_start_is_a_reader_with_nothing_to_stop(data_dir: Path) -> None:
    (data_dir / ".nija_heartbeat.json").mkdir()  # its first beat cannot be written: the start fails
    machine = TradingStateMachine(data_dir / STATE)
    assert not beating(data_dir)
    assert backend_for(data_dir).stop_run() is True
    assert machine.is_trading_allowed() is False
