"""What status says of a heartbeat from the future: the clocks disagree, the bot's
standing is not vouched for; never "alive ... -3142s ago"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from nija.domain.live import ACKNOWLEDGMENT_PHRASE, LivePolicy
from nija.domain.permission import PermissionCode
from nija.domain.records import Heartbeat
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.json_files import JsonFileStore
from nija.testing import HeartbeatBot
from tests.conftest import Run

ALICE, BOB = Who("alice@host", "cli"), Who("bob@host", "api")


def beat_an_hour_ahead(data_dir: Path) -> None:
    now = datetime.now(UTC)
    ahead = now + timedelta(hours=1)
    JsonFileStore(data_dir).beat(Heartbeat(4242, "bot-host", ahead, now, run_id="r" * 32, live_nonce="n" * 32))


def live_verified_on_a_clock_an_hour_ahead(data_dir: Path) -> None:
    """The bot verified LIVE_ACTIVE while its host clock ran an hour ahead; then it crashed
    (no stopped beat) and NTP stepped the clock back (the status below runs on the real one)."""

    def ahead() -> datetime:
        return datetime.now(UTC) + timedelta(hours=1)

    store = JsonFileStore(data_dir)
    service = SafetyService(store, clock=ahead, policy=LivePolicy(min_dry_run=timedelta(0)))
    service.restore(ALICE)
    bot = HeartbeatBot(store, ahead)
    request = service.request_live(ALICE, credentials_configured=True)
    bot.step()
    service.confirm_live(request.code, ACKNOWLEDGMENT_PHRASE, BOB)
    assert bot.step().code == PermissionCode.LIVE_ACTIVE


def test_status_says_the_clocks_disagree_and_denies_live(run: Run, data_dir: Path) -> None:
    live_verified_on_a_clock_an_hour_ahead(data_dir)
    result = run("nija", "status")
    out = result.stdout
    bot_line = next(line for line in out.splitlines() if line.lstrip().startswith("Bot:"))
    assert "alive" not in bot_line
    assert "ago" not in bot_line
    assert "in the future: this host's clock and the bot's disagree" in bot_line
    assert "HEARTBEAT_FROM_THE_FUTURE" in out
    assert "YES: LIVE" not in out
    assert "Can Trade: ❌ NO" in out


def test_the_monitor_says_the_clocks_disagree(run: Run, data_dir: Path) -> None:
    beat_an_hour_ahead(data_dir)
    result = run("nija_control_center.py", "--data-dir", str(data_dir), "--snapshot")
    assert result.returncode in (0, 5), result.stderr
    bot_line = next(line for line in result.stdout.splitlines() if "Bot:" in line)
    assert "in the future" in bot_line
    assert "alive" not in bot_line.replace("NOT RUNNING", "")
