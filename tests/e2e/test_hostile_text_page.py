"""Stored free text full of terminal escapes and bidi overrides, in a real headless Chromium
against a real ``nija serve``: the page shows visible escapes, never the raw controls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_control_center import ARGS, CHROMIUM, NEEDS_CHROMIUM
from tests.serving import make_token, serving

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = NEEDS_CHROMIUM

T = "2026-11-30T09:00:00+00:00"
REASON = "\x1b[2Jbackup \u202etxt.exe\u202c done\x9b31m"


def test_stored_control_characters_are_shown_as_escapes_on_the_page(data_dir: Path) -> None:
    entry = {"action": "activate", "reason": REASON, "timestamp": T, "source": "api", "actor": "mal\u2066lory"}
    doc = {"is_active": True, "history": [entry], "last_updated": T}
    (data_dir / ".nija_kill_switch_state.json").write_text(json.dumps(doc, ensure_ascii=False))
    token = make_token(data_dir, "alice", "admin")
    with serving(data_dir) as base, playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.goto(base + "/")
            page.fill("#token", token)
            page.click("#sign-in-form button")
            details = page.locator("#kill-details")
            playwright_api.expect(details).to_contain_text("\\x1b[2Jbackup \\u202etxt.exe\\u202c done\\x9b31m")
            playwright_api.expect(details).to_contain_text("mal\\u2066lory")
            shown = details.text_content() or ""
            assert not any(c in shown for c in "\x1b\u202e\u202c\u2066\x9b")
            history = page.locator("#recent-history").text_content() or ""
            assert "\x1b" not in history
        finally:
            browser.close()
