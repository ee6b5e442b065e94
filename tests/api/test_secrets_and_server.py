"""Secrets and the server, against real processes: store URLs never show a password (also as a
query parameter) and viewers never see the store location; ``nija serve`` ignores forwarding
headers unless proxies are trusted; a token file made world-readable while the server runs
stops every token at once; files are private; the terminal client takes NIJA_API_TOKEN."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from nija.api.ratelimit import FailureLimiter
from nija.api.tokens import TOKENS_FILE
from nija.store.postgres.testing import temporary_database
from nija.store.selection import mask_url
from tests.conftest import Run
from tests.serving import child_env, events, make_token, serving

SECRETS = ("hunter2", "s3cr3t-ssl", "/home/op/.pgpass-secret", "userpass")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://op:userpass@db:5432/nija", "postgresql://op:***@db:5432/nija"),
        ("postgresql://op@db/nija?password=hunter2", "postgresql://op@db/nija?password=***"),
        (
            "postgresql://db/nija?sslmode=require&sslpassword=s3cr3t-ssl&passfile=/home/op/.pgpass-secret",
            "postgresql://db/nija?sslmode=require&sslpassword=***&passfile=***",
        ),
        ("postgres://db/nija?PassWord=hunter2&pass%77ord=hunter2", "postgres://db/nija?PassWord=***&pass%77ord=***"),
        ("postgresql://op:userpass@[::1/nija?password=hunter2", "postgresql://***"),  # malformed: hidden whole
    ],
)
def test_masking_hides_every_password_form(url: str, shown: str) -> None:
    assert mask_url(url) == shown


@pytest.fixture
def secret_url() -> Iterator[str]:
    """A real fleet database (trust auth ignores the passwords), named with secrets in every form."""
    with temporary_database() as url:
        yield url.replace("postgresql://postgres@", "postgresql://postgres:userpass@") + (
            "?password=hunter2&sslpassword=s3cr3t-ssl&passfile=/home/op/.pgpass-secret"
        )


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def test_the_cli_never_prints_a_password_of_the_store_url(run: Run, secret_url: str) -> None:
    human = run("nija", "status", "--store", secret_url)
    assert human.returncode in (0, 5), human.stderr
    assert "password=***" in human.stdout
    assert_no_secret(human.stdout + human.stderr)
    as_json = run("nija", "status", "--json", env={"NIJA_STORE": secret_url})
    assert as_json.returncode in (0, 5), as_json.stderr
    assert "sslpassword=***" in json.loads(as_json.stdout)["fleet"]["store"]
    assert_no_secret(as_json.stdout + as_json.stderr)
    unreachable = secret_url.replace("/nija_test", "/no_such_database_x").split("?")[0] + "?password=p%zzhunter2"
    failed = run("nija", "status", "--store", unreachable)
    assert failed.returncode == 4
    assert_no_secret(failed.stdout + failed.stderr)


def test_viewers_never_see_the_store_location_and_admins_see_it_masked(data_dir: Path, secret_url: str) -> None:
    viewer = {"Authorization": f"Bearer {make_token(data_dir, 'watcher', 'viewer')}"}
    operator = {"Authorization": f"Bearer {make_token(data_dir, 'ops', 'operator')}"}
    admin = {"Authorization": f"Bearer {make_token(data_dir, 'boss', 'admin')}"}
    with serving(data_dir, env={"NIJA_STORE": secret_url}) as base:
        for who in (viewer, operator):
            body = httpx.get(base + "/api/status", headers=who, timeout=30)
            assert body.status_code == 200, body.text
            assert body.json()["store"] is None
            assert_no_secret(body.text)
        as_admin = httpx.get(base + "/api/status", headers=admin, timeout=30)
        assert "password=***" in as_admin.json()["store"]
        assert_no_secret(as_admin.text)
        with httpx.stream("GET", base + "/api/events", headers=admin, timeout=30) as response:
            first = next(body for name, body in events(response) if name == "status")
        assert first["store"] is None  # one stream for every role
        assert_no_secret(json.dumps(first))


def write_config(data_dir: Path, text: str) -> None:
    (data_dir / "nija.toml").write_text(text)


def wrong(address: str | None = None) -> dict[str, str]:
    headers = {"Authorization": "Bearer nija_wrong"}
    if address is not None:  # every header a client could claim an address with
        headers.update({"X-Forwarded-For": address, "X-Real-IP": address, "Forwarded": f"for={address}"})
    return headers


def status_code(base: str, headers: dict[str, str]) -> int:
    return httpx.get(base + "/api/status", headers=headers, timeout=30).status_code


def test_forwarding_headers_are_ignored_unless_the_proxy_is_trusted(data_dir: Path) -> None:
    write_config(data_dir, "[api]\nfailed_auth_limit = 2\nfailed_auth_window_seconds = 600\n")
    with serving(data_dir) as base:
        codes = [status_code(base, wrong(f"10.9.0.{n}")) for n in range(4)]
    assert codes == [401, 401, 429, 429]  # a new X-Forwarded-For each time changes nothing

    write_config(
        data_dir, '[api]\nfailed_auth_limit = 2\nfailed_auth_window_seconds = 600\ntrusted_proxies = ["127.0.0.1"]\n'
    )
    with serving(data_dir) as base:
        fresh = [status_code(base, wrong(f"10.9.1.{n}")) for n in range(4)]
        same = [status_code(base, wrong("10.9.2.1")) for _ in range(3)]
    assert fresh == [401, 401, 401, 401]  # the trusted proxy's clients are counted apart
    assert same == [401, 401, 429]


def test_a_wildcard_or_a_name_as_trusted_proxy_is_named_and_no_forwarding_header_is_believed(
    data_dir: Path,
) -> None:
    for value in ('"*"', '"proxy.example"'):
        write_config(data_dir, f"[api]\ntrusted_proxies = [{value}]\n")
        log = data_dir.parent / "bad-proxy.log"
        with serving(data_dir, log=log) as base:  # serve carries on, with the [api] defaults
            codes = [status_code(base, wrong(f"10.9.3.{n}")) for n in range(11)]
        text = log.read_text()
        assert "trusted_proxies" in text
        assert "not an IP address or network" in text
        assert codes == [401] * 10 + [429]  # the default limit, counted against the real peer


def test_the_failed_authentication_table_stays_bounded() -> None:
    limiter = FailureLimiter(3, 600, max_clients=100)
    for n in range(20_000):
        limiter.fail(f"10.{n // 65536}.{n // 256 % 256}.{n % 256}")
    assert len(limiter) == 100
    for _ in range(3):
        limiter.fail("192.0.2.1")
    assert limiter.retry_after("192.0.2.1") > 0  # the newest offender is remembered
    expired = FailureLimiter(3, 1, clock=lambda: now[0])
    now = [0.0]
    for n in range(50):
        expired.fail(f"c{n}")
    now[0] = 5.0
    expired.fail("late")
    assert len(expired) == 1  # failures outside the window are forgotten, even of silent clients


def test_a_token_file_made_world_readable_while_serving_stops_every_token(data_dir: Path) -> None:
    token = make_token(data_dir, "boss", "admin")
    headers = {"Authorization": f"Bearer {token}"}
    log = data_dir.parent / "serve.log"
    path = data_dir / TOKENS_FILE
    with serving(data_dir, log=log) as base:
        assert httpx.get(base + "/api/status", headers=headers, timeout=30).status_code == 200
        path.chmod(0o644)  # same inode, mtime and size: only the mode changed
        refused = httpx.get(base + "/api/status", headers=headers, timeout=30)
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "TOKEN_STORE_UNAVAILABLE"
        assert str(data_dir) not in refused.text
        path.chmod(0o600)
        assert httpx.get(base + "/api/status", headers=headers, timeout=30).status_code == 200
    text = log.read_text()
    assert "token store unavailable" in text
    assert "open to other users" in text
    assert f"chmod 600 {path}" in text


def test_state_and_audit_files_are_private_and_an_open_data_directory_is_warned_about(run: Run, data_dir: Path) -> None:
    os.umask(0o022)
    assert run("emergency_kill_switch.py", "activate", "drill").returncode == 0
    assert run("emergency_kill_switch.py", "deactivate", "--yes", "drill over").returncode == 0
    assert run("safe_restore_trading.py", "restore", "--yes").returncode == 0
    for name in (
        ".nija_trading_state.json",
        ".nija_kill_switch_state.json",
        ".nija_audit.jsonl",
        ".nija_audit.head",
        ".nija_audit.reconciled",
    ):
        assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600, name
    data_dir.chmod(0o777)
    try:
        log = data_dir.parent / "open.log"
        with serving(data_dir, log=log):
            pass
        assert "writable by other accounts" in log.read_text()
        assert f"chmod 700 {data_dir}" in log.read_text()
    finally:
        data_dir.chmod(0o700)


def test_the_terminal_client_takes_its_token_from_nija_api_token(data_dir: Path) -> None:
    token = make_token(data_dir, "watcher", "viewer")
    with serving(data_dir) as base:
        shown = subprocess.run(
            [sys.executable, "-m", "nija", "monitor", "--api", base, "--snapshot"],
            capture_output=True,
            text=True,
            env=child_env(NIJA_API_TOKEN=token),
            timeout=60,
            check=False,
        )
    assert shown.returncode == 0, shown.stderr
    assert "(store location: admins only)" in shown.stdout
    assert token not in shown.stdout + shown.stderr
