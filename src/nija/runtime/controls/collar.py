"""Price controls: a fresh, usable reference; a collar around it for limit prices; the
per-order notional cap (nautilus_trader's ``max_notional_per_order``).

Every comparison is written as "passes only if within the limit", so a NaN anywhere
(price, reference, clock) denies instead of slipping through a ``>`` that is False."""

from __future__ import annotations

from nija.runtime.controls.codes import DenialCode
from nija.runtime.controls.reference import Reference, usable_price
from nija.runtime.controls.verdict import Verdict
from nija.runtime.orders import OrderRequest, OrderType
from nija.runtime.settings import RiskSettings


class PriceControls:
    __slots__ = ("collar_pct", "max_age_s", "max_order_notional")

    def __init__(self, settings: RiskSettings) -> None:
        self.collar_pct = settings.price_collar_pct
        self.max_age_s = settings.reference_max_age_s
        self.max_order_notional = settings.max_order_notional

    def check(self, request: OrderRequest, reference: Reference | None, now: float) -> float | Verdict:
        """The price to value the order at (its limit, else the reference), or the denial."""
        if reference is None:
            return Verdict(
                DenialCode.RISK_NO_REFERENCE, f"no reference price for {request.symbol}: {_needs(request)} one"
            )
        if not reference.usable:
            return Verdict(
                DenialCode.RISK_NO_REFERENCE,
                f"the reference price of {request.symbol} is {reference.price!r} ({reference.source}): "
                f"not a positive finite number, so it counts as missing; {_needs(request)} one",
            )
        age = now - reference.at
        if not age <= self.max_age_s:
            return Verdict(
                DenialCode.RISK_NO_REFERENCE,
                f"the reference price of {request.symbol} is {age:,.1f} s old (limit reference_max_age_s "
                f"{self.max_age_s:g} s): {_needs(request)} a fresh one",
            )
        if request.type is OrderType.LIMIT:
            price = request.price
            if price is None or not usable_price(price):
                return Verdict(DenialCode.DATA_QUALITY, f"limit price {price!r} is not a positive finite number")
            away = abs(price - reference.price) / reference.price * 100
            if not away <= self.collar_pct:
                return Verdict(
                    DenialCode.RISK_PRICE_COLLAR,
                    f"limit {request.side} {request.symbol} at {price:,.8g} is {away:.2f}% from the reference "
                    f"{reference.price:,.8g} ({reference.source}); price_collar_pct is {self.collar_pct:g}%",
                )
        else:
            price = reference.price
        notional = request.quantity * price
        if not notional <= self.max_order_notional:
            return Verdict(
                DenialCode.RISK_MAX_ORDER,
                f"order value {notional:,.2f} exceeds max_order_notional {self.max_order_notional:,.2f}",
            )
        return price


def _needs(request: OrderRequest) -> str:
    return "a market order needs" if request.type is OrderType.MARKET else "the price collar needs"
