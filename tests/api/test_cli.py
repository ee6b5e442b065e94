"""``nija token``, ``nija live`` and ``nija serve`` as real processes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from nija.service import system_clock
from nija.store.json_files import JsonFileStore
from nija.testing import HeartbeatBot
from tests.conftest import Run

CREDS = {"NIJA_API_KEY": "k", "NIJA_API_SECRET": "s"}


def running_bot(data_dir: Path) -> HeartbeatBot:
    """The heartbeat of a bot running in DRY_RUN (a live request needs one)."""
    return HeartbeatBot(JsonFileStore(data_dir), system_clock)


def test_token_create_shows_it_once_and_list_and_revoke_never_show_it(run: Run, data_dir: Path) -> None:
    created = run("nija", "token", "create", "ci-bot", "--role", "operator", "--json")
    assert created.returncode == 0, created.stderr
    token = json.loads(created.stdout)["token"]
    assert token.startswith("nija_")
    assert len(token) > 40
    assert stat.S_IMODE((data_dir / ".nija_api_tokens.json").stat().st_mode) == 0o600
    listed = run("nija", "token", "list")
    assert "ci-bot" in listed.stdout
    assert "operator" in listed.stdout
    assert "active" in listed.stdout
    assert token not in listed.stdout
    duplicate = run("nija", "token", "create", "ci-bot", "--role", "admin")
    assert duplicate.returncode == 2
    assert "already exists" in duplicate.stderr
    assert run("nija", "token", "revoke", "ci-bot").returncode == 0
    assert "revoked" in run("nija", "token", "list").stdout
    again = run("nija", "token", "revoke", "ci-bot")
    assert again.returncode == 2
    assert "nija token list" in again.stderr


@pytest.mark.parametrize("name", ["", "has space", ".leading", "x" * 65])
def test_token_create_refuses_a_bad_name(run: Run, name: str) -> None:
    result = run("nija", "token", "create", name, "--role", "viewer")
    assert result.returncode == 2
    assert "Invalid token name" in result.stderr


def test_token_create_refuses_an_unknown_role(run: Run) -> None:
    result = run("nija", "token", "create", "x", "--role", "root")
    assert result.returncode == 2
    assert "viewer" in result.stderr


def test_live_request_then_confirm_from_the_cli_reaches_live_active(run: Run, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text("[live]\nmin_dry_run_minutes = 0\n")
    assert run("nija", "restore", "--yes").returncode == 0
    no_bot = run("nija", "live", "request", env=CREDS)
    assert no_bot.returncode == 3
    assert "Start the bot in DRY_RUN first" in no_bot.stderr
    bot = running_bot(data_dir)
    requested = run("nija", "live", "request", "--json", env=CREDS)
    assert requested.returncode == 0, requested.stdout
    code = json.loads(requested.stdout)["code"]
    bot.step()  # the bot's watcher acknowledges the request
    wrong = run("nija", "live", "confirm", code, "--phrase", "yes")
    assert wrong.returncode == 3
    assert "I understand that live trading risks real capital" in wrong.stderr
    no_tty = run("nija", "live", "confirm", code)
    assert no_tty.returncode == 3
    assert "--phrase" in no_tty.stderr
    done = run("nija", "live", "confirm", code, "--phrase", "I understand that live trading risks real capital")
    assert done.returncode == 0, done.stderr
    status = json.loads(run("nija", "status", "--json").stdout)
    assert status["state"] == "LIVE_ACTIVE"
    assert status["recent_history"][-1]["source"] == "cli"
    assert bot.step().allowed


def test_live_request_without_credentials_is_refused_with_exit_3(run: Run, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text("[live]\nmin_dry_run_minutes = 0\n")
    run("nija", "restore", "--yes")
    running_bot(data_dir)
    refused = run("nija", "live", "request")
    assert refused.returncode == 3
    assert "credentials" in refused.stderr


def test_live_cancel_returns_to_dry_run(run: Run, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text("[live]\nmin_dry_run_minutes = 0\n")
    run("nija", "restore", "--yes")
    running_bot(data_dir)
    assert run("nija", "live", "request", env=CREDS).returncode == 0
    cancelled = run("nija", "live", "cancel", "changed", "my", "mind", "--json")
    assert json.loads(cancelled.stdout)["after"] == "DRY_RUN"
    assert run("nija", "live", "cancel").returncode == 0  # nothing pending: a no-op, like every other


def test_live_request_and_cancel_accept_force_and_yes_as_no_ops(run: Run, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text("[live]\nmin_dry_run_minutes = 0\n")
    run("nija", "restore", "--yes")
    running_bot(data_dir)
    requested = run("nija", "live", "request", "--force", "--json", env=CREDS)
    assert requested.returncode == 0, requested.stderr
    assert json.loads(run("nija", "status", "--json").stdout)["state"] == "LIVE_PENDING_CONFIRMATION"
    cancelled = run("nija", "live", "cancel", "--yes", "scripted", "--json")
    assert cancelled.returncode == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)["after"] == "DRY_RUN"


def test_recovery_tool_never_offers_live(run: Run) -> None:
    result = run("safe_restore_trading.py", "--help")
    assert "live" not in [
        line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ") and line.split()
    ]


def test_serve_refuses_a_non_loopback_address_without_the_flag(run: Run) -> None:
    result = run("nija", "serve", "--host", "0.0.0.0")  # noqa: S104 - the refusal is the point
    assert result.returncode == 2
    assert "--allow-remote" in result.stderr
    assert "TLS" in result.stderr
