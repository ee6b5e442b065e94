"""Request and response models: the OpenAPI contract. Response models mirror the plain
views in ``nija.views`` (shared with the CLI's ``--json``), so both stay one shape."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nija.bot_report import BotReport
from nija.domain.actions import FixAction
from nija.domain.states import TradingState

State = Literal["OFF", "DRY_RUN", "LIVE_PENDING_CONFIRMATION", "LIVE_ACTIVE", "EMERGENCY_STOP"]
assert set(State.__args__) == {str(s) for s in TradingState}  # type: ignore[attr-defined]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- views ---------------------------------------------------------------------------
class KillSwitchOut(_Out):
    active: bool
    kill_file_exists: bool
    record_active: bool | None
    reason: str | None
    since: str | None
    source: str | None
    actor: str | None
    seen: str = Field(description="Fingerprint of this kill switch state: send it back as 'expected' when deactivating")


class PermissionOut(_Out):
    code: str
    reason: str


class BotOut(_Out):
    alive: bool
    pid: int | None
    host: str | None
    last_heartbeat: str | None
    run: str | None = Field(None, description="The running bot's run (a prefix of its id)")
    dry_run_minutes: float | None = Field(None, description="How long this run has been running in DRY_RUN")
    live_verified: bool = Field(False, description="The running bot verified the LIVE_ACTIVE confirmation")


class InconsistencyOut(_Out):
    code: str
    message: str
    fix: str  # the command line's words
    action: FixAction | None = None  # the same fix as a code: the web names its button


class TransitionOut(_Out):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: State = Field(alias="from")
    to: State
    reason: str
    timestamp: str
    actor: str | None
    source: str | None


class PendingLiveOut(_Out):
    requested_by: str
    requested_at: str
    expires_at: str
    run: str | None = Field(None, description="The bot run the request was made for (a prefix of its id)")
    acknowledged: bool = Field(False, description="The running bot has seen the request (confirm waits for it)")
    wrong_codes: int = 0


class StatusOut(_Out):
    state: State
    kill_switch: KillSwitchOut
    can_trade: bool
    mode: Literal["simulated", "live"] | None
    permission: PermissionOut
    bot: BotOut
    inconsistencies: list[InconsistencyOut]
    recent_history: list[TransitionOut]
    store: str | None = Field(
        description="Where the records live (passwords masked): admins only; null for other roles "
        "and on the event stream"
    )
    checked_at: str
    pending_live: PendingLiveOut | None = Field(
        description="The outstanding live request (LIVE_PENDING_CONFIRMATION only); its code is never shown again"
    )
    kill_receipt: dict[str, Any] | None = Field(
        None,
        description="The newest kill receipt (.nija_kill_receipt.json plus its verdict line): what the broker "
        "said remained after the last kill",
    )
    server_notice: ErrorBody | None = Field(
        default=None, description="The server's own warning: nija.toml changed since it started (restart it)"
    )


class KillEventOut(_Out):
    action: Literal["activate", "deactivate"] | None
    reason: str
    timestamp: str
    actor: str | None
    source: str | None
    repeated: bool = False  # an activation while already active: a note, not the kill's cause


class HistoryOut(_Out):
    transitions: list[TransitionOut]
    kill_switch: list[KillEventOut]


class OutcomeOut(_Out):
    before: State
    after: State
    changed: bool
    kill_active: bool
    transitions: list[TransitionOut]
    messages: list[str]
    warnings: list[str]


class PlanStepOut(_Out):
    from_state: str
    to_state: str
    reason: str = Field(description="What the transition records, e.g. 'Safe recovery: Enabling simulation mode'")


class PlanOut(_Out):
    action: str
    path: str = Field(description="For example 'EMERGENCY_STOP → OFF → DRY_RUN'; empty when there is nothing to do")
    steps: list[PlanStepOut] = Field(description="The transitions in order, structured: never parse the path")
    nothing_to_do: bool
    warnings: list[str]


class LiveRequestOut(_Out):
    code: str = Field(description="The one-time confirmation code (80 bits); shown only in this response")
    expires_at: str
    run: str = Field("", description="The running bot's run the request was made for (a prefix of its id)")
    outcome: OutcomeOut


class LivePolicyOut(_Out):
    min_dry_run_minutes: float
    confirmation_minutes: float
    require_second_person: bool
    acknowledgment_phrase: str
    credentials_configured: bool


class RuntimeOut(_Out):
    running: bool = Field(description="True only while the bot that published the report is alive (heartbeat)")
    report: BotReport | None = Field(description="The last report, also of a bot that stopped (then stale)")
    age_s: float | None = Field(description="Seconds since the bot wrote the report, by the server's clock")
    stale: bool = Field(description="The report is older than stale_after_s, or its bot is not alive")
    stale_after_s: float
    stopped_at: str | None = Field(description="The stopped bot's last heartbeat, if the report is a stopped bot's")


class WhoAmIOut(_Out):
    name: str
    role: Literal["viewer", "operator", "admin"]


class HealthOut(_Out):
    ok: bool


class ErrorBody(_Out):
    code: str
    message: str
    fix: str
    action: FixAction | None = None


class ErrorOut(_Out):
    error: ErrorBody


# -- requests ------------------------------------------------------------------------
_PLAIN = " Plain text: control characters (escape sequences, C1, bidi overrides) are refused (422 UNSAFE_TEXT)"
Reason = Field(min_length=1, max_length=500, pattern=r"\S", description="Why (recorded in the history)." + _PLAIN)


class ActivateIn(_In):
    reason: str = Field(
        "", max_length=500, description="Why (optional: an emergency must never wait on typing)." + _PLAIN
    )


class DeactivateIn(_In):
    reason: str = Reason
    expected: str | None = Field(
        None,
        max_length=200,
        description="kill_switch.seen from the status the operator looked at: refused (409 STATE_CHANGED) "
        "if a new kill arrived since",
    )


class PlanIn(_In):
    expected_path: str | None = Field(
        None,
        max_length=200,
        description="The plan path the operator saw; refused (409 STATE_CHANGED) if the plan is now different",
    )


class ConfirmIn(_In):
    code: str = Field(min_length=1, max_length=64)
    phrase: str = Field(max_length=500, description="The risk acknowledgment, typed exactly")


class CancelIn(_In):
    reason: str = Field("", max_length=500, description="Why (optional)." + _PLAIN)
