"""Exchange-specific ``params`` that would make a call act on an order (or a position)
other than the one the guard checked.

ccxt merges ``params`` over the request it builds, so ``cancel_order(own, s, {"txid":
foreign})`` on Kraken cancels ``foreign``, ``{"origClientOrderId": ...}`` on Binance
likewise. The guard checks only the id argument for ownership (invariant 8), so a call
carrying such a key is refused whole, naming the key: dropping it silently would send
something other than what the bot asked for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nija.guarded.errors import GuardCode, OrderRefused

# Spelled without case, "_" or "-": clientOrderId, client_order_id and CLIENT-ORDER-ID alike.
_NAMES_AN_ORDER = frozenset({"id", "ids", "txid", "txids", "userref", "uuid", "uuids", "identifier", "identifiers"})
# Any key ending in "id" or "ids": orderId, origClientOrderId, cl_ord_id, ordId, client_oid,
# orderLinkId, cancelOrderId, and the ones a list would miss (Bitfinex "cid", Onetrading
# "client_id", Apex "clientId", "tpslId", ...). A key naming something else (an account
# id) is refused too: failing closed, with the key named, beats guessing each venue.
_NAMES_AN_ORDER_SUFFIXES = ("id", "ids", "idlist")
# Act on a whole position or on other orders, whoever opened or placed them.
_ACTS_ON_OTHERS = frozenset(
    {"closeposition", "cancelreplace", "cancelreplacemode", "cancelrestrictions", "cancelall", "replace"}
)
# A new order's own client id: the guard's (or the bot's) id for the order being placed.
CLIENT_ID = "clientorderid"


def _plain(key: object) -> str:
    return str(key).lower().replace("_", "").replace("-", "")


def names_an_order(key: object) -> bool:
    plain = _plain(key)
    return plain in _NAMES_AN_ORDER or plain in _ACTS_ON_OTHERS or plain.endswith(_NAMES_AN_ORDER_SUFFIXES)


# What a call on an existing order (cancel, edit, fetch) may carry: keys that choose the
# market or the kind of order, or give an edit its new values, and name no order. Anything
# else is refused by name (an allow-list: venues keep inventing keys that name an order,
# NDAX's OrderIdToReplace, Derive's label, Lighter's order_index, ...).
_HARMLESS_ON_AN_ORDER = frozenset(
    {
        # which market or kind of order the id is looked up in
        "type", "subtype", "category", "insttype", "producttype", "settle", "marginmode", "margincoin",
        "margintype", "trigger", "stop", "trailing", "conditional", "algo", "plan", "positionside", "hedged",
        # an edit's new values
        "timeinforce", "postonly", "reduceonly", "price", "amount", "cost", "triggerprice", "stopprice",
        "stoplossprice", "takeprofitprice", "stoploss", "takeprofit", "trailingamount", "trailingpercent",
        "trailingtriggerprice", "leverage",
        # transport
        "recvwindow", "test",
    }
)  # fmt: skip


def require_no_order_keys(method: str, params: Mapping[str, Any] | None, *, new_order: bool = False) -> None:
    """Refuse params that could redirect ``method`` to another order. ``new_order``: a
    create_order, whose ``clientOrderId`` names the order being placed (not another);
    there the keys that name an order are refused, any other passes (a new order's
    options are many and act on nothing that exists)."""
    if new_order:
        keys = [k for k in (params or {}) if names_an_order(k) and _plain(k) != CLIENT_ID]
        if keys:
            raise OrderRefused(
                GuardCode.ORDER_ID_IN_PARAMS,
                f"{method}() params {', '.join(repr(k) for k in keys)} could name an order or a position other "
                "than the new one (a replace, a close of a whole position, another program's id); nothing was "
                "sent. Give a new order's own client id as clientOrderId, and leave the others out",
            )
        return
    keys = [k for k in (params or {}) if _plain(k) not in _HARMLESS_ON_AN_ORDER]
    if keys:
        raise OrderRefused(
            GuardCode.ORDER_ID_IN_PARAMS,
            f"{method}() params {', '.join(repr(k) for k in keys)} are not among those the guard knows to act "
            "only on the order whose ownership it checked (ccxt sends params over the request; a venue's key "
            "can name another order); nothing was sent. Name the order by the id argument, and leave them out",
        )
