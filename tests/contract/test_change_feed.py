"""The change-feed port on every backend: a change through another handle (another
process, for files and PostgreSQL) wakes every consumer; nothing happening wakes nobody.
Waits are bounded by generous deadlines: a missed change fails, a slow machine does not."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.changes import ChangeFeed
from nija.store.json_files import JsonFileStore
from nija.store.ports import Store
from tests.conftest import REPO, cli_env
from tests.contract.backends import Backend

WHO = Who("tester@host", "test")
DEADLINE_S = 30.0


def settled(feed: ChangeFeed) -> ChangeFeed:
    """Drain wakes from before the test (a PostgreSQL feed wakes when it connects)."""
    for _ in range(50):
        if not feed.wait(0.3):
            return feed
    raise AssertionError("the feed never went quiet")


def test_a_commit_through_another_handle_wakes_every_feed(store: Store, backend: Backend) -> None:
    first, second = settled(store.changes()), settled(store.changes())
    try:
        SafetyService(backend.another(store)).restore(WHO)
        assert first.wait(DEADLINE_S)
        assert second.wait(DEADLINE_S)  # each consumer sees it, not only the first to look
    finally:
        first.close()
        second.close()


def test_a_raised_kill_flag_wakes_the_feed(store: Store, backend: Backend) -> None:
    feed = settled(store.changes())
    try:
        backend.another(store).raise_kill_flag("feed test", WHO, datetime.now(UTC))
        assert feed.wait(DEADLINE_S)
    finally:
        feed.close()


def test_when_nothing_changes_the_feed_does_not_wake(store: Store) -> None:
    feed = settled(store.changes())
    try:
        assert feed.wait(0.5) is False
    finally:
        feed.close()


def test_a_kill_from_the_cli_in_another_process_wakes_a_file_feed(tmp_path: Path) -> None:
    data_dir = tmp_path
    feed = settled(JsonFileStore(data_dir).changes())
    try:
        subprocess.run(
            [sys.executable, str(REPO / "emergency_kill_switch.py"), "activate", "feed", "--data-dir", str(data_dir)],
            env=cli_env(),
            check=True,
            capture_output=True,
            timeout=120,
        )
        assert feed.wait(DEADLINE_S)
    finally:
        feed.close()
