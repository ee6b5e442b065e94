"""The host agent (``nija agent``): one database connection per host, its bots' views
fail closed whenever it cannot vouch for them, and bots that bypass it still work.

Real PostgreSQL, real agent processes; the bots are light stand-ins (one process per
host, one permission view per bot: nija.store.agent.watch), and real ``nija run`` bots
where the runtime matters (open paper orders through an outage)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from nija.account_risk import account_service
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.postgres import PostgresStore
from tests.conftest import cli_env
from tests.fleet.agents import Agent, Host, connections
from tests.runtime.runtime_helpers import wait_for

WHO = Who("alice@host", "cli")
DRY = "ALLOW DRY_RUN"
KILLED = "DENY KILL_SWITCH_ACTIVE"
STALE = "DENY VIEW_STALE"


def _restore(url: str, bots: list[str]) -> None:
    for bot in bots:
        store = PostgresStore(url, bot=bot)
        SafetyService(store).restore(WHO)
        store.close()


def _nija_agent(*args: str) -> subprocess.CompletedProcess[str]:
    """``nija agent ARGS`` run to its end (the cases where it refuses to start)."""
    return subprocess.run(
        [sys.executable, "-m", "nija", "agent", *args], capture_output=True, text=True, env=cli_env(), timeout=60
    )


def _fleet(url: str) -> tuple[SafetyService, PostgresStore]:
    store = PostgresStore(url)
    return SafetyService(store), store


def test_many_agents_and_bots_obey_a_bot_kill_an_account_kill_and_a_fleet_kill(fleet_url: str, tmp_path: Path) -> None:
    names = {h: [f"h{h}-b{b}" for b in range(4)] for h in range(3)}
    _restore(fleet_url, [*(b for bots in names.values() for b in bots), "direct"])
    # Account "acct-x" is traded by one bot on each of two hosts and by the bypassing bot.
    on_account = {"h0-b1", "h2-b3", "direct"}
    for bot in on_account:
        store = PostgresStore(fleet_url, bot=bot)
        store.declare_account("acct-x")
        store.close()
    # Staleness is not what this test checks: a margin no stall of a loaded machine reaches,
    # so "every other bot still trades" is a statement about kills only.
    agents = [Agent(fleet_url, tmp_path / f"h{h}" / "agent.sock", NIJA_STALE_AFTER="10").start() for h in names]
    hosts = [Host(agents[h].path, bots, stale=10) for h, bots in names.items()]
    bypass = Host(tmp_path / "none.sock", ["direct"], direct=fleet_url, stale=10)  # today's path: its own connection
    everyone = [*hosts, bypass]
    pairs = [(h, b) for h in everyone for b in h.bots]
    try:
        for host in everyone:
            host.wait_ready()
        assert all(host.all(DRY) for host in everyone)
        # One connection per host for all its bots; the bypassing bot holds its own view's.
        wait_for(lambda: connections(fleet_url)["nija-agent"] == 3, what="one connection per agent")
        assert connections(fleet_url)["nija-view:direct"] == 1

        store = PostgresStore(fleet_url, bot="h1-b2")
        SafetyService(store).activate_kill("this bot misbehaves", WHO)
        store.close()
        wait_for(lambda: hosts[1].answer("h1-b2") == KILLED, what="the bot kill reaching its bot")
        assert all(h.answer(b) == DRY for h, b in pairs if b != "h1-b2"), "a bot kill stops that bot only"

        account = account_service(fleet_url, "acct-x", tmp_path / "acct")
        account.activate_kill("account loss limit drill", WHO)
        account.store.close()  # type: ignore[attr-defined]
        wait_for(
            lambda: all(h.answer(b) == KILLED for h, b in pairs if b in on_account),
            what="the account kill reaching every bot on the account, through agents and directly",
        )
        untouched = [(h, b) for h, b in pairs if b not in on_account and b != "h1-b2"]
        assert all(h.answer(b) == DRY for h, b in untouched), "an account kill stops that account's bots only"

        fleet, fleet_store = _fleet(fleet_url)
        fleet.activate_kill("exchange outage", WHO)
        wait_for(lambda: all(h.all(KILLED) for h in everyone), what="the fleet kill reaching every bot")

        fleet.deactivate_kill("exchange back", WHO)
        fleet_store.close()
        wait_for(
            lambda: all(h.answer(b) == "DENY STATE_OFF" for h, b in untouched),
            what="the fleet-killed bots at OFF after the fleet kill is lifted",
        )
        assert hosts[1].answer("h1-b2") == KILLED, "the bot's own kill outlives the fleet's"
        assert all(h.answer(b) == KILLED for h, b in pairs if b in on_account), "the account kill outlives it too"
    finally:
        for host in everyone:
            host.close()
        for agent in agents:
            agent.stop()


def test_an_agent_killed_with_sigkill_its_bots_deny_and_recover_when_it_returns(fleet_url: str, tmp_path: Path) -> None:
    bots = ["alpha", "beta"]
    _restore(fleet_url, [*bots, "direct"])
    agent = Agent(fleet_url, tmp_path / "agent.sock").start()
    host = Host(agent.path, bots, stale=1.0)
    bypass = Host(tmp_path / "none.sock", ["direct"], direct=fleet_url, stale=10)  # a stall must not flicker it
    try:
        host.wait_ready()
        bypass.wait_ready()
        assert host.all(DRY)

        agent.sigkill()
        wait_for(lambda: host.all(STALE), what="the agent's bots denying VIEW_STALE")
        assert bypass.answer("direct") == DRY, "a bot with its own connection does not depend on the agent"

        agent.start()  # the dead agent's socket file is replaced
        wait_for(lambda: host.all(DRY), what="the bots trading again once the agent is back")
    finally:
        host.close()
        bypass.close()
        agent.stop()


def test_a_frozen_agent_ages_out_and_a_kill_recorded_meanwhile_is_obeyed_on_its_return(
    fleet_url: str, tmp_path: Path
) -> None:
    bots = ["alpha", "beta"]
    _restore(fleet_url, bots)
    agent = Agent(fleet_url, tmp_path / "agent.sock").start()
    host = Host(agent.path, bots, stale=1.0)
    try:
        host.wait_ready()
        before = {bot: len(host.seen(bot)) for bot in bots}  # a stall may have flickered them stale before
        agent.signal(signal.SIGSTOP)  # the socket stays open: only the confirmations' age tells
        wait_for(lambda: host.all(STALE), what="the frozen agent's bots denying VIEW_STALE")
        fleet, store = _fleet(fleet_url)
        fleet.activate_kill("while the agent was frozen", WHO)
        store.close()
        agent.signal(signal.SIGCONT)
        wait_for(lambda: host.all(KILLED), what="the kill obeyed once the agent runs again")
        for bot in bots:
            seen = host.seen(bot)
            after_freeze = seen[seen.index(STALE, before[bot]) :]
            assert after_freeze == [STALE, KILLED], f"{bot} never allowed an order between: {after_freeze}"
    finally:
        host.close()
        agent.stop()


def test_a_second_agent_on_the_same_socket_is_refused(fleet_url: str, tmp_path: Path) -> None:
    agent = Agent(fleet_url, tmp_path / "agent.sock").start()
    try:
        second = _nija_agent("--store", fleet_url, "--socket", str(agent.path))
        assert second.returncode == 2
        assert "Another host agent already listens" in second.stderr
        assert agent.proc is not None
        assert agent.proc.poll() is None, "the first agent keeps serving"
    finally:
        agent.stop()


def test_an_agent_without_a_store_is_a_usage_error(tmp_path: Path) -> None:
    result = _nija_agent("--socket", str(tmp_path / "a.sock"))
    assert result.returncode == 2
    assert "--store" in result.stderr
    assert not (tmp_path / "a.sock").exists()
