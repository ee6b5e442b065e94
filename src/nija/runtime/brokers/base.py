"""What the runtime needs from a broker. Brokers do not check permission: the order
gate (``nija.runtime.gate``) does, right before calling ``place``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from nija.runtime.candles import Candle
from nija.runtime.orders import Fill, Order, OrderRequest, PlaceResult


@dataclass(frozen=True, slots=True)
class CancelResult:
    order_id: str
    ok: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Holding:
    symbol: str
    quantity: float
    average_price: float


@dataclass(frozen=True, slots=True)
class Account:
    cash: float
    equity: float  # cash plus holdings at the latest prices
    realized_pnl: float
    unrealized_pnl: float
    fees: float


@dataclass(frozen=True, slots=True)
class BookReading:
    """What the broker itself says now (the exchange, or the paper ledger on disk): the
    bot's own open orders, the account's foreign ones, the bot's own positions."""

    own_open: tuple[Order, ...] = ()
    foreign_open: tuple[Order, ...] = ()
    positions: tuple[tuple[Holding, float], ...] = ()  # (holding, value in quote)
    error: str | None = None  # set when the broker could not be read: nothing is known
    orders_at: float = 0.0  # time.monotonic() when the broker listed the open orders

    @property
    def flat(self) -> bool:
        return self.error is None and not self.own_open


class Broker(Protocol):
    @property
    def name(self) -> str: ...

    def place(self, request: OrderRequest) -> PlaceResult: ...

    def cancel(self, order_id: str) -> CancelResult:
        """Cancel one order; an order already gone counts as cancelled."""

    def cancel_all(self) -> list[CancelResult]: ...

    def open_orders(self) -> tuple[Order, ...]: ...

    def open_for(self, symbol: str) -> tuple[Order, ...]:
        """Open orders of one symbol (cheap: called on every candle)."""

    def holdings(self) -> tuple[Holding, ...]: ...

    def held(self, symbol: str) -> float:
        """Quantity held of one symbol (cheap: called on every candle)."""

    def account(self) -> Account: ...

    def mark(self, symbol: str) -> float | None:
        """The latest known price of ``symbol``."""

    def on_candle(self, candle: Candle) -> list[Fill]:
        """Advance to a new price: fill what crossed (paper) or sync with the exchange (live)."""

    def read_book(self, fresh_after: float | None = None) -> BookReading:
        """Ask the broker itself (never this process's memory alone) what is open and held.
        An answer the broker gave after ``fresh_after`` (time.monotonic) may be reused."""

    def close(self) -> None: ...
