"""Metrics (prometheus-client) and structured logs (structlog)."""

from __future__ import annotations

from nija.observability.logs import EventLogger, LoggingSettings, bind_request, configure_logging, redact_secrets
from nija.observability.metrics import CONTENT_TYPE, Metrics, metrics_of, start_metrics_server

__all__ = [
    "CONTENT_TYPE",
    "EventLogger",
    "LoggingSettings",
    "Metrics",
    "bind_request",
    "configure_logging",
    "metrics_of",
    "redact_secrets",
    "start_metrics_server",
]
