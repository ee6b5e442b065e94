"""``nija serve`` notices a changed nija.toml through a change feed on its directory (no
polling of the file): the notice appears without anyone asking, is logged once, and a
rewrite with the same content is no change."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from nija.api.config_watch import CONFIG_CHANGED, ConfigWatch


def wait_for(condition: Callable[[], bool], what: str, deadline_s: float = 30.0) -> None:
    end = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)


def rewrite(config: Path, text: str) -> None:
    """As an editor that saves atomically does: the file is never seen half-saved here (a
    save in place is ``test_the_same_bytes_saved_in_place_are_no_change``)."""
    temporary = config.with_name(config.name + ".saving")
    temporary.write_text(text)
    temporary.replace(config)


def test_a_changed_file_is_noticed_by_the_feed_and_logged_once(tmp_path: Path) -> None:
    config = tmp_path / "nija.toml"
    config.write_text("[live]\nmin_dry_run_minutes = 60\n")
    logged: list[str] = []
    watch = ConfigWatch(config, logged.append)
    watch.start()
    try:
        rewrite(config, "[live]\nmin_dry_run_minutes = 60\n")  # same bytes: not a change
        watch.check()
        assert watch.notice() is None
        assert logged == []
        config.write_text("[live]\nmin_dry_run_minutes = 5\n")
        wait_for(lambda: watch.notice() is not None, "the feed to wake the watch")  # nobody called check()
        notice = watch.notice()
        assert notice is not None
        assert notice["code"] == CONFIG_CHANGED
        assert "restart" in notice["fix"].lower()
        config.write_text("[live]\nmin_dry_run_minutes = 60\n")  # changed back: still not what runs
        watch.check()
        assert watch.notice() == notice
    finally:
        watch.close()
    assert len(logged) == 1
    assert "nija.toml changed after this server started" in logged[0]


def test_a_file_created_after_start_is_a_change(tmp_path: Path) -> None:
    config = tmp_path / "nija.toml"
    watch = ConfigWatch(config, lambda _: None)
    watch.start()
    try:
        config.write_text("[api]\nport = 9000\n")
        wait_for(lambda: watch.notice() is not None, "the new file to be noticed")
    finally:
        watch.close()


def test_the_same_bytes_saved_in_place_are_no_change(tmp_path: Path) -> None:
    """An editor that saves in place truncates the file, then writes it: the watch that reads
    the empty file in between reads again once the save is done (here: during its settle)."""
    config = tmp_path / "nija.toml"
    original = "[live]\nmin_dry_run_minutes = 60\n"
    config.write_text(original)
    saves = [original]  # what the save in progress writes while the watch settles
    logged: list[str] = []
    watch = ConfigWatch(config, logged.append, settle=lambda: saves and config.write_text(saves.pop()))
    config.write_bytes(b"")  # the save has truncated it
    watch.check()
    assert watch.notice() is None
    assert logged == []
    config.write_text("[live]\nmin_dry_run_minutes = 5\n")  # a real change stays one after the settle
    watch.check()
    assert watch.notice() is not None
    assert len(logged) == 1


def test_a_change_is_reported_after_the_file_settles(tmp_path: Path) -> None:
    config = tmp_path / "nija.toml"
    config.write_text("[api]\nport = 9000\n")
    watch = ConfigWatch(config, lambda _: None, settle=lambda: config.write_text("[api]\nport = 9001\n"))
    config.write_bytes(b"")
    watch.check()
    notice = watch.notice()
    assert notice is not None
    assert notice["code"] == CONFIG_CHANGED
