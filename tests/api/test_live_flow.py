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
from nija.testing import FakeClock, HeartbeatBot
from tests.api.conftest import MakeClient

Auth = dict[str, dict[str, str]]


def to_dry_run(client: TestClient, auth: Auth) -> None:
    assert client.post("/api/restore", json={}, headers=auth["operator"]).json()["after"] == "DRY_RUN"


def request_live(client: TestClient, auth: Auth, bot: HeartbeatBot, who: str = "operator") -> str:
    """Request live for the running bot, which then acknowledges it (as its watcher would)."""
    response = client.post("/api/live/request", headers=auth[who])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcome"]["after"] == "LIVE_PENDING_CONFIRMATION"
    bot.step()
    return str(body["code"])


def confirm(
    client: TestClient, auth: Auth, code: str, phrase: str = ACKNOWLEDGMENT_PHRASE, who: str = "admin"
) -> httpx.Response:
    response: httpx.Response = client.post(
        "/api/live/confirm", json={"code": code, "phrase": phrase}, headers=auth[who]
    )
    return response


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
    bot: HeartbeatBot, client: TestClient, auth: Auth, clock: FakeClock
) -> None:
    to_dry_run(client, auth)
    response = client.post("/api/live/request", headers=auth["operator"])
    body = response.json()
    assert len(body["code"].replace("-", "")) * 5 >= 64  # base32 characters: at least 64 bits
    assert body["expires_at"] == (clock.now.replace(minute=10)).isoformat()  # default window: 10 minutes
    pending = client.get("/api/status", headers=auth["viewer"]).json()["pending_live"]
    assert pending == {
        "requested_by": "operator",
        "requested_at": clock.now.isoformat(),
        "expires_at": body["expires_at"],
        "run": bot.run_id[:8],
        "acknowledged": False,
        "wrong_codes": 0,
    }
    assert body["code"] not in json.dumps(pending)
    refusal(confirm(client, auth, body["code"]), "NOT_ACKNOWLEDGED")  # the bot has not seen it yet
    bot.step()
    assert client.get("/api/status", headers=auth["viewer"]).json()["pending_live"]["acknowledged"] is True
    result = confirm(client, auth, body["code"].lower())  # codes are case-insensitive
    assert result.status_code == 200
    assert result.json()["after"] == "LIVE_ACTIVE"
    status = client.get("/api/status", headers=auth["viewer"]).json()
    assert (status["can_trade"], status["permission"]["code"]) == (False, "LIVE_NOT_VERIFIED")  # not yet
    assert status["inconsistencies"] == []  # made for the running bot's run: it verifies within a beat
    assert bot.step().allowed
    status = client.get("/api/status", headers=auth["viewer"]).json()
    assert (status["state"], status["can_trade"], status["mode"]) == ("LIVE_ACTIVE", True, "live")
    assert status["recent_history"][-1]["actor"] == "admin"
    assert ACKNOWLEDGMENT_PHRASE in status["recent_history"][-1]["reason"]


@pytest.mark.usefixtures("credentials", "bot")
def test_when_not_in_dry_run_then_request_is_refused(client: TestClient, auth: Auth) -> None:
    message = refusal(client.post("/api/live/request", headers=auth["operator"]), "LIVE_REQUEST_REFUSED")
    assert "OFF" in message
    assert "DRY_RUN" in message


@pytest.mark.usefixtures("credentials")
@pytest.mark.usefixtures("bot")
def test_when_the_kill_switch_is_active_then_request_is_refused(client: TestClient, auth: Auth) -> None:
    to_dry_run(client, auth)
    client.post("/api/kill-switch/activate", json={"reason": "test"}, headers=auth["viewer"])
    message = refusal(client.post("/api/live/request", headers=auth["operator"]), "LIVE_REQUEST_REFUSED")
    assert "kill switch is active" in message


@pytest.mark.usefixtures("credentials")
def test_when_dry_run_is_too_short_then_the_refusal_says_how_long_remains(
    bot: HeartbeatBot, make_client: MakeClient, auth: Auth, clock: FakeClock
) -> None:
    client = make_client(min_dry_run_minutes=60)
    to_dry_run(client, auth)
    bot.dry_run_s = 45 * 60  # what the running bot counted, whatever the wall clock says
    clock.advance(minutes=600)
    bot.step()
    message = refusal(client.post("/api/live/request", headers=auth["operator"]), "DRY_RUN_TOO_SHORT")
    assert "15.0 minutes remain" in message
    bot.dry_run_s = 60 * 60
    bot.step()
    request_live(client, auth, bot)


@pytest.mark.usefixtures("bot")
def test_when_no_credentials_are_configured_then_request_is_refused(
    client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NIJA_API_KEY", raising=False)
    monkeypatch.delenv("NIJA_API_SECRET", raising=False)
    to_dry_run(client, auth)
    refusal(client.post("/api/live/request", headers=auth["operator"]), "NO_CREDENTIALS")
    assert client.get("/api/live/policy", headers=auth["viewer"]).json()["credentials_configured"] is False


@pytest.mark.usefixtures("bot")
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
@pytest.mark.usefixtures("bot")
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
    bot: HeartbeatBot, client: TestClient, auth: Auth
) -> None:
    to_dry_run(client, auth)
    code = request_live(client, auth, bot)
    for wrong in ("", ACKNOWLEDGMENT_PHRASE.lower(), ACKNOWLEDGMENT_PHRASE + "."):
        response = confirm(client, auth, code, wrong)
        refusal(response, "ACKNOWLEDGMENT_REQUIRED")
        assert ACKNOWLEDGMENT_PHRASE in response.json()["error"]["fix"]
    assert state(client, auth) == "LIVE_PENDING_CONFIRMATION"


