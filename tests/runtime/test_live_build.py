"""Building the live broker: sandbox mode, the options the bot relies on."""

from __future__ import annotations

from pathlib import Path

import pytest

from nija.config import NijaConfig
from nija.domain.errors import UsageProblem
from nija.runtime.brokers.exchange import ExchangeBroker
from nija.runtime.live import build_live_broker


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIJA_API_KEY", "k")
    monkeypatch.setenv("NIJA_API_SECRET", "c2VjcmV0")


def config(**exchange: object) -> NijaConfig:
    return NijaConfig.model_validate({"exchange": exchange})


def test_sandbox_uses_the_venues_testnet_and_keeps_its_records_apart(tmp_path: Path) -> None:
    broker = build_live_broker(config(id="binanceusdm", sandbox=True), tmp_path)
    assert isinstance(broker, ExchangeBroker)
    assert "testnet" in str(broker.client.urls["api"]["fapiPrivate"])
    assert "-sandbox-" in broker.owned.account
    live = build_live_broker(config(id="binanceusdm"), tmp_path)
    assert live is not None
    assert "-sandbox-" not in live.owned.account


def test_sandbox_on_a_venue_without_one_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(UsageProblem, match="no sandbox") as caught:
        build_live_broker(config(id="kraken", sandbox=True), tmp_path)
    assert caught.value.exit_code == 2


def test_the_bot_may_read_open_orders_of_every_symbol(tmp_path: Path) -> None:
    broker = build_live_broker(config(id="binance"), tmp_path)
    assert broker is not None
    assert broker.client.options["warnOnFetchOpenOrdersWithoutSymbol"] is False
