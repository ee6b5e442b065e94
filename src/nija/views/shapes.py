"""The wire shapes, declared once: the bodies of the HTTP API (its response models and
OpenAPI contract), what the TUI parses from the API or builds from the local service,
and the CLI's ``--json``.

Plain dataclasses, so that ``nija status --json`` never imports pydantic; pydantic reads
them where it is loaded anyway (FastAPI, the TUI), taking each field's docstring as its
description and ``from_`` as ``from``. Not frozen, and each class with a docstring: both
halve what creating them adds to a ``--json`` command's start-up (fewer generated methods,
no signature for a default docstring). States and codes are the domain's StrEnums (their
text on the wire); times are ISO 8601 text exactly as the domain's ``isoformat()`` writes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from nija.domain.actions import FixAction
from nija.domain.records import KillAction
from nija.domain.states import Mode, TradingState


def wire_name(field: str) -> str:
    """A field's JSON name: ``from_`` (``from`` is a Python keyword) is ``from``."""
    return field.rstrip("_")


# pydantic's ConfigDict is a TypedDict: a plain dict says the same without importing it.
# Unknown fields are ignored on parsing: a newer server may add some.
_PYDANTIC: dict[str, Any] = {"use_attribute_docstrings": True, "alias_generator": wire_name, "populate_by_name": True}


class _Wire:
    __slots__ = ()
    __pydantic_config__: ClassVar[dict[str, Any]] = _PYDANTIC


@dataclass(slots=True, kw_only=True)
class KillSwitchView(_Wire):
    """Whether the kill switch is active, and the activation that caused it."""

    active: bool
    kill_file_exists: bool
    record_active: bool | None
    reason: str | None
    since: str | None
    source: str | None
    actor: str | None
    seen: str
    """Fingerprint of this kill switch state: send it back as 'expected' when deactivating"""


@dataclass(slots=True, kw_only=True)
class PermissionStatus(_Wire):
    """Whether an order may be placed now, as a code and in words."""

    code: str
    reason: str


@dataclass(slots=True, kw_only=True)
class BotView(_Wire):
    """The running bot, as its heartbeat tells."""

    alive: bool
    pid: int | None
    host: str | None
    last_heartbeat: str | None
    run: str | None = None
    """The running bot's run (a prefix of its id)"""
    dry_run_minutes: float | None = None
    """How long this run has been running in DRY_RUN"""
    live_verified: bool = False
    """The running bot verified the LIVE_ACTIVE confirmation"""


@dataclass(slots=True, kw_only=True)
class ProblemView(_Wire):
    """A problem and its fix: an inconsistency, a refusal (the API's error body), the server's notice."""

    code: str
    message: str
    fix: str
    """The command line's words"""
    action: FixAction | None = None
    """The same fix as a code: each surface words it its own way (the web names its button)"""


@dataclass(slots=True, kw_only=True)
class TransitionView(_Wire):
    """One trading state transition."""

    from_: TradingState
    to: TradingState
    reason: str
    timestamp: str
    actor: str | None
    source: str | None


@dataclass(slots=True, kw_only=True)
class KillEventView(_Wire):
    """One kill switch activation or deactivation."""

    action: KillAction | None
    reason: str
    timestamp: str
    actor: str | None
    source: str | None
    repeated: bool = False
    """An activation while already active: a note, not the kill's cause"""


@dataclass(slots=True, kw_only=True)
class PendingLiveView(_Wire):
    """The outstanding request to go live."""

    requested_by: str
    requested_at: str
    expires_at: str
    run: str | None = None
    """The bot run the request was made for (a prefix of its id)"""
    acknowledged: bool = False
    """The running bot has seen the request (confirm waits for it)"""
    wrong_codes: int = 0


@dataclass(slots=True, kw_only=True)
class StatusView(_Wire):
    """The diagnosis: ``nija status --json`` (which adds the bot's own files) and every screen."""

    state: TradingState
    kill_switch: KillSwitchView
    can_trade: bool
    mode: Mode | None
    permission: PermissionStatus
    bot: BotView
    inconsistencies: tuple[ProblemView, ...]
    recent_history: tuple[TransitionView, ...]
    store: str | None
    """Where the records live (passwords masked): admins only; null for other roles and on the event stream"""
    checked_at: str


@dataclass(slots=True, kw_only=True)
class ApiStatusView(StatusView):
    """The body of ``GET /api/status`` and of the event stream's 'status' events."""

    pending_live: PendingLiveView | None
    """The outstanding live request (LIVE_PENDING_CONFIRMATION only); its code is never shown again"""
    kill_receipt: dict[str, Any] | None = None
    """The newest kill receipt (.nija_kill_receipt.json plus its verdict line): what the broker said remained after the last kill"""  # noqa: E501
    server_notice: ProblemView | None = None
    """The server's own warning: nija.toml changed since it started (restart it)"""


@dataclass(slots=True, kw_only=True)
class HistoryView(_Wire):
    """The body of ``nija history --json`` and ``GET /api/history``, oldest first."""

    transitions: tuple[TransitionView, ...]
    kill_switch: tuple[KillEventView, ...]


@dataclass(slots=True, kw_only=True)
class OutcomeView(_Wire):
    """What an operation did."""

    before: TradingState
    after: TradingState
    changed: bool
    kill_active: bool
    transitions: tuple[TransitionView, ...]
    messages: tuple[str, ...]
    warnings: tuple[str, ...]


@dataclass(slots=True, kw_only=True)
class PlanStepView(_Wire):
    """One transition of a recovery plan."""

    from_state: TradingState
    to_state: TradingState
    reason: str
    """What the transition records, e.g. 'Safe recovery: Enabling simulation mode'"""


@dataclass(slots=True, kw_only=True)
class RecoveryPlanView(_Wire):
    """What restore or reset would do."""

    action: str
    """restore or reset"""
    path: str
    """For example 'EMERGENCY_STOP → OFF → DRY_RUN'; empty when there is nothing to do"""
    steps: tuple[PlanStepView, ...]
    """The transitions in order, structured: never parse the path"""
    nothing_to_do: bool
    warnings: tuple[str, ...]


@dataclass(slots=True, kw_only=True)
class LiveRequestView(_Wire):
    """The answer to a live request: the one-time code and what the request did."""

    code: str
    """The one-time confirmation code (80 bits); shown only in this response"""
    expires_at: str
    run: str = ""
    """The running bot's run the request was made for (a prefix of its id)"""
    outcome: OutcomeView
