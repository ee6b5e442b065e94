"""Targeted notifications: each scope has its own NOTIFY channel, listeners LISTEN only on
those of their bots, the fleet and their accounts, and no kill is missed.

The views here are confirmed by their periodic re-read only once an hour
(``NIJA_STALE_AFTER=3600``), so every kill below can reach its bots only through a
notification on a channel they LISTEN on: a missed LISTEN leaves the bot allowed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from nija.account_risk import account_service
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.postgres import PostgresStore
from nija.store.postgres.channels import GENERAL, channel
from nija.store.postgres.feed import PostgresChangeFeed
from nija.store.postgres.rows import FLEET
from tests.fleet.agents import Agent, Host
from tests.runtime.runtime_helpers import wait_for

WHO = Who("alice@host", "cli")
DRY = "ALLOW DRY_RUN"
KILLED = "DENY KILL_SWITCH_ACTIVE"
HOUR = "3600"


def _bot(url: str, bot: str) -> PostgresStore:
    return PostgresStore(url, bot=bot, stale_after_s=3600)


def _restore(url: str, bots: list[str]) -> None:
    for bot in bots:
        store = _bot(url, bot)
        SafetyService(store).restore(WHO)
        store.close()


def _declare(url: str, bot: str, account: str) -> None:
    store = _bot(url, bot)
    store.declare_account(account)
    store.close()


def _kill_account(url: str, account: str, tmp_path: Path) -> None:
    service = account_service(url, account, tmp_path / f"acct-{account}")
    service.activate_kill(f"drill on {account}", WHO)
    service.store.close()  # type: ignore[attr-defined]


def _flag(url: str, scope: str) -> None:
    """Only a kill flag (no cascade to the bots' rows): its one notification is on the
    scope's channel, so only a listener on that channel can learn of it before its re-read."""
    store = PostgresStore(url, bot=scope, stale_after_s=3600)
    store.raise_kill_flag(f"drill on {scope}", WHO, datetime.now(UTC))
    store.close()


def test_channel_names_are_short_fixed_identifiers_distinct_per_scope() -> None:
    scopes = ["alpha", FLEET, "@account:main-kraken", "@account:ü ' ; DROP", "x" * 200]
    names = [channel(s) for s in scopes]
    assert all(re.fullmatch(r"nija_[0-9a-f]{32}", n) for n in names), names
    assert len(set(names)) == len(scopes)
    assert GENERAL not in names
    assert channel("alpha") == "nija_" + "8ed3f6ad685b959ead7022518e1af76c"  # the same in every process, documented


def test_an_agent_with_bots_on_two_accounts_gets_each_scopes_kill_and_a_late_declared_account(
    fleet_url: str, tmp_path: Path
) -> None:
    bots = ["a1-x", "a1-y", "a2-x", "late", "solo"]
    _restore(fleet_url, [*bots, "direct-late"])
    _declare(fleet_url, "a1-x", "acct-1")
    _declare(fleet_url, "a1-y", "acct-1")
    _declare(fleet_url, "a2-x", "acct-2")
    agent = Agent(fleet_url, tmp_path / "agent.sock", NIJA_STALE_AFTER=HOUR).start()
    host = Host(agent.path, bots, stale=3600)
    direct = Host(tmp_path / "none.sock", ["direct-late"], direct=fleet_url, stale=3600)  # its own view
    try:
        host.wait_ready()
        direct.wait_ready()
        assert host.all(DRY)
        assert direct.all(DRY)
        # Declared after the agent and the direct view read them: their account's kill must still reach them.
        _declare(fleet_url, "late", "acct-2")
        _declare(fleet_url, "direct-late", "acct-2")

        _flag(fleet_url, "@account:acct-2")
        wait_for(
            lambda: all(host.answer(b) == KILLED for b in ("a2-x", "late")) and direct.all(KILLED),
            what="the kill of acct-2 reaching its bots, one declared after it connected",
        )
        assert [host.answer(b) for b in ("a1-x", "a1-y", "solo")] == [DRY] * 3, "acct-2's kill stops its bots only"

        _flag(fleet_url, "@account:acct-1")
        wait_for(lambda: all(host.answer(b) == KILLED for b in ("a1-x", "a1-y")), what="the kill of acct-1")
        assert host.answer("solo") == DRY

        store = _bot(fleet_url, "solo")
        SafetyService(store).activate_kill("this bot misbehaves", WHO)
        store.close()
        wait_for(lambda: host.answer("solo") == KILLED, what="a bot kill reaching its bot through the agent")

    finally:
        host.close()
        direct.close()
        agent.stop()


def test_a_fleet_kill_flag_reaches_every_bot_through_the_fleet_channel(fleet_url: str, tmp_path: Path) -> None:
    bots = ["f1", "f2"]
    _restore(fleet_url, [*bots, "f-direct"])
    _declare(fleet_url, "f2", "acct-f")
    agent = Agent(fleet_url, tmp_path / "agent.sock", NIJA_STALE_AFTER=HOUR).start()
    host = Host(agent.path, bots, stale=3600)
    direct = Host(tmp_path / "none.sock", ["f-direct"], direct=fleet_url, stale=3600)
    try:
        host.wait_ready()
        direct.wait_ready()
        _flag(fleet_url, FLEET)
        wait_for(lambda: host.all(KILLED) and direct.all(KILLED), what="the fleet kill reaching every bot")
    finally:
        host.close()
        direct.close()
        agent.stop()


def test_a_bots_feed_wakes_for_its_own_account_not_for_another_bot_and_the_fleet_feed_for_all(
    fleet_url: str, tmp_path: Path
) -> None:
    _restore(fleet_url, ["mine", "other"])
    mine, everything = PostgresChangeFeed(fleet_url, "mine"), PostgresChangeFeed(fleet_url, FLEET)
    try:
        assert mine.wait(30)
        assert everything.wait(30)
        while mine.wait(0.5) or everything.wait(0.5):
            pass  # settled
        other = _bot(fleet_url, "other")
        SafetyService(other).activate_kill("not mine", WHO)
        other.close()
        assert everything.wait(30), "the fleet's feed wakes for any bot"
        assert not mine.wait(1.0), "a bot's feed does not wake for another bot"
        _declare(fleet_url, "mine", "acct-m")  # declared after the feed connected
        assert mine.wait(30)
        while mine.wait(0.5):
            pass
        _kill_account(fleet_url, "acct-m", tmp_path)
        assert mine.wait(30), "its account's kill wakes a bot's feed"
    finally:
        mine.close()
        everything.close()
