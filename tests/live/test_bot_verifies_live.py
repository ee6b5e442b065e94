"""A running DRY_RUN ``nija run`` bot with credentials (its exchange faked at ccxt's HTTP
layer, every request counted by endpoint) trades live only on a confirmation of a request
made for its own run: a hand-edited state, a copy from a previous run's legitimate live
session and a PostgreSQL row edit reach no order endpoint, and status reports each."""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path

import psycopg
import pytest

from nija.bot_report import read_report
from nija.exchange_checks import read_checks
from nija.store.postgres.store import PostgresStore
from nija.store.postgres.testing import temporary_database
from tests.live.bot_process import BUSY, CREDENTIALS, PHRASE, BotProcess, file_heartbeat, nija, wait_for

STATE = ".nija_trading_state.json"


def alive_run(beat_of: object, *, other_than: str = "") -> str:
    """The run id of the bot beating now (a new run, when ``other_than`` is given)."""
    beat = wait_for(
        lambda: (b := beat_of()) and b.run_id and b.run_id != other_than and not b.stopped and b,  # type: ignore[operator]
        what="a heartbeat",
    )
    return str(beat.run_id)  # type: ignore[attr-defined]


def status(data_dir: Path | None, *store: str) -> tuple[int, dict[str, object]]:
    result = nija(data_dir, "status", "--json", *store)
    return result.returncode, json.loads(result.stdout)


def codes(report: dict[str, object]) -> set[str]:
    return {str(i["code"]) for i in report["inconsistencies"]}  # type: ignore[attr-defined]


def priced(data_dir: Path) -> bool:
    """The bot has reported a reconciliation whose every unexplained holding has a price:
    one made before the bot's first candle refuses any live request (unknown value)."""
    checks = read_checks(data_dir)
    rec = checks.reconciliation if checks is not None else None
    return rec is not None and all(u.value is not None for u in rec.unexplained)


def request_and_confirm(data_dir: Path | None, *store: str) -> None:
    if data_dir is not None:
        wait_for(lambda: priced(data_dir), what="a reconciliation with prices")
    requested = nija(data_dir, "live", "request", "--json", *store, env=CREDENTIALS)
    assert requested.returncode == 0, requested.stderr
    code = json.loads(requested.stdout)["code"]

    def confirmed() -> bool:
        done = nija(data_dir, "live", "confirm", code, "--phrase", PHRASE, *store)
        if done.returncode == 3 and "not acknowledged" in done.stderr:
            return False  # the bot has not beaten since the request: try again
        assert done.returncode == 0, done.stderr
        return True

    wait_for(confirmed, timeout=30, what="the bot to acknowledge the request")


def denied_after_incident(data_dir: Path) -> bool:
    report = read_report(data_dir)
    return report is not None and any(d.code in ("LIVE_NOT_VERIFIED", "KILL_SWITCH_ACTIVE") for d in report.denials)


def assert_incident_reported(code: int, report: dict[str, object]) -> None:
    assert code == 5
    assert "LIVE_NOT_VERIFIED" in codes(report)
    kill = report["kill_switch"]
    assert kill["active"] is True  # type: ignore[index]
    assert kill["source"] == "AUTO_LIVE_NOT_VERIFIED"  # type: ignore[index]
    assert report["can_trade"] is False


def forged_grant(run_id: str) -> dict[str, str]:
    """What an editor who read the heartbeat, but never had a code, can write."""
    return {
        "run_id": run_id,
        "nonce": secrets.token_hex(16),
        "proof": secrets.token_hex(32),
        "confirmed_by": "admin",
        "confirmed_principal": "token:admin",
        "confirmed_at": "2026-01-01T00:00:00+00:00",
    }


