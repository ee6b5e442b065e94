"""The running bot's report: what the runtime publishes for the control centers.

The bot writes ``.nija_runtime.json`` in the data directory (atomically, about once a
second and on every fill, kill and stop); the web and terminal control centers read it
to show open orders, positions, P&L, recent denials and alerts. Readers are tolerant:
a missing or unreadable report means "no runtime data", never an error."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from nija.kill_receipt import KillReceipt
from nija.store.atomic import write_atomic

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
    alerts: tuple[Notice, ...] = ()
    foreign_orders: tuple[OpenOrder, ...] = ()  # on the exchange account, not placed by this bot: left alone
    kill_receipt: KillReceipt | None = None  # the newest of this run
    dead_man_switch: str = ""  # what the exchange does with the bot's orders if the bot dies


def write_report(data_dir: Path, report: BotReport) -> None:
    write_atomic(data_dir / REPORT_FILE, report.model_dump_json(indent=2).encode(), durable=False)


def read_report(data_dir: Path) -> BotReport | None:
    try:
        return BotReport.model_validate_json((data_dir / REPORT_FILE).read_bytes())
    except (OSError, ValidationError):
        return None
