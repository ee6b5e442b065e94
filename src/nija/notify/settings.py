"""``[notifications]`` in nija.toml: where to send safety alerts, and how hard to try."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nija.domain.events import EventKind

DEFAULT_EVENTS = (
    EventKind.KILL_ACTIVATED,
    EventKind.KILL_DEACTIVATED,
    EventKind.RESTORE,
    EventKind.RESET,
    EventKind.LIVE_REQUESTED,
    EventKind.LIVE_CONFIRMED,
    EventKind.LIVE_CANCELLED,
    EventKind.LIVE_EXPIRED,
    EventKind.LIVE_WRONG_CODE,
    EventKind.LIVE_NOT_VERIFIED,
    EventKind.BOT_STARTED,
    EventKind.INCONSISTENCY_DETECTED,
    EventKind.BRIDGE_ALERT,
    EventKind.KILL_RECEIPT,
    EventKind.KILL_NOT_CONFIRMED,
)


class NotificationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    urls: tuple[str, ...] = ()  # apprise URLs; they often hold tokens, so they are never logged
    events: tuple[EventKind, ...] = DEFAULT_EVENTS
    retries: int = Field(3, ge=0, le=20)
    retry_delay_seconds: float = Field(1.0, ge=0, le=600)  # doubled after each failed attempt
    timeout_seconds: float = Field(15.0, gt=0, le=600)  # per attempt
    flush_timeout_seconds: float = Field(15.0, ge=0, le=600)  # how long a finishing process waits to send

    @field_validator("urls")
    @classmethod
    def _understood(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        if not urls:
            return urls
        import apprise

        for index, url in enumerate(urls):
            if not apprise.Apprise().add(url):
                scheme = url.split("://", 1)[0] if "://" in url else "(none)"
                # The URL itself is not echoed: it may carry a token.
                raise ValueError(f"entry {index} (scheme {scheme!r}) is not a URL apprise can send to")
        return urls
