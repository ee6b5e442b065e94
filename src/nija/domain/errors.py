"""One exception tree; every class carries the exit code the CLI returns for it.

    NijaError (1: unexpected)
    ├── UsageProblem (2)
    ├── SafetyRefusal (3)
    │   ├── IllegalTransition
    │   ├── KillSwitchActive
    │   ├── AcknowledgmentRequired
    │   ├── LiveRequestRefused
    │   ├── ConfirmationDeclined
    │   └── BotAlreadyRunning
    ├── StorageProblem (4)
    │   ├── StorageCorrupt
    │   ├── StorageNotWritable
    │   ├── StorageUnavailable
    │   ├── LockTimeout
    │   └── AddressInUse
    └── InconsistenciesFound (5, from ``status`` only)

Each error has a stable ``code``, a ``message`` saying what is wrong and a ``fix``
saying what the operator should do about it.
"""

from __future__ import annotations

from nija.domain.actions import FixAction


class NijaError(Exception):
    exit_code = 1
    code = "UNEXPECTED"

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
    code = "USAGE"


class SafetyRefusal(NijaError):
    exit_code = 3
    code = "REFUSED"


class IllegalTransition(SafetyRefusal):
    code = "ILLEGAL_TRANSITION"


class KillSwitchActive(SafetyRefusal):
    code = "KILL_SWITCH_ACTIVE"


class AcknowledgmentRequired(SafetyRefusal):
    code = "ACKNOWLEDGMENT_REQUIRED"


class LiveRequestRefused(SafetyRefusal):
    code = "LIVE_REQUEST_REFUSED"


class ConfirmationDeclined(SafetyRefusal):
    code = "CONFIRMATION_DECLINED"


class BotAlreadyRunning(SafetyRefusal):
    """One bot per data directory (per bot scope on the fleet store)."""

    code = "BOT_ALREADY_RUNNING"


class StorageProblem(NijaError):
    exit_code = 4
    code = "STORAGE"


class StorageCorrupt(StorageProblem):
    code = "STORAGE_CORRUPT"


class StorageNotWritable(StorageProblem):
    code = "FILE_NOT_WRITABLE"


class StorageUnavailable(StorageProblem):
    code = "STORAGE_UNAVAILABLE"


class LockTimeout(StorageProblem):
    code = "LOCK_TIMEOUT"


class AddressInUse(StorageProblem):
    """A resource of the machine, not a setting, stands in the way: exit 4 like the disk."""

    code = "ADDRESS_IN_USE"


class InconsistenciesFound(NijaError):
    exit_code = 5
    code = "INCONSISTENT"
