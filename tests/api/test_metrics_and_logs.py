"""The API server's Prometheus endpoint and request ids, through the real app."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families


def gauge(text: str, name: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    raise AssertionError(f"{name} not exposed")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_metrics_need_a_token(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 401


def test_metrics_follow_a_kill_and_a_restore(client: TestClient, tokens: dict[str, str]) -> None:
    viewer, admin = bearer(tokens["viewer"]), bearer(tokens["admin"])
    assert client.post("/api/restore", headers=admin).status_code == 200
    before = client.get("/metrics", headers=viewer)
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/plain")
    assert gauge(before.text, "nija_kill_switch_active") == 0
    assert gauge(before.text, "nija_can_trade") == 1
    assert client.post("/api/kill-switch/activate", json={"reason": "drill"}, headers=viewer).status_code == 200
    killed = client.get("/metrics", headers=viewer).text
    assert gauge(killed, "nija_kill_switch_active") == 1
    assert gauge(killed, "nija_can_trade") == 0
    assert client.post("/api/kill-switch/deactivate", json={"reason": "drill over"}, headers=admin).status_code == 200
    assert client.post("/api/restore", headers=admin).status_code == 200
    assert gauge(client.get("/metrics", headers=viewer).text, "nija_can_trade") == 1


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    assert client.get("/healthz").headers.get("x-request-id")


def test_server_records_a_bare_kill_file_so_deleting_it_undoes_nothing(
    make_client: Callable[..., TestClient], data_dir: Path, tokens: dict[str, str]
) -> None:
    admin = bearer(tokens["admin"])
    with make_client() as client:  # the context runs the app's watcher
        assert client.post("/api/restore", headers=admin).status_code == 200
        (data_dir / "EMERGENCY_STOP").touch()
        deadline = time.monotonic() + 30
        while client.get("/api/status", headers=admin).json()["kill_switch"]["record_active"] is not True:
            assert time.monotonic() < deadline, "the server never recorded the bare kill file"
            time.sleep(0.1)
        (data_dir / "EMERGENCY_STOP").unlink()
        status = client.get("/api/status", headers=admin).json()
        assert status["kill_switch"]["active"] is True
        assert status["state"] == "EMERGENCY_STOP"


def test_deactivation_from_a_stale_view_is_refused(client: TestClient, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    assert client.post("/api/kill-switch/activate", json={"reason": "first"}, headers=admin).status_code == 200
    seen = client.get("/api/status", headers=admin).json()["kill_switch"]["seen"]
    assert client.post("/api/kill-switch/activate", json={"reason": "second"}, headers=admin).status_code == 200
    stale = client.post("/api/kill-switch/deactivate", json={"reason": "fixed", "expected": seen}, headers=admin)
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "STATE_CHANGED"
    assert client.get("/api/status", headers=admin).json()["kill_switch"]["active"] is True
    fresh = client.get("/api/status", headers=admin).json()["kill_switch"]["seen"]
    done = client.post("/api/kill-switch/deactivate", json={"reason": "fixed", "expected": fresh}, headers=admin)
    assert done.status_code == 200
