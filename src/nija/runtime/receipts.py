"""Taking kill receipts: ask the brokers until none of the bot's own orders is open.

Runs in its own thread (a slow exchange must not hold up the watcher, the heartbeat or
the cancels): it reads each broker's book with back-off, writes a receipt as soon as
every broker confirms, or at the deadline an unconfirmed one (alerted, notified) and
then keeps asking, writing the confirmed receipt when it comes. A failed or missing
answer is "unknown", never "flat"."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from nija.kill_receipt import BrokerReceipt, KillReceipt, ReceiptOrder, ReceiptPosition
from nija.runtime.brokers.base import BookReading, Broker
from nija.runtime.orders import Order

Publish = Callable[[KillReceipt], None]
FIRST_WAIT_S, MAX_WAIT_S = 0.005, 1.0


@dataclass(frozen=True, slots=True)
class ReceiptRequest:
    trigger: str  # "kill" or "left live"
    reason: str
    noticed_monotonic: float
    noticed_at: datetime


class ReceiptTaker:
    def __init__(
        self,
        *,
        run_id: str,
        currency: str,
        deadline_s: float,
        publish: Publish,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.run_id, self.currency, self.deadline_s = run_id, currency, deadline_s
        self._publish = publish
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._generation = 0
        self._lock = threading.Lock()
        self.latest: KillReceipt | None = None
        self.missed_deadline = False  # any receipt of this run not confirmed within its deadline

    def begin(self, request: ReceiptRequest, brokers: Sequence[Broker]) -> None:
        """Start a receipt; a newer kill supersedes a receipt still being taken."""
        with self._lock:
            self._generation += 1
            generation = self._generation
        thread = threading.Thread(
            target=self._take, args=(request, tuple(brokers), generation), name="nija-kill-receipt", daemon=True
        )
        self._thread = thread
        thread.start()

    def wait(self, timeout: float) -> bool:
        """For the end of a run: give the receipt being taken a last chance."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def stop(self) -> None:
        self._stop.set()

    def take_now(self, request: ReceiptRequest, brokers: Sequence[Broker]) -> KillReceipt:
        """One synchronous receipt (the benchmark, and a run's last word)."""
        return self._take(request, tuple(brokers), None)

    def _take(self, request: ReceiptRequest, brokers: tuple[Broker, ...], generation: int | None) -> KillReceipt:
        attempts, wait, reported_late = 0, FIRST_WAIT_S, False
        while True:
            attempts += 1
            asked = request.noticed_monotonic if attempts == 1 else self._clock()
            readings = [(broker, broker.read_book(asked)) for broker in brokers]
            confirmed = all(reading.flat for _, reading in readings)
            answered = max((r.orders_at for _, r in readings), default=0.0) if confirmed else self._clock()
            elapsed = max(answered - request.noticed_monotonic, 0.0)
            final = confirmed or self._stop.is_set()
            if final or (elapsed > self.deadline_s and not reported_late):
                receipt = self._receipt(request, readings, confirmed, elapsed, attempts)
                if generation is None:
                    return receipt
                with self._lock:
                    if generation != self._generation:
                        return receipt  # superseded by a newer kill
                    self.latest = receipt
                    self.missed_deadline |= not receipt.within_deadline
                self._publish(receipt)
                if final:
                    return receipt
                reported_late = True
            self._stop.wait(wait)
            wait = min(wait * 2, MAX_WAIT_S)

    def _receipt(
        self,
        request: ReceiptRequest,
        readings: list[tuple[Broker, BookReading]],
        confirmed: bool,
        elapsed: float,
        attempts: int,
    ) -> KillReceipt:
        return KillReceipt(
            trigger=request.trigger,
            reason=request.reason,
            run_id=self.run_id,
            noticed_at=request.noticed_at.isoformat(),
            written_at=datetime.now(UTC).isoformat(),
            confirmed=confirmed,
            seconds_to_flat=round(elapsed, 6) if confirmed else None,
            deadline_s=self.deadline_s,
            within_deadline=confirmed and elapsed <= self.deadline_s,
            attempts=attempts,
            currency=self.currency,
            brokers=tuple(_broker_receipt(broker, reading) for broker, reading in readings),
        )


def _broker_receipt(broker: Broker, reading: BookReading) -> BrokerReceipt:
    positions = tuple(ReceiptPosition(symbol=h.symbol, quantity=h.quantity, value=v) for h, v in reading.positions)
    return BrokerReceipt(
        broker=broker.name,
        confirmed=reading.flat,
        own_open=tuple(_open(o) for o in reading.own_open),
        foreign_open=tuple(_open(o) for o in reading.foreign_open),
        positions=positions,
        residual_exposure=sum(p.value for p in positions),
        error=reading.error,
    )


def _open(o: Order) -> ReceiptOrder:
    return ReceiptOrder(
        id=o.id, symbol=o.symbol, side=o.side.value, type=o.type.value, quantity=o.quantity, price=o.price
    )
