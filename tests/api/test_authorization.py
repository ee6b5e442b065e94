"""Authentication and the role matrix: every endpoint that changes something, with no
token, a wrong token and each role; the actor recorded is the token's name."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import structlog.testing
from fastapi.testclient import TestClient

from nija.api.tokens import TOKENS_FILE, TokenFile
from nija.config import ApiSettings
from tests.api.conftest import MakeClient

# endpoint -> (body, the lowest role allowed)
CHANGING = {
    "/api/kill-switch/activate": ({"reason": "matrix test"}, "viewer"),
    "/api/kill-switch/deactivate": ({"reason": "matrix test"}, "admin"),
    "/api/restore": ({}, "operator"),
    "/api/reset": ({}, "operator"),
    "/api/live/request": (None, "operator"),
    "/api/live/confirm": ({"code": "ABCD1234", "phrase": "x"}, "admin"),
    "/api/live/cancel": ({}, "operator"),
}
READING = [
    "/api/status",
    "/api/history",
    "/api/runtime",
    "/api/whoami",
    "/api/live/policy",
    "/api/restore/plan",
    "/api/reset/plan",
]
RANK = {"viewer": 0, "operator": 1, "admin": 2}


@pytest.mark.parametrize("caller", ["none", "wrong", "viewer", "operator", "admin"])
@pytest.mark.parametrize("path", list(CHANGING))
def test_when_changing_then_only_allowed_roles_get_past_authorization(
    client: TestClient, auth: dict[str, dict[str, str]], path: str, caller: str
) -> None:
    body, lowest = CHANGING[path]
    before = client.get("/api/history", headers=auth["admin"]).json()
    response = client.post(path, json=body, headers=auth[caller])
    if caller in ("none", "wrong"):
        assert response.status_code == 401
        assert response.json()["error"]["code"] in ("NOT_AUTHENTICATED", "INVALID_TOKEN")
        assert response.headers["www-authenticate"].startswith("Bearer")
    elif RANK[caller] < RANK[lowest]:
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "FORBIDDEN"
        assert lowest in error["message"]
        assert caller in error["message"]
    else:
        # Authorized: the service decided (done, or refused by a safety rule), never 401/403.
        assert response.status_code in (200, 409), response.text
    if response.status_code in (401, 403):
        assert client.get("/api/history", headers=auth["admin"]).json() == before  # nothing changed


@pytest.mark.parametrize("path", READING)
def test_when_reading_then_every_role_may_and_anonymous_may_not(
    client: TestClient, auth: dict[str, dict[str, str]], path: str
) -> None:
    assert client.get(path).status_code == 401
    for role in ("viewer", "operator", "admin"):
        assert client.get(path, headers=auth[role]).status_code == 200


def test_when_viewer_activates_the_kill_switch_then_the_token_name_is_the_recorded_actor(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    response = client.post("/api/kill-switch/activate", json={"reason": "smoke"}, headers=auth["viewer"])
    assert response.status_code == 200
    assert response.json()["after"] == "EMERGENCY_STOP"
    status = client.get("/api/status", headers=auth["viewer"]).json()
    assert len(status["kill_switch"]["seen"]) == 16  # an opaque fingerprint, sent back to deactivate
    assert status["kill_switch"] | {"since": None, "seen": None} == {
        "seen": None,
        "active": True,
        "kill_file_exists": True,
        "record_active": True,
        "reason": "smoke",
        "since": None,
        "source": "api",
        "actor": "viewer",
    }
    history = client.get("/api/history", headers=auth["viewer"]).json()
    assert history["transitions"][-1]["actor"] == "viewer"
    assert history["kill_switch"][-1] | {"timestamp": None} == {
        "action": "activate",
        "reason": "smoke",
        "timestamp": None,
        "actor": "viewer",
        "source": "api",
        "repeated": False,
    }


def test_when_a_token_is_revoked_then_the_next_request_is_refused(
    client: TestClient, auth: dict[str, dict[str, str]], data_dir: Path
) -> None:
    assert client.get("/api/status", headers=auth["operator"]).status_code == 200
    TokenFile(data_dir).revoke("operator")  # as 'nija token revoke' would, from another TokenFile
    response = client.get("/api/status", headers=auth["operator"])
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_TOKEN"


def test_when_authentication_keeps_failing_then_the_client_is_rate_limited(
    make_client: MakeClient, auth: dict[str, dict[str, str]]
) -> None:
    client = make_client(api=ApiSettings(failed_auth_limit=3, failed_auth_window_seconds=600))
    for _ in range(3):
        assert client.get("/api/status", headers=auth["wrong"]).status_code == 401
    limited = client.get("/api/status", headers=auth["wrong"])
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "TOO_MANY_FAILED_SIGN_INS"
    assert 0 < int(limited.headers["retry-after"]) <= 600


def test_when_an_address_is_rate_limited_then_a_valid_token_still_stops_trading(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    # Behind a proxy or on loopback one address is everyone: guesses must not lock out the kill switch.
    for _ in range(12):
        assert client.get("/api/status", headers=auth["wrong"]).status_code in (401, 429)
    assert client.get("/api/status", headers=auth["wrong"]).status_code == 429
    response = client.post("/api/kill-switch/activate", json={"reason": "under attack"}, headers=auth["viewer"])
    assert response.status_code == 200
    status = client.get("/api/status", headers=auth["viewer"]).json()
    assert status["kill_switch"]["active"] is True
    assert client.get("/api/status", headers=auth["wrong"]).status_code == 429


def test_when_no_token_is_sent_then_it_does_not_count_as_a_failed_guess(
    make_client: MakeClient, auth: dict[str, dict[str, str]]
) -> None:
    client = make_client(api=ApiSettings(failed_auth_limit=2))
    for _ in range(5):
        assert client.get("/api/status").status_code == 401
    assert client.get("/api/status", headers=auth["viewer"]).status_code == 200


def test_the_token_file_holds_hashes_only_and_others_cannot_read_it(tokens: dict[str, str], data_dir: Path) -> None:
    path = data_dir / TOKENS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert not any(token in text for token in tokens.values())
    names = [t["name"] for t in json.loads(text)["tokens"]]
    assert names == ["viewer", "operator", "admin", "admin2"]


def test_when_the_token_file_is_readable_by_others_then_requests_fail_closed_without_revealing_it(
    client: TestClient, auth: dict[str, dict[str, str]], data_dir: Path
) -> None:
    (data_dir / TOKENS_FILE).chmod(0o644)
    with structlog.testing.capture_logs() as logged:
        response = client.get("/api/status", headers=auth["admin"])
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "TOKEN_STORE_UNAVAILABLE"
    assert "server log" in error["message"]
    assert str(data_dir) not in response.text  # an unauthenticated caller learns no path
    problem = next(entry for entry in logged if entry["event"] == "token store unavailable")
    assert problem["code"] == "TOKEN_FILE_MODE"
    assert "chmod 600" in problem["fix"]
    assert str(data_dir / TOKENS_FILE) in problem["problem"]


def test_healthz_needs_no_token_and_reveals_nothing(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True}


def test_when_a_kill_comes_without_a_reason_then_it_still_stops_and_records_the_default(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    response = client.post("/api/kill-switch/activate", json={}, headers=auth["operator"])
    assert response.status_code == 200
    assert response.json()["after"] == "EMERGENCY_STOP"
    kill = client.get("/api/status", headers=auth["viewer"]).json()["kill_switch"]
    assert (kill["active"], kill["reason"], kill["actor"]) == (True, "Manual activation", "operator")
