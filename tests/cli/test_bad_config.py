"""A typo in nija.toml must not stop "always run status first": diagnosis and recovery
warn and carry on with what they need; commands whose behaviour the settings change
(``nija run``, the live flow) still refuse the file by name (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from nija.api.app import create_app
from nija.api.tokens import Role, TokenFile
from nija.config import load_config_lenient
from tests.conftest import Run
from tests.serving import make_token, serving

TYPO = "[strategy]\nfast_windw = 5\n"  # an unrelated key, misspelt


def _state(data_dir: Path) -> str:
    return str(json.loads((data_dir / ".nija_trading_state.json").read_text())["current_state"])


@pytest.mark.parametrize(
    "toml",
    [TYPO, "this is = = not toml\n", "[no_such_section]\nx = 1\n", '[live]\nmin_dry_run_minutes = "soon"\n'],
    ids=["typo", "bad_syntax", "unknown_section", "bad_live_value"],
)
def test_when_nija_toml_is_invalid_then_status_and_history_warn_and_carry_on(
    run: Run, data_dir: Path, toml: str
) -> None:
    (data_dir / "nija.toml").write_text(toml)
    status = run("safe_restore_trading.py", "status")
    assert status.returncode == 0, status.stderr
    assert "Trading State Machine: OFF" in status.stdout
    assert "nija.toml" in status.stderr
    assert "Warning" in status.stderr
    as_json = run("nija", "status", "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["state"] == "OFF"  # stdout stays pure JSON
    assert run("nija", "history").returncode == 0


def test_the_warning_names_the_bad_key_and_what_falls_back(run: Run, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text("[live]\nmin_dry_run_minutes = 5\n" + TYPO)
    status = run("safe_restore_trading.py", "status")
    assert status.returncode == 0, status.stderr
    assert "strategy.fast_windw" in status.stderr
    assert "[strategy]" in status.stderr
    assert "[live]" not in status.stderr  # the valid section is kept, not reported


def test_when_nija_toml_is_invalid_then_restore_reset_and_kill_still_work(run: Run, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text(TYPO)
    restored = run("safe_restore_trading.py", "restore", "--yes")
    assert restored.returncode == 0, restored.stderr
    assert _state(data_dir) == "DRY_RUN"
    assert run("emergency_kill_switch.py", "activate", "drill").returncode == 0
    assert _state(data_dir) == "EMERGENCY_STOP"
    assert run("emergency_kill_switch.py", "deactivate", "drill over", "--yes").returncode == 0
    reset = run("safe_restore_trading.py", "reset", "--yes")
    assert reset.returncode == 0, reset.stderr
    assert _state(data_dir) == "OFF"


def test_when_nija_toml_is_invalid_then_run_and_the_live_flow_refuse_it_by_name(run: Run, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text(TYPO)
    assert run("safe_restore_trading.py", "restore", "--yes").returncode == 0
    before = (data_dir / ".nija_trading_state.json").read_bytes()
    bot = run("nija", "run", "--data-dir", str(data_dir))
    assert bot.returncode == 2, bot.stderr
    assert "strategy.fast_windw" in bot.stderr
    request = run("nija", "live", "request")
    assert request.returncode == 2, request.stderr
    assert "strategy.fast_windw" in request.stderr
    assert (data_dir / ".nija_trading_state.json").read_bytes() == before  # the refusals wrote nothing


def test_a_bad_notification_url_in_a_warning_does_not_echo_its_secret(run: Run, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text('[notifications]\nurls = ["nosuchscheme://s3cr3t-token@x"]\n')
    status = run("safe_restore_trading.py", "status")
    assert status.returncode == 0, status.stderr
    assert "notifications.urls" in status.stderr
    assert "s3cr3t-token" not in status.stderr + status.stdout


def test_the_snapshot_control_center_warns_and_shows_the_state(run: Run, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text(TYPO)
    snapshot = run("nija_control_center.py", "--snapshot", "--data-dir", str(data_dir))
    assert snapshot.returncode == 0, snapshot.stderr
    assert "OFF" in snapshot.stdout
    assert "WARNING" in snapshot.stdout
    assert "fast_windw" in snapshot.stdout


def test_a_server_that_carried_on_past_a_bad_file_refuses_the_live_flow(data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text("[live]\nrequire_second_person = treu\n")
    warnings: list[str] = []
    settings = load_config_lenient(data_dir, warnings.append)
    assert settings.live.require_second_person is False  # the dropped section's default ...
    assert warnings
    admin = TokenFile(data_dir).create("admin", Role.ADMIN, "test")[0]
    with TestClient(create_app(data_dir, settings, config_problem=warnings[0])) as client:
        headers = {"Authorization": f"Bearer {admin}"}
        assert client.get("/api/status", headers=headers).status_code == 200
        assert client.post("/api/restore", headers=headers).status_code == 200
        response = client.post("/api/live/request", headers=headers)
    # ... so the live flow must not run on it: the policy might be what was dropped.
    assert response.status_code >= 400
    assert "nija.toml" in response.text
    assert _state(data_dir) == "DRY_RUN"


def test_when_nija_toml_is_invalid_then_kill_status_and_history_warn_and_exit_0(run: Run, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text(TYPO)
    for command in ("status", "history"):
        done = run("emergency_kill_switch.py", command)
        assert done.returncode == 0, done.stderr
        assert "fast_windw" in done.stderr
    assert "KILL SWITCH: inactive" in run("emergency_kill_switch.py", "status").stdout


def test_when_nija_toml_is_invalid_then_nija_serve_starts_warns_and_serves_the_state(data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text(TYPO)
    token = make_token(data_dir, "alice", "viewer")
    log = data_dir.parent / "serve-bad-config.log"
    with serving(data_dir, log=log) as base:
        body = httpx.get(base + "/api/status", headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    assert body["state"] == "OFF"
    logged = log.read_text()
    assert "fast_windw" in logged
    assert "Live trading cannot be requested until nija.toml is fixed" in logged


def test_a_heartbeat_slower_than_the_readers_liveness_window_is_refused_by_name(run: Run, data_dir: Path) -> None:
    """Readers count a bot gone (its live with it) 15 s after its last beat: a 30 s beat
    would make every reader see it come and go."""
    (data_dir / "nija.toml").write_text("[bot]\nheartbeat_s = 30\n")
    assert run("safe_restore_trading.py", "restore", "--yes").returncode == 0
    bot = run("nija", "run", "--data-dir", str(data_dir))
    assert bot.returncode == 2, bot.stderr
    assert "bot.heartbeat_s" in bot.stderr
    assert "less than or equal to 5" in bot.stderr
    (data_dir / "nija.toml").write_text("[bot]\nheartbeat_s = 5\n")
    assert "bot.heartbeat_s" not in run("nija", "status").stderr
