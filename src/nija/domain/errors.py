"""One exception tree; every class carries the exit code the CLI returns for it.

    NijaError (1: unexpected)
    ├── UsageProblem (2)
    │   └── UnsafeText
    ├── SafetyRefusal (3)
    │   ├── IllegalTransition
    │   ├── KillSwitchActive
    │   ├── AcknowledgmentRequired
    │   ├── LiveRequestRefused
    │   │   └── CredentialsUnreadable
    │   ├── ConfirmationDeclined
    │   ├── StateChanged
    │   ├── KillRaisedDuringDeactivation
    │   ├── BotAlreadyRunning
    │   ├── StateTransitionError      (nija.compat: the original bot's name)
    │   ├── KillSwitchEngaged         (nija.compat: also a RuntimeError, as the original's)
    │   └── KillSwitchChangeRefused   (nija.compat: also a RuntimeError)
    ├── StorageProblem (4)
    │   ├── StorageCorrupt
    │   ├── StorageNotWritable
    │   │   └── KillFileNotWritten
    │   ├── StorageUnavailable
    │   ├── LockTimeout
    │   ├── AddressInUse
    │   ├── KillNotRecorded (the kill IS in force on disk)
    │   └── KillNotOnDisk (KILL_IN_MEMORY_ONLY, KILL_NOT_IN_FORCE)
    └── InconsistenciesFound (5, from ``status`` only)

Each error has a stable ``code``, a ``message`` saying what is wrong and a ``fix``
saying what the operator should do about it.
"""

from __future__ import annotations

from nija.domain.actions import FixAction
from nija.domain.codes import ErrorCode


class NijaError(Exception):
    exit_code = 1
    # A StrEnum member (ErrorCode, or an area's own such as domain.live.LiveCode): it
    # equals its text, so callers comparing with the bare string still match.
    code: str = ErrorCode.UNEXPECTED

    def __init__(
        self, message: str, fix: str = "", *, code: str | None = None, action: FixAction | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix  # the command line's words
        self.action = action  # the same fix as a code, for the TUI's keys and the web's buttons
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message if not self.fix else f"{self.message}\nFix: {self.fix}"


class UsageProblem(NijaError):
    exit_code = 2
    code = ErrorCode.USAGE


class UnsafeText(UsageProblem):
    """Free text with control characters (escape sequences, bidi overrides): refused at input."""

    code = ErrorCode.UNSAFE_TEXT


class SafetyRefusal(NijaError):
    exit_code = 3
    code = ErrorCode.REFUSED


class IllegalTransition(SafetyRefusal):
    code = ErrorCode.ILLEGAL_TRANSITION


class KillSwitchActive(SafetyRefusal):
    code = ErrorCode.KILL_SWITCH_ACTIVE


class AcknowledgmentRequired(SafetyRefusal):
    code = ErrorCode.ACKNOWLEDGMENT_REQUIRED


class LiveRequestRefused(SafetyRefusal):
    code = ErrorCode.LIVE_REQUEST_REFUSED


class CredentialsUnreadable(LiveRequestRefused):
    """The exchange credentials are there but cannot be used (mode, syntax, keys): a live
    request is refused (exit 3, HTTP 409) from every front end."""

    code = ErrorCode.CREDENTIALS_UNREADABLE


class ConfirmationDeclined(SafetyRefusal):
    code = ErrorCode.CONFIRMATION_DECLINED


class StateChanged(SafetyRefusal):
    """What the operator looked at (``expected=``: the kill switch's fingerprint, the
    plan's path) is no longer so; checked once, in the service, for every front end."""

    code = ErrorCode.STATE_CHANGED


class KillRaisedDuringDeactivation(SafetyRefusal):
    """A kill flag raised after the deactivation was decided: every store refuses alike."""

    code = ErrorCode.KILL_RAISED_DURING_DEACTIVATION

    def __init__(self) -> None:
        super().__init__(
            "A new kill arrived while deactivating: the kill switch stays active; nothing was written",
            "Find out who activated it (nija kill history) before trying again",
        )


class KillFileNotRemoved(SafetyRefusal):
    """A fleet bot's kill file: NIJA removes a kill file only beside the JSON records (their
    lock orders the removal against a new touch), so the operator removes it first."""

    code = ErrorCode.KILL_FILE_NOT_REMOVED

    def __init__(self, path: str) -> None:
        super().__init__(
            f"The kill file {path} exists: the kill switch stays ACTIVE; nothing was written "
            "(NIJA does not remove a fleet bot's kill file)",
            f"Remove it yourself (rm -r {path}), then run the deactivation again",
        )


class BotAlreadyRunning(SafetyRefusal):
    """One bot per data directory (per bot scope on the fleet store)."""

    code = ErrorCode.BOT_ALREADY_RUNNING


class StateTransitionError(IllegalTransition):
    """A refused transition, under the name the original bot's callers catch (nija.compat);
    ``code`` keeps the underlying refusal's code (ILLEGAL_TRANSITION, KILL_SWITCH_ACTIVE...)."""


class KillSwitchEngaged(KillSwitchActive, RuntimeError):
    """An operation refused because the kill switch is active: a RuntimeError, as the
    original bot's ``check_kill_switch`` raised (nija.compat)."""


class KillSwitchChangeRefused(SafetyRefusal, RuntimeError):
    """A kill switch change refused (e.g. a deactivation without a reason; nija.compat)."""


class StorageProblem(NijaError):
    exit_code = 4
    code = ErrorCode.STORAGE


class StorageCorrupt(StorageProblem):
    code = ErrorCode.STORAGE_CORRUPT


class StorageNotWritable(StorageProblem):
    code = ErrorCode.FILE_NOT_WRITABLE


class KillFileNotWritten(StorageNotWritable):
    """The kill file could not be raised; ``in_force``: it exists (empty), so it still kills."""

    code = ErrorCode.KILL_FILE_NOT_WRITTEN

    def __init__(self, message: str, fix: str = "", *, in_force: bool) -> None:
        super().__init__(message, fix)
        self.in_force = in_force


class KillNotRecorded(StorageProblem):
    """The kill IS in force (its flag is raised, or the kill file exists) but its record
    could not be written: front ends must not say that trading is not stopped."""

    code = ErrorCode.KILL_ACTIVE_NOT_RECORDED


class KillNotOnDisk(StorageProblem):
    """Neither the kill file nor the kill record could be written. ``stopped_pids``: the
    running bots that stopped trading on a message that needed no disk (code
    KILL_IN_MEMORY_ONLY); none (KILL_NOT_IN_FORCE) means the kill is not in force at all.
    Not "done" either way: a bot started later would not see the kill."""

    code = ErrorCode.KILL_NOT_IN_FORCE

    def __init__(self, message: str, fix: str = "", *, code: str, stopped_pids: tuple[int, ...] = ()) -> None:
        super().__init__(message, fix, code=code)
        self.stopped_pids = stopped_pids


class StorageUnavailable(StorageProblem):
    code = ErrorCode.STORAGE_UNAVAILABLE


class LockTimeout(StorageProblem):
    code = ErrorCode.LOCK_TIMEOUT


class AddressInUse(StorageProblem):
    """A resource of the machine, not a setting, stands in the way: exit 4 like the disk."""

    code = ErrorCode.ADDRESS_IN_USE


class InconsistenciesFound(NijaError):
    exit_code = 5
    code = ErrorCode.INCONSISTENT
