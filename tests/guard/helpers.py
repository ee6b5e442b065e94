"""Shared builders for the guard tests: a ccxt kraken client pointed at the local fake
Kraken server, and the state changes an operator makes (restore, live, kill)."""

from __future__ import annotations

import asyncio
import base64
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import ccxt
import ccxt.async_support
import pytest

from nija.assembly import build_service
from nija.domain.live import ACKNOWLEDGMENT_PHRASE, LivePolicy
from nija.domain.records import Heartbeat, TradingRecord
from nija.domain.transitions import Who
from nija.guarded import MethodRefused, OrderRefused
from nija.service import SafetyService
from tests.fakes.kraken_server import FakeKraken
from tests.runtime.runtime_helpers import wait_for

OPERATOR = Who("alice@host", "cli")
CONFIRMER = Who("bob@host", "api")
KEYS = {"apiKey": "test-key", "secret": base64.b64encode(b"test-secret").decode(), "enableRateLimit": False}


def kraken(fake: FakeKraken) -> Any:
    return fake.point_at(ccxt.kraken(dict(KEYS)))


def async_kraken(fake: FakeKraken) -> Any:
    return fake.point_at(ccxt.async_support.kraken(dict(KEYS)))


def run_async(body: Callable[[Any], Awaitable[None]], fake: FakeKraken, data_dir: Path) -> None:
    """``body(exchange)`` on a guarded async kraken client, in its own event loop."""
    import nija

    async def main() -> None:
        exchange = nija.guard(async_kraken(fake), data_dir=data_dir)
        try:
            await body(exchange)
        finally:
            await exchange.close()

    asyncio.run(asyncio.wait_for(main(), timeout=120))


async def eventually(predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def service(data_dir: Path) -> SafetyService:
    return SafetyService(build_service(data_dir).store, policy=LivePolicy(min_dry_run=timedelta(0)))


def dry_run(data_dir: Path) -> None:
    service(data_dir).restore(OPERATOR)


def go_live(data_dir: Path, timeout: float = 30.0, svc: SafetyService | None = None) -> None:
    """The confirmation flow against the running (guarded) bot: request for its run, wait
    for its acknowledgment in the heartbeat, confirm, wait until it verified the grant.
    ``svc``: the service to go through (default: one without the exchange checks; pass
    ``build_service(data_dir)`` for the CLI's, which reads the bot's account checks)."""
    svc = svc or service(data_dir)
    if svc.snapshot().state != "DRY_RUN":
        svc.restore(OPERATOR)
    wait_for(lambda: _beat(svc) is not None, timeout=timeout, what="a running bot's heartbeat with its run id")
    request = svc.request_live(OPERATOR, credentials_configured=True)
    record = svc.snapshot().trading
    assert isinstance(record, TradingRecord)
    assert record.pending_live is not None
    nonce = record.pending_live.nonce
    wait_for(lambda: (b := _beat(svc)) is not None and b.seen_nonce == nonce, timeout=timeout, what="acknowledged")
    svc.confirm_live(request.code, ACKNOWLEDGMENT_PHRASE, CONFIRMER)
    wait_for(lambda: (b := _beat(svc)) is not None and b.live_nonce == nonce, timeout=timeout, what="verified")


def _beat(svc: SafetyService) -> Heartbeat | None:
    beat = svc.snapshot().heartbeat
    return beat if beat is not None and beat.run_id and not beat.stopped else None


def kill(data_dir: Path, reason: str = "test kill") -> None:
    service(data_dir).activate_kill(reason, OPERATOR)


def ledger_orders(data_dir: Path) -> list[tuple[str, str, str]]:
    path = data_dir / ".nija_paper.sqlite"
    if not path.exists():
        return []
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT id, symbol, status FROM orders ORDER BY seq").fetchall()
    except sqlite3.OperationalError:  # another process is creating the ledger right now
        return []
    finally:
        db.close()


def writes(fake: FakeKraken) -> list[str]:
    """Endpoints that change something at the exchange."""
    reads = {"Assets", "AssetPairs", "Ticker", "OHLC", "Depth", "Time", "SystemStatus", "OpenOrders", "QueryOrders"}
    reads |= {"ClosedOrders", "Balance", "BalanceEx", "TradeBalance"}
    return [c.endpoint for c in fake.requests if c.endpoint not in reads]


# An order the bot did not place through the guard: a person's stop-loss on the account.
PERSON_CLIENT_ID = "person-stop-1"


def person_stop_loss(fake: FakeKraken, symbol: str = "BTC/USDT") -> str:
    """A protective order someone placed on the account, not through the guard."""
    row = kraken(fake).create_limit_sell_order(symbol, 0.05, 30_000.0, {"clientOrderId": PERSON_CLIENT_ID})
    return str(row["id"])


def refused(code: str, call: Callable[[], object]) -> None:
    """``call`` is refused by the guard with ``code``."""
    with pytest.raises((OrderRefused, MethodRefused)) as refusal:
        call()
    assert refusal.value.code == code, refusal.value


def live_with_an_own_order(
    fake: FakeKraken, data_dir: Path, guarded: Callable[[], Any], symbol: str = "BTC/USDT"
) -> tuple[Any, str, str]:
    """A person's stop-loss on the account, then the guard live with one order of its own:
    (the guarded exchange, its order's id, the person's order's id)."""
    foreign = person_stop_loss(fake, symbol)
    dry_run(data_dir)
    exchange = guarded()
    go_live(data_dir)
    own = exchange.create_limit_buy_order(symbol, 0.001, 42_000.0)["id"]
    return exchange, str(own), foreign
