"""The pre-trade control chain: one object that decides an order request against a
reference price, for every order path (``nija run``'s gate, a guarded ccxt bot).

    chain = ControlChain(settings.risk, clock=time.time, on_trip=kill)
    verdict = chain.admit(request, Reference(price, at), open_orders=3)
    if verdict is not None:      # denied: verdict.code (DenialCode), verdict.reason
        ...
    chain.filled()               # on every fill (the order-to-fill ratio)

``admit`` records an order that passes (rate, duplicates, daily caps, ratio), so call it
once per order, right before sending it. The order of the checks: data quality, the
runaway latch, reference and collar, per-order notional, then the throttles. A throttle
denial feeds the runaway breaker; when it trips, ``on_trip`` receives the ``Trigger``
(activate the kill switch with it) and every later order is denied ``RISK_RUNAWAY``.

The clock is injected (seconds since the epoch: feed time in a replay, wall time live);
it never runs backwards here, so an out-of-order timestamp cannot reopen a window.
Thread-safe; no I/O."""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable

from nija.runtime.controls.breaker import RunawayBreaker
from nija.runtime.controls.codes import THROTTLES, DenialCode
from nija.runtime.controls.collar import PriceControls
from nija.runtime.controls.quality import DataQuality
from nija.runtime.controls.reference import Reference
from nija.runtime.controls.throttles import Throttles, identity
from nija.runtime.controls.verdict import Trigger, Verdict
from nija.runtime.orders import OrderRequest
from nija.runtime.settings import RiskSettings

Clock = Callable[[], float]
TripListener = Callable[[Trigger], None]


class ControlChain:
    def __init__(
        self,
        settings: RiskSettings,
        clock: Clock,
        *,
        quality: DataQuality | None = None,
        on_trip: TripListener | None = None,
    ) -> None:
        self.settings = settings
        self.quality = quality if quality is not None else DataQuality()
        self.denials: Counter[str] = Counter()
        self.admitted = 0
        self._clock = clock
        self._on_trip = on_trip
        self._prices = PriceControls(settings)
        self._throttles = Throttles(settings)
        self._breaker = RunawayBreaker(settings)
        self._now = -math.inf
        self._trip_taken = False
        self._lock = threading.Lock()

    def admit(
        self, request: OrderRequest, reference: Reference | None, *, open_orders: int, amend: bool = False
    ) -> Verdict | None:
        """None: the order may be sent (and is counted as sent). Else the denial."""
        with self._lock:
            verdict, trip = self._decide(request, reference, open_orders, amend)
            if verdict is not None:
                self.denials[verdict.code] += 1
            else:
                self.admitted += 1
        if trip is not None and self._on_trip is not None:
            self._on_trip(trip)
        return verdict

    def resume_day(self, day: object, orders: object, notional: object) -> bool:
        """Seed today's daily-cap counts from a previous run of the same bot (its last
        ``figures()``), so a restart does not hand out a fresh cap. Values that are not a
        count and a finite amount are ignored (False), as is another day."""
        if not (type(orders) is int and orders >= 0 and type(day) is str):
            return False
        if not ((type(notional) is float or type(notional) is int) and 0 <= notional < math.inf):
            return False
        with self._lock:
            now = self._tick()
            return now is not None and self._throttles.resume(now, day, orders, float(notional))

    def filled(self) -> None:
        with self._lock:
            now = self._tick()
            if now is not None:
                self._breaker.filled(now)

    @property
    def tripped(self) -> Trigger | None:
        return self._breaker.tripped

    def take_trip(self) -> Trigger | None:
        """The trip, once (for a caller that acts on it after the order, outside its locks)."""
        with self._lock:
            if self._breaker.tripped is None or self._trip_taken:
                return None
            self._trip_taken = True
            return self._breaker.tripped

    def figures(self) -> dict[str, float | int | str]:
        """For the run summary and the runtime report."""
        with self._lock:
            now = self._now if math.isfinite(self._now) else 0.0
            return {
                **self._throttles.figures(),
                **self._breaker.figures(now),
                "data_quality_alerts": self.quality.alerts,
                "runaway": self._breaker.tripped.reason if self._breaker.tripped else "",
            }

    def _tick(self) -> float | None:
        now = self._clock()
        if not ((type(now) is float or type(now) is int) and -math.inf < now < math.inf):
            return None
        if now > self._now:
            self._now = float(now)
        return self._now

    def _decide(
        self, request: OrderRequest, reference: Reference | None, open_orders: int, amend: bool
    ) -> tuple[Verdict | None, Trigger | None]:
        now = self._tick()
        if now is None:
            return Verdict(DenialCode.DATA_QUALITY, "the controls' clock gave no usable time"), None
        problem = self.quality.first_problem()
        if problem is not None:
            return Verdict(DenialCode.DATA_QUALITY, f"{problem}: new orders are denied until it is resolved"), None
        if self._breaker.tripped is not None:
            return Verdict(
                DenialCode.RISK_RUNAWAY, f"the runaway breaker has tripped ({self._breaker.tripped.reason})"
            ), None
        priced = self._prices.check(request, reference, now)
        if isinstance(priced, Verdict):
            return priced, None
        notional = request.quantity * priced
        key = identity(request)
        verdict = self._throttles.check(request, key, notional, now, open_orders=open_orders, amend=amend)
        if verdict is not None:
            trip = self._breaker.throttled(verdict.code, now) if verdict.code in THROTTLES else None
            return verdict, trip
        trip = self._breaker.admitting(now)
        if trip is not None:
            return Verdict(DenialCode.RISK_RUNAWAY, trip.reason), trip
        self._throttles.record(key, notional, now, amend=amend)
        return None, None
