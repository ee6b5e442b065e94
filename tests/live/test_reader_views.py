"""A view without the running bot's verifier (a reader's: a screen, freqtrade's entry
callback) judges a LIVE_ACTIVE by what the running bot published it verified. A bot that
crashes publishes nothing more: its heartbeat grows old, never "stopped". Its readers
must stop answering LIVE once that heartbeat is old, on every store, even when no file or
row changes (DESIGN.md invariant 7: a stored LIVE_ACTIVE alone never moves money)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nija.domain.errors import LiveRequestRefused
from nija.domain.live import LiveCode, LivePolicy
from nija.domain.permission import PermissionCode
from nija.domain.records import HEARTBEAT_MAX_AGE
from nija.domain.states import Mode
from nija.domain.transitions import Who
from nija.integrations.freqtrade.strategy import entry_permission
from nija.service import SafetyService, system_clock
from nija.store import JsonFileStore
from nija.store.memory import MemoryStore
from nija.store.ports import Store
from nija.store.postgres import PostgresStore
from nija.store.postgres.testing import temporary_database
from nija.store.postgres.view import PostgresPermissionView
from nija.testing import HeartbeatBot
from tests.runtime.runtime_helpers import wait_for

ALICE = Who("alice@host", "cli")


@pytest.fixture(params=["files", "memory", "postgresql", "postgresql-refreshed-rarely"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "files":
        yield JsonFileStore(tmp_path)
    elif request.param == "memory":
        yield MemoryStore()
    else:
        # NIJA_STALE_AFTER up to 3600 s: its view then re-reads every 150 s, or on a notice.
        stale_after = 600.0 if request.param.endswith("rarely") else 2.0
        with temporary_database() as url:
            fleet = PostgresStore(url, bot="alpha", stale_after_s=stale_after)
            try:
                yield fleet
            finally:
                fleet.close()


def live_for_a_running_bot(store: Store) -> HeartbeatBot:
    service = SafetyService(store, policy=LivePolicy(min_dry_run=timedelta(0)))
    service.restore(ALICE)
    bot = HeartbeatBot(store, system_clock)
    request = service.request_live(ALICE, credentials_configured=True)

    def confirmed() -> bool:
        bot.step()  # acknowledges the request in its beat once its view has seen it
        try:
            service.confirm_live(request.code, service.policy.phrase, ALICE)
        except LiveRequestRefused as refused:
            if str(refused.code) != LiveCode.NOT_ACKNOWLEDGED:
                raise
            return False
        return True

    wait_for(confirmed, what="the bot's acknowledgment, then the confirmation")

    def published() -> bool:
        bot.step()  # verifies the confirmation once its view has seen it, and says so in its beat
        beat = store.load().heartbeat
        return beat is not None and bool(beat.live_nonce)

    wait_for(published, what="the bot's verification in its heartbeat")
    return bot


def test_a_readers_live_ends_when_the_bot_that_verified_it_crashes(store: Store) -> None:
    bot = live_for_a_running_bot(store)
    view = store.permission_view()

    def seen_live() -> bool:
        bot.step()  # still beating meanwhile
        return view.check().mode is Mode.LIVE

    wait_for(seen_live, what="the reader seeing the bot's verified live")
    last = store.load().heartbeat
    assert last is not None
    # The bot is killed; time passes: its last beat is older than HEARTBEAT_MAX_AGE.
    store.beat(replace(last, last_beat=last.last_beat - 2 * HEARTBEAT_MAX_AGE))
    # The code itself is awaited: a stall of a loaded machine may flicker VIEW_STALE first.
    wait_for(
        lambda: view.check().code == PermissionCode.LIVE_NOT_VERIFIED, what="the reader refusing a crashed bot's live"
    )
    permission = view.check()
    assert "not running" in permission.reason
    assert store.load().trading.current_state.value == "LIVE_ACTIVE"  # type: ignore[union-attr]


def test_a_readers_live_ends_when_the_bot_stops_without_touching_the_state(tmp_path: Path) -> None:
    """The file view re-read only the state and kill records: a stopped heartbeat alone
    left its LIVE answer standing."""
    store = JsonFileStore(tmp_path)
    bot = live_for_a_running_bot(store)
    view = store.permission_view()
    assert view.check().mode is Mode.LIVE
    bot.stop()
    assert view.check().allowed is False


def test_a_readers_live_ends_when_a_crashed_bots_last_beat_grows_old_with_nothing_written(store: Store) -> None:
    """Nothing is written after the crash: no file changes, no row, no notification. The
    reader's answer must end by itself when the last beat is 15 s old."""
    bot = live_for_a_running_bot(store)
    view = store.permission_view()

    def last_beat_before_the_crash() -> bool:
        bot.step()
        beat = store.load().heartbeat
        assert beat is not None
        # A beat a few seconds before it would be too old: the reader sees LIVE, then time passes.
        store.beat(replace(beat, last_beat=datetime.now(UTC) - HEARTBEAT_MAX_AGE + timedelta(seconds=3)))
        return view.check().mode is Mode.LIVE

    wait_for(last_beat_before_the_crash, what="the reader seeing live on the bot's last beat")
    wait_for(
        lambda: view.check().code == PermissionCode.LIVE_NOT_VERIFIED,
        what="the reader refusing once that beat is too old",
    )
    permission = view.check()
    assert "not running" in permission.reason


