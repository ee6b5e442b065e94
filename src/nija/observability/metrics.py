"""Prometheus metrics for one SafetyService (prometheus-client, a registry per service).

State, kill switch, can-trade and heartbeat age are read from the store at each scrape,
so they are right even when another process (the CLI, another host) made the change.
Counters (orders, denials, notification failures, events) and the kill reaction time
are fed by this process: the service's events, the runtime's order gate and the notifier."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, make_asgi_app, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from nija.domain.diagnosis import StatusReport
from nija.domain.events import Event, EventKind
from nija.domain.states import TradingState

StatusSource = Callable[[], StatusReport]
KILL_REACTION_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _StateCollector(Collector):
    def __init__(self, status: StatusSource) -> None:
        self._status = status

    def collect(self) -> Iterable[Metric]:
        try:
            report = self._status()
        except Exception:  # noqa: BLE001 - a scrape reports "unreadable" rather than failing
            yield GaugeMetricFamily("nija_status_readable", "1 if the safety state could be read", value=0)
            return
        yield GaugeMetricFamily("nija_status_readable", "1 if the safety state could be read", value=1)
        state = GaugeMetricFamily("nija_state", "1 for the current trading state", labels=["state"])
        for candidate in TradingState:
            state.add_metric([candidate.value], 1.0 if candidate is report.state else 0.0)
        yield state
        yield GaugeMetricFamily(
            "nija_kill_switch_active", "1 while the kill switch is active", value=float(report.kill_active)
        )
        yield GaugeMetricFamily("nija_can_trade", "1 if an order may be placed now", value=float(report.can_trade))
        yield GaugeMetricFamily(
            "nija_inconsistencies", "Inconsistencies found by status", value=len(report.inconsistencies)
        )
        if report.heartbeat is not None:
            age = (report.checked_at - report.heartbeat.last_beat).total_seconds()
            yield GaugeMetricFamily("nija_heartbeat_age_seconds", "Seconds since the bot's last heartbeat", value=age)


class Metrics:
    """The metrics of one service; also its event listener."""

    __name__ = "metrics"  # how SafetyService names this listener in listener_errors

    def __init__(self, status: StatusSource) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_StateCollector(status))
        self.events = Counter("nija_events", "Safety events seen by this process", ["kind"], registry=self.registry)
        self.orders_allowed = Counter(
            "nija_orders_allowed", "Orders the gate let through", ["mode"], registry=self.registry
        )
        self.orders_denied = Counter(
            "nija_orders_denied", "Orders the gate refused", ["reason"], registry=self.registry
        )
        self.notification_failures = Counter(
            "nija_notification_failures", "Notifications given up after all retries", ["kind"], registry=self.registry
        )
        self.kill_reaction = Histogram(
            "nija_kill_reaction_seconds",
            "From the kill being raised to the bot refusing orders",
            buckets=KILL_REACTION_BUCKETS,
            registry=self.registry,
        )

    def __call__(self, event: Event) -> None:
        self.events.labels(str(event.kind)).inc()
        if event.kind is EventKind.ORDER_DENIED:
            self.orders_denied.labels(event.details.get("code") or event.reason or "unknown").inc()

    def order_allowed(self, mode: str) -> None:
        self.orders_allowed.labels(mode).inc()

    def observe_kill_reaction(self, seconds: float) -> None:
        self.kill_reaction.observe(seconds)

    def notification_failed(self, kind: str) -> None:
        self.notification_failures.labels(kind).inc()

    def exposition(self) -> bytes:
        """The Prometheus text format, for a route of one's own (content type: ``CONTENT_TYPE``)."""
        return generate_latest(self.registry)

    def asgi_app(self) -> Callable[..., object]:
        """An ASGI app serving the metrics: ``fastapi_app.mount("/metrics", metrics.asgi_app())``."""
        app: Callable[..., object] = make_asgi_app(self.registry)
        return app


CONTENT_TYPE = CONTENT_TYPE_LATEST


def metrics_of(service: object) -> Metrics:
    """The Metrics listener that ``build_service`` attached to ``service``."""
    for listener in getattr(service, "listeners", ()):
        if isinstance(listener, Metrics):
            return listener
    raise LookupError("This service has no Metrics listener: build it with nija.assembly.build_service")


def start_metrics_server(port: int, metrics: Metrics, addr: str = "127.0.0.1") -> tuple[WSGIServer, threading.Thread]:
    """Serve ``/metrics`` on ``addr:port`` from a daemon thread (``nija run --metrics-port``).
    Port 0 picks a free port: read it from ``server.server_port``."""
    server, thread = start_http_server(port, addr=addr, registry=metrics.registry)
    return server, thread