def test_a_hand_edited_live_state_never_reaches_the_exchange(data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text(BUSY)
    assert nija(data_dir, "restore", "--yes").returncode == 0
    bot = BotProcess(data_dir)
    try:
        run_id = alive_run(lambda: file_heartbeat(data_dir))
        wait_for(lambda: (r := read_report(data_dir)) is not None and r.orders_placed > 0, what="paper orders")
        path = data_dir / STATE
        doc = json.loads(path.read_text())
        doc["history"].append(
            {
                "from": "LIVE_PENDING_CONFIRMATION",
                "to": "LIVE_ACTIVE",
                "reason": "Live trading confirmed by admin with risk acknowledgment",
                "timestamp": "2026-01-01T00:00:00+00:00",
                "actor": "admin",
                "source": "api",
            }
        )
        doc["current_state"] = "LIVE_ACTIVE"
        doc["live_grant"] = forged_grant(run_id)
        path.write_text(json.dumps(doc))
        wait_for(lambda: "LIVE_NOT_VERIFIED" in codes(status(data_dir)[1]), timeout=30, what="the incident")
        wait_for(lambda: denied_after_incident(data_dir), timeout=30, what="the bot to try and be denied")
        assert_incident_reported(*status(data_dir))
        assert bot.order_requests() == 0
    finally:
        summary = bot.stop()
    assert bot.order_requests() == 0
    assert any("could not verify" in str(note) for note in summary["notes"])  # type: ignore[attr-defined]
    audit = json.loads(nija(data_dir, "audit", "show", "--json").stdout)
    records = audit if isinstance(audit, list) else audit["records"]
    assert any(r["kind"] == "live_not_verified" for r in records)
    assert any(r["kind"] == "kill_activated" and r["source"] == "AUTO_LIVE_NOT_VERIFIED" for r in records)


def test_the_legitimate_flow_trades_live_and_a_copy_from_that_run_never_passes_in_the_next(
    data_dir: Path, tmp_path: Path
) -> None:
    (data_dir / "nija.toml").write_text(BUSY + "[live]\nmin_dry_run_minutes = 0.02\n")
    assert nija(data_dir, "restore", "--yes").returncode == 0
    first = BotProcess(data_dir)
    backup = tmp_path / "backup-taken-while-live.json"
    try:
        first_run = alive_run(lambda: file_heartbeat(data_dir))
        # min_dry_run is the bot's own DRY_RUN running time, from its heartbeat.
        wait_for(lambda: (b := file_heartbeat(data_dir)) is not None and b.dry_run_s >= 1.2, what="1.2 s in DRY_RUN")
        request_and_confirm(data_dir)
        wait_for(lambda: first.order_requests() > 0, timeout=30, what="a live order at the exchange")
        code, live = status(data_dir)
        assert (code, live["state"], live["can_trade"], live["mode"]) == (0, "LIVE_ACTIVE", True, "live")
        assert live["bot"]["live_verified"] is True  # type: ignore[index]
        shutil.copy2(data_dir / STATE, backup)  # last night's backup, taken while legitimately live
    finally:
        first_summary = first.stop()
    assert first_summary["state_at_start"] == "DRY_RUN"

    second = BotProcess(data_dir, log=first.log)
    try:
        alive_run(lambda: file_heartbeat(data_dir), other_than=first_run)
        wait_for(lambda: (r := read_report(data_dir)) is not None and r.mode == "none", what="the restart rule (OFF)")
        assert nija(data_dir, "restore", "--yes").returncode == 0
        wait_for(lambda: (r := read_report(data_dir)) is not None and r.mode == "simulated", what="DRY_RUN")
        before = first.order_requests()
        shutil.copy2(backup, data_dir / STATE)  # the restore of that backup, like cp -p
        wait_for(lambda: "LIVE_NOT_VERIFIED" in codes(status(data_dir)[1]), timeout=30, what="the incident")
        wait_for(lambda: denied_after_incident(data_dir), timeout=30, what="the bot to try and be denied")
        assert_incident_reported(*status(data_dir))
        assert first.order_requests() == before
    finally:
        second_summary = second.stop()
    assert first.order_requests() == before
    assert second_summary["state_at_start"] == "OFF"
    assert any("bound to the bot run it was given to" in str(n) for n in second_summary["notes"])  # type: ignore[attr-defined]


@pytest.mark.parametrize("grant", ["forged", "the_spent_legitimate_one"])
def test_postgresql_live_only_for_the_running_run_and_a_row_edit_never_reaches_the_exchange(
    data_dir: Path, grant: str
) -> None:
    (data_dir / "nija.toml").write_text(BUSY + "[live]\nmin_dry_run_minutes = 0\n")
    with temporary_database() as url:
        store = ("--store", url, "--bot", "b1")
        assert nija(None, "restore", "--yes", *store).returncode == 0
        pg = PostgresStore(url, bot="b1")
        bot = BotProcess(data_dir, *store)
        try:
            run_id = alive_run(lambda: pg.load().heartbeat)
            edited_grant = forged_grant(run_id)
            if grant == "forged":
                wait_for(lambda: (r := read_report(data_dir)) is not None and r.orders_placed > 0, what="paper orders")
            else:
                request_and_confirm(data_dir, *store)  # the legitimate flow on PostgreSQL
                wait_for(lambda: bot.order_requests() > 0, timeout=30, what="a live order at the exchange")
                with psycopg.connect(url) as conn:
                    row = conn.execute("SELECT live_grant FROM nija_scope WHERE name = 'b1'").fetchone()
                assert row is not None
                edited_grant = row[0]
                assert nija(None, "restore", "--yes", *store).returncode == 0  # live ends
                wait_for(lambda: (r := read_report(data_dir)) is not None and r.mode == "simulated", what="DRY_RUN")
            before = bot.order_requests()
            with psycopg.connect(url, autocommit=True) as conn:  # a hand edit or a restore: no NOTIFY
                conn.execute(
                    "UPDATE nija_scope SET state = 'LIVE_ACTIVE', pending_live = NULL, live_grant = %s "
                    "WHERE name = 'b1'",
                    (json.dumps(edited_grant),),
                )
                conn.execute(
                    "INSERT INTO nija_transition (scope, from_state, to_state, reason, at, actor, source) "
                    "VALUES ('b1', 'LIVE_PENDING_CONFIRMATION', 'LIVE_ACTIVE', 'confirmed', now(), 'admin', 'api')"
                )
            wait_for(lambda: "LIVE_NOT_VERIFIED" in codes(status(None, *store)[1]), timeout=30, what="the incident")
            wait_for(lambda: denied_after_incident(data_dir), timeout=30, what="the bot to try and be denied")
            assert_incident_reported(*status(None, *store))
            assert bot.order_requests() == before
        finally:
            bot.stop()
            pg.close()
        assert bot.order_requests() == before


@pytest.mark.parametrize("spoof", ["USER", "LOGNAME"])
def test_the_cli_actor_comes_from_the_uid_not_the_environment(data_dir: Path, spoof: str) -> None:
    done = nija(data_dir, "restore", "--yes", env={spoof: "somebody-else"})
    assert done.returncode == 0
    last = json.loads(nija(data_dir, "history", "--json").stdout)
    text = json.dumps(last)
    assert "somebody-else" not in text


def test_a_request_needs_a_bot_running_in_dry_run_for_the_minimum_of_its_own_time(data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text("[live]\nmin_dry_run_minutes = 60\n")
    assert nija(data_dir, "restore", "--yes").returncode == 0
    before = (data_dir / STATE).read_bytes()
    no_bot = nija(data_dir, "live", "request", "--json", env=CREDENTIALS)
    assert no_bot.returncode == 3
    assert json.loads(no_bot.stdout)["error"]["code"] == "NO_BOT_RUNNING"
    bot = BotProcess(data_dir)
    try:
        alive_run(lambda: file_heartbeat(data_dir))
        too_short = nija(data_dir, "live", "request", "--json", env=CREDENTIALS)
        assert too_short.returncode == 3
        error = json.loads(too_short.stdout)["error"]
        assert error["code"] == "DRY_RUN_TOO_SHORT"
        assert "the running bot has run" in error["message"]
    finally:
        bot.stop()
    stopped = nija(data_dir, "live", "request", "--json", env=CREDENTIALS)  # its last beat says "stopped"
    assert json.loads(stopped.stdout)["error"]["code"] == "NO_BOT_RUNNING"
    assert (data_dir / STATE).read_bytes() == before  # every refusal wrote nothing
