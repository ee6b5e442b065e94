"""Prometheus metrics for one SafetyService (prometheus-client, a registry per service).

State, kill switch, can-trade and heartbeat age are read from the store at each scrape,
so they are right even when another process (the CLI, another host) made the change.
Counters (orders, denials, notification failures, events) and the kill reaction time
are fed by this process: the service's events, the runtime's order gate and the notifier.

Counting is plain Python; prometheus-client (~0.1 s to import) loads only when the
metrics are first exposed, so short CLI commands never pay for it."""

from __future__ import annotations

import bisect
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from nija.domain.diagnosis import StatusReport
from nija.domain.states import TradingState

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from prometheus_client import CollectorRegistry
    from prometheus_client.core import Metric

    from nija.domain.events import Event

StatusSource = Callable[[], StatusReport]
KILL_REACTION_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The metrics of one service; also its event listener."""

    __name__ = "metrics"  # how SafetyService names this listener in listener_errors

    def __init__(self, status: StatusSource) -> None:
        self._status = status
        self._lock = threading.Lock()  # the notifier's thread counts failures too
        self.events: Counter[str] = Counter()
        self.orders_allowed: Counter[str] = Counter()
        self.orders_denied: Counter[str] = Counter()
        self.notification_failures: Counter[str] = Counter()
        self.data_quality_alerts = 0
        self._controls: Callable[[], Mapping[str, object]] | None = None
        self.kill_reaction_buckets = [0] * (len(KILL_REACTION_BUCKETS) + 1)  # the last one is +Inf
        self.kill_reaction_sum = 0.0
        self.kill_receipt: dict[str, str] | None = None  # the newest receipt's figures
        self._registry: CollectorRegistry | None = None

    # -- feeding -------------------------------------------------------------------
    def __call__(self, event: Event) -> None:
        from nija.domain.events import EventKind  # loaded with the first event (a status has none)

        with self._lock:
            self.events[str(event.kind)] += 1
            if event.kind is EventKind.ORDER_DENIED and event.details.get("metered") != "true":
                self.orders_denied[event.details.get("code") or event.reason or "unknown"] += 1
            elif event.kind in (EventKind.KILL_RECEIPT, EventKind.KILL_NOT_CONFIRMED):
                self.kill_receipt = dict(event.details)

    def order_allowed(self, mode: str) -> None:
        with self._lock:
            self.orders_allowed[mode] += 1

    def order_denied(self, code: str) -> None:
        """Every denial of the runtime's gate (its ORDER_DENIED events are rate-limited)."""
        with self._lock:
            self.orders_denied[code] += 1

    def watch_controls(self, figures: Callable[[], Mapping[str, object]]) -> None:
        """The running bot's pre-trade control figures, read at each scrape."""
        self._controls = figures

    def data_quality_alert(self) -> None:
        with self._lock:
            self.data_quality_alerts += 1

    def observe_kill_reaction(self, seconds: float) -> None:
        with self._lock:
            self.kill_reaction_buckets[bisect.bisect_left(KILL_REACTION_BUCKETS, seconds)] += 1
            self.kill_reaction_sum += seconds

    def notification_failed(self, kind: str) -> None:
        with self._lock:
            self.notification_failures[kind] += 1

    # -- exposing ------------------------------------------------------------------
    @property
    def registry(self) -> CollectorRegistry:
        if self._registry is None:
            from prometheus_client import CollectorRegistry

            registry = CollectorRegistry(auto_describe=False)
            registry.register(_Collector(self))
            self._registry = registry
        return self._registry

    def exposition(self) -> bytes:
        """The Prometheus text format, for a route of one's own (content type: ``CONTENT_TYPE``)."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry)

    def asgi_app(self) -> Callable[..., Any]:
        """An ASGI app serving the metrics: ``fastapi_app.mount("/metrics", metrics.asgi_app())``."""
        from prometheus_client import make_asgi_app

        app: Callable[..., Any] = make_asgi_app(self.registry)
        return app

    def _collect(self) -> Iterable[Metric]:
        from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

        yield from _state_families(self._status)
        with self._lock:
            counted = (
                ("nija_events", "Safety events seen by this process", "kind", self.events),
                ("nija_orders_allowed", "Orders the gate let through", "mode", self.orders_allowed),
                ("nija_orders_denied", "Orders the gate refused", "reason", self.orders_denied),
                (
                    "nija_notification_failures",
                    "Notifications given up after all retries",
                    "kind",
                    self.notification_failures,
                ),
            )
            for name, doc, label, counts in counted:
                family = CounterMetricFamily(name, doc, labels=[label])
                for value, count in sorted(counts.items()):
                    family.add_metric([value], count)
                yield family
            yield from _control_families(self._controls)
            yield CounterMetricFamily(
                "nija_data_quality_alerts",
                "Inputs a control or kill trigger could not use (orders denied meanwhile)",
                value=self.data_quality_alerts,
            )
            cumulative, buckets = 0, []
            for bound, count in zip((*KILL_REACTION_BUCKETS, float("inf")), self.kill_reaction_buckets, strict=True):
                cumulative += count
                buckets.append(("+Inf" if bound == float("inf") else repr(bound), float(cumulative)))
            reaction = HistogramMetricFamily(
                "nija_kill_reaction_seconds", "From the kill being raised to the bot refusing orders"
            )
            reaction.add_metric([], buckets, sum_value=self.kill_reaction_sum)
            yield reaction
            if self.kill_receipt is not None:
                yield from _receipt_families(self.kill_receipt)


class _Collector:
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self._metrics._collect()


def _receipt_families(details: dict[str, str]) -> Iterable[Metric]:
    """The newest kill receipt of this process (see ``nija.kill_receipt``)."""
    from prometheus_client.core import GaugeMetricFamily

    def number(key: str) -> float:
        try:
            return float(details.get(key) or "nan")
        except ValueError:
            return float("nan")

    confirmed = GaugeMetricFamily("nija_kill_receipt_confirmed", "1 if the broker confirmed no own order open")
    confirmed.add_metric([], 1.0 if details.get("confirmed") == "true" else 0.0)
    seconds = GaugeMetricFamily("nija_kill_receipt_seconds_to_flat", "Kill noticed to confirmed flat (NaN: not)")
    seconds.add_metric([], number("seconds_to_flat"))
    orders = GaugeMetricFamily(
        "nija_kill_receipt_open_orders", "Orders the broker still listed open at the receipt", labels=["owner"]
    )
    orders.add_metric(["own"], number("own_open"))
    orders.add_metric(["foreign"], number("foreign_open"))
    exposure = GaugeMetricFamily(
        "nija_kill_receipt_residual_exposure", "Quote value of the bot's own positions at the receipt"
    )
    exposure.add_metric([], number("residual_exposure"))
    yield from (confirmed, seconds, orders, exposure)


def _state_families(status: StatusSource) -> Iterable[Metric]:
    from prometheus_client.core import GaugeMetricFamily

    readable = "1 if the safety state could be read"
    try:
        report = status()
    except Exception:  # noqa: BLE001 - a scrape reports "unreadable" rather than failing
        yield GaugeMetricFamily("nija_status_readable", readable, value=0)
        return
    yield GaugeMetricFamily("nija_status_readable", readable, value=1)
    state = GaugeMetricFamily("nija_state", "1 for the current trading state", labels=["state"])
    for candidate in TradingState:
        state.add_metric([candidate.value], 1.0 if candidate is report.state else 0.0)
    yield state
    yield GaugeMetricFamily("nija_kill_switch_active", "1 while the kill switch is active", value=report.kill_active)
    yield GaugeMetricFamily("nija_can_trade", "1 if an order may be placed now", value=report.can_trade)
    yield GaugeMetricFamily(
        "nija_inconsistencies", "Inconsistencies found by status", value=len(report.inconsistencies)
    )
    if report.heartbeat is not None:
        age = (report.checked_at - report.heartbeat.last_beat).total_seconds()
        yield GaugeMetricFamily("nija_heartbeat_age_seconds", "Seconds since the bot's last heartbeat", value=age)


CONTROL_GAUGES = (
    ("daily_orders", "nija_risk_daily_orders", "Orders admitted by the pre-trade controls this UTC day"),
    ("daily_notional", "nija_risk_daily_notional", "Notional admitted this UTC day (quote currency)"),
    ("throttle_denials_in_window", "nija_risk_throttle_denials_in_window", "Throttle denials in the runaway window"),
    ("orders_in_ratio_window", "nija_risk_orders_in_ratio_window", "Orders in the order-to-fill window"),
    ("fills_in_ratio_window", "nija_risk_fills_in_ratio_window", "Fills in the order-to-fill window"),
)


def _control_families(source: Callable[[], Mapping[str, object]] | None) -> Iterable[Metric]:
    from prometheus_client.core import GaugeMetricFamily

    if source is None:
        return
    try:
        figures = source()
    except Exception:  # noqa: BLE001 - a scrape never fails on the runtime's figures
        return
    for key, name, doc in CONTROL_GAUGES:
        value = figures.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            yield GaugeMetricFamily(name, doc, value=float(value))
    yield GaugeMetricFamily(
        "nija_risk_runaway_tripped",
        "1 once the runaway breaker has tripped",
        value=1.0 if figures.get("runaway") else 0.0,
    )


def metrics_of(service: object) -> Metrics:
    """The Metrics listener that ``assembly.wire`` attached to ``service``, for tests that
    hold only a service; the application takes it from ``Wired.metrics``."""
    for listener in getattr(service, "listeners", ()):
        if isinstance(listener, Metrics):
            return listener
    raise LookupError("This service has no Metrics listener: build it with nija.assembly.build_service")


def start_metrics_server(port: int, metrics: Metrics, addr: str = "127.0.0.1") -> tuple[WSGIServer, threading.Thread]:
    """Serve ``/metrics`` on ``addr:port`` from a daemon thread (``nija run --metrics-port``).
    Port 0 picks a free port: read it from ``server.server_port``."""
    from prometheus_client import start_http_server

    server, thread = start_http_server(port, addr=addr, registry=metrics.registry)
    return server, thread
