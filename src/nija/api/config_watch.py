"""``nija serve`` reads nija.toml once, at start; the CLI reads it on every command. Rather
than swap settings under a running server (its live policy, its bind address), the
server notices when the file's content differs from what it started with and says so on
every screen and in its log: "restart nija serve to apply it".

The file is not polled: a change feed on its directory (inotify, the same
``FileChangeFeed`` the store uses, which polls only where inotify cannot be used) wakes
a thread that compares the content with what the server started with. A difference is
read again after a moment before it is reported: an editor that saves in place truncates
the file first, and the same bytes saved again are no change."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nija.domain.actions import CLI_COMMAND, FixAction
from nija.store.changes import FileChangeFeed

CONFIG_CHANGED = "CONFIG_CHANGED"
WAKE_S = 5.0  # the thread's longest sleep when nothing changes (it then only re-checks stop)
SETTLE_S = 0.25  # a save in progress (truncated, then written) ends within this, normally


def _settle() -> None:
    time.sleep(SETTLE_S)


def _fingerprint(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None
    except OSError as exc:  # unreadable now: that is a change too, and says why
        return f"unreadable: {exc.strerror}"


class ConfigWatch:
    def __init__(self, path: Path, on_change: Callable[[str], None], *, settle: Callable[[], object] = _settle) -> None:
        self.path = path
        self._settle = settle
        self._started_with = _fingerprint(path)
        self._on_change = on_change
        self._notice: dict[str, Any] | None = None
        self._stop = threading.Event()
        self._feed: FileChangeFeed | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Watch from now on (the server's lifespan); a change made before is seen too."""
        self._feed = FileChangeFeed(self.path.parent, [self.path.name])
        self.check()  # changed between reading the settings and arming the feed
        self._thread = threading.Thread(target=self._follow, name="nija-config-watch", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._feed is not None:
            self._feed.close()  # wakes the thread
        if self._thread is not None:
            self._thread.join(timeout=5)

    def notice(self) -> dict[str, Any] | None:
        """None while the file is as the server read it; else the notice. It stays after
        the file is changed back: only a restart proves what runs."""
        return self._notice

    def check(self) -> None:
        """Compare the file with what the server started with; log the notice once."""
        if self._notice is not None or _fingerprint(self.path) == self._started_with:
            return
        self._settle()  # a save may be under way: what it leaves is what counts
        if _fingerprint(self.path) == self._started_with:
            return
        message = f"{self.path.name} changed after this server started: it still runs on the settings it started with"
        notice = {
            "code": CONFIG_CHANGED,
            "message": message,
            "fix": f"Restart it to apply them: {CLI_COMMAND[FixAction.RESTART_SERVE]}",
            "action": FixAction.RESTART_SERVE,
        }
        self._notice = notice
        self._on_change(f"{message}. {notice['fix']}")

    def _follow(self) -> None:
        feed = self._feed
        assert feed is not None
        while not self._stop.is_set():
            if feed.wait(WAKE_S) and not self._stop.is_set():
                self.check()
