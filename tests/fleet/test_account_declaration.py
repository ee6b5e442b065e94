"""A bot's account declaration (``[exchange] account``) on a real PostgreSQL: one that
failed at start is retried until the database takes it, so the account kill reaches the
bot; until then a live request for the bot is refused."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from nija.domain.errors import LiveRequestRefused, StorageUnavailable
from nija.domain.transitions import Who
from nija.store.postgres.connect import connect
from nija.testing import HeartbeatBot
from tests.fleet.test_account_risk import svc
from tests.runtime.runtime_helpers import wait_for

WHO = Who("ops@host", "test")


def declared(url: str, bot: str) -> str | None:
    with connect(url) as conn:
        row = conn.execute("SELECT account FROM nija_scope WHERE name = %s", (bot,)).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def test_a_declaration_that_failed_at_start_is_retried_and_the_account_kill_then_reaches_the_bot(
    fleet_url: str, tmp_path: Path
) -> None:
    from nija.config import NijaConfig
    from nija.runtime.engine import Bot
    from nija.runtime.settings import BotSettings, ExchangeSettings
    from tests.runtime.test_engine import TRENDING, rising_then_falling

    config = NijaConfig(
        strategy=TRENDING.strategy, exchange=ExchangeSettings(account="acct-retry"), bot=BotSettings(heartbeat_s=0.2)
    )
    service = svc(fleet_url, tmp_path, bot="retrier")
    service.restore(WHO)
    store: Any = service.store
    real, attempts = store.declare_account, []

    def fails_once(account: str) -> bool:  # one transient database error, as a dropped connection gives
        attempts.append(account)
        if len(attempts) == 1:
            raise StorageUnavailable("could not connect to server (injected)", "retry")
        return bool(real(account))

    store.declare_account = fails_once
    bot = Bot(service, config, tmp_path, actor="retrier")
    release = threading.Event()

    def candles() -> object:
        yield from rising_then_falling(4)
        release.wait(timeout=60)

    thread = threading.Thread(target=lambda: bot.run(candles()))  # type: ignore[arg-type]
    thread.start()
    try:
        wait_for(lambda: any(a.code == "ACCOUNT_NOT_DECLARED" for a in bot.counters.alerts), what="the alert")
        wait_for(lambda: declared(fleet_url, "retrier") == "acct-retry", what="the retried declaration", timeout=30)
        assert bot.reaction.mode is not None  # still trading (paper): nothing else stopped it
        svc(fleet_url, tmp_path, account="acct-retry").activate_kill("account compromised", WHO)
        wait_for(lambda: bot.reaction.mode is None, what="the bot stopped by its account's kill", timeout=30)
        assert bot.view.check().code == "KILL_SWITCH_ACTIVE"
    finally:
        release.set()
        thread.join(timeout=60)
    assert len(attempts) >= 2


def test_a_live_request_is_refused_until_the_bots_account_is_declared(fleet_url: str, tmp_path: Path) -> None:
    from nija.service import system_clock

    (tmp_path / "nija.toml").write_text('[exchange]\naccount = "acct-late"\n')
    service = svc(fleet_url, tmp_path, bot="late")
    service.restore(WHO)
    HeartbeatBot(service.store, system_clock, data_dir=tmp_path)  # in DRY_RUN, reconciled, a day of paper
    with pytest.raises(LiveRequestRefused) as refused:
        service.request_live(WHO, credentials_configured=True)
    assert refused.value.code == "ACCOUNT_NOT_DECLARED"
    assert "acct-late" in refused.value.message
    assert "not stop" in refused.value.message  # tells the truth: the account kill would miss the bot
    assert service.snapshot().state == "DRY_RUN"
    service.store.declare_account("acct-late")  # type: ignore[attr-defined]
    assert service.request_live(WHO, credentials_configured=True).code


def test_a_guarded_bot_declares_its_account_retrying_a_failed_declaration(fleet_url: str, tmp_path: Path) -> None:
    import nija
    from nija.guarded import OrderRefused
    from nija.store.postgres import PostgresStore
    from tests.fakes.kraken_server import FakeKraken
    from tests.guard.helpers import kraken

    (tmp_path / "nija.toml").write_text('[exchange]\naccount = "acct-guard"\n[bot]\nheartbeat_s = 0.2\n')
    svc(fleet_url, tmp_path, bot="guarded").restore(WHO)
    store: Any = PostgresStore(fleet_url, bot="guarded")
    real, attempts = store.declare_account, []

    def fails_once(account: str) -> bool:
        attempts.append(account)
        if len(attempts) == 1:
            raise StorageUnavailable("could not connect to server (injected)", "retry")
        return bool(real(account))

    store.declare_account = fails_once
    with FakeKraken() as fake:
        exchange = nija.guard(kraken(fake), data_dir=tmp_path, store=store)
        try:
            assert any(a.code == "ACCOUNT_NOT_DECLARED" for a in exchange.nija.alerts)  # at construction
            wait_for(lambda: declared(fleet_url, "guarded") == "acct-guard", what="the retried declaration")
            exchange.create_limit_buy_order("BTC/USDT", 0.01, 42_000.0)  # DRY_RUN: a paper order
            svc(fleet_url, tmp_path, account="acct-guard").activate_kill("account compromised", WHO)
            wait_for(lambda: not exchange.nija.permission().allowed, what="the account kill seen", timeout=30)
            with pytest.raises(OrderRefused, match="KILL_SWITCH_ACTIVE"):
                exchange.create_limit_buy_order("BTC/USDT", 0.01, 42_000.0)
        finally:
            exchange.close()