def test_a_readers_live_ends_when_a_crashed_bots_last_beat_lies_in_the_future(store: Store) -> None:
    """The bot's host clock ran an hour ahead; the bot crashed, then NTP stepped the clock
    back: its last beat lies an hour in the future and nothing beats any more. No reader
    may keep its LIVE for the size of the step (the age of that beat is unknown)."""
    bot = live_for_a_running_bot(store)
    view = store.permission_view()

    def seen_live() -> bool:
        bot.step()
        return view.check().mode is Mode.LIVE

    wait_for(seen_live, what="the reader seeing the bot's verified live")
    last = store.load().heartbeat
    assert last is not None
    store.beat(replace(last, last_beat=datetime.now(UTC) + timedelta(hours=1)))  # its last, then the crash
    wait_for(lambda: not view.check().allowed, what="the reader refusing a beat from the future")
    assert view.check().code == PermissionCode.LIVE_NOT_VERIFIED
    assert store.load().trading.current_state.value == "LIVE_ACTIVE"  # type: ignore[union-attr]


def test_freqtrades_entry_guard_refuses_live_when_the_bridges_last_beat_lies_in_the_future(tmp_path: Path) -> None:
    """The finding's case: freqtrade asks NijaEntryGuard's check after the bridge (the
    verifying bot) crashed and the clock was stepped back; it must refuse at once."""
    store = JsonFileStore(tmp_path)
    bot = live_for_a_running_bot(store)
    last = store.load().heartbeat
    assert last is not None
    store.beat(replace(last, last_beat=datetime.now(UTC) + timedelta(hours=1)))
    del bot  # crashed: it beats no more
    view = JsonFileStore(tmp_path).permission_view()
    permission = entry_permission(view, dry_run=False, bridge=lambda: JsonFileStore(tmp_path).load().heartbeat)
    assert not permission.allowed
    assert permission.code == PermissionCode.LIVE_NOT_VERIFIED
    assert "in the future" in permission.reason


def test_a_postgresql_reader_ages_the_beat_on_the_databases_clock_not_its_own() -> None:
    """A reader host whose clock runs an hour behind would see every beat in the future
    (and an hour ahead, every beat an hour old): it judges on the database's clock."""
    with temporary_database() as url:
        store = PostgresStore(url, bot="alpha")
        try:
            bot = live_for_a_running_bot(store)
            view = PostgresPermissionView(url, store.scope)
            view._wall = lambda: datetime.now(UTC) - timedelta(hours=1)  # this host's clock, wrong

            def seen_live() -> bool:
                bot.step()
                return view.check().mode is Mode.LIVE

            wait_for(seen_live, what="the reader with a wrong clock seeing the beating bot's live")
            last = store.load().heartbeat
            assert last is not None
            store.beat(replace(last, last_beat=last.last_beat - 2 * HEARTBEAT_MAX_AGE))  # crashed long ago
            wait_for(lambda: not view.check().allowed, what="the reader refusing the crashed bot's live")
            assert view.check().code == PermissionCode.LIVE_NOT_VERIFIED
            view.close()
        finally:
            store.close()
