"""Screens an operator can trust in an incident, in a real headless Chromium against a
real ``nija serve``, at desktop and phone sizes: LIVE_ACTIVE is unmistakable, a stopped
bot's report is not shown as current, a kill that failed says trading is NOT stopped,
long numbers never push the kill bar off a phone, and alerts and denials are shown.
Screenshots go to ``artifacts/screenshots/trust-*-desktop.png`` and ``*-phone.png`` (or
``$NIJA_E2E_SCREENSHOTS``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest

from nija.bot_report import BotReport, Notice, OpenOrder, Pnl, Position, write_report
from nija.domain.records import Heartbeat
from nija.store.json_files import JsonFileStore
from tests.e2e.test_control_center import ARGS, CHROMIUM, NEEDS_CHROMIUM, SHOTS, expect
from tests.serving import make_token, serving

if TYPE_CHECKING:
    from playwright import sync_api as playwright_api
    from playwright.sync_api import ViewportSize
else:
    playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = NEEDS_CHROMIUM

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1200, "height": 900}


@pytest.fixture
def browser() -> Iterator[playwright_api.Browser]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def open_page(browser: playwright_api.Browser, base: str, token: str, viewport: dict[str, int]) -> playwright_api.Page:
    page = browser.new_context(viewport=cast("ViewportSize", viewport)).new_page()
    page.set_default_timeout(15_000)
    page.goto(base + "/")
    page.fill("#token", token)
    page.click("#sign-in-form button")
    expect(page.locator("#connection")).to_have_text("● connected")
    return page


SIZES = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])


def size(viewport: dict[str, int]) -> str:
    return "phone" if viewport == PHONE else "desktop"


def shot(page: playwright_api.Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"trust-{name}.png"), full_page=False)


def live_active_state(data_dir: Path) -> None:
    """What a LIVE_ACTIVE record looks like on disk (no bot: nothing can trade on it)."""
    t0 = datetime(2026, 2, 17, 20, 0, tzinfo=UTC)
    steps = [("OFF", "DRY_RUN"), ("DRY_RUN", "LIVE_PENDING_CONFIRMATION"), ("LIVE_PENDING_CONFIRMATION", "LIVE_ACTIVE")]
    history = [
        {"from": a, "to": b, "reason": "drill", "timestamp": (t0 + timedelta(minutes=i)).isoformat()}
        for i, (a, b) in enumerate(steps)
    ]
    record = {"current_state": "LIVE_ACTIVE", "history": history, "last_updated": history[-1]["timestamp"]}
    (data_dir / ".nija_trading_state.json").write_text(json.dumps(record))


def busy_report(now: datetime, *, positions: int = 1) -> BotReport:
    return BotReport(
        updated_at=now.isoformat(),
        mode="simulated",
        broker="paper",
        positions=tuple(
            Position(
                symbol=f"COIN{i}/USDT",
                quantity=0.046314047809344935,
                average_price=61234.567891234567,
                market_price=61301.000000000001,
                unrealized_pnl=3.0767890123456789,
            )
            for i in range(positions)
        ),
        open_orders=(
            OpenOrder(
                id="paper-000000000000000000000001",
                symbol="BTC/USDT",
                side="buy",
                type="limit",
                quantity=0.123456789012345,
                price=60000.123456789,
            ),
        ),
        pnl=Pnl(cash=9876.543210987654, equity=10012.345678901234, realized=12.3456789, fees=0.98765432),
        denials=(
            Notice(
                timestamp=(now - timedelta(seconds=30)).isoformat(), code="KILL_SWITCH_ACTIVE", message="BTC/USDT: k"
            ),
            Notice(
                timestamp=(now - timedelta(seconds=20)).isoformat(), code="KILL_SWITCH_ACTIVE", message="BTC/USDT: k"
            ),
            Notice(
                timestamp=(now - timedelta(seconds=10)).isoformat(), code="KILL_SWITCH_ACTIVE", message="ETH/USDT: k"
            ),
            Notice(
                timestamp=(now - timedelta(seconds=5)).isoformat(), code="RISK_MAX_ORDER_NOTIONAL", message="too big"
            ),
        ),
        alerts=(Notice(timestamp=now.isoformat(), code="KILL_INCOMPLETE", message="2 orders still open"),),
    )


@SIZES
def test_live_active_is_unmistakable_on_every_page(
    browser: playwright_api.Browser, data_dir: Path, viewport: dict[str, int]
) -> None:
    live_active_state(data_dir)
    token = make_token(data_dir, "alice", "admin")
    with serving(data_dir) as base:
        page = open_page(browser, base, token, viewport)
        for tab in ("#dashboard", "#live", "#history"):
            page.goto(base + "/" + tab)
            expect(page.locator("#live-badge")).to_be_visible()
            expect(page.locator("#live-badge")).to_have_text("REAL MONEY · LIVE TRADING")
            expect(page.locator("#live-frame")).to_be_visible()
            expect(page.locator("#kill-button")).to_be_visible()
        page.goto(base + "/#dashboard")
        expect(page.locator("#state")).to_have_text("LIVE_ACTIVE")
        assert "live" in (page.locator("body").get_attribute("class") or "")
        shot(page, f"live-frame-{size(viewport)}")


def test_dry_run_shows_no_live_frame(browser: playwright_api.Browser, data_dir: Path) -> None:
    token = make_token(data_dir, "alice", "admin")
    with serving(data_dir) as base:
        page = open_page(browser, base, token, DESKTOP)
        expect(page.locator("#state")).to_have_text("OFF")
        expect(page.locator("#live-badge")).to_be_hidden()
        expect(page.locator("#live-frame")).to_be_hidden()


@SIZES
def test_a_stopped_bots_positions_are_marked_stopped_not_current(
    browser: playwright_api.Browser, data_dir: Path, viewport: dict[str, int]
) -> None:
    now = datetime.now(UTC)
    store = JsonFileStore(data_dir)
    store.beat(Heartbeat(4242, "bot-host", now, now))
    write_report(data_dir, busy_report(now))
    token = make_token(data_dir, "alice", "admin")
    with serving(data_dir) as base:
        page = open_page(browser, base, token, viewport)
        expect(page.locator("#runtime")).to_contain_text("COIN0/USDT")
        # The bot stops: its heartbeat says so; the page follows without a reload.
        store.beat(Heartbeat(4242, "bot-host", datetime.now(UTC), now, stopped=True))
        expect(page.locator("#runtime-stale")).to_contain_text("Bot stopped at")
        expect(page.locator("#runtime-stale")).to_contain_text("not current")
        assert "stale" in (page.locator("#runtime-card").get_attribute("class") or "")
        expect(page.locator("#runtime")).to_contain_text("COIN0/USDT")  # still shown, greyed
        page.locator("#runtime-stale").scroll_into_view_if_needed()
        shot(page, f"stale-after-bot-stopped-{size(viewport)}")


def test_a_report_that_stops_updating_is_marked_stale_with_its_age(
    browser: playwright_api.Browser, data_dir: Path
) -> None:
    now = datetime.now(UTC)
    JsonFileStore(data_dir).beat(Heartbeat(4242, "bot-host", now, now))
    write_report(data_dir, busy_report(now - timedelta(seconds=90)))
    token = make_token(data_dir, "alice", "admin")
    with serving(data_dir) as base:
        page = open_page(browser, base, token, DESKTOP)
        expect(page.locator("#runtime-stale")).to_contain_text("STALE: updated")


@SIZES
def test_a_kill_that_cannot_reach_the_server_says_trading_is_not_stopped(
    browser: playwright_api.Browser, data_dir: Path, viewport: dict[str, int]
) -> None:
    token = make_token(data_dir, "alice", "viewer")
    with serving(data_dir) as base:
        page = open_page(browser, base, token, viewport)
    # The server is gone; the open page must not pretend.
    expect(page.locator("#connection")).to_contain_text("disconnected")
    expect(page.locator("#state-stale")).to_contain_text("Not connected")
    page.fill("#kill-reason", "it's $(reboot) runaway")
    page.click("#kill-button")
    expect(page.locator("#kill-failed")).to_be_visible()
    expect(page.locator("#kill-failed")).to_contain_text("TRADING IS NOT STOPPED")
    expect(page.locator("#kill-failed")).to_contain_text("touch EMERGENCY_STOP")
    # The command to paste on the host is quoted for the shell: it runs as shown.
    expect(page.locator("#kill-fallback-cli")).to_have_text("nija kill activate 'it'\\''s $(reboot) runaway'")
    expect(page.locator("#message")).not_to_contain_text("TypeError")
    assert not (data_dir / "EMERGENCY_STOP").exists()
    shot(page, f"failed-kill-server-down-{size(viewport)}")


@SIZES
def test_long_numbers_never_push_the_kill_bar_away(
    browser: playwright_api.Browser, data_dir: Path, viewport: dict[str, int]
) -> None:
    now = datetime.now(UTC)
    JsonFileStore(data_dir).beat(Heartbeat(4242, "bot-host", now, now))
    write_report(data_dir, busy_report(now, positions=40))
    token = make_token(data_dir, "alice", "admin")
    with serving(data_dir) as base:
        page = open_page(browser, base, token, viewport)
        expect(page.locator("#runtime")).to_contain_text("COIN39/USDT")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        assert "0.046314047809344935" not in page.locator("#runtime").inner_text()
        expect(page.locator("#runtime")).to_contain_text("0.04631405")
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        assert page.evaluate("window.scrollY") > 0  # the page did scroll: 40 rows are taller than the screen
        box = page.locator("#kill-button").bounding_box()
        assert box is not None
        assert box["y"] >= 0  # still in view ...
        assert box["y"] + box["height"] <= viewport["height"]
        assert box["x"] + box["width"] <= viewport["width"]
        shot(page, f"kill-bar-after-scrolling-{size(viewport)}")


@SIZES
def test_alerts_are_pinned_above_denials_grouped_by_code(
    browser: playwright_api.Browser, data_dir: Path, viewport: dict[str, int]
) -> None:
    now = datetime.now(UTC)
    JsonFileStore(data_dir).beat(Heartbeat(4242, "bot-host", now, now))
    write_report(data_dir, busy_report(now))
    token = make_token(data_dir, "alice", "admin")
    with serving(data_dir) as base:
        page = open_page(browser, base, token, viewport)
        items = page.locator("#notices li")
        expect(items).to_have_count(3)
        expect(items.nth(0)).to_contain_text("ALERT KILL_INCOMPLETE")
        expect(items.nth(1)).to_contain_text("DENIED RISK_MAX_ORDER_NOTIONAL ×1")
        expect(items.nth(2)).to_contain_text("DENIED KILL_SWITCH_ACTIVE ×3")
        expect(items.nth(2)).to_contain_text("ETH/USDT")  # the newest of its group
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.locator("#notices").scroll_into_view_if_needed()
        shot(page, f"alerts-and-denials-{size(viewport)}")
