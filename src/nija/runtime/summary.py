"""The end-of-run summary: what the bot did, in figures an operator can check."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Summary:
    run_id: str
    state_at_start: str
    state_at_end: str
    broker: str
    feed: str
    candles: int
    orders_placed: int
    fills: int
    cancelled: int
    rejected: int
    fees: float
    realized_pnl: float
    unrealized_pnl: float
    net_pnl: float  # end equity minus start equity (after fees)
    start_equity: float
    end_equity: float
    currency: str
    account: str = "continued"  # the paper account: "new" (--new-account) or "continued" from the last run
    denials: dict[str, int] = field(default_factory=dict)
    controls: dict[str, float | int | str] = field(default_factory=dict)  # pre-trade control figures
    kill: str | None = None  # reason, when a kill happened during the run
    kill_complete: bool = True
    auto_kill: str | None = None
    stopped_by: str = "end of feed"
    notes: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()
    outages: tuple[dict[str, object], ...] = ()  # fleet database outages ridden out (OutageRecord.as_dict)
    kill_receipt: str | None = None  # the newest receipt's verdict
    kill_receipt_missed: bool = False  # a receipt was not confirmed within its deadline: exit 1
    foreign_orders: int = 0  # open orders on the exchange account not placed by this bot (left alone)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["notes"], data["alerts"] = list(self.notes), list(self.alerts)
        data["outages"] = [dict(o) for o in self.outages]
        return data
