"""Through the API: a repeated activation keeps the cause, and a touch after the look
refuses the deactivation with nothing written."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi.testclient import TestClient


def test_a_repeated_activation_through_the_api_keeps_the_first_cause(
    client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    assert client.post("/api/kill-switch/activate", json={"reason": "first"}, headers=auth["viewer"]).status_code == 200
    first = client.get("/api/status", headers=auth["viewer"]).json()["kill_switch"]
    again = client.post("/api/kill-switch/activate", json={"reason": "second"}, headers=auth["operator"])
    assert again.status_code == 200
    assert any("already active since" in m for m in again.json()["messages"])
    now = client.get("/api/status", headers=auth["viewer"]).json()["kill_switch"]
    assert (now["reason"], now["since"], now["actor"]) == ("first", first["since"], first["actor"])
    kills = client.get("/api/history", headers=auth["viewer"]).json()["kill_switch"]
    assert [(k["reason"], k["repeated"]) for k in kills] == [("first", False), ("second", True)]


def test_a_touch_after_the_look_refuses_the_api_deactivation_and_writes_nothing(
    client: TestClient, auth: dict[str, dict[str, str]], data_dir: Path
) -> None:
    client.post("/api/kill-switch/activate", json={"reason": "first"}, headers=auth["viewer"])
    seen = client.get("/api/status", headers=auth["viewer"]).json()["kill_switch"]["seen"]
    kill_file = data_dir / "EMERGENCY_STOP"
    st = kill_file.stat()
    os.utime(kill_file, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    before = (data_dir / ".nija_kill_switch_state.json").read_bytes()
    refused = client.post(
        "/api/kill-switch/deactivate", json={"reason": "fixed", "expected": seen}, headers=auth["admin"]
    )
    assert refused.status_code == 409, refused.text
    assert (data_dir / ".nija_kill_switch_state.json").read_bytes() == before
    assert client.get("/api/status", headers=auth["viewer"]).json()["kill_switch"]["active"] is True
