"""Every command against the fleet store, through the real CLI in real processes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.json_files import JsonFileStore
from nija.store.postgres.connect import connect
from tests.conftest import Run

WHO = Who("tester@host", "test")


def nija(run: Run, url: str, *args: str, bot: str | None = None) -> tuple[int, Any]:
    scope = ["--bot", bot] if bot else []
    done = run("nija", *args, "--store", url, *scope, "--json")
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else {}


def test_every_command_works_unchanged_on_a_bot(run: Run, fleet_url: str) -> None:
    code, out = nija(run, fleet_url, "restore", "--yes", bot="alpha")
    assert (code, out["after"]) == (0, "DRY_RUN")
    code, out = nija(run, fleet_url, "status", bot="alpha")
    assert (code, out["state"], out["can_trade"]) == (0, "DRY_RUN", True)
    assert "bot alpha" in out["store"]
    code, out = nija(run, fleet_url, "kill", "activate", "drill", bot="alpha")
    assert (code, out["after"], out["kill_active"]) == (0, "EMERGENCY_STOP", True)
    code, out = nija(run, fleet_url, "kill", "status", bot="alpha")
    assert (code, out["active"], out["reason"]) == (0, True, "drill")
    code, out = nija(run, fleet_url, "kill", "deactivate", "--yes", "drill over", bot="alpha")
    assert (code, out["after"]) == (0, "OFF")
    code, out = nija(run, fleet_url, "reset", "--yes", bot="alpha")
    assert code == 0
    code, out = nija(run, fleet_url, "history", bot="alpha")
    assert [t["to"] for t in out["transitions"]] == ["DRY_RUN", "EMERGENCY_STOP", "OFF"]
    assert [k["action"] for k in out["kill_switch"]] == ["activate", "deactivate"]


def test_the_environment_selects_the_store_and_bot(run: Run, fleet_url: str) -> None:
    done = run("safe_restore_trading.py", "restore", "--yes", env={"NIJA_STORE": fleet_url, "NIJA_BOT": "beta"})
    assert done.returncode == 0, done.stderr
    code, out = nija(run, fleet_url, "status", bot="beta")
    assert (code, out["state"]) == (0, "DRY_RUN")


def test_a_fleet_kill_stops_every_bot_and_its_deactivation_lifts_only_its_own(run: Run, fleet_url: str) -> None:
    for bot in ("a", "b", "c"):
        assert nija(run, fleet_url, "restore", "--yes", bot=bot)[0] == 0
    assert nija(run, fleet_url, "kill", "activate", "own reason", bot="c")[0] == 0

    code, out = nija(run, fleet_url, "kill", "activate", "--fleet", "market halt")
    assert (code, out["kill_active"]) == (0, True)
    code, fleet = nija(run, fleet_url, "status", "--fleet")
    assert code == 0, fleet  # consistent: every bot stopped with its kill recorded
    assert fleet["fleet"]["kill_switch"]["active"] is True
    assert {name: (s["state"], s["can_trade"]) for name, s in fleet["bots"].items()} == {
        "a": ("EMERGENCY_STOP", False),
        "b": ("EMERGENCY_STOP", False),
        "c": ("EMERGENCY_STOP", False),
    }

    code, out = nija(run, fleet_url, "kill", "deactivate", "--yes", "not yet", bot="a")
    assert (code, out["error"]["code"]) == (3, "FLEET_KILL_ACTIVE")

    assert nija(run, fleet_url, "kill", "deactivate", "--fleet", "--yes", "market open")[0] == 0
    _, fleet = nija(run, fleet_url, "status", "--fleet")
    states = {name: (s["state"], s["kill_switch"]["active"]) for name, s in fleet["bots"].items()}
    assert states == {"a": ("OFF", False), "b": ("OFF", False), "c": ("EMERGENCY_STOP", True)}


def test_the_fleet_has_no_trading_state_to_restore(run: Run, fleet_url: str) -> None:
    code, out = nija(run, fleet_url, "restore", "--fleet", "--yes")
    assert (code, out["error"]["code"]) == (3, "FLEET_HAS_NO_TRADING_STATE")


def test_an_old_schema_is_refused_until_upgraded(run: Run, bare_url: str) -> None:
    code, out = nija(run, bare_url, "status", bot="alpha")
    assert (code, out["error"]["code"]) == (4, "SCHEMA_OUTDATED")
    assert "nija db upgrade" in out["error"]["fix"]
    done = run("nija", "db", "upgrade", "--store", bare_url)
    assert done.returncode == 0, done.stderr
    assert "Applied migration 0001" in done.stdout
    again = run("nija", "db", "upgrade", "--store", bare_url)
    assert (again.returncode, "nothing to do" in again.stdout) == (0, True)
    assert nija(run, bare_url, "status", bot="alpha")[0] == 0


def test_bad_store_options_are_usage_errors_and_a_dead_server_a_storage_error(run: Run, data_dir: Path) -> None:
    done = run("nija", "status", "--store", "mysql://x/y")
    assert done.returncode == 2
    assert "postgresql://" in done.stderr
    done = run("nija", "status", "--bot", "alpha")
    assert done.returncode == 2
    assert "--store" in done.stderr
    done = run("nija", "status", "--store", "postgresql://x@127.0.0.1:1/y", "--bot", "a", env={"NIJA_STALE_AFTER": "0"})
    assert done.returncode == 2
    assert "NIJA_STALE_AFTER" in done.stderr
    done = run("nija", "status", "--store", "postgresql://postgres@127.0.0.1:1/none", "--bot", "a")
    assert done.returncode == 4
    assert "Cannot connect" in done.stderr


def test_store_copy_moves_a_bot_both_ways_with_its_history(run: Run, fleet_url: str, tmp_path: Path) -> None:
    source, back = tmp_path / "source", tmp_path / "back"
    source.mkdir()
    back.mkdir()
    svc = SafetyService(JsonFileStore(source))
    svc.restore(WHO)
    svc.activate_kill("copied while stopped", WHO)
    before = svc.history()

    done = run("nija", "store", "copy", "--from", str(source), "--to", fleet_url, "--bot", "moved")
    assert done.returncode == 0, done.stderr
    done = run("nija", "store", "copy", "--from", fleet_url, "--to", str(back), "--bot", "moved")
    assert done.returncode == 0, done.stderr

    returned = SafetyService(JsonFileStore(back))
    assert returned.history() == before
    assert (back / "EMERGENCY_STOP").exists()
    assert returned.status().inconsistencies == ()

    again = run("nija", "store", "copy", "--from", str(source), "--to", fleet_url, "--bot", "moved")
    assert again.returncode == 3
    assert "already holds records" in again.stderr
    missing = run("nija", "store", "copy", "--from", fleet_url, "--to", str(tmp_path), "--bot", "nobody")
    assert missing.returncode == 2
    assert "nothing to copy" in missing.stderr


def test_a_hand_edited_bot_fails_closed_shows_in_the_fleet_and_its_row_is_kept(run: Run, fleet_url: str) -> None:
    assert nija(run, fleet_url, "restore", "--yes", bot="edited")[0] == 0
    assert nija(run, fleet_url, "restore", "--yes", bot="fine")[0] == 0
    with connect(fleet_url) as conn:
        conn.execute("UPDATE nija_scope SET state = 'BANANA' WHERE name = 'edited'")
    code, fleet = nija(run, fleet_url, "status", "--fleet")
    assert code == 5
    edited, fine = fleet["bots"]["edited"], fleet["bots"]["fine"]
    assert (edited["state"], edited["can_trade"], edited["kill_switch"]["active"]) == ("EMERGENCY_STOP", False, True)
    assert [i["code"] for i in edited["inconsistencies"]] == ["STATE_FILE_CORRUPT"]
    assert (fine["state"], fine["can_trade"], fine["inconsistencies"]) == ("DRY_RUN", True, [])

    code, out = nija(run, fleet_url, "kill", "deactivate", "--yes", "repaired the row", bot="edited")
    assert (code, out["after"]) == (0, "OFF")
    with connect(fleet_url) as conn:
        kept = conn.execute("SELECT content FROM nija_corrupt_backup WHERE scope = 'edited'").fetchall()
    assert any("BANANA" in str(row[0]) for row in kept)


def test_a_kill_gets_through_after_the_server_dropped_the_connection(fleet_url: str) -> None:
    from nija.store.postgres import PostgresStore
    from nija.store.postgres.testing import admin_dsn

    store = PostgresStore(fleet_url, bot="longlived")
    svc = SafetyService(store)
    svc.restore(WHO)
    svc.activate_kill("first", WHO)
    svc.deactivate_kill("first over", WHO)
    with connect(admin_dsn()) as admin:  # e.g. a server restart: every connection is cut
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (fleet_url.rsplit("/", 1)[1],),
        )
    time.sleep(1.1)  # idle longer than the store's probe threshold, as a long-lived process is
    svc.activate_kill("second", WHO)
    assert PostgresStore(fleet_url, bot="longlived").load().kill_active
    store.close()
