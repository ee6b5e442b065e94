"""The runaway breaker: a throttle slows a bug, the breaker stops it.

It trips, once and for good, when either
- the throttles denied more than ``runaway_max_denials`` orders within ``runaway_window_s``
  (a loop hammering the limits), or
- admitting one more order would put more than ``max_order_to_fill_ratio`` x max(fills, 1)
  orders within ``order_to_fill_window_s`` (a loop that places and cancels, never filling).

The trip becomes a kill-switch activation with source ``AUTO_RUNAWAY_ORDERS`` and the
figures in its reason; the chain also denies every order after it (``RISK_RUNAWAY``), so
even a caller that ignored the trip sends nothing more."""

from __future__ import annotations

from nija.runtime.controls.codes import RUNAWAY_ORDERS
from nija.runtime.controls.verdict import Trigger
from nija.runtime.controls.windows import Window
from nija.runtime.settings import RiskSettings


class RunawayBreaker:
    __slots__ = ("_denials", "_fills", "_orders", "max_denials", "max_ratio", "tripped")

    def __init__(self, settings: RiskSettings) -> None:
        self.max_denials = settings.runaway_max_denials
        self.max_ratio = settings.max_order_to_fill_ratio
        self._denials = Window(settings.runaway_window_s)
        self._orders = Window(settings.order_to_fill_window_s)
        self._fills = Window(settings.order_to_fill_window_s)
        self.tripped: Trigger | None = None

    def throttled(self, code: str, now: float) -> Trigger | None:
        """A throttle denied an order."""
        self._denials.add(now)
        denials = self._denials.count(now)
        if denials > self.max_denials:
            return self._trip(
                f"runaway orders: the throttles denied {denials} orders in {self._denials.span:g} s, more than "
                f"runaway_max_denials {self.max_denials} (last: {code})"
            )
        return None

    def admitting(self, now: float) -> Trigger | None:
        """An order passed every control; it trips the breaker if it would break the ratio."""
        orders = self._orders.count(now) + 1
        fills = self._fills.count(now) if orders > self.max_ratio else 0  # within 1x: fills cannot matter
        if not orders <= self.max_ratio * max(fills, 1):
            return self._trip(
                f"runaway orders: {orders} orders against {fills} fills in {self._orders.span:g} s, an order-to-fill "
                f"ratio above max_order_to_fill_ratio {self.max_ratio:g}"
            )
        self._orders.add(now)
        return None

    def filled(self, now: float) -> None:
        self._fills.add(now)
        self._fills.count(now)  # drops what left the window: memory stays bounded

    def _trip(self, reason: str) -> Trigger | None:
        if self.tripped is not None:
            return None
        self.tripped = Trigger(RUNAWAY_ORDERS, reason)
        return self.tripped

    def figures(self, now: float) -> dict[str, float | int | str]:
        return {
            "throttle_denials_in_window": self._denials.count(now),
            "orders_in_ratio_window": self._orders.count(now),
            "fills_in_ratio_window": self._fills.count(now),
        }
