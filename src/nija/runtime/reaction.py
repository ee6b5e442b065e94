"""What the bot does when trading stops being allowed (kill, OFF, a mode change).

Under the gate's lock (so no order is in flight): cancel every open order the bot owns
(each broker lists only its own), retry the cancels that fail and say so loudly,
optionally flatten on a kill, and only then report the kill as complete. While orders
stay open the kill is reported as NOT complete and the next watcher tick tries again.

Flattening uses only the broker of the mode that was trading when the kill came (paper
in DRY_RUN, the exchange in LIVE_ACTIVE) and sells only what that broker says the bot's
own fills hold: a kill during a simulation never sends an order to the exchange."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from nija.domain.permission import Permission
from nija.domain.states import Mode
from nija.runtime.brokers.base import Broker
from nija.runtime.gate import OrderGate
from nija.runtime.orders import OrderRequest, OrderType, Side

Alert = Callable[[str, str], None]  # (code, message)


@dataclass
class KillStatus:
    seen_at: float | None = None  # time.monotonic() when the kill was noticed
    complete_at: float | None = None
    reason: str = ""
    flattened: list[str] = field(default_factory=list)  # one line per closing order sent
    flatten_done: bool = False

    @property
    def active(self) -> bool:
        return self.seen_at is not None

    @property
    def complete(self) -> bool:
        return self.complete_at is not None


class Reaction:
    def __init__(
        self,
        gate: OrderGate,
        *,
        alert: Alert,
        retries: int = 5,
        flatten_on_kill: bool = False,
        on_kill_complete: Callable[[], None] | None = None,
    ) -> None:
        self.gate = gate
        self.alert = alert
        self.retries = retries
        self.flatten_on_kill = flatten_on_kill
        self.kill = KillStatus()
        self.mode: Mode | None = None
        self.trading_mode: Mode | None = None  # the last mode orders were allowed in, kept through a kill
        self._on_kill_complete = on_kill_complete

    def __call__(self, permission: Permission, *, keep_orders: bool = False) -> None:
        """``keep_orders``: deny new orders but leave resting ones (a short database
        outage); never honoured for a kill."""
        self.mode = permission.mode if permission.allowed else None
        if self.mode is not None:
            self.trading_mode = self.mode
        killed = permission.code in ("KILL_SWITCH_ACTIVE", "CHECK_FAILED")
        if permission.allowed:
            if self.kill.active:
                self.kill = KillStatus()  # the kill was lifted and trading restored
            self._cancel_other_modes(permission.mode)
            return
        if killed and not self.kill.active:
            self.kill = KillStatus(seen_at=time.monotonic(), reason=permission.reason)
        if killed and self.kill.complete:
            return
        if keep_orders and not killed:
            return
        remaining = self._cancel_everything(permission.reason)
        if not killed:
            return
        if remaining:
            self.alert(
                "KILL_INCOMPLETE",
                f"KILL NOT COMPLETE: {remaining} order(s) are still open after {self.retries} cancel attempts; "
                "retrying. Check the exchange now.",
            )
            return
        if self.flatten_on_kill and not self.kill.flatten_done:
            self._flatten()
        self.kill.complete_at = time.monotonic()
        if self._on_kill_complete is not None:
            self._on_kill_complete()

    def _cancel_other_modes(self, mode: Mode | None) -> None:
        keep = self.gate.broker_for(mode)
        for broker in self.gate.brokers:
            if broker is not keep and broker.open_orders():
                self._cancel(broker, f"trading moved to {mode}")

    def open_orders(self) -> int:
        return sum(len(broker.open_orders()) for broker in self.gate.brokers)

    def _cancel_everything(self, reason: str) -> int:
        return sum(self._cancel(broker, reason) for broker in self.gate.brokers)

    def _cancel(self, broker: Broker, reason: str) -> int:
        """Cancel all open orders of one broker; returns how many are still open."""
        remaining = 0
        for attempt in range(1, self.retries + 1):
            with self.gate.lock:
                if not broker.open_orders():
                    return 0
                results = broker.cancel_all()
                remaining = len(broker.open_orders())
            failed = [r for r in results if not r.ok]
            if failed:
                details = "; ".join(f"{r.order_id}: {r.reason}" for r in failed[:5])
                self.alert(
                    "CANCEL_FAILED",
                    f"{broker.name}: {len(failed)} cancel(s) failed on attempt {attempt}/{self.retries} "
                    f"({reason}): {details}",
                )
            if not remaining:
                return 0
            time.sleep(min(0.05 * 2 ** (attempt - 1), 1.0))
        return remaining

    def _flatten(self) -> None:
        """Close the trading mode's own holdings with market orders: deliberately past the
        gate, which denies everything during a kill; only position-reducing sells are sent."""
        broker = self.gate.broker_for(self.trading_mode)
        if broker is None:
            return  # nothing was trading in this run: nothing of ours to close
        for holding in broker.holdings():
            with self.gate.lock:
                result = broker.place(OrderRequest(holding.symbol, Side.SELL, OrderType.MARKET, holding.quantity))
            if result.accepted and result.order is not None:
                line = f"{broker.name} sell {holding.quantity:g} {holding.symbol} at market (order {result.order.id})"
                self.kill.flattened.append(line)
                self.alert("FLATTEN_ORDER", f"closing order sent: {line}")
            else:
                self.alert("FLATTEN_FAILED", f"{broker.name}: closing {holding.symbol} failed: {result.reason}")
        self.kill.flatten_done = True
