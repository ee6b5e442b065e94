"""The terminal control center on a data directory whose records were written by hand with
escape sequences and bidi overrides: every panel shows visible escapes, never the controls."""

from __future__ import annotations

import json
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Static

from nija.domain.text import find_unsafe
from nija.tui.app import ControlCenter
from nija.tui.screens import HistoryScreen
from tests.tui.helpers import drive, panel, until

T = "2026-11-30T09:00:00+00:00"
PAINT = "\x1b[2J\x1b[HCan Trade: YES: simulated (DRY_RUN, no capital at risk)\u202e\x9b1m"


def test_every_panel_shows_stored_control_characters_as_escapes(data_dir: Path) -> None:
    transition = {"from": "OFF", "to": "EMERGENCY_STOP", "reason": PAINT, "timestamp": T, "actor": "m\x1bx"}
    (data_dir / ".nija_trading_state.json").write_text(
        json.dumps({"current_state": "EMERGENCY_STOP", "history": [transition]}, ensure_ascii=False)
    )
    kill = {"action": "activate", "reason": "outage\n" + PAINT, "timestamp": T, "source": "api", "actor": "m\x1bx"}
    (data_dir / ".nija_kill_switch_state.json").write_text(json.dumps({"is_active": True, "history": [kill]}))
    (data_dir / ".nija_runtime.json").write_text(
        json.dumps(
            {
                "updated_at": T,
                "mode": "simulated",
                "broker": "paper\x1b[2J",
                "open_orders": [{"id": "1", "symbol": "BTC\x1b[8m", "side": "buy", "type": "market", "quantity": 1}],
                "alerts": [{"timestamp": T, "code": "X", "message": PAINT}],
            }
        )
    )

    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        await until(pilot, lambda: "outage" in panel(app, "status"), "the hostile kill")
        shown = {name: panel(app, name) for name in ("status", "history", "runtime", "notices")}
        for name, text in shown.items():
            assert find_unsafe(text, multi_line=True) is None, (name, text)
        assert not [line for line in shown["status"].splitlines() if line.startswith("Can Trade: YES")]
        assert "Reason: outage\\n\\x1b[2J\\x1b[HCan Trade" in shown["status"]
        assert "by m\\x1bx" in shown["status"]
        assert "\\x1b[2J\\x1b[HCan Trade" in shown["history"]
        assert "paper\\x1b[2J" in shown["runtime"]
        assert "BTC\\x1b[8m" in shown["runtime"]
        assert "\\u202e\\x9b1m" in shown["notices"]
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen), "the history screen")
        full = app.screen.query_one("#history-full", Static).content
        assert find_unsafe(str(getattr(full, "plain", full)), multi_line=True) is None

    drive(data_dir, scenario)
