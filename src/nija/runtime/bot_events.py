"""What the running bot tells the service's listeners (audit, notifications, metrics) on
its own: denied orders and the exchange checks' results."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from nija.domain.events import Event, EventKind
from nija.domain.transitions import Who
from nija.observability.metrics import Metrics
from nija.runtime.orders import OrderRequest, PlaceResult
from nija.service import SafetyService


class BotEvents:
    def __init__(self, service: SafetyService, who: Who, metrics: Metrics | None) -> None:
        self.service = service
        self.who = who
        self.metrics = metrics
        self._last_publish: dict[str, float] = {}

    def denied(self, request: OrderRequest, result: PlaceResult, count: int) -> None:
        """Every denial is metered; one event per reason per second at most: a denial
        storm must not flood listeners. ``count``: the gate's denials of this code so far."""
        if self.metrics is not None:
            self.metrics.order_denied(result.code)
        now = time.monotonic()
        if now - self._last_publish.get(result.code, -10.0) < 1.0:
            return
        self._last_publish[result.code] = now
        self.service.publish(
            Event(
                EventKind.ORDER_DENIED,
                self.who.actor,
                self.who.source,
                result.reason,
                datetime.now(UTC),
                {
                    "code": result.code,
                    "symbol": request.symbol,
                    "count": str(count),
                    "metered": "true",  # counted above: the metrics listener must not count it again
                },
            )
        )

    def exchange_check(self, reason: str, details: dict[str, str]) -> None:
        """An exchange check's result, for the audit trail (only when it changed)."""
        self.service.publish(
            Event(EventKind.EXCHANGE_CHECK, self.who.actor, self.who.source, reason, datetime.now(UTC), details)
        )
