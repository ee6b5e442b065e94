"""A bot on the fleet store obeys an EMERGENCY_STOP entry in its data directory exactly as
a bot on the JSON files does (DESIGN invariant 10): its gate denies from the moment the
entry exists, whatever its shape, its watcher cancels its orders, the kill is recorded on
the bot's scope in the database (so deleting the file undoes nothing), and status says so."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from nija.assembly import build_service, wire
from nija.bot_report import read_report
from nija.domain.errors import SafetyRefusal
from nija.domain.records import KillRecord
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store import StoreSelection
from nija.store.postgres import PostgresStore
from tests.conftest import Run, cli_env
from tests.runtime.runtime_helpers import wait_for

# Entries rest 20 % below the market: they never fill, so orders stay open until killed.
RESTING = (
    "[strategy]\nfast = 10\nslow = 100\nmin_spread_pct = 0\nlimit_offset_pct = 20\nposition_pct = 10\n"
    "[bot]\nreport_s = 0.1\nheartbeat_s = 0.2\n[risk]\nprice_collar_pct = 25\n"
)
ALICE = Who("alice@host", "cli")


def recorded_kill(url: str) -> bool:
    """Whether the kill is recorded on bot alpha's scope in the database itself (read
    without any data directory: what every other host sees)."""
    store = PostgresStore(url, bot="alpha")
    try:
        kill = store.load().kill
    finally:
        store.close()
    return isinstance(kill, KillRecord) and kill.is_active


def open_orders(data_dir: Path) -> int:
    report = read_report(data_dir)
    return len(report.open_orders) if report else 0


def kill_denials(data_dir: Path) -> int:
    report = read_report(data_dir)
    return report.denial_counts.get("KILL_SWITCH_ACTIVE", 0) if report else 0


def restored(url: str) -> None:
    store = PostgresStore(url, bot="alpha")
    SafetyService(store).restore(ALICE)
    store.close()


def test_a_fleet_bot_obeys_and_records_a_touched_kill_file(run: Run, fleet_url: str, tmp_path: Path) -> None:
    data = tmp_path / "alpha"
    data.mkdir()
    (data / "nija.toml").write_text(RESTING)
    restored(fleet_url)
    args = ["run", "--store", fleet_url, "--bot", "alpha", "--data-dir", str(data), "--json", "--pace", "0.005"]
    bot = subprocess.Popen(
        [sys.executable, "-m", "nija", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env()
    )
    try:
        wait_for(lambda: open_orders(data) >= 1, what="an open limit order")
        (data / "EMERGENCY_STOP").touch()
        wait_for(lambda: recorded_kill(fleet_url), what="the kill recorded on the bot's scope")
        wait_for(lambda: open_orders(data) == 0, what="every order cancelled")
        wait_for(lambda: kill_denials(data) > 0, what="an order denied by the kill switch")
        (data / "EMERGENCY_STOP").unlink()
        assert bot.poll() is None
    finally:
        bot.send_signal(signal.SIGTERM)
        out, err = bot.communicate(timeout=60)
    summary = json.loads(out)
    assert summary["kill"] is not None, err
    assert summary["kill_complete"] is True
    # Deleting the file undid nothing: the scope's record holds the kill, on any host.
    status = run("nija", "status", "--json", "--store", fleet_url, "--bot", "alpha", cwd=tmp_path)
    report = json.loads(status.stdout)
    assert report["kill_switch"]["active"] is True
    assert report["state"] == "EMERGENCY_STOP"
    assert report["can_trade"] is False


def test_status_with_the_data_directory_shows_and_records_the_kill_file(
    run: Run, fleet_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "alpha"
    data.mkdir()
    restored(fleet_url)
    (data / "EMERGENCY_STOP").touch()
    scope = ("--store", fleet_url, "--bot", "alpha", "--data-dir", str(data))
    text = run("nija", "status", *scope)
    assert "Kill File Exists: True" in text.stdout, text.stdout
    report = json.loads(run("nija", "status", "--json", *scope).stdout)
    assert report["kill_switch"]["active"] is True
    assert report["kill_switch"]["kill_file_exists"] is True
    assert report["can_trade"] is False
    assert recorded_kill(fleet_url)  # status recorded it, as on the JSON files
    (data / "EMERGENCY_STOP").unlink()
    assert json.loads(run("nija", "status", "--json", *scope).stdout)["kill_switch"]["active"] is True


def _directory(path: Path) -> None:
    path.mkdir()


def _dangling(path: Path) -> None:
    path.symlink_to(path.with_name("nowhere"))


def _fifo(path: Path) -> None:
    os.mkfifo(path)


@pytest.mark.parametrize("make", [Path.touch, _directory, _dangling, _fifo], ids=["file", "dir", "dangling", "fifo"])
def test_the_gate_denies_any_entry_named_emergency_stop(
    fleet_url: str, tmp_path: Path, make: Callable[[Path], None]
) -> None:
    restored(fleet_url)
    service = build_service(tmp_path, selection=StoreSelection(fleet_url, bot="alpha"))
    view = service.store.permission_view()
    make(tmp_path / "EMERGENCY_STOP")
    assert view.check().code == "KILL_SWITCH_ACTIVE"  # at once: no database round trip needed
    assert service.status().kill_file_exists is True


def test_a_store_given_by_the_caller_watches_the_data_directory(fleet_url: str, tmp_path: Path) -> None:
    """nija.guard(store=PostgresStore(...)): the guard's data directory is the bot's."""
    restored(fleet_url)
    service = wire(tmp_path, store=PostgresStore(fleet_url, bot="alpha")).service
    (tmp_path / "EMERGENCY_STOP").touch()
    assert service.store.permission_view().check().code == "KILL_SWITCH_ACTIVE"
    assert service.adopt_kill_flag(ALICE) is not None
    assert recorded_kill(fleet_url)


def test_a_bot_through_the_host_agent_watches_its_data_directory(fleet_url: str, tmp_path: Path) -> None:
    restored(fleet_url)
    (tmp_path / "nija.toml").write_text(f'[store]\nagent = "{tmp_path / "agent.sock"}"\n')
    service = build_service(tmp_path, selection=StoreSelection(fleet_url, bot="alpha"))
    (tmp_path / "EMERGENCY_STOP").touch()
    # No agent runs: the view alone could only say "not confirmed"; the kill file decides first.
    assert service.store.permission_view().check().code == "KILL_SWITCH_ACTIVE"
    assert service.adopt_kill_flag(ALICE) is not None
    assert recorded_kill(fleet_url)


def test_deactivation_waits_for_the_kill_file_to_be_removed(fleet_url: str, tmp_path: Path) -> None:
    restored(fleet_url)
    service = build_service(tmp_path, selection=StoreSelection(fleet_url, bot="alpha"))
    (tmp_path / "EMERGENCY_STOP").touch()
    service.adopt_kill_flag(ALICE)
    with pytest.raises(SafetyRefusal) as refused:
        service.deactivate_kill("fixed", ALICE)
    assert str(tmp_path / "EMERGENCY_STOP") in refused.value.message
    assert "ACTIVE" in refused.value.message
    assert recorded_kill(fleet_url)  # nothing was written
    (tmp_path / "EMERGENCY_STOP").unlink()
    service.deactivate_kill("fixed", ALICE)
    assert not recorded_kill(fleet_url)


def test_the_fleet_scope_ignores_a_data_directory_kill_file(fleet_url: str, tmp_path: Path) -> None:
    """A kill file is one bot's: the fleet's and accounts' scopes have no data directory of a bot."""
    service = build_service(tmp_path, selection=StoreSelection(fleet_url, fleet=True))
    (tmp_path / "EMERGENCY_STOP").touch()
    assert service.status().kill_file_exists is False


