"""The listener that writes one structured log line per safety event (structlog loads at
the first event, not when the service is built)."""

from __future__ import annotations

from nija.domain.events import Event


class EventLogger:
    __name__ = "logging"  # how SafetyService names this listener in listener_errors

    def __call__(self, event: Event) -> None:
        from nija.observability.logs import log_event

        log_event(event)
