"""No way around the ownership rule (DESIGN.md invariant 8): ``params`` that name another
order (ccxt merges them over the request, so Kraken's ``txid`` replaces the id the guard
checked), ccxt's cancel-by-client-id and per-symbol cancels, and the account-wide
cancel-all timer (a dead man's switch fires on every order of the account, a person's
stop-loss too, even after a kill: the guard never arms it, and disarming is always allowed)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from nija.guarded import MethodRefused, OrderRefused
from tests.fakes.kraken_server import FakeKraken
from tests.guard.helpers import (
    PERSON_CLIENT_ID,
    dry_run,
    eventually,
    go_live,
    kill,
    live_with_an_own_order,
    person_stop_loss,
    refused,
    run_async,
    writes,
)
from tests.runtime.runtime_helpers import wait_for

SYMBOL = "BTC/USDT"
# Keys that name an order in some venue's cancel, edit or query request.
# Kraken, Binance, OKX-style, and keys a list of names missed (Bitfinex cid, Onetrading client_id, Apex
# clientId, NDAX OrderIdToReplace, Derive label, Lighter order_index, a nested list of orders).
REDIRECTS = (
    "txid",
    "userref",
    "clientOrderId",
    "cl_ord_id",
    "origClientOrderId",
    "orderId",
    "cid",
    "client_id",
    "clientId",
    "OrderIdToReplace",
    "label",
    "order_index",
    "client_order_index",
    "orders",
)


def cancelled(fake: FakeKraken) -> list[dict[str, str]]:
    return fake.calls("CancelOrder")


def killed_after_live(fake: FakeKraken, data_dir: Path, guarded: Any) -> tuple[Any, str, str]:
    exchange, own, foreign = live_with_an_own_order(fake, data_dir, guarded)
    kill(data_dir, "operator kill")
    wait_for(lambda: own not in fake.open_orders(), timeout=30, what="the bot's own order cancelled by the kill")
    return exchange, own, foreign


def test_params_naming_another_order_are_refused_after_a_kill(fake: FakeKraken, data_dir: Path, guarded: Any) -> None:
    exchange, own, foreign = killed_after_live(fake, data_dir, guarded)
    sent = len(cancelled(fake))
    for key in REDIRECTS:
        value = PERSON_CLIENT_ID if "client" in key.lower() or key == "cl_ord_id" else foreign
        refused("ORDER_ID_IN_PARAMS", lambda k=key, v=value: exchange.cancel_order(own, SYMBOL, {k: v}))
    refused("ORDER_ID_IN_PARAMS", lambda: exchange.cancelOrder(own, SYMBOL, {"txid": foreign}))
    refused("ORDER_ID_IN_PARAMS", lambda: exchange.cancel_orders([own], SYMBOL, {"txid": foreign}))
    refused("ORDER_ID_IN_PARAMS", lambda: exchange.cancel_all_orders(SYMBOL, {"txid": foreign}))
    refused("ORDER_ID_IN_PARAMS", lambda: exchange.fetch_order(own, SYMBOL, {"txid": foreign}))
    assert len(cancelled(fake)) == sent  # nothing more was sent
    assert foreign in fake.open_orders()
    exchange.cancel_order(own, SYMBOL)  # the bot's own cancel, without such params, still reaches the exchange
    assert cancelled(fake)[-1]["txid"] == own


def test_in_live_active_no_cancel_or_order_call_reaches_another_order(
    fake: FakeKraken, data_dir: Path, guarded: Any
) -> None:
    foreign = person_stop_loss(fake)
    dry_run(data_dir)
    exchange = guarded()
    go_live(data_dir)
    own = exchange.create_limit_buy_order(SYMBOL, 0.001, 42_000.0, {"clientOrderId": "bot-order-1"})
    refused("ORDER_ID_IN_PARAMS", lambda: exchange.cancel_order(own["id"], SYMBOL, {"cl_ord_id": PERSON_CLIENT_ID}))
    refused(
        "ORDER_ID_IN_PARAMS",
        lambda: exchange.edit_order(own["id"], SYMBOL, "limit", "buy", 0.001, 41_000.0, {"txid": foreign}),
    )
    refused(
        "ORDER_ID_IN_PARAMS",
        lambda: exchange.edit_order(
            own["id"], SYMBOL, "limit", "buy", 0.001, 41_000.0, {"clientOrderId": PERSON_CLIENT_ID}
        ),
    )
    refused(
        "ORDER_ID_IN_PARAMS",
        lambda: exchange.create_limit_buy_order(SYMBOL, 0.001, 41_000.0, {"cancelOrderId": foreign}),
    )
    refused("ORDER_ID_IN_PARAMS", lambda: exchange.create_market_sell_order(SYMBOL, 0.001, {"closePosition": True}))
    refused("NOT_OWN_ORDER", lambda: exchange.cancel_order_with_client_order_id(PERSON_CLIENT_ID, SYMBOL))
    refused("NOT_OWN_ORDER", lambda: exchange.cancelOrdersWithClientOrderIds([PERSON_CLIENT_ID], SYMBOL))
    refused("NOT_OWN_ORDER", lambda: exchange.cancel_orders_for_symbols([{"id": foreign, "symbol": SYMBOL}]))
    refused(
        "NOT_OWN_ORDER",
        lambda: exchange.cancel_orders_for_symbols([{"clientOrderId": PERSON_CLIENT_ID, "symbol": SYMBOL}]),
    )
    # Raw endpoints cannot be checked for ownership: refused even in a verified LIVE_ACTIVE.
    refused("CANCEL_UNCHECKED", lambda: exchange.private_post_cancelorder({"txid": foreign}))
    refused("CANCEL_UNCHECKED", lambda: exchange.privatePostCancelAll())
    assert cancelled(fake) == []
    assert foreign in fake.open_orders()
    # The bot's own orders, by its client id or in a per-symbol batch, still cancel.
    exchange.cancel_order_with_client_order_id("bot-order-1", SYMBOL)
    second = exchange.create_limit_buy_order(SYMBOL, 0.001, 41_500.0)["id"]
    exchange.cancel_orders_for_symbols([{"id": second, "symbol": SYMBOL}])
    assert [c["txid"] for c in cancelled(fake)] == [own["id"], second]
    assert foreign in fake.open_orders()


def test_the_account_wide_timer_is_never_armed_and_can_always_be_disarmed(
    fake: FakeKraken, data_dir: Path, guarded: Any
) -> None:
    foreign = person_stop_loss(fake)
    dry_run(data_dir)
    exchange = guarded()
    refused("ACCOUNT_WIDE_TIMER", lambda: exchange.cancel_all_orders_after(60_000))
    exchange.cancel_all_orders_after(0)  # DRY_RUN: a simulation writes nothing, not even a disarm
    assert writes(fake) == ["AddOrder"]  # the person's order, placed by the fixture
    go_live(data_dir)
    refused("ACCOUNT_WIDE_TIMER", lambda: exchange.cancel_all_orders_after(60_000))
    refused("ACCOUNT_WIDE_TIMER", lambda: exchange.cancelAllOrdersAfter(60_000))
    assert fake.calls("CancelAllOrdersAfter") == []
    kill(data_dir, "operator kill")
    wait_for(lambda: not exchange.nija.permission().allowed, timeout=30, what="the kill seen")
    exchange.cancel_all_orders_after(0)  # disarming only prevents cancels: allowed after a kill
    assert [c["timeout"] for c in fake.calls("CancelAllOrdersAfter")] == ["0"]
    assert foreign in fake.open_orders()


def test_async_guard_refuses_the_same_ways_around(fake: FakeKraken, data_dir: Path) -> None:
    foreign = person_stop_loss(fake)
    dry_run(data_dir)

    async def expect(code: str, call: Any) -> None:
        with pytest.raises((OrderRefused, MethodRefused)) as refusal:
            await call()
        assert refusal.value.code == code, refusal.value

    async def body(exchange: Any) -> None:
        await asyncio.to_thread(go_live, data_dir)
        own = await exchange.create_limit_buy_order(SYMBOL, 0.001, 42_000.0)
        await expect("NOT_OWN_ORDER", lambda: exchange.cancel_order_with_client_order_id(PERSON_CLIENT_ID, SYMBOL))
        await expect("NOT_OWN_ORDER", lambda: exchange.cancel_orders_for_symbols([{"id": foreign, "symbol": SYMBOL}]))
        await expect("ACCOUNT_WIDE_TIMER", lambda: exchange.cancel_all_orders_after(60_000))
        await expect("CANCEL_UNCHECKED", lambda: exchange.private_post_cancelorder({"txid": foreign}))
        kill(data_dir, "operator kill")
        await eventually(lambda: own["id"] not in fake.open_orders(), "the bot's own order cancelled", 30)
        for key in ("txid", "userref", "cl_ord_id"):
            await expect("ORDER_ID_IN_PARAMS", lambda k=key: exchange.cancel_order(own["id"], SYMBOL, {k: foreign}))
        await expect("ORDER_ID_IN_PARAMS", lambda: exchange.cancel_orders([own["id"]], SYMBOL, {"txid": foreign}))
        await expect("ORDER_ID_IN_PARAMS", lambda: exchange.fetch_order(own["id"], SYMBOL, {"txid": foreign}))
        await exchange.cancel_all_orders_after(0)

    run_async(body, fake, data_dir)
    assert foreign in fake.open_orders()
    assert foreign not in [c.get("txid") for c in cancelled(fake)]
    assert all("cl_ord_id" not in c for c in cancelled(fake))
    assert [c["timeout"] for c in fake.calls("CancelAllOrdersAfter")] == ["0"]
