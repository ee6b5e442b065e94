"""Structured logs (structlog): JSON lines or a readable console form, with the state,
actor and request id bound, and secrets redacted before anything is rendered."""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from nija.domain.events import Event, EventKind
from nija.observability import event_logger
from nija.observability.settings import LoggingSettings

REDACTED = "***"
# Keys whose values are secrets wherever they appear (nested too); matched case-insensitively.
SECRET_KEYS = re.compile(
    r"(api[_-]?key|secret|token|passw(or)?d|passphrase|private[_-]?key|authorization|credential|cookie|"
    r"^urls?$|dsn|confirmation[_-]?code)",
    re.IGNORECASE,
)
# Credentials inside a URL (scheme://user:password@host) in any logged string.
_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s:@]*:[^/\s@]*@", re.IGNORECASE)


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Processor: replace secret values by ``***`` (by key, at any depth; URL credentials by pattern)."""
    return _redact(event_dict)  # type: ignore[no-any-return]


def _redact(value: Any) -> Any:
    if isinstance(value, MutableMapping):
        return {
            key: REDACTED if isinstance(key, str) and SECRET_KEYS.search(key) else _redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_redact(item) for item in value)
    if isinstance(value, str):
        return _URL_CREDENTIALS.sub(rf"\g<1>{REDACTED}@", value)
    return value


_open_files: dict[Path, TextIO] = {}


_configured = False


def configure_logging(settings: LoggingSettings, directory: Path | None = None, stream: TextIO | None = None) -> None:
    """Configure structlog for this process (idempotent; the last call wins)."""
    global _configured
    _configured = True
    event_logger.configured_level = settings.level
    renderer: Processor = (
        structlog.processors.JSONRenderer(sort_keys=True)
        if settings.format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_secrets,  # last before rendering, so nothing added earlier escapes it
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(settings.level.upper())),
        logger_factory=structlog.WriteLoggerFactory(file=stream or _output(settings, directory)),
        cache_logger_on_first_use=False,
    )


def _output(settings: LoggingSettings, directory: Path | None) -> TextIO:
    if settings.file is None:
        return sys.stderr
    path = (directory or Path.cwd()) / settings.file
    if path not in _open_files:
        _open_files[path] = path.open("a", encoding="utf-8", buffering=1)
    return _open_files[path]


def ensure_configured() -> None:
    """The defaults (warnings and errors, console form, standard error) unless configured:
    structlog's own default would print to standard output, mixing with ``--json``."""
    if not _configured:
        configure_logging(LoggingSettings())


def bind_request(request_id: str | None = None, **context: str) -> str:
    """Bind a request id (a new one unless given) and any context to this task or thread's logs."""
    request_id = request_id or uuid.uuid4().hex
    structlog.contextvars.bind_contextvars(request_id=request_id, **context)
    return request_id


def log_event(event: Event) -> None:
    """One structured line per safety event, with the actor, source and (for a transition) state."""
    ensure_configured()
    fields: dict[str, Any] = {"actor": event.actor, "source": event.source, "reason": event.reason}
    if event.kind is EventKind.TRANSITION:
        fields["state"] = event.details.get("to")
        fields["previous_state"] = event.details.get("from")
    else:
        fields["details"] = dict(event.details)
    # info, not warning: the default level (warning) keeps CLI output to what the command prints.
    structlog.get_logger("nija.events").info(str(event.kind), **fields)
