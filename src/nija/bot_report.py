"""The running bot's report: what the runtime publishes for the control centers.

The bot writes ``.nija_runtime.json`` in the data directory (atomically, about once a
second and on every fill, kill and stop); the web and terminal control centers read it
to show open orders, positions, P&L, recent denials and alerts. Readers are tolerant:
a missing or unreadable report means "no runtime data", never an error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from nija.domain.diagnosis import HEARTBEAT_MAX_AGE
from nija.domain.records import Heartbeat
from nija.kill_receipt import KillReceipt
from nija.store import strict_json
from nija.store.atomic import write_atomic
from nija.store.record_file import RecordUnreadable, read_record

REPORT_FILE = ".nija_runtime.json"


class _Item(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class OpenOrder(_Item):
    id: str
    symbol: str
    side: Literal["buy", "sell"]
    type: Literal["market", "limit"]
    quantity: float
    price: float | None = None


class Position(_Item):
    symbol: str
    quantity: float
    average_price: float
    market_price: float | None = None
    unrealized_pnl: float = 0.0


class Pnl(_Item):
    cash: float = 0.0
    equity: float = 0.0
    realized: float = 0.0
    unrealized: float = 0.0
    fees: float = 0.0


class Notice(_Item):
    timestamp: str
    code: str
    message: str


class OutageReport(_Item):
    """A fleet database outage the bot rode out (``end`` None: still going on)."""

    start: str
    end: str | None = None
    duration_s: float | None = None
    orders_denied: int = 0
    orders_cancelled: int = 0
    orders_cancelled_at: str | None = None
    problem: str = ""


class EquityPoint(_Item):
    at: float  # seconds since the epoch, the market's clock (feed time in a replay)
    equity: float


class FillItem(_Item):
    at: float
    symbol: str
    side: Literal["buy", "sell"]
    quantity: float
    price: float
    fee: float
    realized: float = 0.0


class BotReport(_Item):
    updated_at: str
    mode: Literal["simulated", "live", "none"]
    broker: str
    open_orders: tuple[OpenOrder, ...] = ()
    positions: tuple[Position, ...] = ()
    pnl: Pnl = Pnl()
    orders_placed: int = 0
    fills: int = 0
    denials: tuple[Notice, ...] = ()  # newest last, bounded by the writer
    denial_counts: dict[str, int] = {}  # every denial of the run, by code
    denial_last: dict[str, str] = {}  # when each code last denied an order (ISO 8601)
    controls: dict[str, float | int | str] = {}  # pre-trade control figures (daily caps, breaker)
    alerts: tuple[Notice, ...] = ()
    equity_curve: tuple[EquityPoint, ...] = ()  # the run's equity after each fill, bounded, oldest first
    recent_fills: tuple[FillItem, ...] = ()  # newest last, bounded
    outages: tuple[OutageReport, ...] = ()  # fleet database outages of this run, newest last
    foreign_orders: tuple[OpenOrder, ...] = ()  # on the exchange account, not placed by this bot: left alone
    kill_receipt: KillReceipt | None = None  # the newest of this run
    dead_man_switch: str = ""  # what the exchange does with the bot's orders if the bot dies


# Alert codes that tell the kill's outcome: every screen pins them above everything else.
KILL_OUTCOME_CODES = frozenset({"KILL", "KILL_COMPLETE", "KILL_INCOMPLETE", "CANCEL_FAILED", "FLATTEN_FAILED"})


@dataclass(frozen=True, slots=True)
class DenialGroup:
    """All denials of one code: a killed bot denies once per candle, and one line per
    code keeps that flood from pushing the alerts off the screen."""

    code: str
    count: int
    last_at: str  # the latest denial's own time
    last_message: str


def denial_groups(report: BotReport) -> tuple[DenialGroup, ...]:
    """Denials grouped by code, most recent first. Counts come from the run-wide
    ``denial_counts`` where the report has them (the recent list is bounded)."""
    latest: dict[str, Notice] = {}
    recent_counts: dict[str, int] = {}
    for denial in report.denials:
        latest[denial.code] = denial
        recent_counts[denial.code] = recent_counts.get(denial.code, 0) + 1
    groups = []
    for code in {*latest, *report.denial_counts}:
        last = latest.get(code)
        count = max(report.denial_counts.get(code, 0), recent_counts.get(code, 0))
        last_at = report.denial_last.get(code) or (last.timestamp if last else "")
        groups.append(DenialGroup(code, count, last_at, last.message if last else ""))
    return tuple(sorted(groups, key=lambda g: (g.last_at, g.code), reverse=True))


def pinned_alerts(report: BotReport, limit: int) -> tuple[Notice, ...]:
    """The alerts to show, newest last: the latest kill outcome always among them."""
    alerts = list(report.alerts)
    shown = alerts[-limit:] if limit > 0 else []
    outcome = next((a for a in reversed(alerts) if a.code in KILL_OUTCOME_CODES), None)
    if outcome is not None and outcome not in shown and limit > 0:
        shown = [outcome, *shown[-(limit - 1) :]] if limit > 1 else [outcome]
    return tuple(shown)


def write_report(data_dir: Path, report: BotReport) -> None:
    write_atomic(data_dir / REPORT_FILE, report.model_dump_json(indent=2).encode(), durable=False)


def report_signature(data_dir: Path) -> tuple[int, int, int] | None:
    """Changes whenever the report is rewritten: a cheap ``stat`` for watchers."""
    try:
        st = (data_dir / REPORT_FILE).stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def read_report(data_dir: Path) -> BotReport | None:
    """Read like every record (strict JSON, a regular file only), so that a FIFO in its
    place blocks no control center and a duplicate key cannot show one thing to one reader."""
    try:
        raw = read_record(data_dir / REPORT_FILE)
        return None if raw is None else BotReport.model_validate(strict_json.loads(raw))
    except (RecordUnreadable, strict_json.StrictJsonError, ValidationError):
        return None


@dataclass(frozen=True, slots=True)
class Freshness:
    """Whether a report can be believed: every screen greys a stale one, and a stopped
    bot's last positions are shown as "stopped at ...", never as current."""

    running: bool  # the bot that wrote it is alive
    age_s: float | None  # seconds since it was written, by the reader's clock
    stale: bool
    stopped_at: datetime | None  # the stopped bot's last heartbeat


def stale_note(age_s: float | None, stale: bool, stopped_at: str | None) -> str:
    """The words every screen shows above a report it cannot vouch for ("" when fresh)."""
    if stopped_at:
        return f"Bot stopped at {stopped_at}: this is its last report, not current"
    if not stale:
        return ""
    if age_s is None:
        return "STALE: the report's time cannot be read"
    return f"STALE: the bot's report is {age_s:.0f} s old"


def freshness(report: BotReport | None, heartbeat: Heartbeat | None, now: datetime, stale_after_s: float) -> Freshness:
    if report is None:
        return Freshness(False, None, False, None)
    alive = heartbeat is not None and heartbeat.is_alive(now, HEARTBEAT_MAX_AGE)
    age = _age_s(report.updated_at, now)
    stale = not alive or age is None or age > stale_after_s
    # A beat from the future tells no stopping time: the report is only stale.
    ended = heartbeat is not None and not alive and not heartbeat.from_the_future(now)
    stopped_at = heartbeat.last_beat if heartbeat is not None and ended else None
    return Freshness(alive, age, stale, stopped_at)


def _age_s(updated_at: str, now: datetime) -> float | None:
    try:
        moment = datetime.fromisoformat(updated_at)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, round((now - moment).total_seconds(), 3))
