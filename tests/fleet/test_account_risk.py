"""Account-wide risk on a real PostgreSQL: the sum of several bots crosses the account's
limit while each stays under its own, and the account kill stops exactly the bots on it;
the account, fleet and bot kills never lift one another."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nija.assembly import build_service
from nija.domain.permission import decide
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.postgres import PostgresStore
from nija.store.postgres.connect import connect
from nija.store.selection import StoreSelection
from tests.conftest import cli_env

WHO = Who("ops@host", "test")
WORKER = Path(__file__).with_name("account_worker.py")
BOT_LIMIT = 500.0  # each bot's own daily loss limit ([risk] daily_loss_limit): none reaches it


def nija(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nija", *args], capture_output=True, text=True, env=cli_env(), cwd=cwd, timeout=120
    )


def bot_reports(url: str, bot: str, account: str, loss: float, exposure: float, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(WORKER), url, bot, account, str(loss), str(exposure), str(cwd)],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def svc(url: str, cwd: Path, **scope: str) -> SafetyService:
    return build_service(cwd, selection=StoreSelection(url, **scope))  # type: ignore[arg-type]


def denial(url: str, bot: str) -> str | None:
    """The code the bot's order gate would deny with, None when it would allow."""
    store = PostgresStore(url, bot=bot)
    try:
        permission = decide(store.load())
    finally:
        store.close()
    return None if permission.allowed else permission.code


def on_dry_run(url: str, cwd: Path, *bots: str) -> None:
    for bot in bots:
        svc(url, cwd, bot=bot).restore(WHO)
        assert denial(url, bot) is None


def test_the_sum_of_several_bots_crosses_the_account_limit_and_kills_every_bot_on_it(
    fleet_url: str, tmp_path: Path
) -> None:
    on_dry_run(fleet_url, tmp_path, "k1", "k2", "k3", "other")
    limits = nija("account", "limits", "main-kraken", "--store", fleet_url, "--daily-loss", "1000", cwd=tmp_path)
    assert limits.returncode == 0, limits.stderr
    assert bot_reports(fleet_url, "other", "other-binance", 450, 0, tmp_path) == "ok"
    assert bot_reports(fleet_url, "k1", "main-kraken", 400, 1000, tmp_path) == "ok"
    assert bot_reports(fleet_url, "k2", "main-kraken", 350, 1000, tmp_path) == "ok"
    assert denial(fleet_url, "k1") is None  # 750 of 1000 so far
    # Each under its own limit (500), together 1,050: over the account's 1,000.
    assert bot_reports(fleet_url, "k3", "main-kraken", 300, 1000, tmp_path) == "breach ACCOUNT_DAILY_LOSS"
    assert all(loss < BOT_LIMIT for loss in (400, 350, 300))

    for bot in ("k1", "k2", "k3"):
        assert denial(fleet_url, bot) == "KILL_SWITCH_ACTIVE"
    assert denial(fleet_url, "other") is None  # another account: untouched

    account = svc(fleet_url, tmp_path, account="main-kraken").status(history_items=5)
    assert account.kill_active
    cause = account.last_activation
    assert cause is not None
    assert cause.source == "account-risk"
    for figure in ("1,050.00", "1,000.00", "k1 400.00", "k2 350.00", "k3 300.00"):
        assert figure in cause.reason
    # Recorded on each bot (by the account, with the figures) and audited in the fleet chain.
    shown = json.loads(nija("audit", "show", "--store", fleet_url, "--bot", "k2", "--json", cwd=tmp_path).stdout)
    kill = [r for r in shown if r["kind"] == "kill_activated"]
    assert len(kill) == 1
    assert kill[0]["source"] == "account"
    assert "1,050.00" in kill[0]["reason"]
    everything = json.loads(nija("audit", "show", "--store", fleet_url, "--json", cwd=tmp_path).stdout)
    (breach,) = [r for r in everything if r["kind"] == "account_limit_breached"]
    assert breach["scope"] == "@account:main-kraken"
    assert breach["details"]["limit"] == "1000.00"
    assert breach["details"]["bot.k3"] == "300.00"
    assert nija("audit", "verify", "--store", fleet_url, cwd=tmp_path).returncode == 0
    account_only = nija("audit", "show", "--store", fleet_url, "--account", "main-kraken", "--json", cwd=tmp_path)
    kinds = [r["kind"] for r in json.loads(account_only.stdout)]
    assert kinds[0] == "account_limits_set"
    assert "kill_activated" in kinds
    assert kinds[-1] == "account_limit_breached"

    # The account's status shows the kill and the figures the database summed.
    status = nija("account", "status", "main-kraken", "--store", fleet_url, "--json", cwd=tmp_path)
    view = json.loads(status.stdout)
    assert view["kill_active"] is True
    assert view["daily_loss"] == pytest.approx(1050)
    assert [b["bot"] for b in view["bots"]] == ["k1", "k2", "k3"]


