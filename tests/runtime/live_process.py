"""Running ``nija run`` as a real process against the fake Kraken (tests/fakes/kraken.py)
and putting it into LIVE_ACTIVE the way an operator does (request, then confirm)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from nija.assembly import build_service
from nija.bot_report import BotReport, read_report
from nija.domain.errors import LiveRequestRefused
from nija.domain.live import ACKNOWLEDGMENT_PHRASE, LivePolicy
from nija.domain.transitions import Who
from nija.service import SafetyService
from tests.conftest import REPO, cli_env
from tests.fakes.kraken import FakeKrakenState

SITE = REPO / "tests" / "fakes" / "site"
OPERATOR, SECOND = Who("alice@host", "cli"), Who("bob@host", "api")

# Limit entries rest 20 % below the market (they never fill by themselves); BTC/USDT only,
# the one pair of the recorded Kraken markets.
CONFIG = (
    '[feed]\nsymbols = ["BTC/USDT"]\n'
    "[strategy]\nfast = 10\nslow = 100\nmin_spread_pct = 0\nlimit_offset_pct = 20\nposition_pct = 5\n"
    "[risk]\nprice_collar_pct = 25\n"  # the 5 % default collar would deny entries 20 % below
    "[bot]\nreport_s = 0.1\nheartbeat_s = 0.2\n"
)


# An account holding only cash: nothing the bot's reconciliation could not explain.
CASH_ONLY = {"USDT": "2500.0"}


def bot_env(fake: FakeKrakenState) -> dict[str, str]:
    env = cli_env(
        NIJA_API_KEY="test-key",
        NIJA_API_SECRET=base64.b64encode(b"test-secret").decode(),
        FAKE_KRAKEN_DIR=str(fake.dir),
    )
    env["PYTHONPATH"] = os.pathsep.join([str(SITE), env["PYTHONPATH"]])
    return env


def start_bot(data_dir: Path, fake: FakeKrakenState, *extra: str, pace: str = "0.02") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "nija", "run", "--data-dir", str(data_dir), "--json", "--pace", pace, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=bot_env(fake),
    )


def run_bot(data_dir: Path, fake: FakeKrakenState, *extra: str) -> tuple[int, dict[str, Any], str]:
    result = subprocess.run(
        [sys.executable, "-m", "nija", "run", "--data-dir", str(data_dir), "--json", *extra],
        capture_output=True,
        text=True,
        env=bot_env(fake),
        timeout=120,
        check=False,
    )
    return result.returncode, json.loads(result.stdout) if result.stdout.strip() else {}, result.stderr


def go_live(data_dir: Path) -> None:
    """The operator's flow: request while the bot runs in DRY_RUN, a second person confirms."""
    service = SafetyService(build_service(data_dir).store, policy=LivePolicy(min_dry_run=timedelta(0)))
    deadline = time.monotonic() + 60
    while True:  # live is granted to the running bot: it must be alive and beating first
        try:
            request = service.request_live(OPERATOR, credentials_configured=True)
            break
        except LiveRequestRefused:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    confirm_when_acknowledged(service, request.code)


def confirm_when_acknowledged(service: SafetyService, code: str, timeout_s: float = 60) -> None:
    """The bot acknowledges a request in its next heartbeat; until then confirm refuses."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            service.confirm_live(code, ACKNOWLEDGMENT_PHRASE, SECOND)
            return
        except LiveRequestRefused as refused:
            if refused.code != "NOT_ACKNOWLEDGED" or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def report(data_dir: Path) -> BotReport | None:
    return read_report(data_dir)


def alert_codes(data_dir: Path) -> list[str]:
    r = read_report(data_dir)
    return [a.code for a in r.alerts] if r else []
