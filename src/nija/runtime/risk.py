"""Risk: order limits that deny an order, and limits that activate the kill switch.

Pure rules (no I/O, no clock): the engine feeds in equity, fills and order results and
acts on the ``Trigger`` returned. Every trigger fires when its figure reaches the limit
(``>=``), never before, and at most once per run."""

from __future__ import annotations

from dataclasses import dataclass

from nija.runtime.brokers.base import Broker
from nija.runtime.orders import Fill, OrderRequest, Outcome, PlaceResult, Side
from nija.runtime.settings import RiskSettings


@dataclass(frozen=True, slots=True)
class Trigger:
    name: str  # DAILY_LOSS, DRAWDOWN, CONSECUTIVE_LOSSES, EXCHANGE_ERRORS
    reason: str

    @property
    def source(self) -> str:
        return f"AUTO_{self.name}"


class OrderLimits:
    """A veto for the gate: maximum order size and maximum position per symbol."""

    def __init__(self, settings: RiskSettings) -> None:
        self.settings = settings

    def __call__(self, request: OrderRequest, broker: Broker) -> tuple[str, str] | None:
        price = request.price if request.price is not None else broker.mark(request.symbol)
        if price is None:
            return ("NO_PRICE", f"no price for {request.symbol} to size the order against the risk limits")
        notional = request.quantity * price
        limit = self.settings.max_order_notional
        if notional > limit:
            return ("RISK_MAX_ORDER", f"order value {notional:,.2f} exceeds max_order_notional {limit:,.2f}")
        if request.side is Side.BUY:
            pending = sum(o.quantity for o in broker.open_for(request.symbol) if o.side is Side.BUY)
            position = (broker.held(request.symbol) + pending) * price + notional
            cap = self.settings.max_position_notional
            if position > cap:
                return (
                    "RISK_MAX_POSITION",
                    f"{request.symbol} position would be worth {position:,.2f}, above max_position_notional {cap:,.2f}",
                )
        return None


class KillTriggers:
    def __init__(self, settings: RiskSettings, currency: str = "") -> None:
        self.settings = settings
        self.currency = currency
        self.fired: Trigger | None = None
        self._day: str | None = None
        self._day_start = 0.0
        self._peak = 0.0
        self._losses = 0
        self._errors = 0

    def reset_equity(self) -> None:
        """A different account (paper <-> live): its equity starts a new baseline and peak."""
        self._day, self._day_start, self._peak = None, 0.0, 0.0

    def observe_equity(self, equity: float, day: str) -> Trigger | None:
        """``day`` is the trading day (UTC date, feed time) the equity belongs to."""
        if day != self._day:
            self._day, self._day_start = day, equity
        self._peak = max(self._peak, equity)
        loss = self._day_start - equity
        limit = self.settings.daily_loss_limit
        if loss >= limit:
            return self._fire(
                "DAILY_LOSS",
                f"daily loss {loss:,.2f} {self.currency} reached the limit {limit:,.2f} "
                f"(equity {equity:,.2f}, {self._day_start:,.2f} at the start of {day})",
            )
        drawdown = (self._peak - equity) / self._peak * 100 if self._peak > 0 else 0.0
        if drawdown >= self.settings.max_drawdown_pct:
            return self._fire(
                "DRAWDOWN",
                f"drawdown {drawdown:.2f}% reached the limit {self.settings.max_drawdown_pct:g}% "
                f"(equity {equity:,.2f}, peak {self._peak:,.2f})",
            )
        return None

    def observe_fill(self, fill: Fill) -> Trigger | None:
        if fill.side is not Side.SELL:
            return None
        net = fill.realized_pnl - fill.fee
        self._losses = self._losses + 1 if net < 0 else 0
        limit = self.settings.max_consecutive_losses
        if self._losses >= limit:
            return self._fire(
                "CONSECUTIVE_LOSSES",
                f"{self._losses} losing trades in a row reached the limit {limit} (last: {fill.symbol} {net:,.2f})",
            )
        return None

    def observe_result(self, result: PlaceResult) -> Trigger | None:
        if not result.is_error:
            if result.accepted or result.outcome is Outcome.REJECTED:
                self._errors = 0  # the exchange answered
            return None
        self._errors += 1
        limit = self.settings.max_consecutive_errors
        if self._errors >= limit:
            return self._fire(
                "EXCHANGE_ERRORS",
                f"{self._errors} exchange errors in a row reached the limit {limit} (last: {result.code}: "
                f"{result.reason})",
            )
        return None

    def _fire(self, name: str, reason: str) -> Trigger | None:
        if self.fired is not None:
            return None
        self.fired = Trigger(name, reason)
        return self.fired
