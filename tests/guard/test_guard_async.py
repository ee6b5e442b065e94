"""nija.guard on a ccxt.async_support kraken client (aiohttp to the local fake Kraken):
the same decisions as the sync guard, with the watcher as a task on the bot's loop."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import ccxt
import pytest

import nija
from nija.guarded import MethodRefused, OrderRefused
from tests.conftest import REPO, cli_env
from tests.fakes.kraken_server import FakeKraken
from tests.guard.helpers import (
    async_kraken,
    dry_run,
    eventually,
    go_live,
    kill,
    ledger_orders,
    run_async,
    service,
    writes,
)

SYMBOL = "BTC/USDT"


def test_async_dry_run_is_paper_traded(fake: FakeKraken, data_dir: Path) -> None:
    dry_run(data_dir)

    async def body(exchange: Any) -> None:
        order = await exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)
        assert order["id"].startswith("paper-")
        assert [o["id"] for o in await exchange.fetch_open_orders(SYMBOL)] == [order["id"]]
        bought = await exchange.createMarketBuyOrder(SYMBOL, 0.01)
        assert bought["status"] == "closed"
        assert (await exchange.fetch_balance())["BTC"]["total"] == pytest.approx(0.01)
        assert (await exchange.cancel_order(order["id"]))["status"] == "canceled"

    run_async(body, fake, data_dir)
    assert [status for _, _, status in ledger_orders(data_dir)] == ["cancelled", "filled"]
    assert writes(fake) == []


def test_async_live_orders_carry_client_ids_and_a_kill_from_the_cli_cancels_them(
    fake: FakeKraken, data_dir: Path
) -> None:
    dry_run(data_dir)
    foreign: list[str] = []

    async def body(exchange: Any) -> None:
        await asyncio.to_thread(go_live, data_dir)  # waits for the watcher task: off the loop
        other = async_kraken(fake)
        try:
            foreign.append((await other.create_limit_buy_order(SYMBOL, 0.02, 39_000.0))["id"])
        finally:
            await other.close()
        own = [(await exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0 + i))["id"] for i in range(2)]
        assert all(c["cl_ord_id"].startswith("nj") for c in fake.calls("AddOrder")[1:])
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, str(REPO / "emergency_kill_switch.py"), "activate", "--data-dir", str(data_dir), "x"],
            env=cli_env(),
            check=True,
            capture_output=True,
            timeout=60,
        )
        await eventually(lambda: not (set(own) & set(fake.open_orders())), "own orders cancelled")
        with pytest.raises(OrderRefused) as refused:
            await exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)
        assert refused.value.code == "KILL_SWITCH_ACTIVE"
        assert isinstance(refused.value, ccxt.ExchangeError)

    run_async(body, fake, data_dir)
    assert set(fake.open_orders()) == set(foreign)
    assert ledger_orders(data_dir) == []


def test_async_refusals_in_off_and_funds_moving_outside_live(fake: FakeKraken, data_dir: Path) -> None:
    async def body(exchange: Any) -> None:
        with pytest.raises(OrderRefused, match="STATE_OFF"):
            await exchange.create_order(SYMBOL, "limit", "buy", 0.01, 42_000.0)
        with pytest.raises(MethodRefused, match="LIVE_ONLY"):
            await exchange.withdraw("BTC", 1.0, "bc1qaddress")
        with pytest.raises(MethodRefused, match="NOT_ON_ALLOW_LIST"):
            await exchange.create_trailing_percent_order(SYMBOL, "sell", 0.01)
        kill(data_dir)
        assert (await exchange.fetch_ticker(SYMBOL))["last"] == fake.price  # market data passes

    run_async(body, fake, data_dir)
    assert writes(fake) == []
    assert service(data_dir).snapshot().state == "EMERGENCY_STOP"


def test_async_guard_built_outside_a_loop_starts_its_watcher_with_the_first_call(
    fake: FakeKraken, data_dir: Path
) -> None:
    dry_run(data_dir)
    exchange = nija.guard(async_kraken(fake), data_dir=data_dir)

    async def main() -> None:
        try:
            order = await exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)
            (data_dir / "EMERGENCY_STOP").touch()
            await eventually(
                lambda: ledger_orders(data_dir) == [(order["id"], SYMBOL, "cancelled")], "paper order cancelled"
            )
        finally:
            await exchange.close()

    asyncio.run(asyncio.wait_for(main(), timeout=120))


def test_async_kill_with_failing_cancels_alerts_and_retries(fake: FakeKraken, data_dir: Path) -> None:
    dry_run(data_dir)

    async def body(exchange: Any) -> None:
        await asyncio.to_thread(go_live, data_dir)
        own = (await exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0))["id"]
        fake.fail("CancelOrder", "EService:Unavailable")
        kill(data_dir, "cancel failures")
        await eventually(lambda: any(a.code == "KILL_INCOMPLETE" for a in exchange.nija.alerts), "the alert", 30)
        assert own in fake.open_orders()
        del fake.failures["CancelOrder"]
        await eventually(lambda: own not in fake.open_orders(), "the retried cancel", 30)

    run_async(body, fake, data_dir)
