"""Which ccxt methods the guard lets through, decides, or refuses: an allow-list.

A method is looked up by its snake_case name (ccxt spells every method both ways):
- ``ORDER_METHODS``: decided by NIJA's permission check (the guard implements them);
- ``CANCEL_METHODS`` and ``PRIVATE_READS``: answered by the guard (paper or exchange);
- read-only names (``fetch_*``, ``load_*``, ``watch_*``, ``public*`` endpoints, pure
  helpers): passed through unchanged;
- everything else callable, known or not (withdraw, transfer, set_leverage, raw
  ``private*`` endpoints, ``request``, new order methods ccxt may add): refused unless
  NIJA is in a verified LIVE_ACTIVE; order-placing names the guard does not implement
  and raw writes (``private_post_*``, ``request``) are refused even then: they would
  bypass the guard's decision and its client ids, so a kill could not cancel them;
- any other name that cancels (raw cancel endpoints, ``cancel_*_ws``, names ccxt may add):
  refused in every state, since the guard cannot check that what it cancels is the bot's."""

from __future__ import annotations

import re
from enum import Enum

ORDER_METHODS = frozenset(
    {
        "create_order",
        "create_orders",
        "edit_order",
        "create_limit_order",
        "create_market_order",
        "create_limit_buy_order",
        "create_limit_sell_order",
        "create_market_buy_order",
        "create_market_sell_order",
        "create_post_only_order",
        "create_reduce_only_order",
        "create_stop_order",
        "create_stop_limit_order",
        "create_stop_market_order",
        "edit_limit_order",
        "edit_limit_buy_order",
        "edit_limit_sell_order",
    }
)
CANCEL_METHODS = frozenset(
    {
        "cancel_order",
        "cancel_orders",
        "cancel_all_orders",
        # Checked against the guard's own orders (by client id, per symbol), then sent one by one.
        "cancel_order_with_client_order_id",
        "cancel_orders_with_client_order_ids",
        "cancel_orders_for_symbols",
        # The account-wide cancel-all timer: disarming only (the guard never arms it).
        "cancel_all_orders_after",
    }
)
# Private reads that DRY_RUN answers from the paper ledger.
PRIVATE_READS = frozenset(
    {"fetch_order", "fetch_open_orders", "fetch_closed_orders", "fetch_orders", "fetch_balance", "fetch_positions"}
)
_READ_PREFIXES = ("fetch_", "load_", "watch_", "un_watch_", "public_", "parse_", "safe_", "handle_", "is_", "check_")
# Pure helpers and clock/format utilities a bot calls on an exchange object.
_READ_NAMES = frozenset(
    {
        "market",
        "markets_by_id",
        "currency",
        "describe",
        "milliseconds",
        "seconds",
        "microseconds",
        "iso8601",
        "parse8601",
        "ymdhms",
        "ymd",
        "amount_to_precision",
        "price_to_precision",
        "cost_to_precision",
        "currency_to_precision",
        "fee_to_precision",
        "number_to_string",
        "extend",
        "deep_extend",
        "omit",
        "filter_by",
        "sort_by",
        "index_by",
        "group_by",
        "market_id",
        "market_ids",
        "market_symbols",
        "symbol",
        "nonce",
        "uuid",
        "json",
        "close",  # closes the HTTP session (async exchanges need it)
        "sleep",
        "throttle",
        "calculate_fee",
        "check_required_credentials",
    }
)
_RAW_HTTP = frozenset({"fetch", "fetch2", "request"})  # raw HTTP: anything could be sent
# ccxt's implicit endpoint methods that write (private_post_addorder, sapi_post_margin_loan, ...).
_WRITE_ENDPOINT = re.compile(r"(^|_)(post|put|delete|patch)_")


class Kind(Enum):
    ORDER = "order"
    CANCEL = "cancel"
    PRIVATE_READ = "private_read"
    READ = "read"
    ORDER_UNKNOWN = "order_unknown"  # looks like it places or edits orders: never passed
    CANCEL_UNKNOWN = "cancel_unknown"  # cancels orders the guard cannot check are the bot's: never passed
    LIVE_ONLY = "live_only"  # funds, margin, raw private endpoints: verified LIVE_ACTIVE only


_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake(name: str) -> str:
    return _CAMEL.sub(r"_\1", name).lower()


def classify(name: str) -> Kind:
    n = snake(name)
    if n in ORDER_METHODS:
        return Kind.ORDER
    if n in CANCEL_METHODS:
        return Kind.CANCEL
    if n in PRIVATE_READS:
        return Kind.PRIVATE_READ
    if n.startswith("public"):
        return Kind.READ  # unsigned endpoints: market data, even when sent as a POST
    if "cancel" in n and not n.startswith(_READ_PREFIXES):  # fetch_canceled_orders reads
        return Kind.CANCEL_UNKNOWN  # raw cancel endpoints too (a GET on some venues): no ownership check
    if n in _RAW_HTTP or _WRITE_ENDPOINT.search(n):
        return Kind.ORDER_UNKNOWN  # a raw signed write reaches the exchange with no client id: never
    if n.startswith(_READ_PREFIXES) or n in _READ_NAMES:
        return Kind.READ
    if n.startswith(("create_", "edit_", "close_")) or re.search(r"_orders?(_ws)?$", n):
        return Kind.ORDER_UNKNOWN
    return Kind.LIVE_ONLY
