"""Reading a ccxt account's answers for the reconciliation, shared by ``nija run``'s
checks and the guard's: what cannot be read is "unknown", never zero. A balance whose
``total`` is missing or None (venues that report only free/used), an amount that is not a
finite number, a negative holding, a position without its contracts: each raises
``Unreadable``, which the callers turn into status "unknown" (EXPOSURE_UNKNOWN for a live
request), never into "this account holds nothing"."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from nija.runtime.brokers.exchange import read_failure

# The venues ``nija run`` reads as derivatives by their ccxt id; any client whose default
# market type is a derivative one is read the same way.
DERIVATIVES = frozenset({"binanceusdm", "binancecoinm", "krakenfutures"})
_DERIVATIVE_TYPES = frozenset({"swap", "future", "delivery"})


class Unreadable(ValueError):
    """An answer the reconciliation cannot read: the account's state is unknown."""


def unreadable_reason(exc: BaseException) -> str:
    """Why the account could not be read, for the reconciliation's ``error``."""
    return str(exc) if isinstance(exc, Unreadable) else read_failure(exc)


class Position(NamedTuple):
    symbol: str
    contracts: float  # unsigned: a short holds exposure as a long does
    notional: float | None


def amount(value: object, what: str) -> float:
    """A holding: a finite number, not negative; anything else is ``Unreadable``."""
    number = _number(value, what)
    if number < 0:
        raise Unreadable(f"{what} is negative ({number})")
    return number


def balance_totals(answer: object) -> dict[str, float]:
    """ccxt ``fetch_balance``'s ``total``, every amount readable (an empty account is ``{}``)."""
    total = answer.get("total") if isinstance(answer, Mapping) else None
    if not isinstance(total, Mapping):
        raise Unreadable("the exchange's balance answer has no totals")
    return {str(currency): amount(value, f"the {currency} balance") for currency, value in total.items()}


def is_derivatives(client: Any) -> bool:
    """Whether the account holds derivative positions that ``fetch_balance`` does not show."""
    options = getattr(client, "options", None) or {}
    return str(client.id) in DERIVATIVES or options.get("defaultType") in _DERIVATIVE_TYPES


def positions_reader(client: Any) -> Any:
    """A derivatives account's ``fetch_positions`` (bound, sync or async), None for a spot
    one; ``Unreadable`` where ccxt cannot read the positions (never "none held")."""
    if not is_derivatives(client):
        return None
    if not client.has.get("fetchPositions"):
        raise Unreadable(f"{client.id} trades derivatives and its positions cannot be read through ccxt")
    return client.fetch_positions


def positions(rows: object) -> list[Position]:
    """ccxt ``fetch_positions``' rows with contracts held (closed rows, zero contracts, are skipped)."""
    if not isinstance(rows, list):
        raise Unreadable("the exchange's positions answer is not a list")
    held = []
    for row in rows:
        symbol = row.get("symbol") if isinstance(row, Mapping) else None
        if not symbol:
            raise Unreadable(f"a position without its symbol ({row!r:.80})")
        contracts = abs(_number(row.get("contracts"), f"the {symbol} position's contracts"))
        notional = row.get("notional")
        value = abs(float(notional)) if isinstance(notional, int | float) and math.isfinite(notional) else None
        if contracts > 0:
            held.append(Position(str(symbol), contracts, value))
    return held


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Unreadable(f"{what} cannot be read ({value!r:.40})")
    try:
        number = float(value)
    except ValueError:
        raise Unreadable(f"{what} is not a number ({value!r:.40})") from None
    if not math.isfinite(number):
        raise Unreadable(f"{what} is not a finite number ({value!r:.40})")
    return number
