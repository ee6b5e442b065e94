"""The control center on the PostgreSQL fleet store: no file events there, so the
status is re-read and compared; a kill by another process must still show."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from nija.assembly import build_service
from nija.domain.states import TradingState
from nija.store import StoreSelection
from nija.store.postgres.testing import temporary_database
from nija.tui.app import ControlCenter
from nija.tui.local import LocalBackend
from nija.tui.screens import ConfirmScreen
from tests.conftest import Run
from tests.tui.helpers import drive_app, panel, until


@pytest.fixture
def fleet_url() -> Iterator[str]:
    with temporary_database() as url:
        yield url


def test_a_kill_by_another_process_shows_and_restore_acts_on_the_fleet_store(
    run: Run, data_dir: Path, fleet_url: str
) -> None:
    selection = StoreSelection(fleet_url, "bot1", False)

    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        killed = run("nija", "kill", "activate", "--store", fleet_url, "--bot", "bot1", "database maintenance")
        assert killed.returncode == 0, killed.stderr
        await until(pilot, lambda: "Kill Switch Active: YES" in panel(app, "status"), "the kill")
        assert "Reason: database maintenance" in panel(app, "status")

        run("nija", "kill", "deactivate", "--store", fleet_url, "--bot", "bot1", "--yes", "done")
        await until(pilot, lambda: "Trading State Machine: OFF" in panel(app, "status"), "the deactivation")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the plan")
        await pilot.press("y")
        await until(pilot, lambda: "now DRY_RUN" in app.last_message, "the restore")

    drive_app(lambda: ControlCenter(LocalBackend(data_dir, selection), liveness_refresh_s=None), scenario)
    report = build_service(data_dir, selection=selection).status()
    assert report.state is TradingState.DRY_RUN
    assert report.recent_history[-1].source == "tui"


def test_snapshot_reads_the_fleet_store(run: Run, fleet_url: str) -> None:
    run("nija", "kill", "activate", "--store", fleet_url, "--bot", "bot1", "database maintenance")
    result = run("nija", "monitor", "--store", fleet_url, "--bot", "bot1", "--snapshot")
    assert result.returncode == 0, result.stderr
    assert "Trading State Machine: EMERGENCY_STOP" in result.stdout
    assert "Kill Switch Active: YES" in result.stdout
