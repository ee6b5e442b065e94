"""Orders, fills and the outcome of asking a broker for something. Plain immutable data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class OrderStatus(StrEnum):
    OPEN = "open"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    symbol: str
    side: Side
    type: OrderType
    quantity: float
    price: float | None = None  # limit price; None for market orders

    def __post_init__(self) -> None:
        if not self.quantity > 0:
            raise ValueError(f"order quantity must be positive, got {self.quantity}")
        if self.type is OrderType.LIMIT and (self.price is None or not self.price > 0):
            raise ValueError("a limit order needs a positive price")


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    symbol: str
    side: Side
    type: OrderType
    quantity: float
    price: float | None
    status: OrderStatus = OrderStatus.OPEN


@dataclass(frozen=True, slots=True)
class Fill:
    order_id: str
    symbol: str
    side: Side
    quantity: float
    price: float
    fee: float
    realized_pnl: float  # gross of fees; non-zero only on sells that close holdings
    timestamp: float  # seconds since the epoch (the candle's time in a replay)


class Outcome(StrEnum):
    """How an order attempt ended, in words an operator and a counter can use."""

    ACCEPTED = "accepted"
    DENIED = "denied"  # the gate or the risk manager said no; nothing reached a broker
    REJECTED = "rejected"  # the broker said no (funds, holdings, exchange rules)
    RATE_LIMITED = "rate_limited"
    NETWORK_ERROR = "network_error"
    EXCHANGE_ERROR = "exchange_error"


@dataclass(frozen=True, slots=True)
class PlaceResult:
    outcome: Outcome
    code: str  # stable reason code, e.g. KILL_SWITCH_ACTIVE, INSUFFICIENT_FUNDS
    reason: str
    order: Order | None = None

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED

    @property
    def is_error(self) -> bool:
        """A failure of the broker or the network (counts towards the error kill trigger)."""
        return self.outcome in (Outcome.RATE_LIMITED, Outcome.NETWORK_ERROR, Outcome.EXCHANGE_ERROR)


def denied(code: str, reason: str) -> PlaceResult:
    return PlaceResult(Outcome.DENIED, code, reason)


def rejected(code: str, reason: str) -> PlaceResult:
    return PlaceResult(Outcome.REJECTED, code, reason)
