"""Risk: the position limit that denies an order, and limits that activate the kill switch.

Pure rules (no I/O, no clock): the engine feeds in equity, fills and order results and
acts on the ``Trigger`` returned. Every trigger fires when its figure reaches the limit
(``>=``), never before, on the ``breaches_required``-th breaching observation in a row
(default: the first), and at most once per run.

A trigger cannot be blinded: an input it cannot compute with (NaN, infinite or negative
equity; a fill without a finite price, fee or P&L) neither passes as "no breach" nor
resets a count. It is reported to ``DataQuality``, which denies new orders
(``DATA_QUALITY``) until a good input arrives (bad equity) or for the rest of the run
(a bad fill: the ledger behind it needs a look). The per-order controls live in
``nija.runtime.controls``."""

from __future__ import annotations

import math

from nija.runtime.brokers.base import Broker
from nija.runtime.controls import DataQuality, DenialCode, Trigger, usable_price
from nija.runtime.orders import Fill, OrderRequest, Outcome, PlaceResult, Side
from nija.runtime.settings import RiskSettings

__all__ = ["KillTriggers", "OrderLimits", "Trigger"]


def _finite(*values: float) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)


class OrderLimits:
    """A veto for the gate: the maximum position per symbol (held + pending buys + this
    order, at the order's price or the broker's mark). The per-order notional cap is a
    pre-trade control (``RISK_MAX_ORDER``)."""

    def __init__(self, settings: RiskSettings) -> None:
        self.settings = settings

    def __call__(self, request: OrderRequest, broker: Broker) -> tuple[str, str] | None:
        if request.side is not Side.BUY:
            return None  # a sell only reduces a long-only position
        price = request.price if request.price is not None else broker.mark(request.symbol)
        if price is None:
            return (DenialCode.NO_PRICE, f"no price for {request.symbol} to size the order against the risk limits")
        if not usable_price(price):
            return (
                DenialCode.DATA_QUALITY,
                f"the price of {request.symbol} is {price!r}: not a positive finite number",
            )
        pending = sum(o.quantity for o in broker.open_for(request.symbol) if o.side is Side.BUY)
        position = (broker.held(request.symbol) + pending) * price + request.quantity * price
        cap = self.settings.max_position_notional
        if not position <= cap:
            return (
                DenialCode.RISK_MAX_POSITION,
                f"{request.symbol} position would be worth {position:,.2f}, above max_position_notional {cap:,.2f}",
            )
        return None


class _Streak:
    """Breaching observations in a row; a clean observation resets, a bad input does not."""

    __slots__ = ("count", "required")

    def __init__(self, required: int) -> None:
        self.required, self.count = required, 0

    def observe(self, breached: bool) -> bool:
        self.count = self.count + 1 if breached else 0
        return self.count >= self.required


class KillTriggers:
    def __init__(self, settings: RiskSettings, currency: str = "", quality: DataQuality | None = None) -> None:
        self.settings = settings
        self.currency = currency
        self.quality = quality if quality is not None else DataQuality()
        self.fired: Trigger | None = None
        self._day: str | None = None
        self._day_start = 0.0
        self._equity: float | None = None  # the last good reading
        self._peak = 0.0
        self._losses = 0
        self._errors = 0
        need = settings.breaches_required
        self._loss_breaches = _Streak(need.daily_loss)
        self._drawdown_breaches = _Streak(need.drawdown)
        self._streak_breaches = _Streak(need.consecutive_losses)
        self._error_breaches = _Streak(need.exchange_errors)

    def reset_equity(self) -> None:
        """A different account (paper <-> live): its equity starts a new baseline and peak."""
        self._day, self._day_start, self._peak, self._equity = None, 0.0, 0.0, None

    @property
    def daily_loss(self) -> float | None:
        """Today's loss so far (negative: a gain), None before the first good equity reading."""
        return None if self._equity is None else self._day_start - self._equity

    def observe_equity(self, equity: float, day: str) -> Trigger | None:
        """``day`` is the trading day (UTC date, feed time) the equity belongs to."""
        if not _finite(equity) or equity < 0:
            self.quality.bad(
                "equity",
                f"equity {equity!r} {self.currency} is not a finite, non-negative number: "
                "the daily-loss and drawdown triggers cannot judge it",
            )
            return None
        if equity == 0:  # a total loss or a broken balance: judged below, and no new orders
            self.quality.bad("equity", f"equity is 0 {self.currency}: a total loss or a broken balance reading")
        else:
            self.quality.good("equity")
        if day != self._day:
            self._day, self._day_start = day, equity
        self._equity = equity
        self._peak = max(self._peak, equity)
        loss = self._day_start - equity
        limit = self.settings.daily_loss_limit
        if self._loss_breaches.observe(loss >= limit):
            return self._fire(
                "DAILY_LOSS",
                f"daily loss {loss:,.2f} {self.currency} reached the limit {limit:,.2f} "
                f"(equity {equity:,.2f}, {self._day_start:,.2f} at the start of {day})"
                + self._breaches(self._loss_breaches),
            )
        drawdown = (self._peak - equity) / self._peak * 100 if self._peak > 0 else 0.0
        if self._drawdown_breaches.observe(drawdown >= self.settings.max_drawdown_pct):
            return self._fire(
                "DRAWDOWN",
                f"drawdown {drawdown:.2f}% reached the limit {self.settings.max_drawdown_pct:g}% "
                f"(equity {equity:,.2f}, peak {self._peak:,.2f})" + self._breaches(self._drawdown_breaches),
            )
        return None

    def observe_fill(self, fill: Fill) -> Trigger | None:
        if not (usable_price(fill.price) and _finite(fill.quantity, fill.fee, fill.realized_pnl)):  # rebates < 0 ok
            self.quality.bad(
                "fill",
                f"fill {fill.order_id} of {fill.symbol} has price {fill.price!r}, fee {fill.fee!r}, "
                f"P&L {fill.realized_pnl!r}: the loss-streak trigger cannot judge it (check the broker's fills, "
                "then restart the bot)",
            )
            return None
        if fill.side is not Side.SELL:
            return None
        net = fill.realized_pnl - fill.fee
        self._losses = self._losses + 1 if net < 0 else 0
        limit = self.settings.max_consecutive_losses
        if self._streak_breaches.observe(self._losses >= limit):
            return self._fire(
                "CONSECUTIVE_LOSSES",
                f"{self._losses} losing trades in a row reached the limit {limit} (last: {fill.symbol} {net:,.2f})"
                + self._breaches(self._streak_breaches),
            )
        return None

    def observe_result(self, result: PlaceResult) -> Trigger | None:
        if not result.is_error:
            if result.accepted or result.outcome is Outcome.REJECTED:
                self._errors = 0  # the exchange answered
                self._error_breaches.observe(False)
            return None
        self._errors += 1
        limit = self.settings.max_consecutive_errors
        if self._error_breaches.observe(self._errors >= limit):
            return self._fire(
                "EXCHANGE_ERRORS",
                f"{self._errors} exchange errors in a row reached the limit {limit} (last: {result.code}: "
                f"{result.reason})" + self._breaches(self._error_breaches),
            )
        return None

    @staticmethod
    def _breaches(streak: _Streak) -> str:
        return (
            f"; breached {streak.count} times in a row (breaches_required {streak.required})"
            if streak.required > 1
            else ""
        )

    def _fire(self, name: str, reason: str) -> Trigger | None:
        if self.fired is not None:
            return None
        self.fired = Trigger(name, reason)
        return self.fired
