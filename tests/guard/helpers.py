"""Shared builders for the guard tests: a ccxt kraken client pointed at the local fake
Kraken server, and the state changes an operator makes (restore, live, kill)."""

from __future__ import annotations

import base64
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import ccxt
import ccxt.async_support

from nija.assembly import build_service
from nija.domain.live import ACKNOWLEDGMENT_PHRASE, LivePolicy
from nija.domain.transitions import Who
from nija.service import SafetyService
from tests.fakes.kraken_server import FakeKraken

OPERATOR = Who("alice@host", "cli")
CONFIRMER = Who("bob@host", "api")
KEYS = {"apiKey": "test-key", "secret": base64.b64encode(b"test-secret").decode(), "enableRateLimit": False}


def kraken(fake: FakeKraken) -> Any:
    return fake.point_at(ccxt.kraken(dict(KEYS)))


def async_kraken(fake: FakeKraken) -> Any:
    return fake.point_at(ccxt.async_support.kraken(dict(KEYS)))


def service(data_dir: Path) -> SafetyService:
    return SafetyService(build_service(data_dir).store, policy=LivePolicy(min_dry_run=timedelta(0)))


def dry_run(data_dir: Path) -> None:
    service(data_dir).restore(OPERATOR)


def go_live(data_dir: Path) -> None:
    """The confirmation flow, as an operator runs it against a running (guarded) bot."""
    svc = service(data_dir)
    if svc.snapshot().state != "DRY_RUN":
        svc.restore(OPERATOR)
    request = svc.request_live(OPERATOR, credentials_configured=True)
    svc.confirm_live(request.code, ACKNOWLEDGMENT_PHRASE, CONFIRMER)


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
