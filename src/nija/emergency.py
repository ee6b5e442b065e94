"""The emergency path's first step: ``activate`` raises the kill file before the rest of
NIJA is imported (click, the stores, the service take far longer to load than the raise).

Standard library only. The entry points (``nija.cli.entry``) call ``raise_first`` with
the command's arguments; the full command then records the same activation (same reason,
actor, source and time: ``killswitch.activate`` recognises the flag it raised) and says
what it did. Anything unusual (a PostgreSQL store, --help, an unknown option, a reason
that is not plain ASCII, an empty reason, a failed raise) is left to the full command
alone, which raises, refuses or reports exactly as before."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime

    from nija.domain.errors import StorageProblem

SOURCE = "cli"  # nija.cli.common.cli_who
_FLAGS = frozenset({"--json", "--yes", "--force"})


class EarlyKill:
    """A kill file this process raised before loading NIJA, for the full command to record."""

    __slots__ = ("details_lost", "directory", "now", "reason")

    def __init__(self, directory: str, reason: str, now: datetime, details_lost: OSError | None = None) -> None:
        self.directory = directory
        self.reason = reason
        self.now = now
        # The file was created (the kill is in force) but its cause could not be written
        # (a full disk): the full command must say so, as it would had it raised the file.
        self.details_lost = details_lost

    def problem(self) -> StorageProblem | None:
        """What the raise's failure to write the details means, in the exception tree."""
        if self.details_lost is None:
            return None
        from pathlib import Path

        from nija.store.kill_file import KILL_FILE, details_not_written

        return details_not_written(Path(self.directory) / KILL_FILE, self.details_lost)


_raised: EarlyKill | None = None


def raise_first(args: list[str]) -> None:
    """``args``: what follows ``activate`` on the command line."""
    global _raised
    parsed = _parse(args)
    if parsed is None:
        return
    directory, reason = parsed
    from datetime import UTC, datetime

    from nija.identity import local_actor
    from nija.store import kill_raise

    now = datetime.now(UTC)
    data = kill_raise.body(reason, local_actor(), SOURCE, now.isoformat())
    try:
        kill_raise.raise_new(os.path.join(directory, kill_raise.KILL_FILE), data)
    except kill_raise.CauseNotWritten as lost:
        _raised = EarlyKill(directory, reason, now, details_lost=lost.error)
        return
    except OSError:
        return  # nothing raised: the full command raises again and tells the truth about it
    _raised = EarlyKill(directory, reason, now)


def raised(directory: str, reason: str) -> EarlyKill | None:
    """The early kill for this directory and (stripped) reason, if this process raised one."""
    early = _raised
    if early is None or early.directory != os.path.abspath(directory) or early.reason != reason.strip():
        return None
    return early


def _parse(args: list[str]) -> tuple[str, str] | None:
    """(absolute data directory, stripped reason) for a plain activation of the JSON files."""
    if os.environ.get("NIJA_STORE") or os.environ.get("NIJA_BOT"):
        return None
    directory = os.environ.get("NIJA_DATA_DIR") or "."
    words: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg == "--data-dir":
            directory = next(rest, "")
        elif arg.startswith("--data-dir="):
            directory = arg.partition("=")[2]
        elif arg.startswith("-"):
            if arg not in _FLAGS:
                return None
        else:
            words.append(arg)
    reason = " ".join(words).strip()
    # Plain printable ASCII only: anything else is checked by the full command first
    # (invariant 12: a refused reason must not have raised anything).
    if not directory or not reason or not all(" " <= ch <= "~" for ch in reason):
        return None
    return os.path.abspath(directory), reason
