"""The paper broker's answers in ccxt's unified structures (order, balance, position),
so a ccxt bot reads simulated results with the code it uses for real ones."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nija.runtime.brokers.base import Holding
from nija.runtime.brokers.ledger import LedgerOrder
from nija.runtime.orders import OrderStatus

# ccxt's order statuses: open, closed (filled), canceled, rejected.
_STATUS = {
    OrderStatus.OPEN: "open",
    OrderStatus.FILLED: "closed",
    OrderStatus.CANCELLED: "canceled",
    OrderStatus.REJECTED: "rejected",
}


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def order(row: LedgerOrder, *, client_order_id: str | None, quote: str) -> dict[str, Any]:
    o = row.order
    created = int(row.created_at * 1000)
    filled_at = int(row.filled_at * 1000) if row.filled_at is not None else None
    remaining = 0.0 if row.status is not OrderStatus.OPEN else max(o.quantity - row.filled, 0.0)
    return {
        "id": o.id,
        "clientOrderId": client_order_id,
        "timestamp": created,
        "datetime": _iso(created),
        "lastTradeTimestamp": filled_at,
        "lastUpdateTimestamp": filled_at,
        "symbol": o.symbol,
        "type": o.type.value,
        "timeInForce": "GTC" if o.type.value == "limit" else "IOC",
        "postOnly": None,
        "reduceOnly": None,
        "side": o.side.value,
        "price": o.price if o.price is not None else row.average,
        "triggerPrice": None,
        "stopPrice": None,
        "takeProfitPrice": None,
        "stopLossPrice": None,
        "amount": o.quantity,
        "filled": row.filled,
        "remaining": remaining,
        "cost": row.filled * row.average if row.average is not None else 0.0,
        "average": row.average,
        "status": _STATUS[row.status],
        "fee": {"cost": row.fee, "currency": quote},
        "fees": [{"cost": row.fee, "currency": quote}],
        "trades": [],
        "info": {"nija": "paper", "reason": row.reason},
    }


def balance(
    cash: float, reserved_cash: float, holdings: tuple[Holding, ...], reserved: dict[str, float], quote: str
) -> dict[str, Any]:
    totals: dict[str, float] = {quote: cash}
    used: dict[str, float] = {quote: min(reserved_cash, cash)}
    for h in holdings:
        base = h.symbol.split("/")[0]
        totals[base] = totals.get(base, 0.0) + h.quantity
        used[base] = used.get(base, 0.0) + reserved.get(h.symbol, 0.0)
    free = {c: totals[c] - used.get(c, 0.0) for c in totals}
    result: dict[str, Any] = {"info": {"nija": "paper"}, "free": free, "used": used, "total": totals}
    for currency, total in totals.items():
        result[currency] = {"free": free[currency], "used": used.get(currency, 0.0), "total": total}
    return result


def position(h: Holding, mark: float | None) -> dict[str, Any]:
    price = mark if mark is not None else h.average_price
    return {
        "symbol": h.symbol,
        "side": "long",
        "contracts": h.quantity,
        "contractSize": 1.0,
        "entryPrice": h.average_price,
        "markPrice": price,
        "notional": h.quantity * price,
        "unrealizedPnl": (price - h.average_price) * h.quantity,
        "leverage": 1.0,
        "marginMode": "cross",
        "info": {"nija": "paper"},
    }
