"""Typed errors for every foreseeable failure (never a 500), and the app's defaults:
security headers, no CORS unless configured, the web page served without a build step."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nija.config import ApiSettings
from nija.store.lock import exclusive
from nija.testing import FakeClock
from tests.api.conftest import MakeClient

Auth = dict[str, dict[str, str]]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/kill-switch/deactivate", {}, "reason"),
        ("/api/kill-switch/deactivate", {"reason": "   "}, "reason"),
        ("/api/kill-switch/activate", {"reason": "x" * 501}, "reason"),
        ("/api/kill-switch/activate", {"reason": "ok", "extra": 1}, "extra"),
        ("/api/live/confirm", {"phrase": "p"}, "code"),
        ("/api/restore", {"expected_path": 5}, "expected_path"),
    ],
)
def test_when_the_body_is_invalid_then_422_names_the_field(
    client: TestClient, auth: Auth, path: str, body: dict[str, object], field: str
) -> None:
    response = client.post(path, json=body, headers=auth["admin"])
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "INVALID_INPUT"
    assert field in error["message"]


def test_when_the_body_is_not_json_then_422(client: TestClient, auth: Auth) -> None:
    response = client.post(
        "/api/kill-switch/activate", content=b"{not json", headers={**auth["admin"], "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "INVALID_INPUT"


def test_when_a_safety_rule_refuses_then_409_with_code_message_and_fix(client: TestClient, auth: Auth) -> None:
    client.post("/api/kill-switch/activate", json={"reason": "test"}, headers=auth["viewer"])
    response = client.post("/api/restore", json={}, headers=auth["operator"])
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "KILL_SWITCH_ACTIVE"
    assert "deactivate" in error["fix"].lower()


def test_when_the_plan_changed_since_it_was_shown_then_409_and_nothing_is_done(client: TestClient, auth: Auth) -> None:
    plan = client.get("/api/restore/plan", headers=auth["operator"]).json()
    step = {"from_state": "OFF", "to_state": "DRY_RUN", "reason": "Safe recovery: Enabling simulation mode"}
    assert plan == {
        "action": "restore",
        "path": "OFF → DRY_RUN",
        "steps": [step],
        "nothing_to_do": False,
        "warnings": [],
    }
    client.post("/api/kill-switch/activate", json={"reason": "meanwhile"}, headers=auth["viewer"])
    client.post("/api/kill-switch/deactivate", json={"reason": "fixed"}, headers=auth["admin"])
    stale = client.post("/api/restore", json={"expected_path": "DRY_RUN → OFF"}, headers=auth["operator"])
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "STATE_CHANGED"
    assert client.get("/api/status", headers=auth["viewer"]).json()["state"] == "OFF"
    done = client.post("/api/restore", json={"expected_path": "OFF → DRY_RUN"}, headers=auth["operator"])
    assert done.json()["after"] == "DRY_RUN"


def test_when_storage_is_busy_then_503_with_the_fix_and_nothing_changes(
    client: TestClient, auth: Auth, data_dir: Path
) -> None:
    store = client.app.state.service.store  # type: ignore[attr-defined]
    store.lock_timeout_s = 0.2
    with exclusive(data_dir / ".nija.lock"):  # another process holding the lock, as a hung CLI would
        response = client.post("/api/restore", json={}, headers=auth["operator"])
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "LOCK_TIMEOUT"
    assert "fuser" in error["fix"]
    assert client.get("/api/status", headers=auth["viewer"]).json()["state"] == "OFF"


def test_when_the_state_file_is_corrupt_then_status_fails_closed(
    client: TestClient, auth: Auth, data_dir: Path
) -> None:
    (data_dir / ".nija_trading_state.json").write_text("{corrupt")
    status = client.get("/api/status", headers=auth["viewer"]).json()
    assert status["state"] == "EMERGENCY_STOP"
    assert status["can_trade"] is False
    assert "STATE_FILE_CORRUPT" in [i["code"] for i in status["inconsistencies"]]


def test_responses_carry_security_headers_and_no_cors_by_default(client: TestClient, auth: Auth) -> None:
    response = client.get("/api/status", headers={**auth["viewer"], "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_when_cors_origins_are_configured_then_only_those_are_allowed(make_client: MakeClient, auth: Auth) -> None:
    client = make_client(api=ApiSettings(cors_origins=("https://ops.example",)))
    ok = client.get("/api/status", headers={**auth["viewer"], "Origin": "https://ops.example"})
    assert ok.headers["access-control-allow-origin"] == "https://ops.example"
    other = client.get("/api/status", headers={**auth["viewer"], "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_the_control_center_page_and_its_assets_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "NIJA control center" in page.text
    for asset, kind in (("/static/app.js", "javascript"), ("/static/style.css", "css")):
        response = client.get(asset)
        assert response.status_code == 200
        assert kind in response.headers["content-type"]


def test_history_returns_the_newest_entries_up_to_the_limit(client: TestClient, auth: Auth) -> None:
    for n in range(3):
        client.post("/api/kill-switch/activate", json={"reason": f"k{n}"}, headers=auth["viewer"])
        client.post("/api/kill-switch/deactivate", json={"reason": f"d{n}"}, headers=auth["admin"])
    history = client.get("/api/history?limit=2", headers=auth["viewer"]).json()
    assert [k["reason"] for k in history["kill_switch"]] == ["k2", "d2"]
    assert len(history["transitions"]) == 2
    assert client.get("/api/history?limit=0", headers=auth["viewer"]).status_code == 422


def test_runtime_says_when_no_bot_is_running_and_shows_its_report_when_one_is(
    client: TestClient, auth: Auth, data_dir: Path, clock: FakeClock
) -> None:
    empty = client.get("/api/runtime", headers=auth["viewer"]).json()
    assert (empty["running"], empty["report"], empty["stale"]) == (False, None, False)
    from nija.bot_report import BotReport, Pnl, Position, write_report
    from nija.domain.records import Heartbeat
    from nija.store import JsonFileStore

    def publish(at: datetime) -> None:
        write_report(
            data_dir,
            BotReport(
                updated_at=at.isoformat(),
                mode="simulated",
                broker="paper",
                positions=(Position(symbol="BTC/USDT", quantity=0.5, average_price=100.0),),
                pnl=Pnl(equity=1050.0),
            ),
        )

    store = JsonFileStore(data_dir)
    store.beat(Heartbeat(4242, "bot-host", clock.now, clock.now))
    publish(clock.now)
    body = client.get("/api/runtime", headers=auth["viewer"]).json()
    assert (body["running"], body["stale"], body["stopped_at"]) == (True, False, None)
    assert body["report"]["positions"][0]["symbol"] == "BTC/USDT"
    assert json.dumps(body["report"]["pnl"]["equity"]) == "1050.0"

    # The bot goes quiet: its report ages into stale, then its heartbeat says it stopped.
    clock.advance(seconds=body["stale_after_s"] + 1)
    aged = client.get("/api/runtime", headers=auth["viewer"]).json()
    assert (aged["running"], aged["stale"]) == (True, True)
    assert aged["age_s"] > aged["stale_after_s"]
    store.beat(Heartbeat(4242, "bot-host", clock.now, clock.now, stopped=True))
    stopped = client.get("/api/runtime", headers=auth["viewer"]).json()
    assert (stopped["running"], stopped["stale"]) == (False, True)
    assert stopped["stopped_at"] == clock.now.isoformat()
    assert stopped["report"]["positions"][0]["symbol"] == "BTC/USDT"  # shown, but never as current
