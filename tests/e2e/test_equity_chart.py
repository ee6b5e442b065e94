"""The dashboard shows the running bot's equity curve and recent fills, and follows the
bot's report as it is rewritten (no reload), in a real headless Chromium, desktop and
phone. Screenshots: artifacts/screenshots/trust-equity-*.png (or $NIJA_E2E_SCREENSHOTS)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from nija.bot_report import BotReport, EquityPoint, FillItem, Pnl, write_report
from nija.domain.records import Heartbeat
from nija.store.json_files import JsonFileStore
from tests.e2e.test_control_center import NEEDS_CHROMIUM, expect

if TYPE_CHECKING:
    from playwright import sync_api as playwright_api
else:
    playwright_api = pytest.importorskip("playwright.sync_api")
from tests.e2e.test_trust_the_screen import SIZES, browser, open_page, shot, size
from tests.serving import make_token, serving

pytestmark = NEEDS_CHROMIUM
__all__ = ["browser"]


def report_with(points: int) -> BotReport:
    curve = tuple(EquityPoint(at=1_767_225_600 + 60 * i, equity=10_000 + 25 * ((i % 7) - 3) + i) for i in range(points))
    fills = tuple(
        FillItem(at=p.at, symbol="BTC/USDT", side="buy" if i % 2 else "sell", quantity=0.01, price=60_000.5, fee=0.6)
        for i, p in enumerate(curve[-5:])
    )
    return BotReport(
        updated_at=datetime.now(UTC).isoformat(),
        mode="simulated",
        broker="paper",
        pnl=Pnl(equity=curve[-1].equity if curve else 10_000),
        equity_curve=curve,
        recent_fills=fills,
    )


@SIZES
def test_the_equity_curve_is_drawn_and_follows_the_bot(
    browser: playwright_api.Browser, data_dir: Path, viewport: dict[str, int]
) -> None:
    now = datetime.now(UTC)
    JsonFileStore(data_dir).beat(Heartbeat(4242, "bot-host", now, now))
    write_report(data_dir, report_with(1))
    token = make_token(data_dir, "alice", "viewer")
    with serving(data_dir) as base:
        page = open_page(browser, base, token, viewport)
        expect(page.locator("#equity-chart")).to_contain_text("drawn after the first fills")
        write_report(data_dir, report_with(40))  # the bot fills; the page follows without a reload
        chart = page.locator("#equity-chart svg polyline")
        expect(chart).to_be_visible()
        assert len((chart.get_attribute("points") or "").split()) == 40
        expect(page.locator("#equity-chart")).to_contain_text("40 fills shown")
        expect(page.locator("#runtime")).to_contain_text("60,000.5")  # the recent fills table
        box = page.locator("#equity-chart svg").bounding_box()
        assert box is not None
        assert box["width"] > 100
        assert box["height"] > 20
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.locator("#equity-chart").scroll_into_view_if_needed()
        shot(page, f"equity-{size(viewport)}")
