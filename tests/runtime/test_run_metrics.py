"""`nija run --metrics-port`: a running bot is scrapeable and its metrics follow a kill."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REPO, Run, cli_env


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {s.name: float(s.value) for family in text_string_to_metric_families(text) for s in family.samples}


def test_running_bot_serves_metrics_that_follow_a_kill(run: Run, data_dir: Path) -> None:
    assert run("nija", "restore", "--yes").returncode == 0
    bot = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nija",
            "run",
            "--data-dir",
            str(data_dir),
            "--metrics-port",
            "0",
            "--pace",
            "0.02",
            "--max-candles",
            "3000",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
        cwd=REPO,
    )
    try:
        assert bot.stderr is not None
        line = bot.stderr.readline()
        found = re.search(r"127\.0\.0\.1:(\d+)/metrics", line)
        assert found, line
        port = int(found.group(1))
        before = scrape(port)
        assert before["nija_can_trade"] == 1
        assert before["nija_kill_switch_active"] == 0
        assert run("emergency_kill_switch.py", "activate", "metrics drill").returncode == 0
        deadline = time.monotonic() + 30
        after = scrape(port)
        while after["nija_kill_switch_active"] != 1:  # the scrape reads the store: no lag expected
            assert time.monotonic() < deadline
            after = scrape(port)
        assert after["nija_can_trade"] == 0
    finally:
        bot.terminate()
        bot.wait(timeout=60)


def test_metrics_port_in_use_is_a_usage_error(run: Run, data_dir: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run("nija", "run", "--metrics-port", str(taken.getsockname()[1]), "--max-candles", "5")
    assert result.returncode == 2
    assert "Choose a free port" in result.stderr
