"""A kill from another process while ``nija run`` has open limit orders: every order is
cancelled, none is accepted after the kill file exists, the bot keeps running and says so."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from nija.assembly import build_service
from nija.bot_report import read_report
from nija.domain.transitions import Who
from nija.kill_receipt import read_receipt
from tests.conftest import REPO, cli_env
from tests.runtime.runtime_helpers import wait_for

# Entries rest 20 % below the market: they never fill, so orders stay open until killed.
RESTING = (
    "[strategy]\nfast = 10\nslow = 100\nmin_spread_pct = 0\nlimit_offset_pct = 20\nposition_pct = 10\n"
    "[bot]\nreport_s = 0.1\n[risk]\nprice_collar_pct = 25\n"  # the 5 % default collar would deny them
)


def open_orders(data_dir: Path) -> int:
    report = read_report(data_dir)
    return len(report.open_orders) if report else 0


def kill_denials(data_dir: Path) -> int:
    report = read_report(data_dir)
    return report.denial_counts.get("KILL_SWITCH_ACTIVE", 0) if report else 0


def start_bot(data_dir: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "nija", "run", "--data-dir", str(data_dir), "--json", "--pace", "0.005", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )


def test_kill_from_another_process_cancels_every_open_order(data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text(RESTING)
    build_service(data_dir).restore(Who("alice@host", "cli"))
    bot = start_bot(data_dir)
    try:
        wait_for(lambda: open_orders(data_dir) >= 2, what="two open limit orders")
        status = subprocess.run(
            [sys.executable, "-m", "nija", "status", "--json", "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=30,
            check=False,
        )
        assert json.loads(status.stdout)["bot"]["alive"] is True  # the heartbeat is fresh
        kill = subprocess.run(
            [
                sys.executable,
                str(REPO / "emergency_kill_switch.py"),
                "activate",
                "--data-dir",
                str(data_dir),
                "operator test kill",
            ],
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=30,
            check=False,
        )
        assert kill.returncode == 0, kill.stderr
        wait_for(lambda: open_orders(data_dir) == 0, what="every order cancelled")
        # the bot keeps running: its strategy keeps trying and is denied
        wait_for(lambda: kill_denials(data_dir) > 0, what="an order denied by the kill switch")
        assert bot.poll() is None
    finally:
        bot.send_signal(signal.SIGTERM)
        out, err = bot.communicate(timeout=30)
    assert bot.returncode == 0, err
    summary = json.loads(out)
    assert summary["kill"] == "the kill file EMERGENCY_STOP exists"
    assert summary["kill_complete"] is True
    assert summary["denials"]["KILL_SWITCH_ACTIVE"] > 0
    db = sqlite3.connect(data_dir / ".nija_paper.sqlite")
    statuses = dict(db.execute("SELECT status, COUNT(*) FROM orders GROUP BY status").fetchall())
    assert statuses.get("open", 0) == 0
    assert statuses["cancelled"] >= 2
    # None placed once the kill had taken effect. Not "after the CLI returned": an order
    # checked before the kill file existed may be stamped after it if the bot stalls, and
    # is then cancelled by the reaction (which waits for it under the gate's lock); the
    # receipt is written after that reaction.
    receipt = read_receipt(data_dir)
    assert receipt is not None
    assert receipt.confirmed
    flat_at = datetime.fromisoformat(receipt.written_at).timestamp()
    (late,) = db.execute("SELECT COUNT(*) FROM orders WHERE created_at > ?", (flat_at,)).fetchone()
    assert late == 0
    # The CLI recorded the kill with its own reason; the bot did not add a second activation.
    kills = build_service(data_dir).history()[1]
    assert [k.reason for k in kills if k.action == "activate"] == ["operator test kill"]


def test_touching_the_kill_file_alone_cancels_and_is_recorded_by_the_bot(data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text(RESTING)
    build_service(data_dir).restore(Who("alice@host", "cli"))
    bot = start_bot(data_dir)
    try:
        wait_for(lambda: open_orders(data_dir) >= 1, what="an open limit order")
        (data_dir / "EMERGENCY_STOP").touch()
        wait_for(lambda: open_orders(data_dir) == 0, what="every order cancelled")
        wait_for(
            lambda: build_service(data_dir).snapshot().kill_active and bool(build_service(data_dir).history()[1]),
            what="the kill recorded",
        )
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.communicate(timeout=30)
    kills = build_service(data_dir).history()[1]
    assert kills[-1].source == "bot"
    (data_dir / "EMERGENCY_STOP").unlink()
    assert build_service(data_dir).snapshot().kill_active  # recorded: deleting the file deactivates nothing
