"""Human-readable output in the guide's shape, coloured where the terminal allows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from rich.console import Console
from rich.segment import Segment
from rich.text import Text

from nija.domain.diagnosis import StatusReport
from nija.domain.live import short_run
from nija.domain.records import KillEvent, Transition
from nija.domain.recovery import Plan
from nija.domain.states import REAL_MONEY_BANNER, Mode, TradingState
from nija.domain.text import printable
from nija.service import Outcome

if TYPE_CHECKING:
    from nija.exchange_checks import ExchangeChecks
    from nija.kill_receipt import KillReceipt, ReceiptOrder

RULE = "-" * 80

_STATE_STYLE = {
    TradingState.OFF: "bold",
    TradingState.DRY_RUN: "bold cyan",
    TradingState.LIVE_PENDING_CONFIRMATION: "bold yellow",
    TradingState.LIVE_ACTIVE: "bold red",
    TradingState.EMERGENCY_STOP: "bold red",
}


class SafeConsole(Console):
    """A console that cannot be made to emit a control sequence it did not style itself.

    Stored text (a reason hand-written into a file, a name from an older NIJA) may hold
    ESC, C1 or bidi controls: each is printed as a visible escape (``\x1b``), so no field
    can clear the screen or repaint another line (invariant 12). Rich's own styling and
    cursor segments are untouched; fields shown on one line are escaped further by the
    renderers (``printable``: newlines too)."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            segment if segment.control else Segment(printable(segment.text, multi_line=True), segment.style)
            for segment in buffer
        )


def console(*, stderr: bool = False) -> Console:
    # highlight=False: never recolour user-supplied reasons; markup=False: a reason holding
    # "[/]" or "[red]" is text, not markup; soft_wrap keeps lines intact.
    return SafeConsole(stderr=stderr, highlight=False, markup=False, soft_wrap=True)


def status(out: Console, report: StatusReport, location: str) -> None:
    if report.state is TradingState.LIVE_ACTIVE or report.permission.mode is Mode.LIVE:
        out.print(Text(f"!!! {REAL_MONEY_BANNER} !!!", style="bold white on red"))
    out.print("📊 CURRENT STATUS", style="bold")
    out.print(RULE)
    out.print(Text.assemble("Trading State Machine: ", (str(report.state), _STATE_STYLE[report.state])))
    out.print(Text.assemble("Kill Switch Active: ", _kill_text(report)))
    out.print(f"Kill File Exists: {report.kill_file_exists}")
    out.print(Text.assemble("Can Trade: ", _can_trade_text(report)))
    out.print(Text.assemble("Bot: ", _bot_text(report)))
    out.print(Text(f"Data: {location}", style="dim"))
    out.print(RULE)
    if not report.inconsistencies:
        out.print("✅ No inconsistencies detected", style="green")
    for item in report.inconsistencies:
        out.print(Text.assemble("⚠️ STATE INCONSISTENCY DETECTED: ", (item.code, "bold yellow")))
        for line in item.details or (f"• {item.message}",):
            out.print(Text(printable(line)))
        out.print(Text(f"💡 Solution: {printable(item.fix)}"))
    if report.recent_history:
        out.print(RULE)
        out.print("Recent history:", style="bold")
        for entry in report.recent_history:
            out.print(Text(transition_line(entry)))


def _kill_text(report: StatusReport) -> Text:
    if not report.kill_active:
        return Text("✅ NO", style="green")
    text = Text("🛑 YES", style="bold red")
    act = report.last_activation
    if act is not None:
        text.append(
            f" (since {_when(act.timestamp)} by {printable(act.actor)} via {printable(act.source)}: "
            f"{printable(act.reason)})"
        )
    return text


def _can_trade_text(report: StatusReport) -> Text:
    perm = report.permission
    if not perm.allowed:
        return Text(f"❌ NO ({printable(perm.reason)})", style="red")
    if perm.mode is Mode.LIVE:
        return Text("⚠️ YES: LIVE, real capital at risk", style="bold red")
    return Text("✅ YES: simulated (DRY_RUN, no capital at risk)", style="green")


