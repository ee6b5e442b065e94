"""Real ``nija run`` bots served by a host agent (``[store] agent``): between writes they
hold no database connection of their own, and when the agent's connection is cut while
they hold open paper orders they ride it out exactly as a bot with its own connection
does (VIEW_STALE, orders cancelled after ``outage_cancel_after_s``, back by itself, the
outage in the summary); their heartbeats reach the database through the agent."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from nija.bot_report import read_report
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.postgres import PostgresStore
from tests.conftest import cli_env
from tests.fleet.agents import Agent, connections
from tests.fleet.test_outage import RESTING, cut, outage_of_the_cut, restore_connections
from tests.runtime.runtime_helpers import wait_for

BOTS = ("alpha", "beta")


def test_bots_through_the_agent_ride_out_a_connection_cut_with_open_paper_orders(
    fleet_url: str, tmp_path: Path
) -> None:
    agent = Agent(fleet_url, tmp_path / "run" / "agent.sock", NIJA_STALE_AFTER="1").start()
    procs: dict[str, subprocess.Popen[str]] = {}
    dirs = {bot: tmp_path / bot for bot in BOTS}
    for bot, data_dir in dirs.items():
        data_dir.mkdir()
        (data_dir / "nija.toml").write_text(RESTING + f'[store]\nagent = "{agent.path}"\n')
        SafetyService(PostgresStore(fleet_url, bot=bot)).restore(Who("alice@host", "cli"))
        command = ["run", "--store", fleet_url, "--bot", bot, "--data-dir", str(data_dir), "--json", "--pace", "0.02"]
        procs[bot] = subprocess.Popen(
            [sys.executable, "-m", "nija", *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(NIJA_STALE_AFTER="1"),
        )
    reader = PostgresStore(fleet_url)

    def open_orders(bot: str) -> bool:
        report = read_report(dirs[bot])
        return bool(report and report.open_orders)

    def beat_after_outage(bot: str) -> bool:
        report = read_report(dirs[bot])
        end = report.outages[-1].end if report and report.outages else None
        beat = reader.load_scope(bot).heartbeat
        reader.release()
        return end is not None and beat is not None and beat.last_beat > datetime.fromisoformat(end)

    try:
        for bot in BOTS:
            wait_for(lambda b=bot: open_orders(b), timeout=60, what=f"an open limit order of {bot}")  # type: ignore[misc]
        reader.release()
        # Their start-up writes are done: the agent's is the only connection left.
        wait_for(lambda: connections(fleet_url) == {"nija-agent": 1}, what="only the agent connected")

        cut_at = datetime.now(UTC)
        cut(fleet_url)
        try:
            for bot in BOTS:
                wait_for(
                    lambda b=bot: bool((r := read_report(dirs[b])) and r.outages and not r.open_orders),  # type: ignore[misc]
                    what=f"{bot}'s open orders cancelled during the outage",
                )
            assert all(p.poll() is None for p in procs.values()), "the bots keep running through the outage"
        finally:
            restore_connections(fleet_url)
        for bot in BOTS:
            wait_for(lambda b=bot: beat_after_outage(b), timeout=60, what=f"{bot}'s heartbeat after the outage")  # type: ignore[misc]
        wait_for(lambda: connections(fleet_url) == {"nija-agent": 1}, what="only the agent connected again")
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        results = {bot: proc.communicate(timeout=60) for bot, proc in procs.items()}
        reader.close()
        agent.stop()
    for bot, (out, err) in results.items():
        assert procs[bot].returncode == 0, err
        outage = outage_of_the_cut(json.loads(out)["outages"], cut_at)
        assert outage["end"] is not None
        assert outage["orders_cancelled"] >= 1
        assert "host agent" in outage["problem"]
