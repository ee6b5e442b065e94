"""A ``nija run`` bot on the fleet store whose database goes away: it keeps running fail
closed (VIEW_STALE), cancels its own open orders once the outage outlasts
``bot.outage_cancel_after_s``, reconnects by itself, and its summary reports the outage.

The outage is simulated on the shared server without stopping it: the test database
stops accepting connections and its backends are terminated, then it is allowed again."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from psycopg import sql

from nija.bot_report import BotReport, read_report
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.postgres import PostgresStore
from nija.store.postgres.connect import connect
from nija.store.postgres.testing import admin_dsn
from tests.conftest import cli_env
from tests.runtime.runtime_helpers import wait_for

CANCEL_AFTER_S = 3
# Entries rest 20 % below the market: they never fill, so they stay open until cancelled.
RESTING = (
    "[strategy]\nfast = 10\nslow = 100\nmin_spread_pct = 0\nlimit_offset_pct = 20\nposition_pct = 10\n"
    f"[bot]\nreport_s = 0.1\nheartbeat_s = 0.2\noutage_cancel_after_s = {CANCEL_AFTER_S}\n"
    "[risk]\nprice_collar_pct = 25\n"
)


def _database(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def cut(url: str) -> None:
    name = sql.Identifier(_database(url))
    with connect(admin_dsn()) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(name))
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (_database(url),),
        )


def outage_of_the_cut(outages: list[dict[str, Any]], cut_at: datetime) -> dict[str, Any]:
    """The outage the test's cut caused: the first one still going on at the cut. A bot
    stalled for a second on a loaded machine misses its confirmations and records a short
    outage of its own before it (with nothing cancelled)."""
    return next(o for o in outages if o["end"] is None or datetime.fromisoformat(o["end"]) > cut_at)


def restore_connections(url: str) -> None:
    with connect(admin_dsn()) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(sql.Identifier(_database(url))))


def test_a_database_outage_is_ridden_out_fail_closed(fleet_url: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "alpha"
    data_dir.mkdir()
    (data_dir / "nija.toml").write_text(RESTING)
    SafetyService(PostgresStore(fleet_url, bot="alpha")).restore(Who("alice@host", "cli"))
    env = cli_env() | {"NIJA_STALE_AFTER": "1"}
    run = ["run", "--store", fleet_url, "--bot", "alpha", "--data-dir", str(data_dir), "--json", "--pace", "0.02"]
    bot = subprocess.Popen(
        [sys.executable, "-m", "nija", *run],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )

    def report_now() -> BotReport | None:
        return read_report(data_dir)

    def beat_after_outage() -> bool:
        report = report_now()
        end = report.outages[-1].end if report and report.outages else None
        heartbeat = store.load().heartbeat
        return end is not None and heartbeat is not None and heartbeat.last_beat > datetime.fromisoformat(end)

    store = PostgresStore(fleet_url, bot="alpha")

    try:
        wait_for(lambda: bool((r := report_now()) and len(r.open_orders) >= 1), what="an open limit order")
        cut_at = datetime.now(UTC)
        cut(fleet_url)
        try:
            wait_for(
                lambda: bool((r := report_now()) and r.denial_counts.get("VIEW_STALE", 0) > 0),
                what="orders denied VIEW_STALE during the outage",
            )
            wait_for(
                lambda: bool((r := report_now()) and r.outages and r.outages[-1].end is None),
                what="the outage in the runtime report",
            )
            wait_for(
                lambda: bool((r := report_now()) and not r.open_orders and r.outages[-1].orders_cancelled_at),
                what="the open orders cancelled after the configured time",
            )
            assert bot.poll() is None, "the bot must keep running through the outage"
        finally:
            restore_connections(fleet_url)
        wait_for(
            lambda: bool((r := report_now()) and r.outages and r.outages[-1].end is not None),
            what="the bot reconnected and closed the outage",
        )
        # Heartbeats reach the database again.
        wait_for(beat_after_outage, what="a heartbeat written after the outage")
        assert bot.poll() is None
    finally:
        bot.send_signal(signal.SIGTERM)
        out, err = bot.communicate(timeout=60)
        store.close()
    assert bot.returncode == 0, err
    summary = json.loads(out)
    outage = outage_of_the_cut(summary["outages"], cut_at)
    start, end = datetime.fromisoformat(outage["start"]), datetime.fromisoformat(outage["end"])
    cancelled_at = datetime.fromisoformat(outage["orders_cancelled_at"])
    assert start < cancelled_at < end
    assert (cancelled_at - start).total_seconds() >= CANCEL_AFTER_S  # not before the configured time
    assert outage["duration_s"] == round((end - start).total_seconds(), 3)
    assert outage["orders_denied"] > 0
    assert outage["orders_cancelled"] >= 1
    assert summary["denials"]["VIEW_STALE"] >= outage["orders_denied"]
    assert summary["state_at_end"] == "DRY_RUN"  # an outage is not a kill: nothing was recorded


def test_a_stop_during_the_outage_still_ends_with_a_summary(fleet_url: str, tmp_path: Path) -> None:
    """SIGTERM while the database is still away: exit 0, a summary that says the outage
    was still going on and that the end state could not be read (never exit 4)."""
    data_dir = tmp_path / "beta"
    data_dir.mkdir()
    (data_dir / "nija.toml").write_text(RESTING)
    SafetyService(PostgresStore(fleet_url, bot="beta")).restore(Who("alice@host", "cli"))
    run = ["run", "--store", fleet_url, "--bot", "beta", "--data-dir", str(data_dir), "--pace", "0.02"]
    bot = subprocess.Popen(
        [sys.executable, "-m", "nija", *run],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env() | {"NIJA_STALE_AFTER": "1"},
    )
    try:
        wait_for(lambda: bool((r := read_report(data_dir)) and r.open_orders), what="an open limit order")
        cut(fleet_url)
        wait_for(lambda: bool((r := read_report(data_dir)) and r.outages), what="the outage in the runtime report")
        bot.send_signal(signal.SIGTERM)
        out, err = bot.communicate(timeout=60)
    finally:
        restore_connections(fleet_url)
        if bot.poll() is None:
            bot.kill()
            bot.communicate(timeout=30)
    assert bot.returncode == 0, err
    text = " ".join(out.split())  # the console may wrap long lines
    assert "Fleet database outage:" in text
    assert "still unreachable at the end" in text
    assert "UNKNOWN (the fleet database is unreachable)" in text


def test_a_database_unreachable_at_start_refuses_to_start(fleet_url: str, tmp_path: Path) -> None:
    """The documented choice: starting blind would trade on a state nobody confirmed, so
    the bot exits 4 before anything runs (a supervisor starts it again)."""
    SafetyService(PostgresStore(fleet_url, bot="delta")).restore(Who("alice@host", "cli"))
    cut(fleet_url)
    try:
        run = subprocess.run(
            [sys.executable, "-m", "nija", "run", "--store", fleet_url, "--bot", "delta", "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=60,
            check=False,
        )
    finally:
        restore_connections(fleet_url)
    assert run.returncode == 4, run.stderr
    assert "Cannot connect to the fleet database" in run.stderr
    assert read_report(tmp_path) is None  # nothing ran
