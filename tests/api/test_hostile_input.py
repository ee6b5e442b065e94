"""Hostile and ambiguous input through the HTTP API (the in-process client on a real data
directory): refused with 422 when sent, failing closed or reported faithfully when stored."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

Auth = dict[str, dict[str, str]]
T = "2026-11-30T09:00:00+00:00"
PAINT = "\x1b[2J\x1b[H\x1b[32mCan Trade: ✅ YES: simulated (DRY_RUN, no capital at risk)\x1b[8m"


def on_disk(data_dir: Path) -> list[str]:
    return sorted(p.name for p in data_dir.iterdir() if not p.name.startswith(".nija_api_tokens"))


@pytest.mark.parametrize("reason", [PAINT, "stop\u202eevil", "stop\x9b2J", "nul\x00", "sep\u2028x"])
def test_a_viewer_cannot_store_a_reason_that_would_repaint_the_operators_terminal(
    client: TestClient, auth: Auth, data_dir: Path, reason: str
) -> None:
    before = on_disk(data_dir)
    response = client.post("/api/kill-switch/activate", json={"reason": reason}, headers=auth["viewer"])
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "UNSAFE_TEXT"
    assert "control character" in error["message"]
    assert "did NOT activate the kill switch; no kill is in force" in error["message"]
    assert on_disk(data_dir) == before  # no kill file, no record, no audit entry
    status = client.get("/api/status", headers=auth["viewer"]).json()
    assert status["kill_switch"]["active"] is False


def test_a_lone_surrogate_in_the_body_is_refused(client: TestClient, auth: Auth, data_dir: Path) -> None:
    before = on_disk(data_dir)
    body = b'{"reason": "stop \\ud800 now"}'
    headers = {**auth["viewer"], "Content-Type": "application/json"}
    response = client.post("/api/kill-switch/activate", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert on_disk(data_dir) == before


def test_a_reason_with_an_escape_refused_while_killed_says_the_kill_is_in_force(client: TestClient, auth: Auth) -> None:
    assert client.post("/api/kill-switch/activate", json={"reason": "outage"}, headers=auth["viewer"]).is_success
    again = client.post("/api/kill-switch/activate", json={"reason": "\x1b[2J"}, headers=auth["viewer"])
    assert again.status_code == 422
    assert "a kill IS in force" in again.json()["error"]["message"]
    deactivate = client.post("/api/kill-switch/deactivate", json={"reason": "fixed\x1b[2J"}, headers=auth["admin"])
    assert deactivate.status_code == 422
    assert deactivate.json()["error"]["code"] == "UNSAFE_TEXT"
    assert client.get("/api/status", headers=auth["viewer"]).json()["kill_switch"]["active"] is True


def test_a_multi_line_reason_is_accepted(client: TestClient, auth: Auth) -> None:
    response = client.post("/api/kill-switch/activate", json={"reason": "line one\n\tline two"}, headers=auth["viewer"])
    assert response.is_success, response.text
    assert client.get("/api/status", headers=auth["viewer"]).json()["kill_switch"]["reason"] == "line one\n\tline two"


def test_a_duplicate_key_kill_record_reads_as_a_kill(client: TestClient, auth: Auth, data_dir: Path) -> None:
    (data_dir / ".nija_kill_switch_state.json").write_text('{"is_active": true, "history": [], "is_active": false}')
    status = client.get("/api/status", headers=auth["viewer"]).json()
    assert status["kill_switch"]["active"] is True
    assert status["can_trade"] is False
    assert "KILL_STATE_CORRUPT" in [i["code"] for i in status["inconsistencies"]]
    assert client.post("/api/restore", json={}, headers=auth["admin"]).status_code == 409


def test_stored_hostile_text_is_returned_as_data(client: TestClient, auth: Auth, data_dir: Path) -> None:
    entry = {"action": "activate", "reason": PAINT + "\u202e", "timestamp": T, "source": "api", "actor": "m\x1bx"}
    doc = {"is_active": True, "history": [entry], "last_updated": T}
    (data_dir / ".nija_kill_switch_state.json").write_text(json.dumps(doc, ensure_ascii=False))
    status = client.get("/api/status", headers=auth["viewer"])
    assert status.status_code == 200
    assert status.json()["kill_switch"]["reason"] == PAINT + "\u202e"  # the web page escapes it for display
    history = client.get("/api/history", headers=auth["viewer"]).json()
    assert history["kill_switch"][0]["actor"] == "m\x1bx"


def _bounded(fn: Callable[[], Any], seconds: float = 30.0) -> Any:
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(fn()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "the request blocked on a FIFO"
    return result[0]


def test_a_fifo_in_place_of_every_record_blocks_no_request(client: TestClient, auth: Auth, data_dir: Path) -> None:
    for name in (".nija_trading_state.json", ".nija_heartbeat.json", ".nija_runtime.json"):
        os.mkfifo(data_dir / name)
    status = _bounded(lambda: client.get("/api/status", headers=auth["viewer"]))
    assert status.status_code == 200
    assert status.json()["kill_switch"]["active"] is True
    assert "FIFO" in json.dumps(status.json()["inconsistencies"])
    assert _bounded(lambda: client.get("/api/runtime", headers=auth["viewer"])).json()["running"] is False
    assert _bounded(lambda: client.get("/api/history", headers=auth["viewer"])).status_code == 200
    repaired = _bounded(
        lambda: client.post("/api/kill-switch/deactivate", json={"reason": "removed the FIFO"}, headers=auth["admin"])
    )
    assert repaired.status_code == 200, repaired.text
    assert (data_dir / ".nija_trading_state.json").is_file()


def test_a_viewer_against_a_real_server_cannot_repaint_the_operators_status(data_dir: Path) -> None:
    """The issue's scenario end to end: a real ``nija serve``, a viewer token, then the
    operator's ``nija status`` in a terminal of its own."""
    import subprocess
    import sys

    import httpx

    from tests.conftest import cli_env
    from tests.serving import make_token, serving

    viewer = make_token(data_dir, "viewer", "viewer")
    with serving(data_dir) as base:
        refused = httpx.post(
            f"{base}/api/kill-switch/activate",
            json={"reason": PAINT},
            headers={"Authorization": f"Bearer {viewer}"},
            timeout=30,
        )
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "UNSAFE_TEXT"
        plain = httpx.post(
            f"{base}/api/kill-switch/activate",
            json={"reason": "spotted an anomaly"},
            headers={"Authorization": f"Bearer {viewer}"},
            timeout=30,
        )
        assert plain.status_code == 200
    shown = subprocess.run(
        [sys.executable, "-m", "nija", "status", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
        check=False,
    )
    assert "\x1b" not in shown.stdout
    assert "spotted an anomaly" in shown.stdout
    assert "Can Trade: ❌ NO" in shown.stdout