def test_gross_exposure_is_summed_across_the_account_too(fleet_url: str, tmp_path: Path) -> None:
    on_dry_run(fleet_url, tmp_path, "e1", "e2")
    nija("account", "limits", "acct", "--store", fleet_url, "--gross-exposure", "10000", cwd=tmp_path)
    assert bot_reports(fleet_url, "e1", "acct", -50, 6000, tmp_path) == "ok"
    assert bot_reports(fleet_url, "e2", "acct", -80, 4000, tmp_path) == "breach ACCOUNT_GROSS_EXPOSURE"
    assert denial(fleet_url, "e1") == denial(fleet_url, "e2") == "KILL_SWITCH_ACTIVE"


def test_yesterdays_exposure_still_counts_and_yesterdays_loss_does_not(fleet_url: str, tmp_path: Path) -> None:
    """A bot that last reported before midnight (UTC) still holds its positions: its exposure
    counts toward the account today; its loss was yesterday's."""
    on_dry_run(fleet_url, tmp_path, "overnight", "today")
    nija(
        "account",
        "limits",
        "acct",
        "--store",
        fleet_url,
        "--gross-exposure",
        "1000",
        "--daily-loss",
        "500",
        cwd=tmp_path,
    )
    with connect(fleet_url) as conn:
        conn.execute("UPDATE nija_scope SET account = 'acct' WHERE name = 'overnight'")
        conn.execute(
            "INSERT INTO nija_bot_report (scope, account, day, figures, reported_at)"
            " VALUES ('overnight', 'acct', (now() AT TIME ZONE 'UTC')::date - 1,"
            " '{\"daily_loss\": 450, \"gross_exposure\": 900}'::jsonb, now() - interval '1 day')",
        )
    assert bot_reports(fleet_url, "today", "acct", 100, 300, tmp_path) == "breach ACCOUNT_GROSS_EXPOSURE"
    view = json.loads(nija("account", "status", "acct", "--store", fleet_url, "--json", cwd=tmp_path).stdout)
    assert view["daily_loss"] == pytest.approx(100)  # 450 was yesterday's
    assert view["gross_exposure"] == pytest.approx(1200)


@pytest.mark.parametrize(
    "figures", ['{"daily_loss": "12.5"}', '{"daily_loss": null}', "{}"], ids=["text", "null", "missing"]
)
def test_a_report_that_cannot_be_read_does_not_count_as_zero_loss(fleet_url: str, tmp_path: Path, figures: str) -> None:
    on_dry_run(fleet_url, tmp_path, "good", "broken")
    nija("account", "limits", "acct", "--store", fleet_url, "--daily-loss", "1000", cwd=tmp_path)
    with connect(fleet_url) as conn:
        conn.execute("UPDATE nija_scope SET account = 'acct' WHERE name = 'broken'")
        conn.execute(
            "INSERT INTO nija_bot_report (scope, account, day, figures, reported_at)"
            " VALUES ('broken', 'acct', (now() AT TIME ZONE 'UTC')::date, %s::jsonb, now())",
            (figures,),
        )
    assert bot_reports(fleet_url, "good", "acct", 10, 0, tmp_path) == "breach ACCOUNT_REPORT_UNREADABLE"
    assert denial(fleet_url, "good") == denial(fleet_url, "broken") == "KILL_SWITCH_ACTIVE"
    cause = svc(fleet_url, tmp_path, account="acct").status().last_activation
    assert cause is not None
    assert "broken" in cause.reason
    assert "never counts as no loss" in cause.reason


