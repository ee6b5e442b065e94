"""Each panel of the control center as rich Text, shared by the live screen (coloured)
and ``--snapshot`` (the same words as plain text, wrapped to 80 columns).

No emoji here: they are two cells wide and many SSH terminals and cron mails mangle
them; the guide's lines keep their words ("Kill Switch Active: YES")."""

from __future__ import annotations

import textwrap
from datetime import datetime

from rich.text import Text

from nija.bot_report import BotReport, Notice
from nija.domain.text import printable
from nija.tui.frame import Frame, KillEventView, StatusView, TransitionView

WIDTH = 80
RULE = "-" * WIDTH

_STATE_STYLE = {
    "OFF": "bold",
    "DRY_RUN": "bold cyan",
    "LIVE_PENDING_CONFIRMATION": "bold yellow",
    "LIVE_ACTIVE": "bold red",
    "EMERGENCY_STOP": "bold red",
}


def status_text(status: StatusView, now: datetime) -> Text:
    """The guide's status lines, then the bot's liveness."""
    kill = status.kill_switch
    text = Text()
    text.append("Trading State Machine: ").append(status.state, _STATE_STYLE.get(status.state, "bold"))
    text.append("\nKill Switch Active: ")
    if kill.active:
        text.append("YES", "bold red")
        if kill.since is not None:
            text.append(f" since {when(kill.since)} by {kill.actor} via {kill.source}")
        if kill.reason:
            text.append(f"\n  Reason: {kill.reason}")
    else:
        text.append("NO", "green")
    text.append(f"\nKill File Exists: {kill.kill_file_exists}")
    text.append("\nCan Trade: ").append(*_can_trade(status))
    text.append("\nBot: ").append(*_bot(status, now))
    return text


def _can_trade(status: StatusView) -> tuple[str, str]:
    if not status.can_trade:
        return f"NO ({status.permission.reason})", "red"
    if status.mode == "live":
        return "YES: LIVE, real capital at risk", "bold red"
    return "YES: simulated (DRY_RUN, no capital at risk)", "green"


def _bot(status: StatusView, now: datetime) -> tuple[str, str]:
    bot = status.bot
    if bot.last_heartbeat is None:
        return "not running (no heartbeat)", "dim"
    age = max(0.0, (now - bot.last_heartbeat).total_seconds())
    where = f"pid {bot.pid} on {bot.host}"
    if bot.alive:
        return f"alive ({where}, last heartbeat {age:.0f}s ago)", "green"
    return f"NOT RUNNING (last heartbeat {age:.0f}s ago, {where})", "yellow"


def issues_text(status: StatusView) -> Text:
    if not status.inconsistencies:
        return Text("No inconsistencies detected", "green")
    text = Text()
    for number, issue in enumerate(status.inconsistencies):
        if number:
            text.append("\n")
        text.append("STATE INCONSISTENCY: ", "bold yellow").append(issue.code, "bold yellow")
        text.append(f"\n  {issue.message}")
        text.append("\n  Fix: ", "bold").append(issue.fix)
    return text


def history_text(entries: tuple[TransitionView, ...], *, heading: bool = True) -> Text:
    lines = [Text(transition_line(entry)) for entry in entries] or [Text("(none)", "dim")]
    if heading:
        lines.insert(0, Text("Recent history (newest last)", "bold"))
    return Text("\n").join(lines)


def runtime_text(frame: Frame) -> Text:
    report = frame.runtime
    if report is None:
        return Text(frame.runtime_note, "dim")
    text = Text()
    if frame.stale_note:
        text.append(f"{printable(frame.stale_note)}\n", "bold yellow")
    # The bot report is read as written by the bot (frame.runtime): escape its text here.
    text.append(f"Bot report ({report.mode}, {printable(report.broker)}) at {printable(report.updated_at)}", "bold")
    text.append(f"\nOpen orders: {len(report.open_orders)}")
    for order in report.open_orders:
        price = f" @ {order.price:g}" if order.price is not None else ""
        text.append(f"\n  {order.side} {order.quantity:g} {printable(order.symbol)} {order.type}{price}")
    text.append(f"\nPositions: {len(report.positions)}")
    for pos in report.positions:
        text.append(
            f"\n  {printable(pos.symbol)} {pos.quantity:g} @ {pos.average_price:g} P&L {pos.unrealized_pnl:+.2f}"
        )
    text.append("\n").append(_pnl(report))
    if report.dead_man_switch:
        text.append(f"\nDead man's switch: {report.dead_man_switch}")
    if report.foreign_orders:
        text.append(f"\n{len(report.foreign_orders)} open order(s) on the account not placed by this bot: left alone")
    receipt = report.kill_receipt
    if receipt is not None:
        style = "green" if receipt.confirmed and receipt.within_deadline else "bold red"
        text.append("\nKill receipt: ", "bold").append(receipt.verdict, style)
    return text


def _pnl(report: BotReport) -> str:
    p = report.pnl
    return f"P&L: realized {p.realized:+.2f} unrealized {p.unrealized:+.2f} fees {p.fees:.2f} equity {p.equity:.2f}"


def notices_text(frame: Frame) -> Text:
    warnings = Text()
    for warning in frame.warnings:
        warnings.append("WARNING", "bold yellow").append(f" {warning}\n")
    report = frame.runtime
    if report is None:
        return warnings.append("Denials and alerts: none reported (no bot report)", "dim")
    text = warnings.append("Recent denials and alerts", "bold")
    notices = [("DENIED", n) for n in report.denials[-3:]] + [("ALERT", n) for n in report.alerts[-3:]]
    for label, notice in notices:
        text.append("\n").append(label, "yellow").append(f" {_notice(notice)}")
    if not notices:
        text.append("\n(none)", "dim")
    return text


def _notice(notice: Notice) -> str:
    return printable(f"{notice.timestamp} {notice.code}: {notice.message}")


def transition_line(t: TransitionView) -> str:
    return f"{when(t.timestamp)} {t.from_state} → {t.to} ({t.actor} via {t.source}) {t.reason}"


def kill_event_line(e: KillEventView) -> str:
    action = "NOTE" if e.repeated else (e.action or "record").upper()
    return f"{when(e.timestamp)} {action:<10} ({e.actor} via {e.source}) {e.reason}"


def when(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="seconds").replace("+00:00", "Z")


def snapshot(frame: Frame, now: datetime) -> str:
    """One plain-text frame for scripts and cron: no colour, at most 80 columns."""
    status = frame.status
    checked = f"checked {when(status.checked_at)}"
    where = status.store or "(store location: admins only)"
    head = f"NIJA control center: {where}"[: WIDTH - len(checked) - 1]
    sections = [
        Text(head.ljust(WIDTH - len(checked)) + checked),
        Text(RULE),
        status_text(status, now),
        Text(RULE),
        issues_text(status),
        Text(RULE),
        history_text(status.recent_history[-3:]),
        runtime_text(frame),
        notices_text(frame),
    ]
    lines: list[str] = []
    for section in sections:
        for line in section.plain.splitlines():
            indent = " " * (len(line) - len(line.lstrip()) + 2)
            lines.extend(textwrap.wrap(line, WIDTH, subsequent_indent=indent) or [""])
    return "\n".join(lines) + "\n"
