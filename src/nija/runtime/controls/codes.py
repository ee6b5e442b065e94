"""Stable codes of the order gate's denials and of the pre-trade controls' kill.

Each code names one rule, so an operator, a counter and a dashboard can tell which rule
said no. They are ``StrEnum`` members: they compare equal to their text, which is what
``PlaceResult.code``, the summary, the report and the metrics carry."""

from __future__ import annotations

from enum import StrEnum


class DenialCode(StrEnum):
    # the permission check and the gate itself
    NO_BROKER = "NO_BROKER"
    CHECK_FAILED = "CHECK_FAILED"
    STALE_DATA = "STALE_DATA"
    NO_PRICE = "NO_PRICE"
    # per-order and per-position notional
    RISK_MAX_ORDER = "RISK_MAX_ORDER"
    RISK_MAX_POSITION = "RISK_MAX_POSITION"
    # price collar
    RISK_PRICE_COLLAR = "RISK_PRICE_COLLAR"
    RISK_NO_REFERENCE = "RISK_NO_REFERENCE"
    # throttles (their denials feed the runaway breaker)
    RISK_RATE = "RISK_RATE"
    RISK_MAX_OPEN_ORDERS = "RISK_MAX_OPEN_ORDERS"
    RISK_DAILY_ORDERS = "RISK_DAILY_ORDERS"
    RISK_DAILY_NOTIONAL = "RISK_DAILY_NOTIONAL"
    RISK_DUPLICATE = "RISK_DUPLICATE"
    # the runaway breaker has tripped: it stays tripped (and the kill switch is raised)
    RISK_RUNAWAY = "RISK_RUNAWAY"
    # an input of a control or a kill trigger was not a usable number
    DATA_QUALITY = "DATA_QUALITY"


THROTTLES = frozenset(
    {
        DenialCode.RISK_RATE,
        DenialCode.RISK_MAX_OPEN_ORDERS,
        DenialCode.RISK_DAILY_ORDERS,
        DenialCode.RISK_DAILY_NOTIONAL,
        DenialCode.RISK_DUPLICATE,
    }
)

RUNAWAY_ORDERS = "RUNAWAY_ORDERS"  # the breaker's trigger name; the kill's source is AUTO_RUNAWAY_ORDERS
