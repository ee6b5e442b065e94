"""nija.guard(store=...) on the fleet's PostgreSQL store: the fleet's state decides the
guarded bot's orders, and a fleet-wide kill from the real CLI stops it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import nija
from nija.domain.transitions import Who
from nija.guarded import OrderRefused
from nija.service import SafetyService
from nija.store.postgres import PostgresStore
from nija.store.postgres.testing import temporary_database
from tests.conftest import cli_env
from tests.fakes.kraken_server import FakeKraken
from tests.guard.helpers import kraken, ledger_orders, writes
from tests.runtime.runtime_helpers import wait_for

SYMBOL = "BTC/USDT"


@pytest.fixture
def fleet_url() -> Iterator[str]:
    with temporary_database() as url:
        yield url


def test_the_fleet_store_decides_and_a_fleet_kill_stops_the_guarded_bot(
    fleet_url: str, data_dir: Path, fake: FakeKraken
) -> None:
    store = PostgresStore(fleet_url, bot="alpha")
    SafetyService(store).restore(Who("alice@host", "cli"))
    exchange = nija.guard(kraken(fake), data_dir=data_dir, store=store)
    try:
        order = exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)
        assert order["id"].startswith("paper-")  # the fleet row says DRY_RUN
        wait_for(lambda: SafetyService(PostgresStore(fleet_url, bot="alpha")).status().bot_alive, timeout=30,
                 what="the guarded bot's heartbeat in the fleet database")  # fmt: skip
        subprocess.run(
            [sys.executable, "-m", "nija", "kill", "activate", "--store", fleet_url, "--fleet", "fleet-wide stop"],
            env=cli_env(),
            check=True,
            capture_output=True,
            timeout=60,
        )
        wait_for(lambda: ledger_orders(data_dir) == [(order["id"], SYMBOL, "cancelled")], timeout=30, what="cancel")
        with pytest.raises(OrderRefused, match="KILL_SWITCH_ACTIVE"):
            exchange.create_limit_buy_order(SYMBOL, 0.01, 42_000.0)
    finally:
        exchange.close()
    assert writes(fake) == []
