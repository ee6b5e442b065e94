"""The listener that writes one structured log line per safety event. The lines are at
level info; until ``configure_logging`` asks for info or debug (nija.toml ``[logging]``,
the API server), the default level (warning) drops them, so structlog and pydantic are
not even loaded for them: a kill command must not wait for its logging library."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nija.domain.events import Event

# The level configure_logging set in this process (None: never called, the defaults).
configured_level: str | None = None
_LOGGED = frozenset({"debug", "info"})


class EventLogger:
    __name__ = "logging"  # how SafetyService names this listener in listener_errors

    def __call__(self, event: Event) -> None:
        if configured_level not in _LOGGED:
            return
        from nija.observability.logs import log_event

        log_event(event)