def _bot_text(report: StatusReport) -> Text:
    beat = report.heartbeat
    if beat is None:
        return Text("not running (no heartbeat)", style="dim")
    age = (report.checked_at - beat.last_beat).total_seconds()
    host = printable(beat.host)
    if report.bot_alive:
        run = (
            f", run {printable(short_run(beat.run_id))}, {beat.dry_run_s / 60:.1f} min in DRY_RUN"
            if beat.run_id
            else ""
        )
        return Text(f"alive (pid {beat.pid} on {host}, last heartbeat {age:.0f}s ago{run})", style="green")
    why = "stopped" if beat.stopped else f"last heartbeat {age:.0f}s ago"
    return Text(f"not running ({why}; pid {beat.pid} on {host})", style="yellow")


def plan(out: Console, shown: Plan, title: str) -> None:
    out.print(title, style="bold")
    out.print(RULE)
    out.print(Text(f"Plan: {shown.path}"))
    for number, step in enumerate(shown.steps, 1):
        out.print(Text(f"  {number}. {step.from_state} → {step.to_state}: {printable(step.reason)}"))
    for warning in shown.warnings:
        out.print(Text(f"⚠️ {printable(warning)}", style="yellow"))


def outcome(out: Console, result: Outcome, done: str) -> None:
    for warning in result.warnings:
        out.print(Text(f"⚠️ {printable(warning)}", style="yellow"))
    for message in result.messages:
        out.print(Text(f"ℹ️ {printable(message)}"))
    if result.changed:
        out.print(Text(f"✅ {done}: now {result.after}", style="green"))


def transition_line(t: Transition) -> str:
    return (
        f"{_when(t.timestamp)}  {t.from_state} → {t.to_state}  "
        f"({printable(t.actor)} via {printable(t.source)}) {printable(t.reason)}"
    )


def kill_event_line(e: KillEvent) -> str:
    action = "NOTE" if e.repeated else (e.action or "record").upper()
    return f"{_when(e.timestamp)}  {action:<10} ({printable(e.actor)} via {printable(e.source)}) {printable(e.reason)}"


def _when(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def kill_receipt(out: Console, receipt: KillReceipt) -> None:
    """The newest kill receipt: what the broker said remained after the last kill."""
    style = "green" if receipt.confirmed and receipt.within_deadline else "bold red"
    out.print(Text.assemble("Kill receipt: ", (printable(receipt.verdict), style)))
    _line(out, f"  {receipt.trigger} noticed at {receipt.noticed_at} ({receipt.reason})")
    for broker in receipt.brokers:
        for order in broker.own_open:
            _line(out, f"  {broker.broker}: STILL OPEN (own) {_order(order)}")
        for order in broker.foreign_open:
            _line(out, f"  {broker.broker}: foreign, left alone {_order(order)}")
        for position in broker.positions:
            _line(out, f"  {broker.broker}: holds {position.quantity:g} {position.symbol} ({position.value:,.2f})")


def exchange_checks(out: Console, checks: ExchangeChecks) -> None:
    """What the running bot last read from the exchange (see ``nija.exchange_checks``)."""
    _line(out, f"Exchange ({checks.venue}), as the bot read it at {checks.written_at.isoformat(timespec='seconds')}:")
    _line(out, f"  Dead man's switch: {checks.dead_man_switch}")
    if checks.reconciliation is not None:
        _line(out, f"  Reconciliation: {checks.reconciliation.describe(checks.currency)}")
    if checks.attestation is not None:
        key = checks.attestation
        _line(out, f"  {key.line} (checked {key.checked_at.isoformat(timespec='seconds')})")


def _line(out: Console, text: str) -> None:
    """Exchange answers and reasons are free text: no markup, no control characters."""
    out.print(Text(printable(text)))


def _order(order: ReceiptOrder) -> str:
    return f"{order.id} {order.side} {order.quantity:g} {order.symbol}"
