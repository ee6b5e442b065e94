"""The live-enable flow through the API: every precondition refused with its reason, the
code and the typed phrase, expiry, the second-person rule, and a kill at any point."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from nija.domain.live import ACKNOWLEDGMENT_PHRASE
from nija.testing import FakeClock
from tests.api.conftest import MakeClient

Auth = dict[str, dict[str, str]]


def to_dry_run(client: TestClient, auth: Auth) -> None:
    assert client.post("/api/restore", json={}, headers=auth["operator"]).json()["after"] == "DRY_RUN"


def request_live(client: TestClient, auth: Auth, who: str = "operator") -> str:
    response = client.post("/api/live/request", headers=auth[who])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcome"]["after"] == "LIVE_PENDING_CONFIRMATION"
    return str(body["code"])


def confirm(
    client: TestClient, auth: Auth, code: str, phrase: str = ACKNOWLEDGMENT_PHRASE, who: str = "admin"
) -> httpx.Response:
    return client.post("/api/live/confirm", json={"code": code, "phrase": phrase}, headers=auth[who])


def refusal(response: httpx.Response, code: str) -> str:
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["fix"]
    return str(error["message"])


def state(client: TestClient, auth: Auth) -> str:
    return str(client.get("/api/status", headers=auth["viewer"]).json()["state"])


@pytest.mark.usefixtures("credentials")
def test_when_every_precondition_holds_then_request_and_confirm_reach_live_active(
    client: TestClient, auth: Auth, clock: FakeClock
) -> None:
    to_dry_run(client, auth)
    response = client.post("/api/live/request", headers=auth["operator"])
    body = response.json()
    assert len(body["code"]) == 8
    assert body["expires_at"] == (clock.now.replace(minute=10)).isoformat()  # default window: 10 minutes
    pending = client.get("/api/status", headers=auth["viewer"]).json()["pending_live"]
    assert pending == {
        "requested_by": "operator",
        "requested_at": clock.now.isoformat(),
        "expires_at": body["expires_at"],
    }
    assert "code" not in json.dumps(pending)
    result = confirm(client, auth, body["code"].lower())  # codes are case-insensitive
    assert result.status_code == 200
    assert result.json()["after"] == "LIVE_ACTIVE"
    status = client.get("/api/status", headers=auth["viewer"]).json()
    assert (status["state"], status["can_trade"], status["mode"]) == ("LIVE_ACTIVE", True, "live")
    assert status["recent_history"][-1]["actor"] == "admin"
    assert ACKNOWLEDGMENT_PHRASE in status["recent_history"][-1]["reason"]


@pytest.mark.usefixtures("credentials")
def test_when_not_in_dry_run_then_request_is_refused(client: TestClient, auth: Auth) -> None:
    message = refusal(client.post("/api/live/request", headers=auth["operator"]), "LIVE_REQUEST_REFUSED")
    assert "OFF" in message
    assert "DRY_RUN" in message


@pytest.mark.usefixtures("credentials")
def test_when_the_kill_switch_is_active_then_request_is_refused(client: TestClient, auth: Auth) -> None:
    to_dry_run(client, auth)
    client.post("/api/kill-switch/activate", json={"reason": "test"}, headers=auth["viewer"])
    message = refusal(client.post("/api/live/request", headers=auth["operator"]), "LIVE_REQUEST_REFUSED")
    assert "kill switch is active" in message


@pytest.mark.usefixtures("credentials")
def test_when_dry_run_is_too_short_then_the_refusal_says_how_long_remains(
    make_client: MakeClient, auth: Auth, clock: FakeClock
) -> None:
    client = make_client(min_dry_run_minutes=60)
    to_dry_run(client, auth)
    clock.advance(minutes=45)
    message = refusal(client.post("/api/live/request", headers=auth["operator"]), "DRY_RUN_TOO_SHORT")
    assert "15.0 minutes remain" in message
    clock.advance(minutes=15)
    request_live(client, auth)


def test_when_no_credentials_are_configured_then_request_is_refused(
    client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NIJA_API_KEY", raising=False)
    monkeypatch.delenv("NIJA_API_SECRET", raising=False)
    to_dry_run(client, auth)
    refusal(client.post("/api/live/request", headers=auth["operator"]), "NO_CREDENTIALS")
    assert client.get("/api/live/policy", headers=auth["viewer"]).json()["credentials_configured"] is False


def test_when_the_secrets_file_is_readable_by_others_then_request_is_refused_with_the_chmod_fix(
    client: TestClient, auth: Auth, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NIJA_API_KEY", raising=False)
    secrets = data_dir / ".nija_secrets.toml"
    secrets.write_text('api_key = "k"\nsecret = "s"\n')
    secrets.chmod(0o644)
    to_dry_run(client, auth)
    response = client.post("/api/live/request", headers=auth["operator"])
    refusal(response, "CREDENTIALS_UNREADABLE")
    assert "chmod 600" in response.json()["error"]["fix"]


@pytest.mark.usefixtures("credentials")
def test_when_the_state_file_was_edited_by_hand_then_request_is_refused_for_the_inconsistency(
    client: TestClient, auth: Auth, data_dir: Path
) -> None:
    to_dry_run(client, auth)
    # Simulate an operator editing the file by hand: the history no longer leads to the state.
    path = data_dir / ".nija_trading_state.json"
    doc = json.loads(path.read_text())
    doc["history"][-1]["to"] = "OFF"
    path.write_text(json.dumps(doc))
    message = refusal(client.post("/api/live/request", headers=auth["operator"]), "LIVE_REQUEST_REFUSED")
    assert "HISTORY_MISMATCH" in message


@pytest.mark.usefixtures("credentials")
def test_when_the_phrase_is_not_typed_exactly_then_confirm_is_refused_and_stays_pending(
    client: TestClient, auth: Auth
) -> None:
    to_dry_run(client, auth)
    code = request_live(client, auth)
    for wrong in ("", ACKNOWLEDGMENT_PHRASE.lower(), ACKNOWLEDGMENT_PHRASE + "."):
        response = confirm(client, auth, code, wrong)
        refusal(response, "ACKNOWLEDGMENT_REQUIRED")
        assert ACKNOWLEDGMENT_PHRASE in response.json()["error"]["fix"]
    assert state(client, auth) == "LIVE_PENDING_CONFIRMATION"


@pytest.mark.usefixtures("credentials")
def test_when_the_code_is_wrong_or_reused_then_confirm_is_refused(client: TestClient, auth: Auth) -> None:
    to_dry_run(client, auth)
    code = request_live(client, auth)
    refusal(confirm(client, auth, "00000000"), "WRONG_CODE")
    assert confirm(client, auth, code).status_code == 200
    refusal(confirm(client, auth, code), "NO_PENDING_REQUEST")
    assert state(client, auth) == "LIVE_ACTIVE"


@pytest.mark.usefixtures("credentials")
def test_when_the_window_has_passed_then_confirm_is_refused_and_the_state_is_dry_run(
    client: TestClient, auth: Auth, clock: FakeClock
) -> None:
    to_dry_run(client, auth)
    code = request_live(client, auth)
    clock.advance(minutes=10, seconds=1)
    message = refusal(confirm(client, auth, code), "PENDING_CONFIRMATION_EXPIRED")
    assert "expired" in message
    assert state(client, auth) == "DRY_RUN"
    refusal(confirm(client, auth, code), "NO_PENDING_REQUEST")


@pytest.mark.usefixtures("credentials")
def test_when_the_window_passes_with_the_server_running_then_it_returns_to_dry_run_by_itself(
    client: TestClient, auth: Auth, clock: FakeClock
) -> None:
    with client:  # runs the lifespan: the watcher expires requests nobody confirmed
        to_dry_run(client, auth)
        request_live(client, auth)
        clock.advance(minutes=11)
        deadline = time.monotonic() + 10
        while state(client, auth) != "DRY_RUN" and time.monotonic() < deadline:
            time.sleep(0.05)
        history = client.get("/api/history", headers=auth["viewer"]).json()["transitions"]
    assert history[-1] | {"timestamp": None} == {
        "from": "LIVE_PENDING_CONFIRMATION",
        "to": "DRY_RUN",
        "reason": "Live confirmation window expired",
        "timestamp": None,
        "actor": "nija-serve",
        "source": "api",
    }


@pytest.mark.usefixtures("credentials")
def test_when_a_second_person_is_required_then_the_requester_cannot_confirm(
    make_client: MakeClient, auth: Auth
) -> None:
    client = make_client(require_second_person=True)
    to_dry_run(client, auth)
    code = request_live(client, auth, who="admin")
    refusal(confirm(client, auth, code, who="admin"), "SECOND_PERSON_REQUIRED")
    assert state(client, auth) == "LIVE_PENDING_CONFIRMATION"
    assert confirm(client, auth, code, who="admin2").status_code == 200
    assert state(client, auth) == "LIVE_ACTIVE"


@pytest.mark.usefixtures("credentials")
@pytest.mark.parametrize("confirmed", [False, True], ids=["pending", "live-active"])
def test_when_killed_during_the_flow_then_emergency_stop_and_no_way_to_live(
    client: TestClient, auth: Auth, confirmed: bool
) -> None:
    to_dry_run(client, auth)
    code = request_live(client, auth)
    if confirmed:
        assert confirm(client, auth, code).status_code == 200
    killed = client.post("/api/kill-switch/activate", json={"reason": "market halt"}, headers=auth["viewer"])
    assert killed.json()["after"] == "EMERGENCY_STOP"
    status = client.get("/api/status", headers=auth["viewer"]).json()
    assert (status["state"], status["can_trade"], status["pending_live"]) == ("EMERGENCY_STOP", False, None)
    refusal(confirm(client, auth, code), "LIVE_REQUEST_REFUSED")
    refusal(client.post("/api/live/request", headers=auth["operator"]), "LIVE_REQUEST_REFUSED")
    assert state(client, auth) == "EMERGENCY_STOP"


@pytest.mark.usefixtures("credentials")
def test_when_cancelled_then_back_to_dry_run_and_the_code_is_dead(client: TestClient, auth: Auth) -> None:
    to_dry_run(client, auth)
    code = request_live(client, auth)
    response = client.post("/api/live/cancel", json={"reason": "not today"}, headers=auth["operator"])
    assert response.json()["after"] == "DRY_RUN"
    assert response.json()["transitions"][0]["reason"] == "not today"
    refusal(confirm(client, auth, code), "NO_PENDING_REQUEST")
    again = client.post("/api/live/cancel", json={}, headers=auth["operator"])  # nothing to do: not a refusal
    assert again.status_code == 200
    assert again.json()["changed"] is False
    assert "nothing to cancel" in again.json()["messages"][0]
