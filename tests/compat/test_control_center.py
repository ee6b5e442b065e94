"""The terminal control center (nija_control_center.py) shows a kill raised through the
compat API by another process, as it shows one from the CLI."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from textual.pilot import Pilot

from nija.tui.app import ControlCenter
from tests.compat.test_original_callers import CALLER
from tests.conftest import cli_env
from tests.tui.helpers import drive, panel, until


def test_the_terminal_control_center_shows_a_kill_raised_by_the_original_bot(data_dir: Path) -> None:
    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        assert "Kill Switch Active: NO" in panel(app, "status")
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, str(CALLER), "kill", "original bot: balance mismatch", "AUTO_TRIGGER"],
            capture_output=True,
            text=True,
            env=cli_env(NIJA_DATA_DIR=str(data_dir)),
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        # The kill file appears before the kill record and the state are written: wait for
        # the record (the screen's final word), not for the first sign of the kill.
        await until(
            pilot,
            lambda: (
                app.frame is not None
                and app.frame.status.kill_switch.active
                and "Trading State Machine: EMERGENCY_STOP" in panel(app, "status")
            ),
            "the recorded kill",
        )
        status = panel(app, "status")
        assert "Trading State Machine: EMERGENCY_STOP" in status
        assert "Kill Switch Active: YES" in status
        assert "via AUTO_TRIGGER" in status
        assert "Reason: original bot: balance mismatch" in status

    drive(data_dir, scenario)
