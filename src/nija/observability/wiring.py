"""Attach the accountability listeners to a service, in the order that matters:
the audit record first (the proof), then metrics and logs, then notifications (queued).

Heavy libraries (structlog, prometheus-client, apprise, pydantic) load only when used,
because every CLI command, even a plain ``status``, builds its service here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nija.audit.log import AuditLog
from nija.audit.reconcile import AuditTrail
from nija.observability.event_logger import EventLogger
from nija.observability.metrics import Metrics
from nija.service import Listener, SafetyService
from nija.store.json_files import JsonFileStore

if TYPE_CHECKING:
    from nija.config import NijaConfig


def attach_accountability(service: SafetyService, directory: Path, config: NijaConfig | None) -> None:
    metrics = Metrics(service.status)
    audit = AuditLog(directory)
    listeners: list[Listener] = [metrics, EventLogger()]
    if _history_beside(service, directory):
        service.recorder = AuditTrail(audit)  # complete: audited under the store's lock
    else:
        # A fleet database's history is shared by hosts that each keep their own trail:
        # this trail holds what was done from here, appended after the database commit.
        listeners.insert(0, audit)
    if config is not None:
        from nija.observability.logs import configure_logging

        configure_logging(config.logging, directory)
        if config.notifications.urls:
            from nija.notify.sender import Notifier

            listeners.append(Notifier(config.notifications, str(directory), on_failure=metrics.notification_failed))
    service.listeners.extend(listeners)


def _history_beside(service: SafetyService, directory: Path) -> bool:
    store = service.store
    return isinstance(store, JsonFileStore) and store.data_dir.resolve() == directory.resolve()
