"""Each panel of the control center as rich Text, shared by the live screen (coloured)
and ``--snapshot`` (the same words as plain text, wrapped to 80 columns).

No emoji here: they are two cells wide and many SSH terminals and cron mails mangle
them; the guide's lines keep their words ("Kill Switch Active: YES")."""

from __future__ import annotations

import textwrap
from datetime import datetime

from rich.text import Text

from nija.bot_report import KILL_OUTCOME_CODES, BotReport, denial_groups, pinned_alerts
from nija.domain.records import heartbeat_words
from nija.domain.states import REAL_MONEY_BANNER
from nija.domain.text import printable
from nija.tui.frame import Frame
from nija.tui.words import fix_here
from nija.views import KillEventView, StatusView, TransitionView

WIDTH = 80
RULE = "-" * WIDTH

_STATE_STYLE = {
    "OFF": "bold",
    "DRY_RUN": "bold cyan",
    "LIVE_PENDING_CONFIRMATION": "bold yellow",
    "LIVE_ACTIVE": "bold red",
    "EMERGENCY_STOP": "bold red",
}


LIVE_BANNER = REAL_MONEY_BANNER


def live_banner(status: StatusView) -> Text | None:
    """The web's "REAL MONEY" frame in terminal words: shown above everything while live."""
    if status.state != "LIVE_ACTIVE" and status.mode != "live":
        return None
    return Text(f" {LIVE_BANNER} ", "bold white on red")


def status_text(status: StatusView, now: datetime) -> Text:
    """The guide's status lines, state, kill switch and can-trade first, then the bot."""
    kill = status.kill_switch
    text = Text()
    banner = live_banner(status)
    if banner is not None:
        text.append(banner).append("\n")
    text.append("Trading State Machine: ").append(status.state, _STATE_STYLE.get(status.state, "bold"))
    text.append("\nKill Switch Active: ")
    if kill.active:
        text.append("YES", "bold red")
        if kill.since is not None:
            text.append(f" since {short_time(kill.since)} by {kill.actor} via {kill.source}")
    else:
        text.append("NO", "green")
    text.append("\nCan Trade: ").append(*_can_trade(status))
    if kill.active and kill.reason:
        text.append(f"\n  Reason: {kill.reason}")
    text.append(f"\nKill File Exists: {kill.kill_file_exists}")
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
    beat = _moment(bot.last_heartbeat)
    if beat is None:
        return "not running (no heartbeat)", "dim"
    age = heartbeat_words(beat, now)
    where = f"pid {bot.pid} on {bot.host}"
    if bot.alive:
        return f"alive ({where}, {age})", "green"
    return f"NOT RUNNING ({age}, {where})", "yellow"


def issues_text(status: StatusView, *, keys: bool = False) -> Text:
    """``keys``: on the live screen, each fix names its key; the snapshot (read in a
    shell or a mail) keeps the command line's words."""
    if not status.inconsistencies:
        return Text("No inconsistencies detected", "green")
    text = Text()
    for number, issue in enumerate(status.inconsistencies):
        if number:
            text.append("\n")
        text.append("STATE INCONSISTENCY: ", "bold yellow").append(issue.code, "bold yellow")
        text.append(f"\n  {issue.message}")
        text.append("\n  Fix: ", "bold").append(fix_here(issue.action, issue.fix) if keys else issue.fix)
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
    curve = report.equity_curve
    if len(curve) >= 2:
        low, high = min(p.equity for p in curve), max(p.equity for p in curve)
        text.append(
            f"\nEquity curve: {curve[0].equity:,.2f} -> {curve[-1].equity:,.2f} "
            f"(low {low:,.2f}, high {high:,.2f}, {len(curve)} fills)"
        )
    if report.dead_man_switch:
        text.append(f"\nDead man's switch: {printable(report.dead_man_switch)}")
    if report.foreign_orders:
        text.append(f"\n{len(report.foreign_orders)} open order(s) on the account not placed by this bot: left alone")
    receipt = report.kill_receipt
    if receipt is not None:
        style = "green" if receipt.confirmed and receipt.within_deadline else "bold red"
        text.append("\nKill receipt: ", "bold").append(printable(receipt.verdict), style)
    return text


