"""``nija bridge freqtrade`` without a freqtrade: bad input, and a freqtrade that does not
answer during a kill (retried, alerted, the receipt says what is unknown) or to the
account checks (exposure unknown)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from nija.exchange_checks import read_checks
from tests.conftest import cli_env
from tests.freqtrade.harness import PASSWORD, USER, free_port
from tests.guard.helpers import kill
from tests.runtime.runtime_helpers import wait_for


def audit(data_dir: Path) -> list[dict[str, object]]:
    path = data_dir / ".nija_audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def bridge(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nija", "bridge", "freqtrade", "--data-dir", str(data_dir), *args],
        env=cli_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_missing_credentials_are_a_usage_error_naming_the_variables(data_dir: Path) -> None:
    result = bridge(data_dir, "--url", "http://127.0.0.1:9", "--once")
    assert result.returncode == 2
    assert "FREQTRADE_USERNAME" in result.stderr
    assert "FREQTRADE_PASSWORD" in result.stderr


def test_a_url_that_is_not_http_is_refused(data_dir: Path) -> None:
    result = bridge(
        data_dir, "--url", "file:///etc/passwd", "--once", FREQTRADE_USERNAME=USER, FREQTRADE_PASSWORD=PASSWORD
    )
    assert result.returncode == 2
    assert "http(s) URL" in result.stderr


def test_an_unreachable_freqtrade_during_a_kill_is_alerted_and_the_receipt_says_unknown(data_dir: Path) -> None:
    kill(data_dir, "operator kill")
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = bridge(
        data_dir,
        "--url",
        url,
        "--once",
        "--json",
        "--confirm-timeout",
        "1",
        FREQTRADE_USERNAME=USER,
        FREQTRADE_PASSWORD=PASSWORD,
    )
    assert result.returncode == 1, result.stderr
    receipt = json.loads(result.stdout.splitlines()[0])["receipt"]
    assert receipt["complete"] is False
    assert receipt["open_orders"] is None  # unknown, never "none open"
    assert any("unreachable" in line for line in receipt["unknown"])
    alerts = [e for e in audit(data_dir) if e["kind"] == "bridge_alert"]
    assert [e["details"]["action"] for e in alerts] == ["stopentry", "kill receipt"]  # type: ignore[index]
    assert "NOT confirmed stopped" in str(alerts[-1]["reason"])


def test_a_running_bridge_that_cannot_reach_freqtrade_reports_its_exposure_unknown(data_dir: Path) -> None:
    """The account checks a live request reads: unknown (never flat) while freqtrade does not answer."""
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    process = subprocess.Popen(
        [sys.executable, "-m", "nija", "bridge", "freqtrade", "--data-dir", str(data_dir), "--url", url],
        env=cli_env(FREQTRADE_USERNAME=USER, FREQTRADE_PASSWORD=PASSWORD),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: read_checks(data_dir) is not None, timeout=60, what="the bridge's account checks")
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert "Traceback" not in err, err
    checks = read_checks(data_dir)
    assert checks is not None
    assert checks.reconciliation is not None
    assert checks.reconciliation.status == "unknown"
    assert f"freqtrade at {url} did not answer" in str(checks.reconciliation.error)
    alerts = [str(e["reason"]) for e in audit(data_dir) if e["kind"] == "bridge_alert"]
    assert any(a.startswith("RECONCILIATION: the account could not be read") for a in alerts)
