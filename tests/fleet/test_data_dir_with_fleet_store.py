"""With the fleet database selected, the data directory still holds nija.toml, the API
tokens and the audit trail: commands must not mistake the (masked) database URL for it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from nija.service import system_clock
from nija.store.postgres.store import PostgresStore
from nija.testing import HeartbeatBot
from tests.conftest import Run
from tests.serving import make_token, serving


def test_tokens_and_audit_live_in_the_data_directory_with_the_fleet_store(
    run: Run, fleet_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "d"
    data.mkdir()
    env = {"NIJA_STORE": fleet_url, "NIJA_BOT": "alpha"}
    made = run("nija", "token", "create", "x", "--role", "viewer", "--data-dir", str(data), env=env)
    assert made.returncode == 0, made.stderr
    assert (data / ".nija_api_tokens.json").exists()
    listed = run("nija", "token", "list", "--json", "--data-dir", str(data), env=env)
    assert [t["name"] for t in json.loads(listed.stdout)] == ["x"]

    assert run("nija", "kill", "activate", "drill", "--data-dir", str(data), env=env).returncode == 0
    assert (data / ".nija_audit.jsonl").exists()
    verified = run("nija", "audit", "verify", "--local", "--json", "--data-dir", str(data), env=env)
    assert verified.returncode == 0, verified.stderr
    verdict = json.loads(verified.stdout)
    assert verdict["path"] == str(data / ".nija_audit.jsonl")
    assert verdict["records"] >= 1
    # Without --local, the fleet store's own chain in the database: the kill is there too.
    fleet = run("nija", "audit", "verify", "--json", "--data-dir", str(data), env=env)
    assert fleet.returncode == 0, fleet.stderr
    assert json.loads(fleet.stdout)["records"] >= 1


def test_live_request_reads_the_secrets_file_of_the_data_directory_with_the_fleet_store(
    run: Run, fleet_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "d"
    data.mkdir()
    (data / "nija.toml").write_text("[live]\nmin_dry_run_minutes = 0\n")
    secrets = data / ".nija_secrets.toml"
    secrets.write_text('api_key = "k"\nsecret = "s"\n')
    secrets.chmod(0o600)
    env = {"NIJA_STORE": fleet_url, "NIJA_BOT": "alpha"}
    assert run("nija", "restore", "--yes", "--data-dir", str(data), env=env).returncode == 0
    store = PostgresStore(fleet_url, bot="alpha")
    HeartbeatBot(store, system_clock, data_dir=data)  # live is granted to a running bot (reconciled)
    store.close()
    requested = run("nija", "live", "request", "--json", "--data-dir", str(data), env=env)
    assert requested.returncode == 0, requested.stderr
    status = run("nija", "status", "--json", "--data-dir", str(data), env=env)
    assert json.loads(status.stdout)["state"] == "LIVE_PENDING_CONFIRMATION"


def test_serve_takes_its_tokens_from_the_data_directory_with_the_fleet_store(fleet_url: str, tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    token = make_token(data, "ops", "viewer")
    env = {"NIJA_STORE": fleet_url, "NIJA_BOT": "alpha"}
    with serving(data, env=env) as base:
        response = httpx.post(
            f"{base}/api/kill-switch/activate",
            json={"reason": "served"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
    assert response.status_code == 200, response.text
    assert response.json()["kill_active"] is True
