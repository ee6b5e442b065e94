"""The live broker against ccxt's real kraken client, with only its HTTP layer replaced:
a requests transport adapter on the exchange's ``session`` serves recorded responses."""

from __future__ import annotations

import base64
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import ccxt
import pytest
import requests
from requests.adapters import BaseAdapter

from nija.domain.permission import Permission
from nija.domain.states import Mode
from nija.runtime.brokers.exchange import ExchangeBroker
from nija.runtime.brokers.owned import OwnedBook
from nija.runtime.gate import OrderGate
from nija.runtime.orders import OrderRequest, OrderType, Outcome, Side
from nija.runtime.reaction import Reaction
from tests.conftest import cli_env
from tests.fakes.transport import body_of, url_of
from tests.runtime.runtime_helpers import candle

RECORDED = Path(__file__).parent / "recorded" / "kraken"
KILLED = Permission(False, None, "KILL_SWITCH_ACTIVE", "the kill file EMERGENCY_STOP exists")

Reply = tuple[int, str] | type[Exception]  # (HTTP status, recorded file) or an exception to raise


class RecordedKraken(BaseAdapter):
    """Serves recorded Kraken responses by endpoint; a list of replies is played in order
    (the last one repeats). Every request is kept for assertions."""

    def __init__(self, routes: Mapping[str, Reply | list[Reply]]) -> None:
        super().__init__()
        defaults: dict[str, Reply | list[Reply]] = {
            "Assets": (200, "Assets.json"),
            "AssetPairs": (200, "AssetPairs.json"),
            "OpenOrders": (200, "OpenOrders_empty.json"),
            "CancelAllOrdersAfter": (200, "CancelAllOrdersAfter.json"),
            "BalanceEx": (200, "BalanceEx.json"),
        }
        self.routes = {**defaults, **routes}
        self.requests: list[tuple[str, dict[str, list[str]]]] = []

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        endpoint = urlparse(url_of(request)).path.rsplit("/", 1)[-1]
        body = body_of(request)
        self.requests.append((endpoint, parse_qs(body)))
        route = self.routes.get(endpoint)
        if route is None:
            raise AssertionError(f"no recorded response for {endpoint}")
        replies = route if isinstance(route, list) else [route]
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        if isinstance(reply, type):
            raise reply(f"simulated {reply.__name__} for {endpoint}")
        status, name = reply
        response = requests.Response()
        response.status_code = status
        response._content = (RECORDED / name).read_bytes() if name else b""
        response.headers["Content-Type"] = "application/json"
        response.url = request.url or ""
        response.request = request
        response.reason = "OK" if status == 200 else "Too Many Requests"
        return response

    def close(self) -> None:
        pass

    def calls(self, endpoint: str) -> list[dict[str, list[str]]]:
        return [body for name, body in self.requests if name == endpoint]


def broker_with(
    routes: Mapping[str, Reply | list[Reply]], owned_dir: Path | None = None
) -> tuple[ExchangeBroker, RecordedKraken]:
    client = ccxt.kraken(
        {"apiKey": "test-key", "secret": base64.b64encode(b"test-secret").decode(), "enableRateLimit": False}
    )
    adapter = RecordedKraken(routes)
    client.session.mount("https://", adapter)
    owned = OwnedBook(owned_dir or Path(tempfile.mkdtemp(prefix="nija-owned-")), "kraken-test")
    return ExchangeBroker(client, owned, quote="USDT", dead_man_switch_s=60), adapter


LIMIT_BUY = OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 0.01, 40_000.0)


def test_reconcile_lists_open_orders_the_bot_did_not_place_as_foreign_and_adopts_none() -> None:
    broker, _ = broker_with({"OpenOrders": (200, "OpenOrders.json")})
    assert broker.reconcile() == ()
    assert broker.reconciled
    assert broker.open_orders() == ()
    (order,) = broker.foreign
    assert (order.id, order.symbol, order.side, order.price, order.quantity) == (
        "OQCLML-BW3P3-BUCMWZ",
        "BTC/USDT",
        Side.BUY,
        39_000.0,
        0.02,
    )


def test_place_sends_the_order_and_arms_the_dead_man_switch() -> None:
    broker, http = broker_with({"AddOrder": (200, "AddOrder.json")})
    result = broker.place(LIMIT_BUY)
    assert result.accepted
    assert result.order is not None
    assert result.order.id == "OUF4EM-FRGI2-MQMWZD"
    (sent,) = http.calls("AddOrder")
    assert sent["pair"] == ["XBTUSDT"]
    assert sent["type"] == ["buy"]
    assert sent["ordertype"] == ["limit"]
    assert sent["volume"] == ["0.01"]
    assert sent["price"] == ["40000"] or sent["price"] == ["40000.0"]
    assert http.calls("CancelAllOrdersAfter")[0]["timeout"] == ["60"]
    assert [o.id for o in broker.open_orders()] == ["OUF4EM-FRGI2-MQMWZD"]


def test_cancel_all_cancels_the_bots_own_orders_one_by_one_and_checks_nothing_is_left() -> None:
    broker, http = broker_with(
        {
            "AddOrder": (200, "AddOrder.json"),
            "OpenOrders": [(200, "OpenOrders_empty.json"), (200, "OpenOrders_empty.json")],
            "CancelOrder": (200, "CancelOrder.json"),
        }
    )
    broker.place(LIMIT_BUY)
    results = broker.cancel_all()
    assert [(r.order_id, r.ok) for r in results] == [("OUF4EM-FRGI2-MQMWZD", True)]
    assert broker.open_orders() == ()
    assert [c["txid"] for c in http.calls("CancelOrder")] == [["OUF4EM-FRGI2-MQMWZD"]]
    assert http.calls("CancelAll") == []  # never account-wide


