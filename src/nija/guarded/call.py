"""An order call as the bot made it, and what the guard sends when it approves one."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from nija.guarded.errors import GuardCode, OrderRefused
from nija.runtime.orders import Order, OrderRequest, OrderType, Side

# Parameters that make an order something the paper broker cannot simulate.
_PAPER_UNSUPPORTED = ("stopPrice", "triggerPrice", "stopLossPrice", "takeProfitPrice", "stopLoss", "takeProfit")


@dataclass(frozen=True, slots=True)
class OrderCall:
    """A ccxt create_order call as the bot made it."""

    symbol: str
    type: str
    side: str
    amount: float
    price: float | None
    params: dict[str, Any]

    def request(self) -> OrderRequest:
        """The gate's view of the order (an exotic type is checked like a limit or market order)."""
        if self.side not in ("buy", "sell"):
            raise OrderRefused(GuardCode.BAD_ORDER, f"side must be 'buy' or 'sell', not {self.side!r}")
        try:
            amount = float(self.amount)
            price = float(self.price) if self.price is not None else None
        except (TypeError, ValueError):
            raise OrderRefused(GuardCode.BAD_ORDER, "amount and price must be numbers") from None
        if not math.isfinite(amount) or (price is not None and not math.isfinite(price)):
            raise OrderRefused(GuardCode.BAD_ORDER, "amount and price must be finite numbers")
        kind = OrderType.LIMIT if self.type == "limit" or (self.type != "market" and price) else OrderType.MARKET
        try:
            return OrderRequest(self.symbol, Side(self.side), kind, amount, price if kind is OrderType.LIMIT else None)
        except ValueError as exc:
            raise OrderRefused(GuardCode.BAD_ORDER, str(exc)) from None

    def paper_problem(self) -> str | None:
        if self.type not in ("market", "limit"):
            return f"DRY_RUN simulates market and limit orders, not {self.type!r} orders"
        unsupported = [p for p in _PAPER_UNSUPPORTED if self.params.get(p) is not None]
        if unsupported:
            return f"DRY_RUN cannot simulate orders with {', '.join(unsupported)}"
        return None


@dataclass(frozen=True, slots=True)
class Approved:
    """A LIVE order the gate approved: the bot's params with the guard's client id."""

    params: dict[str, Any]
    client_id: str
    order: Order
