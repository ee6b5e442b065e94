"""Structured logs: JSON or console lines, state/actor/request id bound, secrets never written."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient

from nija.domain.events import Event, EventKind
from nija.observability.event_logger import EventLogger
from nija.observability.logs import bind_request, configure_logging, redact_secrets
from nija.observability.request_id import RequestIdMiddleware
from nija.observability.settings import LoggingSettings
from tests.conftest import Run

SECRET = "sk-live-9f8e7d6c5b4a"  # noqa: S105 - a fake secret that must never reach a log


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(LoggingSettings(format="json", level="info"), stream=stream)
    yield stream
    structlog.contextvars.clear_contextvars()
    configure_logging(LoggingSettings())


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_secrets_are_redacted_by_key_at_any_depth_and_in_urls() -> None:
    event = {
        "event": "connect",
        "api_key": SECRET,
        "exchange": {"apiKey": SECRET, "Secret": SECRET, "name": "binance"},
        "targets": [{"password": SECRET}, f"https://user:{SECRET}@example.org/x"],
        "urls": [f"tgram://{SECRET}/123"],
        "code": "KILL_SWITCH_ACTIVE",
    }
    cleaned = redact_secrets(None, "info", event)
    assert SECRET not in json.dumps(cleaned)
    assert cleaned["exchange"]["name"] == "binance"
    assert cleaned["targets"][1] == "https://***@example.org/x"
    assert cleaned["code"] == "KILL_SWITCH_ACTIVE"  # error codes are not secrets


def test_an_event_is_one_json_line_with_state_actor_and_request_id(json_lines: io.StringIO) -> None:
    request_id = bind_request()
    EventLogger()(
        Event(
            EventKind.TRANSITION,
            "alice@host",
            "api",
            "kill",
            datetime.now(UTC),
            {"from": "OFF", "to": "EMERGENCY_STOP"},
        )
    )
    structlog.get_logger("nija.api").info("login", token=SECRET, password=SECRET)
    first, second = lines(json_lines)
    assert first["event"] == "transition"
    assert first["state"] == "EMERGENCY_STOP"
    assert first["actor"] == "alice@host"
    assert first["request_id"] == request_id
    assert first["level"] == "info"
    assert second["request_id"] == request_id
    assert second["token"] == "***"  # noqa: S105 - the redaction marker, not a secret
    assert SECRET not in json_lines.getvalue()


def test_the_level_filters_lines(json_lines: io.StringIO) -> None:
    configure_logging(LoggingSettings(format="json", level="warning"), stream=json_lines)
    log = structlog.get_logger("t")
    log.info("quiet")
    log.warning("loud")
    assert [line["event"] for line in lines(json_lines)] == ["loud"]


def test_the_console_form_is_readable_and_redacted() -> None:
    stream = io.StringIO()
    configure_logging(LoggingSettings(format="console", level="info"), stream=stream)
    try:
        structlog.get_logger("t").info("kill_activated", actor="bob", api_secret=SECRET)
    finally:
        configure_logging(LoggingSettings())
    text = stream.getvalue()
    assert "kill_activated" in text
    assert "actor=bob" in text
    assert SECRET not in text


def test_a_cli_kill_is_logged_as_json_to_the_configured_file(run: Run, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text('[logging]\nformat = "json"\nlevel = "info"\nfile = "nija.log"\n')
    assert run("emergency_kill_switch.py", "activate", "logged kill").returncode == 0
    records = [json.loads(line) for line in (data_dir / "nija.log").read_text().splitlines()]
    kill = next(r for r in records if r["event"] == "kill_activated")
    assert kill["reason"] == "logged kill"
    assert kill["source"] == "cli"
    transition = next(r for r in records if r["event"] == "transition")
    assert transition["state"] == "EMERGENCY_STOP"


def test_an_unknown_logging_format_is_refused_by_name(run: Run, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text('[logging]\nformat = "xml"\n')
    result = run("nija", "live", "request")
    assert result.returncode == 2
    assert "logging.format" in result.stderr


def test_the_api_middleware_binds_a_request_id_to_every_line_and_echoes_it(json_lines: io.StringIO) -> None:
    app = FastAPI()
    app.add_middleware(RequestIdMiddleware)

    @app.get("/kill")
    def kill() -> dict[str, str]:
        structlog.get_logger("nija.api").info("kill_requested", actor="alice")
        return {"ok": "yes"}

    with TestClient(app) as client:
        given = client.get("/kill", headers={"X-Request-ID": "req-42"})
        made = client.get("/kill")
        forged = client.get("/kill", headers={"X-Request-ID": "x\nlevel=critical"})
    assert given.headers["x-request-id"] == "req-42"
    assert len(made.headers["x-request-id"]) == 32
    assert forged.headers["x-request-id"] != "x\nlevel=critical"
    ids = [line["request_id"] for line in lines(json_lines)]
    assert ids == [given.headers["x-request-id"], made.headers["x-request-id"], forged.headers["x-request-id"]]
