"""The kill receipt on the web control center, in headless Chromium against a real
``nija serve``: a real ``nija run`` DRY_RUN drill is killed, its receipt (from the paper
ledger) is shown in the bot panel without a reload."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING

from nija.assembly import build_service
from nija.kill_receipt import read_receipt
from tests.e2e.test_control_center import NEEDS_CHROMIUM, expect, page, server, shot  # noqa: F401 - fixtures
from tests.fakes.kraken import FakeKrakenState
from tests.runtime.live_process import CONFIG, OPERATOR, report, start_bot
from tests.runtime.runtime_helpers import wait_for

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = NEEDS_CHROMIUM


def test_the_kill_receipt_of_a_drill_is_shown_on_the_page(
    page: Page,  # noqa: F811 - the fixture
    server: tuple[str, str],  # noqa: F811 - the fixture
    data_dir: Path,
    tmp_path: Path,
) -> None:
    base, token = server
    (data_dir / "nija.toml").write_text(CONFIG + "[live]\nmin_dry_run_minutes = 0\n")
    build_service(data_dir).restore(OPERATOR)
    bot = start_bot(data_dir, FakeKrakenState(tmp_path / "kraken"), pace="0.005")
    try:
        wait_for(lambda: bool((r := report(data_dir)) and r.open_orders), what="a paper order")
        build_service(data_dir).activate_kill("drill from the web test", OPERATOR)
        wait_for(lambda: bool((r := report(data_dir)) and r.kill_receipt), timeout=30, what="the receipt reported")
        page.goto(base + "/")
        page.fill("#token", token)
        page.click("#sign-in-form button")
        receipt = page.locator("#kill-receipt")
        expect(receipt).to_contain_text("Kill receipt: FLAT: confirmed by paper in")
        expect(receipt).to_contain_text("residual exposure")
        shot(page, "kill-receipt")
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.communicate(timeout=60)
    assert read_receipt(data_dir) is not None
