"""The async guard's key attestation: ccxt.async_support's own client (aiohttp) reading a
local HTTP server that answers like Binance, judged by the same verdict as ``nija run``'s;
and the reconciliation's policy, pure: what cannot be read is "unknown", never zero."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import ccxt
import ccxt.async_support
import pytest

from nija.exchange_checks import KeyAttestation
from nija.guarded.account import attest_key_async, reconciliation
from nija.runtime.account_reading import Unreadable, balance_totals, positions_reader
from nija.runtime.brokers.base import BookReading

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class Binance:
    """Answers ``/sapi/v1/account/apiRestrictions`` with ``status`` and ``body``; keeps the paths."""

    def __init__(self) -> None:
        self.status, self.body = 200, {}
        self.paths: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner.paths.append(self.path.split("?", 1)[0])
                payload = json.dumps(owner.body).encode()
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/sapi/v1"


@pytest.fixture
def binance() -> Iterator[Binance]:
    venue = Binance()
    yield venue
    venue.server.shutdown()
    venue.server.server_close()


def attest(venue: Binance) -> KeyAttestation:
    async def main() -> KeyAttestation:
        client = ccxt.async_support.binance({"apiKey": "test-key", "secret": "test-secret", "enableRateLimit": False})
        client.urls["api"]["sapi"] = venue.url
        try:
            return await attest_key_async(client, NOW)
        finally:
            await client.close()

    return asyncio.run(asyncio.wait_for(main(), timeout=60))


def test_an_async_binance_key_that_can_withdraw_is_reported(binance: Binance) -> None:
    binance.body = {"ipRestrict": False, "enableWithdrawals": True, "enableReading": True}
    key = attest(binance)
    assert (key.status, key.ip_whitelist) == ("can withdraw", False)
    assert binance.paths == ["/sapi/v1/account/apiRestrictions"]


def test_an_async_binance_trade_only_key_with_ip_whitelist(binance: Binance) -> None:
    binance.body = {"ipRestrict": True, "enableWithdrawals": False, "enableInternalTransfer": False}
    key = attest(binance)
    assert (key.status, key.ip_whitelist) == ("trade-only", True)


def test_an_async_venue_that_errors_is_unknown(binance: Binance) -> None:
    binance.status, binance.body = 500, {"code": -1000, "msg": "boom"}
    key = attest(binance)
    assert key.status == "unknown"
    assert "binance did not answer" in key.detail


def test_an_async_venue_that_cannot_tell_is_unknown_without_a_request() -> None:
    async def main() -> KeyAttestation:
        client = ccxt.async_support.kraken({"apiKey": "k", "secret": "c2VjcmV0"})
        try:
            return await attest_key_async(client, NOW)
        finally:
            await client.close()

    key = asyncio.run(main())
    assert key.status == "unknown"
    assert "does not report" in key.detail


# -- the reconciliation's policy: unreadable is unknown, never zero ---------------------
@pytest.mark.parametrize(
    "amount",
    [None, float("nan"), float("inf"), -0.5, "a lot", True],
    ids=["none-free-used-only", "nan", "inf", "negative", "text", "bool"],
)
def test_a_holding_that_cannot_be_read_makes_the_account_unknown_never_flat(amount: object) -> None:
    rec = reconciliation(NOW, BookReading(), {"USD": 10.0, "BTC": amount}, "USD", {})
    assert rec.status == "unknown"
    assert rec.error is not None
    assert "BTC" in rec.error


def test_a_readable_account_still_matches_or_names_its_holdings() -> None:
    assert reconciliation(NOW, BookReading(), {"USD": 10.0, "BTC": "0"}, "USD", {}).status == "matching"
    rec = reconciliation(NOW, BookReading(), {"USD": 10.0, "BTC": "2.0"}, "USD", {"BTC/USD": 40_000.0})
    (btc,) = rec.unexplained
    assert (rec.status, btc.currency, btc.quantity, btc.value) == ("unexplained", "BTC", 2.0, 80_000.0)


@pytest.mark.parametrize("answer", [{}, {"free": {"USD": 10.0}}, {"total": None}, None], ids=str)
def test_a_balance_answer_without_totals_is_unreadable(answer: object) -> None:
    with pytest.raises(Unreadable, match="no totals"):
        balance_totals(answer)


def test_derivative_positions_are_unexplained_with_their_figures() -> None:
    rows = [
        {"symbol": "BTC/USD:USD", "contracts": -2.0, "notional": -80_000.0},  # a short holds exposure too
        {"symbol": "ETH/USD:USD", "contracts": 0.0, "notional": 0.0},  # closed
    ]
    rec = reconciliation(NOW, BookReading(), {"USD": 10.0}, "USD", {}, positions=rows)
    (btc,) = rec.unexplained
    assert (rec.status, btc.currency, btc.quantity, btc.value) == ("unexplained", "BTC/USD:USD", 2.0, 80_000.0)
    unread = reconciliation(NOW, BookReading(), {"USD": 10.0}, "USD", {}, positions=[{"symbol": "BTC/USD:USD"}])
    assert unread.status == "unknown"
    assert unread.error is not None
    assert "contracts" in unread.error


def test_a_derivatives_client_is_read_for_positions_and_a_spot_one_is_not() -> None:
    futures = ccxt.krakenfutures({"apiKey": "k", "secret": "c2VjcmV0"})
    assert positions_reader(futures) == futures.fetch_positions
    assert positions_reader(ccxt.kraken({"apiKey": "k", "secret": "c2VjcmV0"})) is None
    swap = ccxt.okx({"apiKey": "k", "secret": "s", "password": "p", "options": {"defaultType": "swap"}})
    assert positions_reader(swap) == swap.fetch_positions
    blind = ccxt.krakenfutures({"apiKey": "k", "secret": "c2VjcmV0"})
    blind.has["fetchPositions"] = False  # a venue whose ccxt client cannot read positions
    with pytest.raises(Unreadable, match="positions cannot be read"):
        positions_reader(blind)
