"""Throttles: how fast and how much a bot may send. Each denies at its limit, never before:
with a limit of N, N orders pass and the next one is denied until the window moves on.
Only admitted orders count (a denied order sent nothing), so a throttle slows a loop to
its limit; the runaway breaker is what stops it.

- rate: submissions, and separately amendments, per second (nautilus_trader: 100/s each);
- open orders at once (vn.py's active order limit);
- orders and notional per UTC day (vnpy_riskmanager's daily order limit);
- identical orders (symbol, side, type, size, price) per window (vnpy_riskmanager's
  duplicate rule; SEC 15c3-5's "duplicative orders")."""

from __future__ import annotations

from datetime import UTC, datetime

from nija.runtime.controls.codes import DenialCode
from nija.runtime.controls.verdict import Verdict
from nija.runtime.controls.windows import KeyedWindow, Window
from nija.runtime.orders import OrderRequest
from nija.runtime.settings import RiskSettings

DAY_S = 86_400  # POSIX time has no leap seconds: a UTC day is exactly this long

OrderKey = tuple[str, str, str, str, str]


def identity(r: OrderRequest) -> OrderKey:
    """Identical orders share this key; sizes and prices are compared to 12 significant
    digits so float noise in a computed price does not make a copy look new."""
    price = "market" if r.price is None else f"{r.price:.12g}"
    return (r.symbol, r.side, r.type, f"{r.quantity:.12g}", price)


class Throttles:
    __slots__ = (
        "_amends",
        "_day",
        "_day_notional",
        "_day_orders",
        "_identical",
        "_submits",
        "max_amends",
        "max_daily_notional",
        "max_daily_orders",
        "max_identical",
        "max_open",
        "max_submits",
    )

    def __init__(self, settings: RiskSettings) -> None:
        self.max_submits = settings.max_submits_per_s
        self.max_amends = settings.max_amends_per_s
        self.max_open = settings.max_open_orders
        self.max_daily_orders = settings.max_daily_orders
        self.max_daily_notional = settings.max_daily_notional
        self.max_identical = settings.max_identical_orders
        self._submits = Window(1.0)
        self._amends = Window(1.0)
        self._identical = KeyedWindow(settings.duplicate_window_s)
        self._day = -1
        self._day_orders = 0
        self._day_notional = 0.0

    def check(
        self, request: OrderRequest, key: OrderKey, notional: float, now: float, *, open_orders: int, amend: bool
    ) -> Verdict | None:
        identical = self._identical.count(key, now)
        if identical >= self.max_identical:
            return Verdict(
                DenialCode.RISK_DUPLICATE,
                f"{identical} identical {request.side} {request.symbol} orders in the last "
                f"{self._identical.span:g} s reached max_identical_orders {self.max_identical}",
            )
        window, limit = (self._amends, self.max_amends) if amend else (self._submits, self.max_submits)
        recent = window.count(now)
        if recent >= limit:
            what, name = ("amendments", "max_amends_per_s") if amend else ("submissions", "max_submits_per_s")
            return Verdict(DenialCode.RISK_RATE, f"{recent} order {what} in the last second reached {name} {limit}")
        if not 0 <= open_orders < self.max_open:
            return Verdict(
                DenialCode.RISK_MAX_OPEN_ORDERS, f"{open_orders} orders are open, max_open_orders is {self.max_open}"
            )
        if now // DAY_S != self._day:
            self._day, self._day_orders, self._day_notional = int(now // DAY_S), 0, 0.0
        if self._day_orders >= self.max_daily_orders:
            return Verdict(
                DenialCode.RISK_DAILY_ORDERS,
                f"{self._day_orders} orders on {self.day} reached max_daily_orders {self.max_daily_orders} (UTC day)",
            )
        if not self._day_notional + notional <= self.max_daily_notional:
            return Verdict(
                DenialCode.RISK_DAILY_NOTIONAL,
                f"{self._day_notional:,.2f} traded on {self.day} plus this order's {notional:,.2f} would exceed "
                f"max_daily_notional {self.max_daily_notional:,.2f} (UTC day)",
            )
        return None

    def record(self, key: OrderKey, notional: float, now: float, *, amend: bool) -> None:
        self._identical.add(key, now)
        (self._amends if amend else self._submits).add(now)
        self._day_orders += 1
        self._day_notional += notional

    def resume(self, now: float, day: str, orders: int, notional: float) -> bool:
        """Carry today's counts over from a previous run (a restart must not reset the
        daily caps). Only for the UTC day of ``now``; False when nothing was taken."""
        current = int(now // DAY_S)
        if day != datetime.fromtimestamp(current * DAY_S, UTC).date().isoformat():
            return False
        if self._day != current:
            self._day, self._day_orders, self._day_notional = current, 0, 0.0
        self._day_orders += orders
        self._day_notional += notional
        return True

    @property
    def day(self) -> str:
        return datetime.fromtimestamp(max(self._day, 0) * DAY_S, UTC).date().isoformat()

    def figures(self) -> dict[str, float | int | str]:
        return {"day": self.day, "daily_orders": self._day_orders, "daily_notional": round(self._day_notional, 2)}
