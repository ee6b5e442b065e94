"""The order gate at the broker boundary.

Every order (place; an amend is a cancel plus a place) asks the core's permission
check right then, under the same lock the kill reaction takes, so an order is either
placed before a kill (and then cancelled by the reaction) or checked after it (and
denied). The permission's mode picks the broker: SIMULATED -> paper, LIVE -> exchange.
Then local vetoes (stale data, position limit) may deny it, and last the pre-trade
controls (``nija.runtime.controls``: collar, notional, throttles, runaway breaker), last
because they count what they admit. Any exception while deciding denies. Cancels always
pass. Denials are counted by reason code (``DenialCode`` for the gate's own)."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from nija.domain.states import Mode
from nija.runtime.brokers.base import Broker, CancelResult
from nija.runtime.controls import DenialCode, GateControls
from nija.runtime.orders import OrderRequest, Outcome, PlaceResult, denied
from nija.store.ports import PermissionView

# A veto returns (code, reason) to deny the order, or None to let it pass.
Veto = Callable[[OrderRequest, Broker], "tuple[str, str] | None"]
DenialListener = Callable[[OrderRequest, PlaceResult], None]


@dataclass(frozen=True, slots=True)
class Denial:
    code: str
    reason: str
    symbol: str
    at: datetime  # when the gate denied it: screens show this, not the report's time


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class OrderGate:
    def __init__(
        self,
        view: PermissionView,
        brokers: Mapping[Mode, Broker],
        *,
        vetoes: Sequence[Veto] = (),
        controls: GateControls | None = None,
        on_denied: DenialListener | None = None,
        recent: int = 20,
        clock: Callable[[], datetime] = _wall_clock,
    ) -> None:
        self._view = view
        self._brokers = dict(brokers)
        self._vetoes = list(vetoes)
        self.controls = controls
        self._on_denied = on_denied
        self.lock = threading.RLock()
        self.denials: Counter[str] = Counter()
        self.recent_denials: deque[Denial] = deque(maxlen=recent)
        self.last_denied: dict[str, datetime] = {}  # by code, over the whole run
        self._clock = clock
        self.placed = 0

    def add_veto(self, veto: Veto) -> None:
        self._vetoes.append(veto)

    def place(self, request: OrderRequest, *, amend: bool = False) -> PlaceResult:
        """``amend``: the replacement half of an amend (its own rate limit)."""
        with self.lock:
            try:
                permission = self._view.check()
                if not permission.allowed:
                    return self._deny(request, permission.code, permission.reason)
                broker = self._brokers.get(permission.mode) if permission.mode is not None else None
                if broker is None:
                    return self._deny(
                        request, DenialCode.NO_BROKER, f"no broker is configured for {permission.mode} orders"
                    )
                for veto in self._vetoes:
                    verdict = veto(request, broker)
                    if verdict is not None:
                        return self._deny(request, *verdict)
                if self.controls is not None:
                    verdict = self.controls(request, broker, amend=amend)
                    if verdict is not None:
                        return self._deny(request, *verdict)
            except Exception as exc:  # noqa: BLE001 - deciding failed: the order is denied
                return self._deny(request, DenialCode.CHECK_FAILED, f"the permission check failed: {exc}")
            try:
                result = broker.place(request)
            except Exception as exc:  # noqa: BLE001 - a broker bug must not crash the loop
                result = PlaceResult(Outcome.EXCHANGE_ERROR, "BROKER_FAILED", f"{type(exc).__name__}: {exc}")
            if result.accepted:
                self.placed += 1
            return result

    def cancel(self, broker: Broker, order_id: str) -> CancelResult:
        """Cancels always pass: they can only reduce risk."""
        return broker.cancel(order_id)

    def amend(self, broker: Broker, order_id: str, request: OrderRequest) -> tuple[CancelResult, PlaceResult | None]:
        """Cancel, then place the replacement through the gate like any new order. The
        replacement is not sent if the cancel failed (it would double the exposure)."""
        with self.lock:
            cancelled = broker.cancel(order_id)
            if not cancelled.ok:
                return cancelled, None
            return cancelled, self.place(request, amend=True)

    def broker_for(self, mode: Mode | None) -> Broker | None:
        return self._brokers.get(mode) if mode is not None else None

    @property
    def brokers(self) -> tuple[Broker, ...]:
        return tuple(self._brokers.values())

    def _deny(self, request: OrderRequest, code: str, reason: str) -> PlaceResult:
        result = denied(code, reason)
        at = self._clock()
        self.denials[code] += 1
        self.last_denied[code] = at
        self.recent_denials.append(Denial(code, reason, request.symbol, at))
        if self._on_denied is not None:
            with contextlib.suppress(Exception):  # reporting a denial never changes it
                self._on_denied(request, result)
        return result