def _pnl(report: BotReport) -> str:
    p = report.pnl
    return f"P&L: realized {p.realized:+.2f} unrealized {p.unrealized:+.2f} fees {p.fees:.2f} equity {p.equity:.2f}"


ALERTS_SHOWN = 4
DENIAL_GROUPS_SHOWN = 6


def notices_text(frame: Frame, *, alerts: int = ALERTS_SHOWN, groups: int = DENIAL_GROUPS_SHOWN) -> Text:
    """Alerts (the kill's outcome always among them) pinned above the denials, which
    are grouped by code: a killed bot's denial per candle is one line that counts."""
    text = Text()
    for warning in frame.warnings:
        text.append("WARNING", "bold yellow").append(f" {printable(warning)}\n")
    report = frame.runtime
    if report is None:
        return text.append("Denials and alerts: none reported (no bot report)", "dim")
    text.append("Alerts", "bold")
    pinned = pinned_alerts(report, alerts)
    for notice in pinned:
        style = "bold red" if notice.code in KILL_OUTCOME_CODES else "yellow"
        text.append("\n").append("ALERT", style)
        text.append(printable(f" {short_time(notice.timestamp)} {notice.code}: {notice.message}"))
    if not pinned:
        text.append("\n(none)", "dim")
    elif len(report.alerts) > len(pinned):
        text.append(f"\n  ({len(report.alerts) - len(pinned)} earlier not shown)", "dim")
    text.append("\n").append("Denials by code", "bold")
    grouped = denial_groups(report)
    for group in grouped[:groups]:
        text.append("\n").append("DENIED", "yellow")
        text.append(printable(f" {group.code} x{group.count} last {short_time(group.last_at)}"))
        if group.last_message:
            text.append(printable(f": {group.last_message}"))
    if not grouped:
        text.append("\n(none)", "dim")
    elif len(grouped) > groups:
        text.append(f"\n  ({len(grouped) - groups} more codes not shown)", "dim")
    return text


def short_time(stamp: str) -> str:
    """An ISO 8601 time as the terminal shows it: ``2026-11-24 09:59:00Z``."""
    moment = _moment(stamp)
    return when(moment) if moment is not None else printable(stamp) or "?"


def _moment(stamp: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp) if stamp is not None else None
    except ValueError:
        return None


def transition_line(t: TransitionView) -> str:
    return f"{short_time(t.timestamp)} {t.from_} → {t.to} ({t.actor} via {t.source}) {t.reason}"


def kill_event_line(e: KillEventView) -> str:
    action = "NOTE" if e.repeated else (e.action or "record").upper()
    return f"{short_time(e.timestamp)} {action:<10} ({e.actor} via {e.source}) {e.reason}"


def when(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="seconds").replace("+00:00", "Z")


HEIGHT = 24


def snapshot(frame: Frame, now: datetime) -> str:
    """One plain-text frame for scripts and cron: no colour, at most 80 columns and 24
    lines. State, kill switch and can-trade come first; the other sections share the
    lines left, in order of importance (inconsistencies, alerts and denials, the bot's
    book, history), each cut with a note when it does not fit."""
    status = frame.status
    where = status.store or "(store location: admins only)"
    footer = _lines(Text(f"{where} checked {short_time(status.checked_at)}"))[:1]
    head = _lines(status_text(status, now))
    by_importance = [
        _lines(issues_text(status)),
        _lines(notices_text(frame, alerts=3, groups=3)),
        _lines(runtime_text(frame)),
        _lines(history_text(status.recent_history[-3:])),
    ]
    budget = HEIGHT - len(head) - len(footer) - 1  # one rule under the head
    shown: list[list[str]] = []
    for section in by_importance:
        room = max(0, budget)
        if len(section) > room:
            section = [*section[: room - 1], "  ... (more: see nija status / the control center)"] if room else []
        shown.append(section)
        budget -= len(section)
    lines = [*head, RULE]
    for section in shown:  # the screen order: issues, book, notices, history
        lines.extend(section)
    return "\n".join([*lines, *footer]) + "\n"


def _lines(text: Text) -> list[str]:
    lines: list[str] = []
    for line in text.plain.splitlines():
        indent = " " * (len(line) - len(line.lstrip()) + 2)
        lines.extend(textwrap.wrap(line, WIDTH, subsequent_indent=indent) or [""])
    return lines
