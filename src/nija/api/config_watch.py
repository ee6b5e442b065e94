"""``nija serve`` reads nija.toml once, at start; the CLI reads it on every command. Rather
than swap settings under a running server (its live policy, its bind address), the
server notices when the file's content differs from what it started with and says so on
every screen and in its log: "restart nija serve to apply it"."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nija.domain.actions import CLI_COMMAND, FixAction

CONFIG_CHANGED = "CONFIG_CHANGED"


def _fingerprint(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None
    except OSError as exc:  # unreadable now: that is a change too, and says why
        return f"unreadable: {exc.strerror}"


class ConfigWatch:
    def __init__(self, path: Path, on_change: Callable[[str], None]) -> None:
        self.path = path
        self._started_with = _fingerprint(path)
        self._on_change = on_change
        self._notice: dict[str, Any] | None = None

    def notice(self) -> dict[str, Any] | None:
        """None while the file is as the server read it; else the notice, logged once. It
        stays after the file is changed back: only a restart proves what runs."""
        if self._notice is None and _fingerprint(self.path) != self._started_with:
            message = (
                f"{self.path.name} changed after this server started: it still runs on the settings it started with"
            )
            self._notice = {
                "code": CONFIG_CHANGED,
                "message": message,
                "fix": f"Restart it to apply them: {CLI_COMMAND[FixAction.RESTART_SERVE]}",
                "action": FixAction.RESTART_SERVE,
            }
            self._on_change(f"{message}. {self._notice['fix']}")
        return self._notice