def test_a_bot_that_changes_its_working_directory_still_watches_its_data_directory(
    fleet_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started in its data directory without naming it (the default), then the bot's code
    changes directory: the kill file is still the one of the directory it started in."""
    restored(fleet_url)
    data, elsewhere = tmp_path / "alpha", tmp_path / "elsewhere"
    data.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(data)
    service = wire(None, selection=StoreSelection(fleet_url, bot="alpha"), bot_run=True).service
    view = service.store.permission_view()
    monkeypatch.chdir(elsewhere)
    (data / "EMERGENCY_STOP").touch()
    assert view.check().code == "KILL_SWITCH_ACTIVE"


def test_a_command_run_beside_someone_elses_kill_file_neither_records_nor_refuses(
    run: Run, fleet_url: str, tmp_path: Path
) -> None:
    """An operator's status or deactivation for bot alpha, typed in a directory that holds a
    kill file (another bot's, an old drill's) without naming it alpha's: that file is not
    alpha's kill. Named with --data-dir it is (above)."""
    restored(fleet_url)
    bystander = tmp_path / "other-bot"
    bystander.mkdir()
    (bystander / "EMERGENCY_STOP").touch()
    scope = ("--store", fleet_url, "--bot", "alpha")
    report = json.loads(run("nija", "status", "--json", *scope, cwd=bystander).stdout)
    assert report["kill_switch"]["active"] is False
    assert not recorded_kill(fleet_url)
    run("nija", "kill", "activate", *scope, "drill", cwd=bystander)
    done = run("nija", "kill", "deactivate", *scope, "drill over", "--yes", cwd=bystander)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not recorded_kill(fleet_url)
