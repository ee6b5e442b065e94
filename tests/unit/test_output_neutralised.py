"""Property: whatever text a hand-written record holds, every output NIJA renders from it
(CLI status and history lines, --json, the TUI snapshot and panels) is free of control
characters, and rendering never raises. Real files in a real data directory."""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nija.cli import render as cli_render
from nija.domain.text import find_unsafe, json_for_terminal
from nija.tui import render as tui_render
from nija.tui.local import LocalBackend
from nija.views import kill_event_view, status_view, to_json, transition_view

T = "2026-11-30T09:00:00+00:00"
NOW = datetime(2026, 11, 30, 9, 5, tzinfo=UTC)
# Every code point but lone surrogates (a file holding one is unreadable, tested elsewhere),
# with the dangerous ones made frequent.
DANGER = st.sampled_from(["\x1b", "\x9b", "\u202e", "\u2066", "\n", "\r", "\x00", "\x07", "\u2028", "\x7f", "\t"])
TEXT = st.lists(DANGER | st.characters(exclude_categories=["Cs"]), max_size=30).map("".join)


def write_records(data_dir: Path, reason: str, actor: str, host: str, message: str) -> None:
    entry = {"from": "OFF", "to": "EMERGENCY_STOP", "reason": reason, "timestamp": T, "actor": actor, "source": actor}
    (data_dir / ".nija_trading_state.json").write_text(
        json.dumps({"current_state": "EMERGENCY_STOP", "history": [entry]}, ensure_ascii=False), encoding="utf-8"
    )
    kill = {"action": "activate", "reason": reason, "timestamp": T, "source": "api", "actor": actor}
    (data_dir / ".nija_kill_switch_state.json").write_text(
        json.dumps({"is_active": True, "history": [kill]}), encoding="utf-8"
    )
    beat = {"pid": 7, "host": host, "last_beat": T, "started_at": T}
    (data_dir / ".nija_heartbeat.json").write_text(json.dumps(beat, ensure_ascii=False), encoding="utf-8")
    report = {
        "updated_at": T,
        "mode": "simulated",
        "broker": host,
        "positions": [{"symbol": message, "quantity": 1, "average_price": 1}],
        "alerts": [{"timestamp": T, "code": actor, "message": message}],
    }
    (data_dir / ".nija_runtime.json").write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    reason=TEXT | st.just("x\nCan Trade: ✅ YES: simulated (DRY_RUN, no capital at risk)"),
    actor=TEXT,
    host=TEXT,
    message=TEXT,
)
def test_every_output_of_any_stored_text_is_free_of_control_characters(
    reason: str, actor: str, host: str, message: str
) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="nija-out-"))
    try:
        write_records(data_dir, reason, actor, host, message)
        backend = LocalBackend(data_dir)
        service = backend.service
        report = service.status()
        assert report.kill_active
        out = cli_render.SafeConsole(file=io.StringIO(), highlight=False, markup=False, soft_wrap=True, width=100)
        cli_render.status(out, report, service.store.location)
        transitions, kills = service.history()
        for t in transitions:
            out.print(cli_render.transition_line(t))
        for k in kills:
            out.print(cli_render.kill_event_line(k))
        text = out.file.getvalue()  # type: ignore[attr-defined]
        assert find_unsafe(text, multi_line=True) is None, text
        lines = text.splitlines()  # no field paints a line of its own
        assert [line for line in lines if line.startswith("Can Trade")] == [
            "Can Trade: ❌ NO (the kill switch is active)"
        ]
        assert len([line for line in lines if line.startswith("Kill Switch Active")]) == 1
        views = [to_json(status_view(report, service.store.location))]
        views += [to_json(transition_view(t)) for t in transitions] + [to_json(kill_event_view(k)) for k in kills]
        for view in views:
            document = json_for_terminal(json.dumps(view, indent=2, ensure_ascii=False))
            assert find_unsafe(document, multi_line=True) is None
            assert json.loads(document) == json.loads(json.dumps(view))
        frame = backend._frame()
        snapshot = tui_render.snapshot(frame, NOW)
        assert find_unsafe(snapshot, multi_line=True) is None, snapshot
        for panel in (
            tui_render.status_text(frame.status, NOW),
            tui_render.history_text(frame.status.recent_history),
            tui_render.runtime_text(frame),
            tui_render.notices_text(frame),
        ):
            assert find_unsafe(panel.plain, multi_line=True) is None
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
