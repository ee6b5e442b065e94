"""An automatic kill that fires while the fleet database is away: the bot cannot record
it, so it enforces it itself (every order denied, open orders cancelled) and records it
as soon as the database returns; nothing raises out of the bot loop (no exit 4)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from nija.assembly import build_service
from nija.config import NijaConfig
from nija.domain.transitions import Who
from nija.runtime.candles import Candle
from nija.runtime.controls.verdict import Trigger
from nija.runtime.engine import Bot
from nija.runtime.orders import OrderRequest, OrderType, Side
from nija.runtime.settings import BotSettings
from nija.runtime.summary import Summary
from nija.service import SafetyService
from nija.store.postgres import PostgresStore
from nija.store.selection import StoreSelection
from tests.fleet.test_outage import cut, restore_connections
from tests.runtime.runtime_helpers import wait_for

OPERATOR = Who("alice@host", "cli")
CONFIG = NijaConfig(bot=BotSettings(heartbeat_s=0.2, report_s=0.2, outage_cancel_after_s=600))


def candles(release: threading.Event) -> Iterator[Candle]:
    for i in range(4):
        yield Candle(1_767_225_600 + 60 * i, "BTC/USDT", 100.0, 100.5, 99.5, 100.0, 1.0)
    release.wait(timeout=60)  # hold the loop open while the test works


def test_an_automatic_kill_during_an_outage_is_enforced_then_recorded(fleet_url: str, tmp_path: Path) -> None:
    service = build_service(tmp_path, config=CONFIG, selection=StoreSelection(fleet_url, "gamma"))
    service.store.stale_after_s = 1.0  # type: ignore[attr-defined]
    service.restore(OPERATOR)
    bot = Bot(service, CONFIG, tmp_path, actor="test")
    release = threading.Event()
    summaries: list[Summary] = []
    thread = threading.Thread(target=lambda: summaries.append(bot.run(candles(release))))
    thread.start()
    try:
        # Two events: the mode is set at the start, the reference price at the first candle.
        wait_for(
            lambda: bot.reaction.mode is not None and bot.references.get("BTC/USDT") is not None,
            what="the bot in DRY_RUN with a market price",
        )
        resting = bot.place(OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 0.01, 97.0))
        assert resting.accepted
        cut(fleet_url)
        try:
            wait_for(lambda: bot.outage.current is not None, what="the outage noticed")
            assert len(bot.paper.open_orders()) == 1  # kept: the outage is shorter than outage_cancel_after_s
            bot._trip(Trigger("DAILY_LOSS", "daily loss 1200 >= 1000"))  # what the loop does on a breach
            assert bot.paper.open_orders() == ()  # enforced at once, as on any kill
            assert bot.reaction.kill.complete
        finally:
            restore_connections(fleet_url)
        wait_for(lambda: bot.outage.current is None and bool(bot.outage.records), what="the database back")
        # Between the database's return and the record, the bot still denies by itself.
        denied = bot.place(OrderRequest("BTC/USDT", Side.BUY, OrderType.LIMIT, 0.01, 97.0))
        assert not denied.accepted
        assert denied.code == "KILL_SWITCH_ACTIVE"
        reader = PostgresStore(fleet_url, bot="gamma")
        try:

            def activations() -> list[tuple[str, str]]:
                return [(k.reason, k.source) for k in SafetyService(reader).history()[1] if k.action == "activate"]

            # The flag is raised before the kill event is committed: wait for the event itself.
            wait_for(lambda: bool(activations()), what="the kill recorded once the database returned")
            assert reader.load().kill_active
            assert activations() == [("daily loss 1200 >= 1000", "AUTO_DAILY_LOSS")]
        finally:
            reader.close()
    finally:
        release.set()
        thread.join(timeout=60)
    assert summaries
    assert summaries[0].state_at_end == "EMERGENCY_STOP"
    assert summaries[0].outages
    assert summaries[0].outages[0]["end"] is not None
