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
import stat

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


def raise_first(args: list[str]) -> PlainActivation | None:
    """``args``: what follows ``activate`` on the command line. Returns the plain activation
    it read (raised or not: a failed raise is the full command's to retry and report), or
    None when the activation is not plain."""
    global _raised
    parsed = plain_activation(args)
    if parsed is None:
        return None
    directory, reason = parsed.directory, parsed.text.strip()
    from datetime import UTC, datetime

    from nija.identity import local_actor
    from nija.store import kill_raise

    now = datetime.now(UTC)
    data = kill_raise.body(reason, local_actor(), SOURCE, now.isoformat())
    try:
        kill_raise.raise_new(os.path.join(directory, kill_raise.KILL_FILE), data)
    except kill_raise.CauseNotWritten as lost:
        _raised = EarlyKill(directory, reason, now, details_lost=lost.error)
        return parsed
    except OSError:
        return parsed  # nothing raised: the full command raises again and tells the truth about it
    _raised = EarlyKill(directory, reason, now)
    return parsed


def raised(directory: str, reason: str) -> EarlyKill | None:
    """The early kill for this directory and (stripped) reason, if this process raised one."""
    early = _raised
    if early is None or early.directory != os.path.abspath(directory) or early.reason != reason.strip():
        return None
    return early


class PlainActivation:
    """A plain activation of the JSON files: only a reason of printable ASCII and
    ``--data-dir``, ``--json``, ``--yes``/``--force``, no store in the environment."""

    __slots__ = ("as_json", "data_dir", "directory", "text")

    def __init__(self, data_dir: str | None, text: str, as_json: bool) -> None:
        self.data_dir = data_dir  # as click would pass it: None when neither given nor set
        self.directory = os.path.abspath(data_dir if data_dir is not None else ".")
        self.text = text  # the reason's words joined, as the click command joins them
        self.as_json = as_json


class PlainOptions:
    """What a plain command line gave: ``--data-dir`` as click would pass it, ``--json``,
    and the words that are not options."""

    __slots__ = ("as_json", "data_dir", "words")

    def __init__(self, data_dir: str | None, as_json: bool, words: list[str]) -> None:
        self.data_dir = data_dir
        self.as_json = as_json
        self.words = words


def plain_options(args: list[str], flags: frozenset[str]) -> PlainOptions | None:
    """``--data-dir``/``--data-dir=``, the flags in ``flags`` and words, nothing else, and no
    store chosen by the environment (NIJA_STORE, NIJA_BOT); NIJA_DATA_DIR as click reads
    it. None: not plain, or a data directory click would refuse."""
    if os.environ.get("NIJA_STORE") or os.environ.get("NIJA_BOT"):
        return None
    data_dir = os.environ.get("NIJA_DATA_DIR") or None
    words: list[str] = []
    as_json = False
    rest = iter(args)
    for arg in rest:
        if arg == "--data-dir":
            data_dir = next(rest, "")
        elif arg.startswith("--data-dir="):
            data_dir = arg.partition("=")[2]
        elif arg.startswith("-"):
            if arg not in flags:
                return None
            as_json = as_json or arg == "--json"
        else:
            words.append(arg)
    return PlainOptions(data_dir, as_json, words) if click_accepts(data_dir) else None


def plain_activation(args: list[str]) -> PlainActivation | None:
    """``args``: what follows ``activate``. None: anything else, left to the full command."""
    options = plain_options(args, _FLAGS)
    if options is None:
        return None
    text = " ".join(options.words)
    # Plain printable ASCII only: anything else is checked by the full command first
    # (invariant 12: a refused reason must not have raised anything).
    if not text.strip() or not all(" " <= ch <= "~" for ch in text):
        return None
    return PlainActivation(options.data_dir, text, options.as_json)


def click_accepts(data_dir: str | None) -> bool:
    """Whether click's ``--data-dir`` (a ``click.Path(file_okay=False)``) takes this value:
    not empty, and if it exists, not a regular file and readable. Its refusal is a usage
    error (exit 2, nothing written), which the fast paths leave to click to say."""
    if data_dir is None:
        return True
    if not data_dir:
        return False
    try:
        st = os.stat(data_dir)
    except OSError:
        return True  # click passes what does not exist; the store says what is wrong
    return not stat.S_ISREG(st.st_mode) and os.access(data_dir, os.R_OK)
