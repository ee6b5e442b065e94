"""Attach the accountability listeners to a service, in the order that matters:
the audit record first (the proof), then metrics and logs, then notifications (queued)."""

from __future__ import annotations

from pathlib import Path

from nija.audit import AuditLog
from nija.notify import NotificationSettings, Notifier
from nija.observability.logs import EventLogger, LoggingSettings, configure_logging
from nija.observability.metrics import Metrics
from nija.service import SafetyService


def attach_accountability(
    service: SafetyService,
    directory: Path,
    *,
    notifications: NotificationSettings,
    logging: LoggingSettings,
) -> None:
    configure_logging(logging, directory)
    metrics = Metrics(service.status)
    notifier = Notifier(notifications, str(directory), on_failure=metrics.notification_failed)
    service.listeners.extend([AuditLog(directory), metrics, EventLogger(), notifier])
