"""``nija store copy`` never carries live trading (or a pending live request) to another
store: the target must get its own request and confirmation (DESIGN invariants 1 and 6)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from nija.domain.live import ACKNOWLEDGMENT_PHRASE, LivePolicy
from nija.domain.transitions import Who
from nija.service import SafetyService, system_clock
from nija.store.json_files import JsonFileStore
from nija.testing import HeartbeatBot
from tests.conftest import Run

WHO = Who("tester@host", "test")


def live_bot(directory: Path, *, confirm: bool) -> SafetyService:
    service = SafetyService(JsonFileStore(directory), policy=LivePolicy(min_dry_run=timedelta(0)))
    service.restore(WHO)
    bot = HeartbeatBot(service.store, system_clock)
    requested = service.request_live(WHO, credentials_configured=True)
    bot.step()
    if confirm:
        service.confirm_live(requested.code, ACKNOWLEDGMENT_PHRASE, Who("second@host", "test"))
    return service


@pytest.mark.parametrize("confirm", [True, False], ids=["LIVE_ACTIVE", "LIVE_PENDING_CONFIRMATION"])
def test_a_live_bot_is_not_copied_between_data_directories(run: Run, tmp_path: Path, confirm: bool) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    source.mkdir()
    target.mkdir()
    live_bot(source, confirm=confirm)

    refused = run("nija", "store", "copy", "--from", str(source), "--to", str(target), "--bot", "b")
    assert refused.returncode == 3, refused.stderr
    assert "LIVE_" in refused.stderr
    assert "nija restore" in refused.stderr
    assert list(target.iterdir()) == []

    # After leaving live trading the copy goes through, and is not live.
    assert run("nija", "restore", "--yes", "--data-dir", str(source)).returncode == 0
    done = run("nija", "store", "copy", "--from", str(source), "--to", str(target), "--bot", "b")
    assert done.returncode == 0, done.stderr
    copied = json.loads(run("nija", "status", "--json", "--data-dir", str(target)).stdout)
    assert copied["state"] == "DRY_RUN"


def test_a_live_bot_is_not_copied_into_the_fleet_database(run: Run, tmp_path: Path, fleet_url: str) -> None:
    live_bot(tmp_path, confirm=True)
    refused = run("nija", "store", "copy", "--from", str(tmp_path), "--to", fleet_url, "--bot", "b")
    assert refused.returncode == 3, refused.stderr
    status = run("nija", "status", "--json", "--store", fleet_url, "--bot", "b")
    assert json.loads(status.stdout)["state"] == "OFF"
    assert json.loads(status.stdout)["recent_history"] == []
