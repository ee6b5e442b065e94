"""The bridge against answers a real freqtrade does not give: a small HTTP server stands in
for freqtrade's REST API (the lowest layer the bridge talks to: its real client, over
loopback), with a real NIJA data directory. An answer the bridge cannot read is alerted
and never stops ``/stop``; ``--keep-open-orders`` holds on every path."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from nija.assembly import build_service
from nija.domain.transitions import Who
from nija.integrations.freqtrade.bridge import BridgeOptions, FreqtradeBridge
from nija.integrations.freqtrade.client import FreqtradeClient
from tests.freqtrade.harness import PASSWORD, USER
from tests.guard.helpers import kill

WELL_FORMED = {
    "trade_id": 7,
    "pair": "BTC/USDT",
    "has_open_orders": True,
    "orders": [{"order_id": "o7", "is_open": True}],
}


class FakeFreqtradeApi:
    """freqtrade's REST API trading live (``dry_run: false``) with ``status`` as its
    ``/status`` answer; every call is recorded; ``/stop`` makes it report ``stopped``."""

    def __init__(self, status: object) -> None:
        self.status = status
        self.state = "running"
        self.calls: list[str] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, doc: object) -> None:
                body = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _handle(self) -> None:
                path = self.path.removeprefix("/api/v1")
                api.calls.append(f"{self.command} {path}")
                if path == "/show_config":
                    self._answer({"dry_run": False, "state": api.state})
                elif path == "/status":
                    self._answer(api.status)
                elif path == "/stop":
                    api.state = "stopped"
                    self._answer({"status": "stopping trader ..."})
                elif path == "/stopentry":
                    api.state = "paused" if api.state == "running" else api.state
                    self._answer({"status": "paused"})
                else:
                    self._answer({})

            do_GET = do_POST = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> FakeFreqtradeApi:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def answers(request: pytest.FixtureRequest) -> Iterator[FakeFreqtradeApi]:
    with FakeFreqtradeApi(request.param) as api:
        yield api


def bridge(data_dir: Path, api: FakeFreqtradeApi, **options: Any) -> FreqtradeBridge:
    client = FreqtradeClient(api.url, USER, PASSWORD, retries=0)
    return FreqtradeBridge(
        build_service(data_dir),
        client,
        None,
        BridgeOptions(confirm_timeout_s=0, **options),
        who=Who("bridge", "bridge"),
    )


def audit(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / ".nija_audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def unreadable_alerts(data_dir: Path) -> list[str]:
    return [
        str(e["reason"])
        for e in audit(data_dir)
        if e["kind"] == "bridge_alert" and e["details"]["action"] == "freqtrade_status_unreadable"
    ]


MALFORMED = [
    pytest.param({"detail": "busy"}, id="an error body instead of a list"),
    pytest.param([{"pair": "BTC/USDT", "orders": [{"is_open": True}]}, WELL_FORMED], id="a row without trade_id"),
    pytest.param([{**WELL_FORMED, "trade_id": "7; DROP"}, "row"], id="rows that are not trades"),
]


@pytest.mark.parametrize("answers", MALFORMED, indirect=True)
def test_leaving_live_with_an_unreadable_status_still_stops_freqtrade_and_alerts(
    data_dir: Path, answers: FakeFreqtradeApi
) -> None:
    run = bridge(data_dir, answers)
    run.left_live = True  # as after the restart rule: the live period's orders are cancelled
    permission = run.service.store.permission_view().check()
    run.enforce_live_rule(permission)
    assert answers.calls[-1] == "POST /stop"
    assert answers.state == "stopped"
    # Only the well-formed row's order is cancelled; the rest is skipped, and said.
    cancels = [c for c in answers.calls if c.startswith("DELETE")]
    is_list = isinstance(answers.status, list)
    valid = isinstance(answers.status, list) and WELL_FORMED in answers.status
    assert cancels == (["DELETE /trades/7/open-order"] if valid else [])
    alerts = unreadable_alerts(data_dir)
    assert len(alerts) == 1
    assert ("not a list of trades" in alerts[0]) is not is_list


@pytest.mark.parametrize("answers", [[WELL_FORMED]], indirect=True)
def test_keep_open_orders_holds_when_leaving_live_as_on_a_kill(data_dir: Path, answers: FakeFreqtradeApi) -> None:
    run = bridge(data_dir, answers, cancel_open_orders=False)
    run.left_live = True
    run.enforce_live_rule(run.service.store.permission_view().check())
    assert [c for c in answers.calls if not c.startswith("GET")] == ["POST /stopentry", "POST /stop"]
    kill(data_dir, "operator kill")
    answers.state = "running"
    receipt = run.kill("operator kill")
    assert not any(c.startswith("DELETE") for c in answers.calls)  # the same cancel step: kept
    assert receipt.open_orders == ("o7",)
    assert not receipt.complete


@pytest.mark.parametrize("answers", MALFORMED[1:], indirect=True)
def test_a_kill_with_unreadable_rows_never_claims_none_open(data_dir: Path, answers: FakeFreqtradeApi) -> None:
    kill(data_dir, "operator kill")
    run = bridge(data_dir, answers)
    receipt = run.kill("operator kill")
    assert not receipt.complete
    assert receipt.open_orders is None  # unknown: a row it cannot read may hold an open order
    assert any("without an integer trade_id were skipped" in line for line in receipt.unknown)
    assert "POST /stop" not in answers.calls  # freqtrade refuses cancels once stopped: it stays paused
    assert answers.state == "paused"
    assert len(unreadable_alerts(data_dir)) == 1  # once per change, not once per poll


@pytest.mark.parametrize("answers", [[]], indirect=True)
def test_a_freqtrade_started_again_during_a_kill_is_stopped_again(data_dir: Path, answers: FakeFreqtradeApi) -> None:
    kill(data_dir, "operator kill")
    run = bridge(data_dir, answers, stop_on_kill=True)
    run.live_check_s = 0.0  # every tick asks (the watcher's clock is not under test)
    permission = run.service.store.permission_view().check()
    run.react(permission)
    assert run.kill_done
    assert answers.state == "stopped"
    answers.state = "running"  # an operator's /start, or a supervisor restarting it, live
    calls = len(answers.calls)
    run.react(permission)  # the kill still stands: the next check sees it trading
    assert "POST /stopentry" in answers.calls[calls:]
    assert answers.state == "stopped"
    assert run.kill_done