@pytest.mark.usefixtures("credentials")
def test_when_the_code_is_wrong_or_reused_then_confirm_is_refused(
    bot: HeartbeatBot, client: TestClient, auth: Auth
) -> None:
    to_dry_run(client, auth)
    code = request_live(client, auth, bot)
    refusal(confirm(client, auth, "AAAA-AAAA-AAAA-AAAA"), "WRONG_CODE")
    assert confirm(client, auth, code).status_code == 200
    refusal(confirm(client, auth, code), "NO_PENDING_REQUEST")
    assert state(client, auth) == "LIVE_ACTIVE"


@pytest.mark.usefixtures("credentials")
def test_when_the_window_has_passed_then_confirm_is_refused_and_the_state_is_dry_run(
    bot: HeartbeatBot, client: TestClient, auth: Auth, clock: FakeClock
) -> None:
    to_dry_run(client, auth)
    code = request_live(client, auth, bot)
    clock.advance(minutes=10, seconds=1)
    message = refusal(confirm(client, auth, code), "PENDING_CONFIRMATION_EXPIRED")
    assert "expired" in message
    assert state(client, auth) == "DRY_RUN"
    refusal(confirm(client, auth, code), "NO_PENDING_REQUEST")


@pytest.mark.usefixtures("credentials")
def test_when_the_window_passes_with_the_server_running_then_it_returns_to_dry_run_by_itself(
    bot: HeartbeatBot, client: TestClient, auth: Auth, clock: FakeClock
) -> None:
    with client:  # runs the lifespan: the watcher expires requests nobody confirmed
        to_dry_run(client, auth)
        request_live(client, auth, bot)
        clock.advance(minutes=11)
        deadline = time.monotonic() + 60
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
    bot: HeartbeatBot, make_client: MakeClient, auth: Auth
) -> None:
    client = make_client(require_second_person=True)
    to_dry_run(client, auth)
    code = request_live(client, auth, bot, who="admin")
    refusal(confirm(client, auth, code, who="admin"), "SECOND_PERSON_REQUIRED")
    assert state(client, auth) == "LIVE_PENDING_CONFIRMATION"
    assert confirm(client, auth, code, who="admin2").status_code == 200
    assert state(client, auth) == "LIVE_ACTIVE"


@pytest.mark.usefixtures("credentials")
@pytest.mark.parametrize("confirmed", [False, True], ids=["pending", "live-active"])
def test_when_killed_during_the_flow_then_emergency_stop_and_no_way_to_live(
    bot: HeartbeatBot, client: TestClient, auth: Auth, confirmed: bool
) -> None:
    to_dry_run(client, auth)
    code = request_live(client, auth, bot)
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
def test_when_cancelled_then_back_to_dry_run_and_the_code_is_dead(
    bot: HeartbeatBot, client: TestClient, auth: Auth
) -> None:
    to_dry_run(client, auth)
    code = request_live(client, auth, bot)
    response = client.post("/api/live/cancel", json={"reason": "not today"}, headers=auth["operator"])
    assert response.json()["after"] == "DRY_RUN"
    assert response.json()["transitions"][0]["reason"] == "not today"
    refusal(confirm(client, auth, code), "NO_PENDING_REQUEST")
    again = client.post("/api/live/cancel", json={}, headers=auth["operator"])  # nothing to do: not a refusal
    assert again.status_code == 200
    assert again.json()["changed"] is False
    assert "nothing to cancel" in again.json()["messages"][0]


@pytest.mark.usefixtures("credentials")
def test_when_a_live_state_is_restored_under_a_running_bot_then_status_reports_it_with_the_fix(
    bot: HeartbeatBot, client: TestClient, auth: Auth, data_dir: Path
) -> None:
    to_dry_run(client, auth)
    code = request_live(client, auth, bot)
    assert confirm(client, auth, code).status_code == 200
    assert bot.step().allowed
    backup = (data_dir / ".nija_trading_state.json").read_bytes()  # taken while legitimately live
    assert client.post("/api/restore", json={}, headers=auth["operator"]).json()["after"] == "DRY_RUN"
    bot.step()  # the bot saw live end
    (data_dir / ".nija_trading_state.json").write_bytes(backup)
    assert bot.step().code == "LIVE_NOT_VERIFIED"
    status = client.get("/api/status", headers=auth["viewer"]).json()
    assert (status["state"], status["can_trade"], status["bot"]["live_verified"]) == ("LIVE_ACTIVE", False, False)
    (issue,) = [i for i in status["inconsistencies"] if i["code"] == "LIVE_NOT_VERIFIED"]
    assert "already used" in issue["message"]
    assert "restore" in issue["fix"]
