"""How fast a kill that cannot be written to disk reaches a running bot: the time from
``tell_bots`` (what ``kill activate`` does when EMERGENCY_STOP cannot be raised) to the
bot's acknowledgment, sent after its open orders are cancelled; next to the same bot
noticing a kill file (the ordinary path), measured in the same run.

    python benchmarks/kill_without_disk.py [--runs 3]"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from nija.assembly import build_service
from nija.bot_report import read_report
from nija.domain.transitions import Who
from nija.kill_channel import listening, tell_bots

CONFIG = (
    "[strategy]\nfast = 10\nslow = 100\nmin_spread_pct = 0\nlimit_offset_pct = 20\nposition_pct = 10\n"
    "[bot]\nreport_s = 0.05\n[risk]\nprice_collar_pct = 25\n"
)
WHO = Who("bench", "benchmark")


def start_bot(directory: Path) -> subprocess.Popen[bytes]:
    (directory / "nija.toml").write_text(CONFIG)
    build_service(directory).restore(WHO)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "src")}
    bot = subprocess.Popen(
        [sys.executable, "-m", "nija", "run", "--data-dir", str(directory), "--json", "--pace", "0.005"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        report = read_report(directory)
        if report and report.open_orders and listening(directory):
            return bot
        time.sleep(0.02)
    bot.kill()
    raise SystemExit("the bot did not start")


def direct_ms(directory: Path) -> float:
    bot = start_bot(directory)
    try:
        started = time.perf_counter()
        acked = tell_bots(directory, "benchmark", WHO, datetime.now(UTC))
        elapsed = (time.perf_counter() - started) * 1000
        assert acked == (bot.pid,), acked
        return elapsed
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(timeout=30)


def file_ms(directory: Path) -> float:
    bot = start_bot(directory)
    try:
        started = time.perf_counter()
        (directory / "EMERGENCY_STOP").touch()
        while (report := read_report(directory)) is not None and report.open_orders:
            time.sleep(0.001)
        return (time.perf_counter() - started) * 1000  # includes the report's write period
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    direct, via_file = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            direct.append(direct_ms(Path(a)))
            via_file.append(file_ms(Path(b)))
    print(f"direct kill to acknowledgment (orders cancelled): median {statistics.median(direct):.1f} ms, n={runs}")
    print(f"kill file to report without orders:            median {statistics.median(via_file):.1f} ms, n={runs}")
    print(f"ratio direct/file (medians): {statistics.median(direct) / statistics.median(via_file):.2f}x")


if __name__ == "__main__":
    main()
