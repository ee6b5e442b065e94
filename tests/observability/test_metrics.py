"""The metrics endpoint parses as Prometheus text and follows a kill and a restore made by
another process."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from nija.assembly import build_service
from nija.domain.events import Event, EventKind
from nija.domain.records import Heartbeat
from nija.domain.transitions import Who
from nija.observability.metrics import Metrics, metrics_of, start_metrics_server
from nija.service import SafetyService
from nija.store import open_store
from tests.conftest import Run

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def served(data_dir: Path) -> Iterator[tuple[SafetyService, str]]:
    service = build_service(data_dir)
    server, thread = start_metrics_server(0, metrics_of(service))
    try:
        yield service, f"http://127.0.0.1:{server.server_port}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - a local test server
        assert response.headers["Content-Type"].startswith("text/plain")
        return parse(response.read().decode())


def state_of(samples: Samples) -> str:
    current = [dict(labels)["state"] for (name, labels), v in samples.items() if name == "nija_state" and v == 1]
    assert len(current) == 1
    return current[0]


def test_metrics_follow_a_kill_and_a_restore_made_by_the_cli(served: tuple[SafetyService, str], run: Run) -> None:
    _, url = served
    before = scrape(url)
    assert state_of(before) == "OFF"
    assert before[("nija_kill_switch_active", ())] == 0
    assert before[("nija_can_trade", ())] == 0
    assert before[("nija_status_readable", ())] == 1

    assert run("emergency_kill_switch.py", "activate", "metrics test").returncode == 0
    killed = scrape(url)
    assert state_of(killed) == "EMERGENCY_STOP"
    assert killed[("nija_kill_switch_active", ())] == 1
    assert killed[("nija_can_trade", ())] == 0

    assert run("emergency_kill_switch.py", "deactivate", "--yes", "fixed").returncode == 0
    assert run("safe_restore_trading.py", "restore", "--yes").returncode == 0
    restored = scrape(url)
    assert state_of(restored) == "DRY_RUN"
    assert restored[("nija_kill_switch_active", ())] == 0
    assert restored[("nija_can_trade", ())] == 1


def test_counters_follow_this_process_events_and_the_order_gate(served: tuple[SafetyService, str]) -> None:
    service, url = served
    metrics = metrics_of(service)
    when = datetime.now(UTC)
    service.publish(
        Event(EventKind.ORDER_DENIED, "bot", "runtime", "kill switch", when, {"code": "KILL_SWITCH_ACTIVE"})
    )
    service.publish(Event(EventKind.ORDER_DENIED, "bot", "runtime", "max position", when, {"code": "RISK_LIMIT"}))
    service.publish(Event(EventKind.ORDER_DENIED, "bot", "runtime", "max position", when, {"code": "RISK_LIMIT"}))
    metrics.order_allowed("simulated")
    metrics.observe_kill_reaction(0.02)
    samples = scrape(url)
    assert samples[("nija_orders_denied_total", (("reason", "KILL_SWITCH_ACTIVE"),))] == 1
    assert samples[("nija_orders_denied_total", (("reason", "RISK_LIMIT"),))] == 2
    assert samples[("nija_orders_allowed_total", (("mode", "simulated"),))] == 1
    assert samples[("nija_events_total", (("kind", "order_denied"),))] == 3
    assert samples[("nija_kill_reaction_seconds_count", ())] == 1
    assert samples[("nija_kill_reaction_seconds_bucket", (("le", "0.025"),))] == 1
    assert samples[("nija_kill_reaction_seconds_bucket", (("le", "0.01"),))] == 0


def test_heartbeat_age_is_exported_once_a_bot_beats(served: tuple[SafetyService, str]) -> None:
    service, url = served
    assert not any(name == "nija_heartbeat_age_seconds" for name, _ in scrape(url))
    beat = datetime.now(UTC) - timedelta(seconds=90)
    service.store.beat(Heartbeat(pid=1, host="h", last_beat=beat, started_at=beat))
    assert scrape(url)[("nija_heartbeat_age_seconds", ())] >= 90


def test_the_asgi_app_serves_the_same_metrics_from_a_fastapi_server(data_dir: Path) -> None:
    service = build_service(data_dir)
    app = FastAPI()
    app.mount("/metrics", metrics_of(service).asgi_app())
    service.activate_kill("asgi", Who("op", "api"))
    with TestClient(app) as client:
        response = client.get("/metrics/")
    assert response.status_code == 200
    samples = parse(response.text)
    assert samples[("nija_kill_switch_active", ())] == 1
    assert state_of(samples) == "EMERGENCY_STOP"


def test_an_unreadable_status_is_reported_not_raised() -> None:
    def broken() -> object:
        raise OSError("disk gone")

    metrics = Metrics(broken)  # type: ignore[arg-type]
    samples = parse(metrics.exposition().decode())
    assert samples[("nija_status_readable", ())] == 0


def test_metrics_of_refuses_a_service_built_by_hand(data_dir: Path) -> None:
    with pytest.raises(LookupError, match="build_service"):
        metrics_of(SafetyService(open_store(data_dir)))
