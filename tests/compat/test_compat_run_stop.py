"""A process that stops being the store's bot run before it exits (a bot embedding the
compat modules that shuts down, a test that removes its directory): its beats end, its
stopped heartbeat is the last thing it writes there, and the live trading granted to its
run is no longer its own."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from nija.compat.backend import backend_for
from nija.compat.run import beat_thread_name
from nija.compat.trading_state_machine import TradingState, TradingStateMachine
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store import JsonFileStore
from tests.runtime.live_process import go_live
from tests.runtime.runtime_helpers import wait_for

ALICE = Who("alice@host", "cli")


def beating(directory: Path) -> bool:
    return any(t.name == beat_thread_name(directory) and t.is_alive() for t in threading.enumerate())


def test_a_stopped_bot_run_beats_no_more_and_never_trades_live(data_dir: Path) -> None:
    SafetyService(JsonFileStore(data_dir)).restore(ALICE)
    machine = TradingStateMachine(data_dir / ".nija_trading_state.json")
    assert beating(data_dir)  # this process is the store's bot run
    go_live(data_dir)  # requested for this process's run, acknowledged in its beat, confirmed
    wait_for(machine.is_live_trading_active, what="live verified for this process's run")

    backend_for(data_dir).stop_run()

    assert not beating(data_dir)
    beat = JsonFileStore(data_dir).load().heartbeat
    assert beat is not None
    assert beat.stopped
    assert beat.pid == os.getpid()
    assert machine.get_current_state() is TradingState.LIVE_ACTIVE  # the record, for display
    assert machine.is_live_trading_active() is False
    assert machine.can_make_broker_calls() is False
    assert machine.get_state_summary()["permission"]["code"] == "LIVE_BLOCKED"
    backend_for(data_dir).stop_run()  # again: nothing more to stop


def test_a_process_that_never_became_the_run_has_nothing_to_stop(data_dir: Path) -> None:
    backend = backend_for(data_dir)  # no state machine started: a reader
    backend.stop_run()
    assert not beating(data_dir)
    assert JsonFileStore(data_dir).load().heartbeat is None