def test_account_fleet_and_bot_kills_never_lift_one_another(fleet_url: str, tmp_path: Path) -> None:
    on_dry_run(fleet_url, tmp_path, "a1", "a2", "b1")
    for bot, account in (("a1", "acct-a"), ("a2", "acct-a"), ("b1", "acct-b")):
        svc(fleet_url, tmp_path, bot=bot).store.declare_account(account)  # type: ignore[attr-defined]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return nija(*args, "--store", fleet_url, cwd=tmp_path)

    assert run("kill", "activate", "--account", "acct-a", "--yes", "account drill").returncode == 0
    assert [denial(fleet_url, b) for b in ("a1", "a2", "b1")] == ["KILL_SWITCH_ACTIVE"] * 2 + [None]
    assert run("kill", "activate", "--bot", "a2", "--yes", "a2 misbehaves").returncode == 0
    assert run("kill", "activate", "--fleet", "--yes", "fleet drill").returncode == 0
    assert all(denial(fleet_url, b) == "KILL_SWITCH_ACTIVE" for b in ("a1", "a2", "b1"))

    # A bot's kill cannot be lifted under the fleet's kill (exit 3, nothing written).
    refused = run("kill", "deactivate", "--bot", "b1", "--yes", "try")
    assert refused.returncode == 3
    assert "fleet kill switch is active" in refused.stderr
    # The fleet's end leaves the account's and the bot's kills in force.
    assert run("kill", "deactivate", "--fleet", "--yes", "fleet drill over").returncode == 0
    assert [denial(fleet_url, b) for b in ("a1", "a2")] == ["KILL_SWITCH_ACTIVE"] * 2
    assert denial(fleet_url, "b1") != "KILL_SWITCH_ACTIVE"  # another account: the fleet's end lifted it
    assert svc(fleet_url, tmp_path, bot="b1").status().kill_active is False
    # ... nor under its account's kill.
    refused = run("kill", "deactivate", "--bot", "a1", "--yes", "try")
    assert refused.returncode == 3
    assert "kill switch of account acct-a is active" in refused.stderr
    assert "--account acct-a" in refused.stderr
    # The account's end lifts its own kill on a1, never a2's own.
    assert run("kill", "deactivate", "--account", "acct-a", "--yes", "account drill over").returncode == 0
    assert svc(fleet_url, tmp_path, bot="a1").status().kill_active is False
    assert svc(fleet_url, tmp_path, bot="a2").status().kill_active is True
    # Status of a bot under its account's kill says so.
    assert run("kill", "activate", "--account", "acct-a", "--yes", "again").returncode == 0
    shown = run("status", "--bot", "a1", "--json")
    assert json.loads(shown.stdout)["kill_switch"]["active"] is True
    fleet = run("status", "--fleet", "--json")
    accounts = json.loads(fleet.stdout)["accounts"]
    assert accounts["acct-a"]["kill_switch"]["active"] is True
    assert accounts["acct-b"]["kill_switch"]["active"] is False
    assert "ACCOUNT acct-a KILL SWITCH: 🛑 ACTIVE: again" in run("status", "--fleet").stdout


def test_a_bot_cannot_leave_an_account_whose_kill_is_active(fleet_url: str, tmp_path: Path) -> None:
    bot = svc(fleet_url, tmp_path, bot="mover")
    bot.store.declare_account("acct-a")  # type: ignore[attr-defined]
    svc(fleet_url, tmp_path, account="acct-a").activate_kill("drill", WHO)
    from nija.domain.errors import SafetyRefusal

    with pytest.raises(SafetyRefusal, match="cannot move to account acct-b"):
        bot.store.declare_account("acct-b")  # type: ignore[attr-defined]
    assert denial(fleet_url, "mover") == "KILL_SWITCH_ACTIVE"


