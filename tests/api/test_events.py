"""The event stream from a real ``nija serve`` process: a kill switch activated by the CLI
in another process reaches a connected client, without any request from that client."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.runtime.runtime_helpers import wait_for
from tests.serving import child_env, events, free_port, make_token, serving


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
        # The kill file is raised before the record is written: wait for the recorded kill.
        killed = next(body for name, body in stream if name == "status" and _recorded_kill(body))
    assert killed["state"] == "EMERGENCY_STOP"
    kill = killed["kill_switch"]
    assert isinstance(kill, dict)
    assert kill["active"] is True
    # Whoever recorded it first (the CLI, or the server adopting the bare kill file on a
    # slow machine), the CLI's activation is in the history with its reason.
    history = httpx.get(base + "/api/history", headers=headers, timeout=30).json()
    assert any(k["reason"] == "exchange outage" and k["source"] == "cli" for k in history["kill_switch"])


def _answers(base: str) -> bool:
    try:
        httpx.get(base + "/healthz", timeout=1)
    except httpx.TransportError:
        return False
    return True


def _recorded_kill(status: dict[str, object]) -> bool:
    kill = status["kill_switch"]
    return isinstance(kill, dict) and kill["active"] is True and kill["reason"] is not None


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
        assert (first["running"], first["report"]) == (False, None)
        write_report(
            data_dir,
            BotReport(updated_at="2026-01-01T00:00:00+00:00", mode="simulated", broker="paper", pnl=Pnl(equity=123.5)),
        )
        # Runtime events may repeat the old report first (their order against the write is not ours).
        update = next(body for name, body in stream if name == "runtime" and body["report"] is not None)
    report = update["report"]
    assert isinstance(report, dict)
    assert report["pnl"]["equity"] == 123.5


def test_when_the_token_is_revoked_then_its_open_stream_ends_before_the_next_event(
    server: tuple[str, str], data_dir: Path
) -> None:
    base, token = server
    with httpx.stream("GET", base + "/api/events", headers={"Authorization": f"Bearer {token}"}, timeout=30) as r:
        stream = events(r)
        next(body for name, body in stream if name == "status")
        for command in (["token", "revoke", "watcher"], ["kill", "activate", "after", "revocation"]):
            subprocess.run(
                [sys.executable, "-m", "nija", *command, "--data-dir", str(data_dir)],
                env=child_env(),
                check=True,
                capture_output=True,
            )
        after = [body for name, body in stream if name == "status"]  # ends when the server closes it
    assert after == []


def test_when_the_server_is_interrupted_with_a_stream_open_then_it_ends_the_stream_and_exits_cleanly(
    data_dir: Path, tmp_path: Path
) -> None:
    token = make_token(data_dir, "watcher", "viewer")
    port, log = free_port(), tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nija", "serve", "--port", str(port), "--data-dir", str(data_dir)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=child_env(),
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: _answers(base), what="nija serve answering /healthz")
            with httpx.stream(
                "GET", base + "/api/events", headers={"Authorization": f"Bearer {token}"}, timeout=30
            ) as r:
                stream = events(r)
                next(body for name, body in stream if name == "status")
                proc.send_signal(signal.SIGINT)
                rest = [name for name, _ in stream]  # returns only because the server ended the stream
            assert set(rest) <= {"runtime"}  # at most the snapshot already queued at connection
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text = log.read_text()
    assert "graceful shutdown exceeded" not in text
    assert "Traceback" not in text
