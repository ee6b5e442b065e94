"""What the control center shows, as typed data parsed from the shared JSON views.

Both backends speak the same shapes: the local one builds ``nija.views`` dicts, the
remote one receives them from the HTTP API. Parsing both through these models means
one rendering path and a clear error when the API answers something unexpected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nija.bot_report import BotReport
from nija.domain.text import printable


class _View(BaseModel):
    """Every text field is display text: unsafe characters arrive as visible escapes
    (invariant 12), whichever backend (files, a remote API) sent them."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _displayable(cls, value: Any) -> Any:
        return printable(value) if isinstance(value, str) else value


class KillSwitchView(_View):
    active: bool
    kill_file_exists: bool
    record_active: bool | None = None
    reason: str | None = None
    since: datetime | None = None
    source: str | None = None
    actor: str | None = None


class PermissionView(_View):
    code: str
    reason: str


class BotView(_View):
    alive: bool
    pid: int | None = None
    host: str | None = None
    last_heartbeat: datetime | None = None


class IssueView(_View):
    code: str
    message: str
    fix: str
    action: str | None = None  # a FixAction (a string: an older or newer server may differ)


class TransitionView(_View):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    from_state: str = Field(alias="from")
    to: str
    reason: str
    timestamp: datetime
    actor: str = "unknown"
    source: str = "unknown"


class KillEventView(_View):
    action: str | None = None
    reason: str
    timestamp: datetime
    actor: str = "unknown"
    source: str = "unknown"
    repeated: bool = False


class StatusView(_View):
    """``nija.views.status_view``, the body of ``GET /api/status``."""

    state: str
    kill_switch: KillSwitchView
    can_trade: bool
    mode: str | None = None
    permission: PermissionView
    bot: BotView
    inconsistencies: tuple[IssueView, ...] = ()
    recent_history: tuple[TransitionView, ...] = ()
    store: str | None = None  # admins only over the API
    checked_at: datetime


class History(_View):
    """The body of ``nija history --json`` and ``GET /api/history``."""

    transitions: tuple[TransitionView, ...] = ()
    kill_switch: tuple[KillEventView, ...] = ()


@dataclass(frozen=True, slots=True)
class Frame:
    """One screenful: the safety status plus the running bot's report, if any."""

    status: StatusView
    runtime: BotReport | None
    runtime_note: str  # why there is no runtime data, in plain words
    warnings: tuple[str, ...] = ()  # e.g. an invalid nija.toml the control center carried on past
    stale_note: str = ""  # the runtime report cannot be vouched for (bot stopped, report old)