def test_the_order_gate_view_denies_on_an_account_kill(fleet_url: str, tmp_path: Path) -> None:
    on_dry_run(fleet_url, tmp_path, "viewed")
    store = PostgresStore(fleet_url, bot="viewed")
    store.declare_account("acct-v")
    view = store.permission_view()
    try:
        assert view.wait_confirmed(30)
        deadline = time.monotonic() + 30
        allowed = view.check().allowed
        while not allowed and time.monotonic() < deadline:
            time.sleep(0.02)
            allowed = view.check().allowed
        assert allowed
        svc(fleet_url, tmp_path, account="acct-v").activate_kill("drill", WHO)
        deadline = time.monotonic() + 30  # the code itself: a stall may flicker VIEW_STALE first
        while view.check().code != "KILL_SWITCH_ACTIVE" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert view.check().code == "KILL_SWITCH_ACTIVE"
    finally:
        store.close()


def test_a_running_bot_declares_its_account_at_start_and_stops_on_its_account_kill(
    fleet_url: str, tmp_path: Path
) -> None:
    import threading

    from nija.config import NijaConfig
    from nija.runtime.engine import Bot
    from nija.runtime.settings import ExchangeSettings
    from tests.runtime.runtime_helpers import wait_for
    from tests.runtime.test_engine import TRENDING, rising_then_falling

    config = NijaConfig(strategy=TRENDING.strategy, exchange=ExchangeSettings(account="acct-run"))
    service = svc(fleet_url, tmp_path, bot="runner")
    service.restore(WHO)
    bot = Bot(service, config, tmp_path, actor="runner")
    release = threading.Event()

    def candles() -> object:
        yield from rising_then_falling(4)
        release.wait(timeout=60)

    thread = threading.Thread(target=lambda: bot.run(candles()))  # type: ignore[arg-type]
    thread.start()
    try:
        wait_for(lambda: bot.reaction.mode is not None, what="the bot in DRY_RUN")
        with connect(fleet_url) as conn:
            row = conn.execute("SELECT account FROM nija_scope WHERE name = 'runner'").fetchone()
        assert row == ("acct-run",)
        svc(fleet_url, tmp_path, account="acct-run").activate_kill("account drill", WHO)
        wait_for(lambda: bot.reaction.mode is None, what="the bot stopped by its account's kill", timeout=30)
        assert bot.view.check().code == "KILL_SWITCH_ACTIVE"
    finally:
        release.set()
        thread.join(timeout=60)
    assert svc(fleet_url, tmp_path, bot="runner").status().kill_active


def test_the_live_bots_reporter_sends_its_figures_and_a_breach_kills_its_account(
    fleet_url: str, tmp_path: Path
) -> None:
    from nija.runtime.account_report import AccountReporter
    from nija.runtime.brokers.paper import PaperBroker
    from nija.runtime.settings import PaperSettings

    on_dry_run(fleet_url, tmp_path, "live1")
    nija("account", "limits", "acct-l", "--store", fleet_url, "--daily-loss", "1000", cwd=tmp_path)
    store = PostgresStore(fleet_url, bot="live1")
    try:
        reporter = AccountReporter.for_store(store, "acct-l", Who("live1", "bot"), tmp_path)
        assert reporter is not None
        assert AccountReporter.for_store(store, None, WHO, tmp_path) is None  # no account declared: nothing sent
        reporter.declare()
        book = PaperBroker(tmp_path, PaperSettings())
        reporter.report(book, 999.0)
        assert reporter.breach is None
        with connect(fleet_url) as conn:
            row = conn.execute("SELECT account, figures FROM nija_bot_report WHERE scope = 'live1'").fetchone()
        assert row == ("acct-l", {"daily_loss": 999.0, "gross_exposure": 0})
        reporter.report(book, 1000.0)
        assert reporter.breach is not None
        assert reporter.breach.code == "ACCOUNT_DAILY_LOSS"
    finally:
        store.close()
    assert denial(fleet_url, "live1") == "KILL_SWITCH_ACTIVE"
