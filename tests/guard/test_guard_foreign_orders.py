"""Orders the bot did not place through the guard (a person's stop-loss, another program's
orders on the same account) are never cancelled or edited through it, in any state
(DESIGN.md invariant 8), and outside a verified LIVE_ACTIVE the bot is not shown them:
its usual "on error, cancel my open orders" loop must not reach them during a kill."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import ccxt
import pytest

from nija.guarded import OrderRefused
from tests.fakes.kraken_server import FakeKraken
from tests.guard.helpers import (
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


def cancelled_ids(fake: FakeKraken) -> list[str]:
    return [c["txid"] for c in fake.calls("CancelOrder")]


def refused_as_not_own(call: Any) -> None:
    refused("NOT_OWN_ORDER", call)


def test_dry_run_never_cancels_or_shows_an_order_it_did_not_place(
    fake: FakeKraken, data_dir: Path, guarded: Any
) -> None:
    foreign = person_stop_loss(fake)
    dry_run(data_dir)
    exchange = guarded()
    paper = exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)["id"]
    refused_as_not_own(lambda: exchange.cancel_order(foreign, SYMBOL))
    refused_as_not_own(lambda: exchange.cancelOrder(foreign))
    refused_as_not_own(lambda: exchange.cancel_orders([paper, foreign], SYMBOL))  # refused before any is sent
    refused_as_not_own(lambda: exchange.edit_order(foreign, SYMBOL, "limit", "sell", 0.05, 31_000.0))
    with pytest.raises(ccxt.OrderNotFound):
        exchange.fetch_order(foreign, SYMBOL)  # DRY_RUN shows the paper ledger only
    assert [o["id"] for o in exchange.fetch_open_orders(SYMBOL)] == [paper]  # still open: the batch was refused
    assert writes(fake) == ["AddOrder"]  # the person's order, placed by the fixture: nothing by the guard
    assert foreign in fake.open_orders()


def test_after_live_and_a_kill_the_bot_sees_and_cancels_only_its_own_orders(
    fake: FakeKraken, data_dir: Path, guarded: Any
) -> None:
    exchange, own, foreign = live_with_an_own_order(fake, data_dir, guarded)
    fake.fail("CancelOrder", "EService:Unavailable")  # the kill's cancel fails: the bot's order stays open
    kill(data_dir, "operator kill")
    wait_for(lambda: any(a.code == "KILL_INCOMPLETE" for a in exchange.nija.alerts), timeout=30, what="the alert")
    with pytest.raises(OrderRefused, match="KILL_SWITCH_ACTIVE"):
        exchange.create_limit_buy_order(SYMBOL, 0.001, 42_000.0)
    # The bot's error handler lists its open orders and cancels them:
    assert [o["id"] for o in exchange.fetch_open_orders(SYMBOL)] == [own]
    assert exchange.fetch_order(own, SYMBOL)["id"] == own
    with pytest.raises(ccxt.OrderNotFound):
        exchange.fetch_order(foreign, SYMBOL)
    refused_as_not_own(lambda: exchange.cancel_order(foreign, SYMBOL))
    refused_as_not_own(lambda: exchange.cancel_orders([foreign], SYMBOL))
    with pytest.raises(ccxt.ExchangeNotAvailable):  # the bot's own only, failing at the fake for now
        exchange.cancel_all_orders(SYMBOL)
    assert foreign not in cancelled_ids(fake)
    del fake.failures["CancelOrder"]
    wait_for(lambda: own not in fake.open_orders(), timeout=30, what="the bot's own order cancelled")
    assert foreign in fake.open_orders()
    assert foreign not in cancelled_ids(fake)


def test_a_verified_live_active_cancels_its_own_orders_and_refuses_anyone_elses(
    fake: FakeKraken, data_dir: Path, guarded: Any
) -> None:
    exchange, own, foreign = live_with_an_own_order(fake, data_dir, guarded)
    refused_as_not_own(lambda: exchange.cancel_order(foreign, SYMBOL))
    refused_as_not_own(lambda: exchange.cancel_order(own, "ETH/USDT"))  # the same id on another market: not its
    exchange.cancel_order(own, SYMBOL)
    assert cancelled_ids(fake) == [own]
    assert foreign in fake.open_orders()


def test_async_dry_run_refuses_a_foreign_cancel(fake: FakeKraken, data_dir: Path) -> None:
    foreign = person_stop_loss(fake)
    dry_run(data_dir)

    async def body(exchange: Any) -> None:
        paper = (await exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0))["id"]
        for call in (
            lambda: exchange.cancel_order(foreign, SYMBOL),
            lambda: exchange.cancel_orders([paper, foreign], SYMBOL),
            lambda: exchange.edit_order(foreign, SYMBOL, "limit", "sell", 0.05, 31_000.0),
        ):
            with pytest.raises(OrderRefused) as refused:
                await call()
            assert refused.value.code == "NOT_OWN_ORDER"
        with pytest.raises(ccxt.OrderNotFound):
            await exchange.fetch_order(foreign, SYMBOL)
        assert [o["id"] for o in await exchange.fetch_open_orders(SYMBOL)] == [paper]

    run_async(body, fake, data_dir)
    assert writes(fake) == ["AddOrder"]
    assert foreign in fake.open_orders()


def test_async_after_live_and_a_kill_shows_and_cancels_only_its_own(fake: FakeKraken, data_dir: Path) -> None:
    foreign = person_stop_loss(fake)
    dry_run(data_dir)

    async def body(exchange: Any) -> None:
        await asyncio.to_thread(go_live, data_dir)
        own = (await exchange.create_limit_buy_order(SYMBOL, 0.001, 42_000.0))["id"]
        fake.fail("CancelOrder", "EService:Unavailable")
        kill(data_dir, "operator kill")
        await eventually(lambda: any(a.code == "KILL_INCOMPLETE" for a in exchange.nija.alerts), "the alert", 30)
        assert [o["id"] for o in await exchange.fetch_open_orders(SYMBOL)] == [own]
        with pytest.raises(OrderRefused) as refused:
            await exchange.cancel_order(foreign, SYMBOL)
        assert refused.value.code == "NOT_OWN_ORDER"
        del fake.failures["CancelOrder"]
        await eventually(lambda: own not in fake.open_orders(), "the bot's own order cancelled", 30)

    run_async(body, fake, data_dir)
    assert foreign in fake.open_orders()
    assert foreign not in cancelled_ids(fake)
