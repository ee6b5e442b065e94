"""The guard's account check against the fake Kraken server (ccxt's HTTP layer): it
never holds the order lock across its exchange reads, so a kill's cancels go out while a
slow venue answers the check, and the guard's own orders are still told from others';
an unreadable balance is "unknown", never flat."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from nija.assembly import build_service
from nija.domain.errors import LiveRequestRefused
from nija.exchange_checks import ExchangeChecks
from tests.fakes.kraken_server import FakeKraken
from tests.guard.helpers import OPERATOR, dry_run, eventually, go_live, kill, run_async
from tests.runtime.runtime_helpers import wait_for

SYMBOL = "BTC/USDT"


def in_thread(body: Any) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(body()), daemon=True)
    thread.start()
    return thread, result


def test_a_kill_cancels_while_the_account_check_waits_on_the_exchange(
    fake: FakeKraken, data_dir: Path, guarded: Any
) -> None:
    dry_run(data_dir)
    exchange = guarded()
    go_live(data_dir)
    own = exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)["id"]
    hold = fake.hold("OpenOrders")  # the venue has answered "open: own", the answer is slow to arrive
    check, result = in_thread(exchange._account.check_once)
    try:
        assert hold.reached.wait(30)
        kill(data_dir)
        wait_for(lambda: own not in fake.open_orders(), timeout=30, what="the kill's cancel during the account check")
        wait_for(lambda: not exchange._core.live.owns(own), timeout=30, what="the cancelled order forgotten")
    finally:
        hold.release()
        check.join(60)
    (checks,) = result
    assert isinstance(checks, ExchangeChecks)
    assert checks.reconciliation is not None
    # Open when the venue answered, and the bot's: not counted as another program's order.
    assert (checks.reconciliation.own_open, checks.reconciliation.foreign_open) == (1, 0)


def test_an_order_sent_while_the_account_check_reads_is_the_bots_own(
    fake: FakeKraken, data_dir: Path, guarded: Any
) -> None:
    dry_run(data_dir)
    exchange = guarded()
    go_live(data_dir)
    hold = fake.hold("AddOrder")  # the venue took the order; its answer has not reached the bot
    order, placed = in_thread(lambda: exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0))
    try:
        assert hold.reached.wait(30)
        asked = len(fake.calls("OpenOrders"))
        check, result = in_thread(exchange._account.check_once)
        wait_for(lambda: len(fake.calls("OpenOrders")) > asked, timeout=30, what="the check's read of open orders")
    finally:
        hold.release()
        order.join(60)
    check.join(60)
    (row,) = placed
    (checks,) = result
    assert row["id"] in fake.open_orders()
    assert checks.reconciliation is not None
    assert (checks.reconciliation.own_open, checks.reconciliation.foreign_open) == (1, 0)


def test_an_async_kill_cancels_while_the_account_check_waits_on_the_exchange(fake: FakeKraken, data_dir: Path) -> None:
    dry_run(data_dir)
    seen: list[ExchangeChecks] = []

    async def body(exchange: Any) -> None:
        await asyncio.to_thread(go_live, data_dir)
        own = (await exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0))["id"]
        hold = fake.hold("BalanceEx")  # the check's second read: the order lock is free meanwhile
        check = asyncio.get_running_loop().create_task(exchange._account.check_once())
        try:
            assert await asyncio.to_thread(hold.reached.wait, 30)
            await asyncio.to_thread(kill, data_dir)
            await eventually(lambda: own not in fake.open_orders(), "the kill's cancel during the account check", 30)
        finally:
            hold.release()
            seen.append(await check)

    run_async(body, fake, data_dir)
    (checks,) = seen
    assert checks.reconciliation is not None
    assert (checks.reconciliation.own_open, checks.reconciliation.foreign_open) == (1, 0)


def test_a_balance_kraken_reports_without_a_total_refuses_live(data_dir: Path, fake: FakeKraken, guarded: Any) -> None:
    (data_dir / "nija.toml").write_text("[live]\nmin_dry_run_minutes = 0\n")
    fake.balances["XXBT"] = ""  # ccxt's total for BTC is None: unreadable, not zero
    dry_run(data_dir)
    guarded()
    with pytest.raises(LiveRequestRefused, match="BTC") as refused:
        build_service(data_dir).request_live(OPERATOR, credentials_configured=True)
    assert refused.value.code == "EXPOSURE_UNKNOWN"
