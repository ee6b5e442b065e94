"""Human-readable output in the guide's shape, coloured where the terminal allows.

Each line is written through ``Out`` (``nija.cli.output``): rich loads only where it
changes the bytes (a terminal's colours), so a piped ``status`` does not pay for it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from nija.cli.output import Out
from nija.domain.records import heartbeat_words
from nija.domain.states import REAL_MONEY_BANNER, Mode, TradingState
from nija.domain.text import printable

if TYPE_CHECKING:
    from rich.console import Console

    from nija.cli.rich_console import SafeConsole as SafeConsole  # at run time: __getattr__
    from nija.domain.diagnosis import StatusReport
    from nija.domain.records import KillEvent, Transition
    from nija.domain.recovery import Plan
    from nija.exchange_checks import ExchangeChecks
    from nija.kill_receipt import KillReceipt, ReceiptOrder
    from nija.service import Outcome

RULE = "-" * 80

_STATE_STYLE = {
    TradingState.OFF: "bold",
    TradingState.DRY_RUN: "bold cyan",
    TradingState.LIVE_PENDING_CONFIRMATION: "bold yellow",
    TradingState.LIVE_ACTIVE: "bold red",
    TradingState.EMERGENCY_STOP: "bold red",
}


def __getattr__(name: str) -> type[SafeConsole]:
    if name == "SafeConsole":  # rich loads only when asked for
        from nija.cli import rich_console

        return rich_console.SafeConsole
    raise AttributeError(name)


def console(*, stderr: bool = False) -> Console:
    """The rich console, for the commands that print rich's own renderables (tables)."""
    from nija.cli import rich_console

    return rich_console.console(stderr=stderr)


def out(*, stderr: bool = False) -> Out:
    """Where a command's lines go: written directly or through rich (``nija.cli.output``)."""
    return Out(stderr=stderr)


def _out(sink: Out | Console) -> Out:
    return sink if isinstance(sink, Out) else Out(sink)


def status(sink: Out | Console, report: StatusReport, location: str) -> None:
    out = _out(sink)
    if report.state is TradingState.LIVE_ACTIVE or report.permission.mode is Mode.LIVE:
        out.text(f"!!! {REAL_MONEY_BANNER} !!!", style="bold white on red")
    out.print("📊 CURRENT STATUS", style="bold")
    out.print(RULE)
    out.text("Trading State Machine: ", (str(report.state), _STATE_STYLE[report.state]))
    out.text("Kill Switch Active: ", _kill_text(report))
    out.print(f"Kill File Exists: {report.kill_file_exists}")
    out.text("Can Trade: ", _can_trade_text(report))
    out.text("Bot: ", _bot_text(report))
    out.text(f"Data: {location}", style="dim")
    out.print(RULE)
    if not report.inconsistencies:
        out.print("✅ No inconsistencies detected", style="green")
    for item in report.inconsistencies:
        out.text("⚠️ STATE INCONSISTENCY DETECTED: ", (item.code, "bold yellow"))
        for line in item.details or (f"• {item.message}",):
            out.text(printable(line))
        out.text(f"💡 Solution: {printable(item.fix)}")
    if report.recent_history:
        out.print(RULE)
        out.print("Recent history:", style="bold")
        for entry in report.recent_history:
            out.text(transition_line(entry))


def _kill_text(report: StatusReport) -> tuple[str, str]:
    if not report.kill_active:
        return "✅ NO", "green"
    act = report.last_activation
    if act is None:
        return "🛑 YES", "bold red"
    since = (
        f" (since {_when(act.timestamp)} by {printable(act.actor)} via {printable(act.source)}: "
        f"{printable(act.reason)})"
    )
    return "🛑 YES" + since, "bold red"  # the whole line in the kill's style


def _can_trade_text(report: StatusReport) -> tuple[str, str]:
    perm = report.permission
    if not perm.allowed:
        return f"❌ NO ({printable(perm.reason)})", "red"
    if perm.mode is Mode.LIVE:
        return "⚠️ YES: LIVE, real capital at risk", "bold red"
    return "✅ YES: simulated (DRY_RUN, no capital at risk)", "green"


def _bot_text(report: StatusReport) -> tuple[str, str]:
    beat = report.heartbeat
    if beat is None:
        return "not running (no heartbeat)", "dim"
    age = heartbeat_words(beat.last_beat, report.checked_at)
    host = printable(beat.host)
    if report.bot_alive:
        run = (
            f", run {printable(_short_run(beat.run_id))}, {beat.dry_run_s / 60:.1f} min in DRY_RUN"
            if beat.run_id
            else ""
        )
        return f"alive (pid {beat.pid} on {host}, {age}{run})", "green"
    why = "stopped" if beat.stopped else age
    return f"not running ({why}; pid {beat.pid} on {host})", "yellow"


def plan(sink: Out | Console, shown: Plan, title: str) -> None:
    out = _out(sink)
    out.print(title, style="bold")
    out.print(RULE)
    out.text(f"Plan: {shown.path}")
    for number, step in enumerate(shown.steps, 1):
        out.text(f"  {number}. {step.from_state} → {step.to_state}: {printable(step.reason)}")
    for warning in shown.warnings:
        out.text(f"⚠️ {printable(warning)}", style="yellow")


def outcome(sink: Out | Console, result: Outcome, done: str) -> None:
    out = _out(sink)
    for warning in result.warnings:
        out.text(f"⚠️ {printable(warning)}", style="yellow")
    for message in result.messages:
        out.text(f"ℹ️ {printable(message)}")
    if result.changed:
        out.text(f"✅ {done}: now {result.after}", style="green")


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


def kill_receipt(sink: Out | Console, receipt: KillReceipt) -> None:
    """The newest kill receipt: what the broker said remained after the last kill."""
    out = _out(sink)
    style = "green" if receipt.confirmed and receipt.within_deadline else "bold red"
    out.text("Kill receipt: ", (printable(receipt.verdict), style))
    _line(out, f"  {receipt.trigger} noticed at {receipt.noticed_at} ({receipt.reason})")
    for broker in receipt.brokers:
        for order in broker.own_open:
            _line(out, f"  {broker.broker}: STILL OPEN (own) {_order(order)}")
        for order in broker.foreign_open:
            _line(out, f"  {broker.broker}: foreign, left alone {_order(order)}")
        for position in broker.positions:
            _line(out, f"  {broker.broker}: holds {position.quantity:g} {position.symbol} ({position.value:,.2f})")


def exchange_checks(sink: Out | Console, checks: ExchangeChecks) -> None:
    """What the running bot last read from the exchange (see ``nija.exchange_checks``)."""
    out = _out(sink)
    _line(out, f"Exchange ({checks.venue}), as the bot read it at {checks.written_at.isoformat(timespec='seconds')}:")
    _line(out, f"  Dead man's switch: {checks.dead_man_switch}")
    if checks.reconciliation is not None:
        _line(out, f"  Reconciliation: {checks.reconciliation.describe(checks.currency)}")
    if checks.attestation is not None:
        key = checks.attestation
        _line(out, f"  {key.line} (checked {key.checked_at.isoformat(timespec='seconds')})")


def _line(out: Out, text: str) -> None:
    """Exchange answers and reasons are free text: no markup, no control characters."""
    out.text(printable(text))


def _order(order: ReceiptOrder) -> str:
    return f"{order.id} {order.side} {order.quantity:g} {order.symbol}"


def _short_run(run_id: str) -> str:
    from nija.domain.live import short_run  # the live rules load only for a running bot's line

    return short_run(run_id)
