"""Browser tests: the pages' assertions wait as long as their actions."""

from __future__ import annotations

import pytest

# Page actions wait 15 s (set_default_timeout); expect() ignores that and waits 5 s unless
# told: a status refresh after a settle on a loaded machine can take longer.
EXPECT_TIMEOUT_MS = 15_000


@pytest.fixture(autouse=True, scope="session")
def _patient_expectations() -> None:
    try:
        from playwright.sync_api import expect
    except ImportError:  # the browser tests skip themselves
        return
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
