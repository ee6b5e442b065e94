"""Request models and the API's own responses: the OpenAPI contract. The views every
front end shares (status, history, outcomes, plans) are declared once in ``nija.views``
and used as response models directly."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from nija.bot_report import BotReport
from nija.views import ProblemView


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- responses the views (nija.views) do not declare -----------------------------
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


class ErrorOut(_Out):
    error: ProblemView


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
