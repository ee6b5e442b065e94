"""The event stream from a real ``nija serve`` process: a kill switch activated by the CLI
in another process reaches a connected client, without any request from that client."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.serving import child_env, make_token, serving


def events(response: httpx.Response) -> Iterator[tuple[str, dict[str, object]]]:
    """Parse server-sent events from a streaming response."""
    name, data = "message", []
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            yield name, json.loads("\n".join(data))
            name, data = "message", []


@pytest.fixture
def server(data_dir: Path) -> Iterator[tuple[str, str]]:
    token = make_token(data_dir, "watcher", "viewer")
    with serving(data_dir) as base:
        yield base, token


def test_when_the_cli_activates_the_kill_switch_then_a_connected_client_receives_it(
    server: tuple[str, str], data_dir: Path
) -> None:
    base, token = server
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.stream("GET", base + "/api/events", headers=headers, timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response)
        first = next(body for name, body in stream if name == "status")
        assert first["state"] == "OFF"
        subprocess.run(
            [sys.executable, "-m", "nija", "kill", "activate", "exchange", "outage", "--data-dir", str(data_dir)],
            env=child_env(),
            check=True,
            capture_output=True,
        )
        killed = next(body for name, body in stream if name == "status" and body["state"] != "OFF")
    assert killed["state"] == "EMERGENCY_STOP"
    kill = killed["kill_switch"]
    assert isinstance(kill, dict)
    assert (kill["active"], kill["reason"], kill["source"]) == (True, "exchange outage", "cli")


def test_when_the_stream_is_opened_without_a_token_then_401(server: tuple[str, str]) -> None:
    base, _ = server
    response = httpx.get(base + "/api/events", timeout=10)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"


def test_when_a_bot_publishes_its_report_then_a_runtime_event_follows(server: tuple[str, str], data_dir: Path) -> None:
    from nija.bot_report import BotReport, Pnl, write_report

    base, token = server
    with httpx.stream("GET", base + "/api/events", headers={"Authorization": f"Bearer {token}"}, timeout=30) as r:
        stream = events(r)
        first = next(body for name, body in stream if name == "runtime")
        assert first == {"running": False, "report": None}
        write_report(
            data_dir,
            BotReport(updated_at="2026-01-01T00:00:00+00:00", mode="simulated", broker="paper", pnl=Pnl(equity=123.5)),
        )
        update = next(body for name, body in stream if name == "runtime")
    report = update["report"]
    assert isinstance(report, dict)
    assert report["pnl"]["equity"] == 123.5
