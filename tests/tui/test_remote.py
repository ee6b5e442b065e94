"""Remote mode against a real ``nija serve`` process (the HTTP API's own server).

Runs once the API (``nija.api``, issue 4) is part of the tree; skipped before that."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from nija.assembly import build_service
from nija.domain.states import TradingState
from nija.tui.app import ControlCenter
from nija.tui.remote import RemoteBackend
from nija.tui.screens import ConfirmScreen, ReasonScreen
from tests.conftest import Run
from tests.tui.helpers import drive_app, panel, type_text, until

pytest.importorskip("nija.api.app", reason="the HTTP API (issue 4) is not in this tree yet")
serving_module = pytest.importorskip("tests.serving")


@pytest.fixture
def api(data_dir: Path) -> Iterator[tuple[str, str]]:
    token = serving_module.make_token(data_dir, "tui-admin", "admin")
    with serving_module.serving(data_dir) as url:
        yield url, token


def test_remote_snapshot_shows_a_kill_made_by_the_cli(run: Run, data_dir: Path, api: tuple[str, str]) -> None:
    url, token = api
    run("emergency_kill_switch.py", "activate", "--data-dir", str(data_dir), "exchange outage")

    result = run("nija_control_center.py", "--api", url, "--token", token, "--snapshot")

    assert result.returncode == 0, result.stderr
    assert "Trading State Machine: EMERGENCY_STOP" in result.stdout
    assert "Kill Switch Active: YES" in result.stdout
    assert "Reason: exchange outage" in result.stdout
    assert "Kill File Exists: True" in result.stdout


def test_remote_snapshot_with_a_wrong_token_is_a_usage_error(run: Run, api: tuple[str, str]) -> None:
    url, _ = api
    result = run("nija_control_center.py", "--api", url, "--token", "not-a-token", "--snapshot")
    assert result.returncode == 2
    assert "refused the token" in result.stderr


def test_remote_screen_follows_the_event_stream_and_acts_through_the_api(
    run: Run, data_dir: Path, api: tuple[str, str]
) -> None:
    url, token = api

    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        run("emergency_kill_switch.py", "activate", "--data-dir", str(data_dir), "exchange outage")
        await until(pilot, lambda: "Kill Switch Active: YES" in panel(app, "status"), "the kill, via the stream")

        await pilot.press("r")
        await until(pilot, lambda: "REFUSED" in app.last_message, "the refused restore")
        assert "Cannot restore" in app.last_message
        assert "then press d (deactivate the kill switch)" in app.last_message  # the server's action code
        assert "emergency_kill_switch.py" not in app.last_message  # the screen's key, not a shell command

        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ReasonScreen), "the reason dialog")
        await type_text(pilot, "feed fixed")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: "Kill Switch Active: NO" in panel(app, "status"), "the deactivation")

        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the plan")
        await pilot.press("y")
        await until(pilot, lambda: "Trading State Machine: DRY_RUN" in panel(app, "status"), "the restore")

    drive_app(lambda: ControlCenter(RemoteBackend(url, token), liveness_refresh_s=None), scenario)
    report = build_service(data_dir).status()
    assert report.state is TradingState.DRY_RUN
    assert report.recent_history[-1].source == "api"
    assert report.recent_history[-1].actor == "tui-admin"