@pytest.mark.parametrize(
    ("reply", "outcome", "code"),
    [
        ((200, "error_insufficient_funds.json"), Outcome.REJECTED, "INSUFFICIENT_FUNDS"),
        ((200, "error_rate_limit.json"), Outcome.RATE_LIMITED, "RATE_LIMITED"),
        ((429, "error_rate_limit.json"), Outcome.RATE_LIMITED, "RATE_LIMITED"),
        (requests.ConnectionError, Outcome.NETWORK_ERROR, "NETWORK_ERROR"),
        (requests.Timeout, Outcome.NETWORK_ERROR, "NETWORK_ERROR"),
    ],
)
def test_exchange_failures_become_clear_outcomes(reply: Reply, outcome: Outcome, code: str) -> None:
    broker, _ = broker_with({"AddOrder": reply})
    result = broker.place(LIMIT_BUY)
    assert (result.outcome, result.code) == (outcome, code)
    assert broker.open_orders() == ()


def test_insufficient_funds_names_the_cause() -> None:
    broker, _ = broker_with({"AddOrder": (200, "error_insufficient_funds.json")})
    assert "insufficient funds" in broker.place(LIMIT_BUY).reason


def test_orders_are_refused_until_open_orders_can_be_reconciled() -> None:
    broker, http = broker_with({"OpenOrders": requests.ConnectionError, "AddOrder": (200, "AddOrder.json")})
    result = broker.place(LIMIT_BUY)
    assert result.code == "NOT_RECONCILED"
    assert http.calls("AddOrder") == []


def test_cash_comes_from_the_exchange_but_holdings_the_bot_did_not_buy_are_not_its_own() -> None:
    broker, _ = broker_with({})  # the account holds 0.05 BTC that no fill of this bot bought
    broker.on_candle(candle(40_000.0))
    assert broker.held("BTC/USDT") == 0.0
    assert broker.holdings() == ()
    account = broker.account()
    assert account.cash == pytest.approx(2_500.0)
    assert account.equity == pytest.approx(2_500.0)


def reaction_for(broker: ExchangeBroker, alerts: list[tuple[str, str]]) -> Reaction:
    view = type("View", (), {"check": lambda self: KILLED})()
    gate = OrderGate(view, {Mode.LIVE: broker})
    return Reaction(gate, alert=lambda code, message: alerts.append((code, message)), retries=3)


def test_a_failing_cancel_is_retried_and_reported_and_the_kill_completes_once_nothing_is_open() -> None:
    broker, http = broker_with(
        {
            "AddOrder": (200, "AddOrder.json"),
            # at the first order; after the failed cancel (still open); after the retry
            "OpenOrders": [
                (200, "OpenOrders_empty.json"),
                (200, "OpenOrders_own.json"),
                (200, "OpenOrders_empty.json"),
            ],
            "CancelOrder": [requests.ConnectionError, (200, "CancelOrder.json")],
        }
    )
    broker.place(LIMIT_BUY)
    alerts: list[tuple[str, str]] = []
    reaction = reaction_for(broker, alerts)
    reaction(KILLED)
    assert [code for code, _ in alerts] == ["CANCEL_FAILED"]
    assert "attempt 1/3" in alerts[0][1]
    assert len(http.calls("CancelOrder")) == 2
    assert reaction.kill.complete
    assert broker.open_orders() == ()


def test_the_kill_is_never_complete_while_orders_stay_open() -> None:
    broker, _ = broker_with(
        {
            "AddOrder": (200, "AddOrder.json"),
            "OpenOrders": (200, "OpenOrders_own.json"),
            "CancelOrder": requests.ConnectionError,
        }
    )
    broker.place(LIMIT_BUY)
    alerts: list[tuple[str, str]] = []
    reaction = reaction_for(broker, alerts)
    reaction(KILLED)
    assert not reaction.kill.complete
    assert [code for code, _ in alerts] == ["CANCEL_FAILED"] * 3 + ["KILL_INCOMPLETE"]
    assert "1 order(s) are still open" in alerts[-1][1]
    assert len(broker.open_orders()) == 1


def test_a_world_readable_secrets_file_stops_the_bot_from_starting(tmp_path: Path) -> None:
    secrets = tmp_path / ".nija_secrets.toml"
    secrets.write_text('api_key = "k"\nsecret = "c2VjcmV0"\n')
    secrets.chmod(0o644)
    result = subprocess.run(
        [sys.executable, "-m", "nija", "run", "--data-dir", str(tmp_path), "--max-candles", "1"],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "chmod 600" in result.stderr
    assert "c2VjcmV0" not in result.stderr + result.stdout


def test_an_order_that_left_the_exchange_book_is_reported_as_a_fill() -> None:
    broker, http = broker_with({"AddOrder": (200, "AddOrder.json"), "QueryOrders": (200, "QueryOrders.json")})
    broker.place(LIMIT_BUY)
    (fill,) = broker.sync(1_767_225_660.0)
    assert (fill.order_id, fill.symbol, fill.side, fill.quantity) == ("OUF4EM-FRGI2-MQMWZD", "BTC/USDT", Side.BUY, 0.01)
    assert fill.price == pytest.approx(39_990.0)
    assert fill.fee == pytest.approx(0.63984)
    assert broker.open_orders() == ()
    assert broker.sync(1_767_225_720.0) == []  # reported once
    assert len(http.calls("QueryOrders")) == 1
