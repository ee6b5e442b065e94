"""The live control center, driven by Textual's pilot against a real data directory."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from nija.assembly import build_service
from nija.bot_report import BotReport, Notice, OpenOrder, write_report
from nija.domain.states import TradingState
from nija.domain.transitions import Who
from nija.tui.app import ControlCenter
from nija.tui.screens import ConfirmScreen, HistoryScreen, ReasonScreen
from tests.conftest import Run
from tests.tui.helpers import drive, panel, type_text, until

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
OPERATOR = Who("operator@test", "cli")


def on_disk(data_dir: Path):  # type: ignore[no-untyped-def]
    return build_service(data_dir).status(history_items=50)


def test_screen_shows_a_kill_made_by_another_process(data_dir: Path, run: Run) -> None:
    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        assert "Kill Switch Active: NO" in panel(app, "status")
        shown = app.frames_shown
        result = run("emergency_kill_switch.py", "activate", "--data-dir", str(data_dir), "exchange outage")
        assert result.returncode == 0, result.stderr
        await until(pilot, lambda: app.frame is not None and app.frame.status.kill_switch.active, "the kill")
        assert app.frames_shown > shown
        status = panel(app, "status")
        assert "Trading State Machine: EMERGENCY_STOP" in status
        assert "Kill Switch Active: YES" in status
        assert "via cli" in status
        assert "Reason: exchange outage" in status
        assert "Kill File Exists: True" in status
        assert "Can Trade: NO (the kill switch is active)" in status
        assert "Kill switch activated: exchange outage" in panel(app, "history")

    drive(data_dir, scenario)


def test_runtime_panels_follow_the_bots_report_as_it_is_written(data_dir: Path) -> None:
    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        assert "No bot is running here" in panel(app, "runtime")
        report = BotReport(
            updated_at="2026-11-24T10:00:00+00:00",
            mode="simulated",
            broker="paper",
            open_orders=(OpenOrder(id="o1", symbol="BTC/USDT", side="sell", type="market", quantity=1),),
            alerts=(Notice(timestamp="2026-11-24T10:00:00+00:00", code="DRAWDOWN", message="daily loss 3%"),),
        )
        write_report(data_dir, report)  # what the bot runtime does, from outside the app
        await until(pilot, lambda: "Open orders: 1" in panel(app, "runtime"), "the bot report")
        assert "sell 1 BTC/USDT market" in panel(app, "runtime")
        assert "ALERT 2026-11-24 10:00:00Z DRAWDOWN: daily loss 3%" in panel(app, "notices")

    drive(data_dir, scenario)


def test_k_activates_the_kill_switch_with_the_reason_typed(data_dir: Path) -> None:
    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, ReasonScreen), "the reason dialog")
        await type_text(pilot, "runaway orders")
        await pilot.press("enter")
        await until(pilot, lambda: "ACTIVATED" in app.last_message or "REFUSED" in app.last_message, "outcome")
        assert "Kill switch ACTIVATED" in app.last_message
        assert "Kill Switch Active: YES" in panel(app, "status")

    drive(data_dir, scenario)
    report = on_disk(data_dir)
    assert report.kill_active
    assert report.kill_file_exists
    assert report.state is TradingState.EMERGENCY_STOP
    assert report.last_activation is not None
    assert report.last_activation.reason == "runaway orders"
    assert report.last_activation.source == "tui"


def test_escape_in_the_reason_dialog_changes_nothing(data_dir: Path) -> None:
    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, ReasonScreen), "the reason dialog")
        await type_text(pilot, "oops")
        await pilot.press("escape")
        await until(pilot, lambda: "Cancelled" in app.last_message, "cancel message")

    drive(data_dir, scenario)
    assert not on_disk(data_dir).kill_active


def test_d_deactivates_after_a_reason_and_a_confirmation(data_dir: Path) -> None:
    build_service(data_dir).activate_kill("test stop", OPERATOR)

    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ReasonScreen), "the reason dialog")
        await type_text(pilot, "fixed the feed")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: "deactivated" in app.last_message, "outcome")
        assert "now OFF" in app.last_message
        assert "Kill Switch Active: NO" in panel(app, "status")

    drive(data_dir, scenario)
    report = on_disk(data_dir)
    assert not report.kill_active
    assert not report.kill_file_exists
    assert report.state is TradingState.OFF
    assert report.recent_history[-1].source == "tui"


def test_d_refuses_when_a_new_kill_arrives_while_the_dialog_is_open(data_dir: Path) -> None:
    build_service(data_dir).activate_kill("test stop", OPERATOR)

    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ReasonScreen), "the reason dialog")
        build_service(data_dir).activate_kill("exchange hacked", Who("other@test", "cli"))
        await type_text(pilot, "fixed the feed")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: "REFUSED" in app.last_message, "the refusal")
        assert "changed since you looked" in app.last_message

    drive(data_dir, scenario)
    report = on_disk(data_dir)
    assert report.kill_active
    assert report.kill_file_exists


def test_d_declined_leaves_the_kill_switch_active(data_dir: Path) -> None:
    build_service(data_dir).activate_kill("test stop", OPERATOR)

    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ReasonScreen), "the reason dialog")
        await type_text(pilot, "not sure")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("n")
        await until(pilot, lambda: "Declined" in app.last_message, "declined message")

    drive(data_dir, scenario)
    assert on_disk(data_dir).kill_active


def test_d_with_an_empty_reason_shows_the_refusal_and_its_fix(data_dir: Path) -> None:
    build_service(data_dir).activate_kill("test stop", OPERATOR)

    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ReasonScreen), "the reason dialog")
        await pilot.press("enter")
        await until(pilot, lambda: "REFUSED" in app.last_message, "refusal")
        assert "needs a reason" in app.last_message
        assert "Fix: press d again and type what was fixed" in app.last_message

    drive(data_dir, scenario)
    assert on_disk(data_dir).kill_active


def test_r_while_killed_shows_the_reason_and_the_fix_and_changes_nothing(data_dir: Path) -> None:
    build_service(data_dir).activate_kill("test stop", OPERATOR)

    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        await pilot.press("r")
        await until(pilot, lambda: "REFUSED" in app.last_message, "refusal")
        assert "Cannot restore: the kill switch is active" in app.last_message
        assert "Fix: " in app.last_message
        assert "then press d (deactivate the kill switch)" in app.last_message
        assert "emergency_kill_switch.py" not in app.last_message  # a key here, not a shell command
        assert "REFUSED" in panel(app, "message")

    drive(data_dir, scenario)
    assert on_disk(data_dir).state is TradingState.EMERGENCY_STOP


def test_r_shows_the_plan_and_restores_to_dry_run_when_confirmed(data_dir: Path) -> None:
    service = build_service(data_dir)
    service.activate_kill("test stop", OPERATOR)
    service.deactivate_kill("fixed", OPERATOR)

    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the plan")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Plan: OFF → DRY_RUN" in str(app.screen.body)
        assert "never enables LIVE" in str(app.screen.body)
        await pilot.press("y")
        await until(pilot, lambda: "Restored" in app.last_message, "outcome")
        assert "now DRY_RUN" in app.last_message
        assert "Can Trade: YES: simulated" in panel(app, "status")

    drive(data_dir, scenario)
    assert on_disk(data_dir).state is TradingState.DRY_RUN


def test_x_shows_the_plan_and_resets_to_off_when_confirmed(data_dir: Path) -> None:
    service = build_service(data_dir)
    service.restore(OPERATOR)

    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the plan")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Plan: DRY_RUN → OFF" in str(app.screen.body)
        await pilot.press("y")
        await until(pilot, lambda: "Trading disabled" in app.last_message, "outcome")

    drive(data_dir, scenario)
    assert on_disk(data_dir).state is TradingState.OFF


def test_r_declined_changes_nothing(data_dir: Path) -> None:
    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the plan")
        await pilot.press("n")
        await until(pilot, lambda: "Declined" in app.last_message, "declined message")

    drive(data_dir, scenario)
    assert on_disk(data_dir).state is TradingState.OFF


def test_h_shows_the_full_history_and_h_goes_back(data_dir: Path) -> None:
    service = build_service(data_dir)
    service.activate_kill("first stop", OPERATOR)
    service.deactivate_kill("first fix", OPERATOR)
    service.restore(OPERATOR)

    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen), "the history screen")
        assert isinstance(app.screen, HistoryScreen)
        shown = app.screen.history
        assert [t.to for t in shown.transitions] == ["EMERGENCY_STOP", "OFF", "DRY_RUN"]
        assert [k.reason for k in shown.kill_switch] == ["first stop", "first fix"]
        await pilot.press("h")
        await until(pilot, lambda: app.screen is app.main, "back to the main screen")

    drive(data_dir, scenario)


def test_q_quits(data_dir: Path) -> None:
    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, "exit")

    drive(data_dir, scenario)


def test_footer_names_every_key_and_screenshot_is_saved(data_dir: Path, run: Run) -> None:
    """The main screen with a kill from another process, saved for people to look at."""
    run("emergency_kill_switch.py", "activate", "--data-dir", str(data_dir), "exchange outage")
    ARTIFACTS.mkdir(exist_ok=True)

    async def scenario(app: ControlCenter, pilot: Pilot[None]) -> None:
        shown = {key: b.binding.description for key, b in app.main.active_bindings.items() if b.binding.show}
        assert shown == {"k": "Kill", "d": "Deactivate", "r": "Restore", "x": "Reset", "h": "History", "q": "Quit"}
        await pilot.pause()  # let the footer settle after the first frame
        svg = app.export_screenshot()
        for label in shown.values():
            assert f"{label}&#160;" in svg  # the footer's word, as the SVG spells spaces
        assert "EMERGENCY_STOP" in svg
        path = app.save_screenshot("tui_main_screen.svg", str(ARTIFACTS))
        assert Path(path).stat().st_size > 0

    drive(data_dir, scenario)
