"""Running ``nija run`` as a real process against the fake Kraken (tests/fakes/kraken.py)
and putting it into LIVE_ACTIVE the way an operator does (request, then confirm)."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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
from tests.runtime.runtime_helpers import wait_for

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


def own_open(fake: FakeKrakenState) -> dict[str, dict[str, object]]:
    """The orders open at the fake exchange that the bot placed (foreign ones start OFRGN)."""
    return {k: v for k, v in fake.open_orders().items() if not k.startswith("OFRGN")}


@dataclass
class Finished:
    """How a bot started by ``live_bot`` ended: filled in when the ``with`` block exits."""

    returncode: int | None = None
    out: str = ""
    err: str = field(default="", repr=False)


@contextmanager
def live_bot(data_dir: Path, fake: FakeKrakenState, config: str) -> Iterator[Finished]:
    """A bot restored to DRY_RUN, put live by the operator's flow, holding at least one live
    order of its own; stopped with SIGTERM (the operator's Ctrl-C) when the block ends."""
    (data_dir / "nija.toml").write_text(config)
    build_service(data_dir).restore(OPERATOR)
    bot = start_bot(data_dir, fake)
    finished = Finished()
    try:
        wait_for(lambda: bool((r := report(data_dir)) and r.mode == "simulated"), what="the bot in DRY_RUN")
        go_live(data_dir)
        wait_for(lambda: bool(own_open(fake)), timeout=90, what="a live order of the bot")
        yield finished
    finally:
        bot.send_signal(signal.SIGTERM)
        finished.out, finished.err = bot.communicate(timeout=60)
        finished.returncode = bot.returncode
