"""The emergency and diagnosis commands start fast because they do not load what they do
not use. Timing is for benchmarks/cli_startup.py; this guard is not timed: it lists what a
real ``status`` and ``activate`` process imported (``-X importtime``) and fails when a
change makes either load a heavy library again (rich off a terminal, pydantic, the API,
logging, OpenSSL for a status...)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, cli_env

# Neither command needs any of these for its plain run (JSON files, no nija.toml, piped output).
HEAVY = (
    "rich",  # a piped output is written directly (nija.cli.output)
    "pydantic",
    "structlog",
    "logging",
    "prometheus_client",
    "apprise",
    "watchfiles",
    "psycopg",
    "fastapi",
    "starlette",
    "textual",
    "httpx",
    "ccxt",
    "secrets",
    "hmac",
    "nija.audit.verify",
    "nija.notify",
    "nija.observability.logs",
    "nija.kill_channel",
    "nija.exchange_checks",
    "nija.kill_receipt",
    "nija.api",
    "nija.tui",
    "nija.runtime",
)


def imported(script: str, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", str(REPO / script), *args],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    modules = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    return proc, modules


# Nor, on their fast paths (nija.cli.plain), click; a status that changes nothing also
# no audit trail and no OpenSSL (the kill fingerprint is taken only when asked for).
NOT_ON_THE_FAST_PATH = ("click", "uuid", "platform", "nija.live_flow", "nija.cli.main", "nija.cli.common")
NOT_FOR_A_STATUS = ("hashlib", "nija.audit")


def heavy(modules: set[str], also: tuple[str, ...] = ()) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in (*HEAVY, *also)))


@pytest.mark.process
def test_status_loads_nothing_heavy(data_dir: Path) -> None:
    proc, modules = imported("safe_restore_trading.py", "status", "--data-dir", str(data_dir))
    assert proc.returncode == 0, proc.stderr
    assert "📊 CURRENT STATUS" in proc.stdout
    assert "nija.service" in modules  # the list is real: the command's own modules are in it
    assert heavy(modules, NOT_ON_THE_FAST_PATH + NOT_FOR_A_STATUS) == []


@pytest.mark.process
def test_status_of_a_bare_kill_file_records_it_and_still_loads_nothing_heavy(data_dir: Path) -> None:
    (data_dir / "EMERGENCY_STOP").write_text("")
    proc, modules = imported("safe_restore_trading.py", "status", "--data-dir", str(data_dir))
    assert proc.returncode == 0, proc.stderr
    assert "🛑 YES" in proc.stdout
    assert (data_dir / ".nija_audit.jsonl").read_text().count('"kind":"kill_activated"') == 1
    assert heavy(modules, NOT_ON_THE_FAST_PATH) == []


@pytest.mark.process
def test_activate_loads_nothing_heavy(data_dir: Path) -> None:
    proc, modules = imported("emergency_kill_switch.py", "activate", "guard", "--data-dir", str(data_dir))
    assert proc.returncode == 0, proc.stderr
    assert "KILL SWITCH ACTIVATED" in proc.stdout
    assert (data_dir / "EMERGENCY_STOP").exists()
    assert "nija.audit.log" in modules  # recorded with its audit record
    assert heavy(modules, NOT_ON_THE_FAST_PATH) == []
