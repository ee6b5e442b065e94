"""Live bots' account reports through the host agent (issue 17): counted toward the
account's limit like a report over the bot's own connection, a breach kills the account,
and a report the bot cannot hand over (the agent SIGKILLed) is never counted as zero.

Real PostgreSQL, a real ``nija agent`` process; the bot is the live reporter of ``nija
run`` (runtime/account_report.py) on the store a bot with ``[store] agent`` uses."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from nija.domain.errors import StorageUnavailable
from nija.domain.transitions import Who
from nija.runtime.account_report import AccountReporter
from nija.runtime.brokers.paper import PaperBroker
from nija.runtime.settings import PaperSettings
from nija.service import SafetyService
from nija.store.agent import AgentStore
from nija.store.postgres import PostgresStore
from tests.conftest import cli_env
from tests.fleet.agents import Agent, no_new_connections
from tests.fleet.test_account_risk import bot_reports, denial
from tests.runtime.runtime_helpers import wait_for

WHO = Who("ops@host", "test")


def _restore(url: str, *bots: str) -> None:
    for bot in bots:
        store = PostgresStore(url, bot=bot)
        SafetyService(store).restore(WHO)
        store.close()


def _limit(url: str, account: str, daily_loss: str, cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nija", "account", "limits", account, "--store", url, "--daily-loss", daily_loss],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=cwd,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def _bot_figures(url: str, account: str) -> dict[str, float | None]:
    store = PostgresStore(url)
    try:
        figures = store.account_figures(account, datetime.now(UTC).date())
    finally:
        store.close()
    return {b.bot: b.daily_loss for b in figures.bots}


@pytest.fixture
def agent(fleet_url: str, tmp_path: Path) -> Iterator[Agent]:
    running = Agent(fleet_url, tmp_path / "host" / "agent.sock").start()
    yield running
    running.stop()


def _reporter(url: str, bot: str, account: str, agent: Agent, data_dir: Path) -> tuple[AgentStore, AccountReporter]:
    store = AgentStore(url, bot=bot, socket_path=agent.path)
    reporter = AccountReporter.for_store(store, account, Who(bot, "bot"), data_dir)
    assert reporter is not None
    reporter.declare()  # at start, over the bot's own short connection (as nija run does)
    store.release()
    return store, reporter


def test_a_live_bots_report_through_the_agent_counts_and_a_breach_kills_the_account(
    fleet_url: str, tmp_path: Path, agent: Agent
) -> None:
    _restore(fleet_url, "via", "own", "elsewhere")
    _limit(fleet_url, "acct", "1000", tmp_path)
    store, reporter = _reporter(fleet_url, "via", "acct", agent, tmp_path)
    book = PaperBroker(tmp_path, PaperSettings())
    try:
        with no_new_connections(fleet_url):  # written by the agent: the bot opens no connection of its own
            reporter.report(book, 600.0)
        assert reporter.breach is None
        assert _bot_figures(fleet_url, "acct") == {"via": 600.0}
        # Counted with a bot reporting over its own connection: 600 + 300 < 1000 ...
        assert bot_reports(fleet_url, "own", "acct", 300, 0, tmp_path) == "ok"
        assert denial(fleet_url, "via") is None
        # ... and the agent-routed report that takes the sum to 1,000 kills the account.
        reporter.report(book, 700.0)
        assert reporter.breach is not None
        assert reporter.breach.code == "ACCOUNT_DAILY_LOSS"
        assert "via 700.00" in reporter.breach.reason
        assert "own 300.00" in reporter.breach.reason
        assert denial(fleet_url, "via") == denial(fleet_url, "own") == "KILL_SWITCH_ACTIVE"
        assert denial(fleet_url, "elsewhere") is None
        view = store.permission_view()  # the bot's view through the same agent obeys the account kill
        wait_for(lambda: view.check().code == "KILL_SWITCH_ACTIVE", what="the agent-served bot refusing")
    finally:
        store.close()
    account = SafetyService(PostgresStore(fleet_url, bot="@account:acct"))
    cause = account.status(history_items=1).last_activation
    account.store.close()
    assert cause is not None
    assert cause.source == "account-risk"


def test_the_agent_sigkilled_while_a_report_is_due_the_bot_denies_and_its_figure_never_counts_as_zero(
    fleet_url: str, tmp_path: Path, agent: Agent
) -> None:
    _restore(fleet_url, "hosted", "other")
    _limit(fleet_url, "acct", "1000", tmp_path)
    store, reporter = _reporter(fleet_url, "hosted", "acct", agent, tmp_path)
    book = PaperBroker(tmp_path, PaperSettings())
    try:
        view = store.permission_view()
        assert view.wait_confirmed(30)
        wait_for(lambda: view.check().allowed, what="the bot allowed through the agent")
        reporter.report(book, 600.0)
        agent.sigkill()
        wait_for(lambda: view.check().code == "VIEW_STALE", what="the bot denying without its agent")
        with pytest.raises(StorageUnavailable, match="account report of bot hosted was not written"):
            reporter.report(book, 650.0)  # due now: it cannot be handed over
        assert view.check().code == "VIEW_STALE"
        # Its last written figure still counts (not zero, not dropped): 600 + 450 breaches.
        assert _bot_figures(fleet_url, "acct") == {"hosted": 600.0}
        assert bot_reports(fleet_url, "other", "acct", 450, 0, tmp_path) == "breach ACCOUNT_DAILY_LOSS"
        agent.start()  # back: the bot reconnects by itself and obeys the kill recorded meanwhile
        wait_for(lambda: view.check().code == "KILL_SWITCH_ACTIVE", what="the bot back, obeying the account kill")
    finally:
        store.close()


def test_a_row_lock_held_elsewhere_fails_one_report_and_never_stalls_the_hosts_kills(
    fleet_url: str, tmp_path: Path, agent: Agent
) -> None:
    _restore(fleet_url, "watched", "locked")
    watched = AgentStore(fleet_url, bot="watched", socket_path=agent.path)
    store, reporter = _reporter(fleet_url, "locked", "acct", agent, tmp_path)
    book = PaperBroker(tmp_path, PaperSettings())
    locker = psycopg.connect(fleet_url)  # an operator's psql session, left open
    try:
        view = watched.permission_view()
        assert view.wait_confirmed(30)
        reporter.report(book, 10.0)
        locker.execute("SELECT * FROM nija_bot_report WHERE scope = 'locked' FOR UPDATE")
        with pytest.raises(StorageUnavailable, match="not written"):
            reporter.report(book, 20.0)  # refused while the row is locked: never waited for
        killer = PostgresStore(fleet_url, bot="watched")
        SafetyService(killer).activate_kill("operator kill", WHO)
        killer.close()
        # The lock is still held: the agent's loop pushes the kill all the same.
        wait_for(lambda: view.check().code == "KILL_SWITCH_ACTIVE", what="the other bot obeying its kill")
    finally:
        locker.rollback()
        locker.close()
        store.close()
        watched.close()
