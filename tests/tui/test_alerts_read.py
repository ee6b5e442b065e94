"""Alerts that are read: a killed bot's denial per candle is one grouped line, the kill's
outcome stays pinned above it, the kill key works on every screen, LIVE_ACTIVE stands
out, and ``--snapshot`` keeps state, kill switch and can-trade first in 80x24."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.binding import Binding
from textual.pilot import Pilot

from nija.assembly import build_service
from nija.bot_report import BotReport, Notice, OpenOrder, Pnl, Position, write_report
from nija.domain.states import TradingState
from nija.domain.transitions import Who
from nija.tui.app import ControlCenter
from nija.tui.screens import ConfirmScreen, HistoryScreen, ReasonScreen
from tests.conftest import Run
from tests.scenarios import stopped_without_kill
from tests.tui.helpers import drive, panel, type_text, until
from tests.tui.test_snapshot import assert_fits_80x24, snapshot

OPERATOR = Who("operator@test", "cli")
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def flooded_report() -> BotReport:
    """A killed bot after an hour: the kill, its outcome, then one denial per candle, and
    later alerts of other kinds (more than the panel shows)."""
    alerts = (
        Notice(timestamp=at(0), code="KILL", message="kill noticed (exchange outage): open orders cancelled"),
        Notice(timestamp=at(1), code="KILL_COMPLETE", message="kill complete: no open orders remain"),
        *(Notice(timestamp=at(60 + i), code=f"FEED_GAP_{i}", message="feed gap") for i in range(8)),
    )
    flood = "BTC/USDT: the kill switch is active"
    denials = (
        *(Notice(timestamp=at(2 + i), code="KILL_SWITCH_ACTIVE", message=flood) for i in range(20)),
        Notice(timestamp=at(30), code="STALE_DATA", message="ETH/USDT: the feed is 9 s old"),
    )
    return BotReport(
        updated_at=at(3600),
        mode="none",
        broker="paper",
        alerts=alerts,
        denials=denials,
        denial_counts={"KILL_SWITCH_ACTIVE": 3598, "STALE_DATA": 1},
        denial_last={"KILL_SWITCH_ACTIVE": at(3599), "STALE_DATA": at(30)},
    )


def test_a_denial_flood_is_one_line_per_code_and_the_kill_outcome_stays_pinned(data_dir: Path) -> None:
    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        write_report(data_dir, flooded_report())
        await until(pilot, lambda: "Denials by code" in panel(app, "notices"), "the notices")
        notices = panel(app, "notices")
        lines = notices.splitlines()
        assert lines[0] == "Alerts"  # alerts above the denials
        assert lines.index("Denials by code") > next(i for i, line in enumerate(lines) if "KILL_COMPLETE" in line)
        assert "KILL_COMPLETE: kill complete: no open orders remain" in notices  # pinned, though 8 came later
        assert "FEED_GAP_7" in notices  # and the newest alerts
        # one line per code, with the run's count and the last denial's own time
        assert [line for line in lines if "KILL_SWITCH_ACTIVE" in line] == [
            "DENIED KILL_SWITCH_ACTIVE x3598 last 2026-11-24 10:59:59Z: BTC/USDT: the kill switch is active"
        ]
        assert "DENIED STALE_DATA x1 last 2026-11-24 10:00:30Z: ETH/USDT: the feed is 9 s old" in notices
        assert "11:00:00" not in notices  # nothing carries the report's time

    drive(data_dir, scenario)


def test_k_on_the_history_screen_activates_the_kill_switch(data_dir: Path) -> None:
    build_service(data_dir).restore(OPERATOR)

    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen), "the history screen")
        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, ReasonScreen), "the kill dialog")
        await type_text(pilot, "from history")
        await pilot.press("enter")
        await until(pilot, lambda: app.frame is not None and app.frame.status.kill_switch.active, "the kill")

    drive(data_dir, scenario)
    status = build_service(data_dir).status()
    assert status.kill_active
    assert status.state is TradingState.EMERGENCY_STOP


def test_k_in_a_restore_confirmation_declines_the_plan_and_kills(data_dir: Path) -> None:
    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the restore plan")
        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, ReasonScreen), "the kill dialog")
        await pilot.press("enter")  # no reason: "Manual activation"
        await until(pilot, lambda: app.frame is not None and app.frame.status.kill_switch.active, "the kill")

    drive(data_dir, scenario)
    status = build_service(data_dir).status()
    assert status.kill_active
    assert status.state is TradingState.EMERGENCY_STOP  # the plan was not applied


def live_active_files(data_dir: Path) -> None:
    """A LIVE_ACTIVE state as a bot leaves it on disk (no bot is running any more)."""
    stamp = datetime.now(UTC).isoformat()
    state = {
        "current_state": "LIVE_ACTIVE",
        "history": [
            {"from": "LIVE_PENDING_CONFIRMATION", "to": "LIVE_ACTIVE", "reason": "confirmed", "timestamp": stamp}
        ],
        "last_updated": stamp,
    }
    (data_dir / ".nija_trading_state.json").write_text(json.dumps(state))


def test_live_active_is_framed_in_red_with_real_money_on_the_screen(data_dir: Path) -> None:
    live_active_files(data_dir)

    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        assert app.main.has_class("live")
        assert "REAL MONEY" in str(app.main.query_one("#status").border_title)
        assert panel(app, "status").startswith(" REAL MONEY: LIVE_ACTIVE")

    drive(data_dir, scenario)


def busy_report() -> BotReport:
    return BotReport(
        updated_at=datetime.now(UTC).isoformat(),
        mode="simulated",
        broker="paper",
        open_orders=tuple(
            OpenOrder(id=f"o{i}", symbol=f"C{i}/USDT", side="buy", type="limit", quantity=0.0463140478093449, price=3e4)
            for i in range(30)
        ),
        positions=tuple(
            Position(symbol=f"COIN{i}/USDT", quantity=2, average_price=1500, unrealized_pnl=12.5) for i in range(20)
        ),
        pnl=Pnl(cash=1000, equity=4012.5, realized=-3.25, unrealized=12.5, fees=1.5),
        **flooded_report().model_dump(include={"alerts", "denials", "denial_counts", "denial_last"}),
    )


def test_snapshot_of_a_busy_killed_bot_puts_state_kill_and_can_trade_first_in_80x24(run: Run, data_dir: Path) -> None:
    service = build_service(data_dir)
    service.restore(OPERATOR)
    service.activate_kill("exchange outage " * 12, OPERATOR)  # a long reason wraps
    write_report(data_dir, busy_report())

    code, out, err = snapshot(run, data_dir)

    assert code == 0, err
    assert_fits_80x24(out)
    lines = out.splitlines()
    assert lines[0] == "Trading State Machine: EMERGENCY_STOP"
    assert lines[1].startswith("Kill Switch Active: YES since ")
    can_trade = next(i for i, line in enumerate(lines) if line.startswith("Can Trade: "))
    assert can_trade <= 3
    assert lines[can_trade] == "Can Trade: NO (the kill switch is active)"
    assert "KILL_COMPLETE" in out  # the kill's outcome made it into the 24 lines
    assert "DENIED KILL_SWITCH_ACTIVE x3598" in out
    assert "... (more: see nija status / the control center)" in out  # the book was cut, with a note


def test_snapshot_of_live_active_says_real_money_first(run: Run, data_dir: Path) -> None:
    live_active_files(data_dir)
    code, out, _ = snapshot(run, data_dir)
    assert code == 5  # LIVE_STATE_WITHOUT_BOT
    assert_fits_80x24(out)
    assert out.splitlines()[0].strip() == "REAL MONEY: LIVE_ACTIVE, orders go to the exchange"
    assert out.splitlines()[1] == "Trading State Machine: LIVE_ACTIVE"


def test_an_inconsistency_on_the_screen_names_its_key_and_the_snapshot_its_command(run: Run, data_dir: Path) -> None:
    stopped_without_kill(data_dir)  # the guide's case: stopped, kill switch off

    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        assert "EMERGENCY_STOP_WITHOUT_KILL" in panel(app, "status")
        assert "Fix: press r (restore to DRY_RUN)" in panel(app, "status")
        assert "safe_restore_trading.py" not in panel(app, "status")

    drive(data_dir, scenario)
    code, out, _ = snapshot(run, data_dir)
    assert code == 5
    assert "Fix: Run 'python safe_restore_trading.py restore'" in out


def test_the_equity_sparkline_follows_the_bots_report(data_dir: Path) -> None:
    from textual.widgets import Sparkline

    from nija.bot_report import EquityPoint

    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        sparkline = app.main.query_one("#equity", Sparkline)
        assert not sparkline.display  # no bot, no curve
        curve = tuple(EquityPoint(at=1e9 + i, equity=10_000.0 + (i % 5) * 10) for i in range(30))
        write_report(data_dir, BotReport(updated_at=at(0), mode="simulated", broker="paper", equity_curve=curve))
        await until(pilot, lambda: "Equity curve:" in panel(app, "runtime"), "the curve")
        assert list(sparkline.data or []) == [p.equity for p in curve]
        assert sparkline.display
        assert "Equity curve: 10,000.00 -> 10,040.00 (low 10,000.00, high 10,040.00, 30 fills)" in panel(app, "runtime")

    drive(data_dir, scenario)


def test_every_screen_binds_k_to_the_kill_switch() -> None:
    """A screen added later without ``k`` fails here; the pilot tests above press it on the
    main screen (test_app), the history and a restore plan. The reason dialog is the one
    exception: it is typed into (``k`` is a letter there), and Escape returns to a screen
    where ``k`` kills."""
    import inspect

    from textual.screen import Screen

    from nija.tui import app as app_module
    from nija.tui import screens as screens_module

    found = {
        cls
        for module in (app_module, screens_module)
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Screen) and cls.__module__ == module.__name__
    }
    assert {ConfirmScreen, HistoryScreen, ReasonScreen} <= found
    for cls in found - {ReasonScreen}:
        kill = [b for b in cls.BINDINGS if isinstance(b, Binding) and b.key == "k"]
        assert kill, f"{cls.__name__} has no k binding"
        assert kill[0].action in {"app.kill", "kill"}, f"{cls.__name__}: k does {kill[0].action}"
