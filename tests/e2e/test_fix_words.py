"""The web gives each fix as the button to press (the API's FixAction code), never a
shell command the operator would have to run elsewhere, in a real headless Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from nija.assembly import build_service
from nija.domain.transitions import Who
from tests.e2e.test_control_center import NEEDS_CHROMIUM, expect

if TYPE_CHECKING:
    from playwright import sync_api as playwright_api
else:
    playwright_api = pytest.importorskip("playwright.sync_api")
from tests.api.test_config_watch import rewrite
from tests.e2e.test_trust_the_screen import DESKTOP, browser, open_page, shot
from tests.scenarios import stopped_without_kill
from tests.serving import make_token, serving

pytestmark = NEEDS_CHROMIUM
__all__ = ["browser"]  # the fixture, shared

OPERATOR = Who("operator@test", "cli")


def test_a_refused_restore_names_the_deactivate_button(browser: playwright_api.Browser, data_dir: Path) -> None:
    build_service(data_dir).activate_kill("exchange outage", OPERATOR)
    token = make_token(data_dir, "alice", "admin")
    with serving(data_dir) as base:
        page = open_page(browser, base, token, DESKTOP)
        expect(page.locator("#state")).to_have_text("EMERGENCY_STOP")
        page.click("#restore-button")
        expect(page.locator("#message")).to_contain_text("Cannot restore")
        expect(page.locator("#message")).to_contain_text("then press \u201cDeactivate kill switch\u201d")
        expect(page.locator("#message")).not_to_contain_text("emergency_kill_switch.py")
        shot(page, "fix-names-the-button")


def test_an_inconsistency_names_the_restore_button(browser: playwright_api.Browser, data_dir: Path) -> None:
    stopped_without_kill(data_dir)  # the guide's case: stopped, kill switch off
    token = make_token(data_dir, "alice", "admin")
    with serving(data_dir) as base:
        page = open_page(browser, base, token, DESKTOP)
        expect(page.locator("#inconsistencies")).to_contain_text("EMERGENCY_STOP_WITHOUT_KILL")
        expect(page.locator("#inconsistencies")).to_contain_text("Fix: press \u201cRestore to DRY_RUN\u2026\u201d")
        expect(page.locator("#inconsistencies")).not_to_contain_text("safe_restore_trading.py")


def test_a_changed_nija_toml_shows_on_the_page_and_in_the_log_that_serve_must_restart(
    browser: playwright_api.Browser, data_dir: Path
) -> None:
    (data_dir / "nija.toml").write_text("[live]\nmin_dry_run_minutes = 60\n")
    token = make_token(data_dir, "alice", "admin")
    log = data_dir.parent / "serve.log"
    with serving(data_dir, log=log) as base:
        page = open_page(browser, base, token, DESKTOP)
        expect(page.locator("#state")).to_have_text("OFF")
        expect(page.locator("#server-notice")).to_be_hidden()
        (data_dir / "nija.toml").write_text("[live]\nmin_dry_run_minutes = 5\n")
        # no reload: the next status event carries the notice (within the watcher's refresh)
        expect(page.locator("#server-notice")).to_contain_text("nija.toml changed after this server started")
        expect(page.locator("#server-notice")).to_contain_text("restart \u2018nija serve\u2019 on its host")
        with httpx.Client(timeout=30) as client:
            body = client.get(base + "/api/status", headers={"Authorization": f"Bearer {token}"}).json()
        assert body["server_notice"]["action"] == "RESTART_SERVE"
        shot(page, "serve-must-restart")
    logged = log.read_text()
    assert logged.count("nija.toml changed after this server started") == 1  # said once, not per poll
    assert "nija serve (stop it and start it again)" in logged


def test_an_unchanged_nija_toml_gives_no_notice(data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text("[live]\nmin_dry_run_minutes = 60\n")
    token = make_token(data_dir, "alice", "viewer")
    with serving(data_dir) as base:
        rewrite(data_dir / "nija.toml", "[live]\nmin_dry_run_minutes = 60\n")  # saved again, same content
        body = httpx.get(base + "/api/status", headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    assert body["server_notice"] is None


def test_the_web_counts_a_denial_flood_by_the_runs_totals_not_the_recent_list(
    browser: playwright_api.Browser, data_dir: Path
) -> None:
    from datetime import UTC, datetime

    from nija.bot_report import BotReport, Notice, write_report
    from nija.domain.records import Heartbeat
    from nija.store.json_files import JsonFileStore

    now = datetime.now(UTC)
    JsonFileStore(data_dir).beat(Heartbeat(4242, "bot-host", now, now))
    recent = tuple(
        Notice(timestamp=now.isoformat(), code="KILL_SWITCH_ACTIVE", message="BTC/USDT: k") for _ in range(20)
    )
    write_report(
        data_dir,
        BotReport(
            updated_at=now.isoformat(),
            mode="none",
            broker="paper",
            denials=recent,
            denial_counts={"KILL_SWITCH_ACTIVE": 3598, "STALE_DATA": 2},  # STALE_DATA fell out of the recent list
            denial_last={"KILL_SWITCH_ACTIVE": now.isoformat(), "STALE_DATA": "2026-11-24T10:00:30+00:00"},
        ),
    )
    token = make_token(data_dir, "alice", "viewer")
    with serving(data_dir) as base:
        page = open_page(browser, base, token, DESKTOP)
        items = page.locator("#notices li")
        expect(items).to_have_count(2)
        expect(items.nth(0)).to_contain_text("DENIED KILL_SWITCH_ACTIVE ×3598")
        expect(items.nth(1)).to_contain_text("DENIED STALE_DATA ×2")
