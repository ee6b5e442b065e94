"""What a guarded bot learned from its exchange, for ``nija live request``.

A live request needs the running bot's reconciliation with the exchange
(``.nija_exchange_checks.json``, nija/exchange_checks.py): the bot holds the connection,
so it does the reading. A guarded bot with API keys does it like ``nija run``: at
start, then every ``exchange.reconcile_s``, reads only, in every state. The guard does
not follow the account's fills, so every holding besides the quote currency counts as
unexplained (beyond ``exchange.exposure_tolerance``): a guarded bot goes live from a
dedicated account holding cash, never on top of positions nobody accounted for. The key
attestation is the same as ``nija run``'s (hourly); the guard arms no dead man's switch.

One policy (``reconciliation``, ``AccountChecks``: pure or file-only), two transports:
``GuardAccountWatch`` reads a sync exchange from its own thread, ``AsyncGuardAccountWatch``
awaits an async one in a task on the bot's loop. Neither holds the order lock across a
read (a kill's cancels take it and must not wait for a slow venue): only around the book,
so an order sent during a read is classified as the bot's own. A derivatives account's
positions are read too (``fetch_positions``); what cannot be read is "unknown", never zero."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nija.exchange_checks import ExchangeChecks, KeyAttestation, Reconciliation, Unexplained, write_checks
from nija.guarded.live_book import LiveBook
from nija.runtime.account_checks import (
    ATTEST_EVERY_S,
    KEY_READ_ERRORS,
    KEY_READS,
    attest_key,
    judge_key,
    key_not_reported,
    key_unanswered,
    settled,
)
from nija.runtime.account_reading import (
    Unreadable,
    amount,
    balance_totals,
    positions_reader,
    unreadable_reason,
)
from nija.runtime.account_reading import positions as read_positions
from nija.runtime.brokers.base import BookReading
from nija.runtime.brokers.exchange import READ_ERRORS

_DUST = 1e-9
NO_DEAD_MAN = "not armed by the guard (nija.guard does not arm the venue's dead man's switch)"
Alert = Callable[[str, str], None]


def reconciliation(
    now: datetime,
    reading: BookReading,
    totals: Mapping[str, Any],
    quote: str,
    marks: Mapping[str, float],
    explained: Mapping[str, float] | None = None,
    positions: list[Any] | None = None,
) -> Reconciliation:
    """The policy, pure: every holding besides ``quote`` is unexplained (valued at the
    last price the bot fetched, if any), except the amounts in ``explained``: what the
    bot's own books account for (the guard has none; freqtrade's open trades are its bridge's).
    ``positions``: a derivatives account's ccxt position rows, every one held unexplained.
    An amount that cannot be read makes the account "unknown", never flat (account_reading)."""
    if reading.error is not None:
        return unknown(now, reading.error)
    try:
        held_totals = {str(c): amount(value, f"the {c} balance") for c, value in sorted(totals.items())}
        held_positions = read_positions(positions or [])
    except Unreadable as exc:
        return unknown(now, str(exc))
    unexplained = []
    for currency, total in held_totals.items():
        held = total - (explained or {}).get(currency, 0.0)
        if currency != quote and held > _DUST:
            mark = marks.get(f"{currency}/{quote}")
            unexplained.append(Unexplained(currency=currency, quantity=held, value=held * mark if mark else None))
    for position in held_positions:
        unexplained.append(Unexplained(currency=position.symbol, quantity=position.contracts, value=position.notional))
    own = sum(1 for amount_ in (explained or {}).values() if amount_ > _DUST)
    return settled(now, reading, unexplained).model_copy(update={"own_positions": own})


def unknown(now: datetime, error: str) -> Reconciliation:
    return Reconciliation(checked_at=now, status="unknown", error=error)


# Both transports take the order lock only around the book, never across a read: a kill's
# cancels (which take it) must not wait for a slow venue. ccxt does not serialise private
# calls itself (its nonce is a clock, its throttler only spaces requests), and the bot's
# own reads and cancels already run beside the guard's: a nonce refused on a busy venue
# makes one check "unknown" (the next one reads again), it moves nothing. The rows are
# classified under the lock after the read: every order sent while they were read is
# tracked by then (sends hold the lock), and one forgotten since (a kill's cancel, a fill)
# is still known as the bot's (``LiveBook.placed``).
def reconcile(exchange: Any, book: LiveBook, quote: str, now: datetime, lock: threading.RLock) -> Reconciliation:
    """The sync transport: the open orders, then the balances (and positions), no lock held while reading."""
    try:
        rows = exchange.fetch_open_orders()
    except Exception as exc:  # noqa: BLE001 - unreadable is "unknown", never "flat"
        return unknown(now, str(book.unreadable(exc).error))
    with lock:
        reading = book.classify(rows)
    try:
        reader = positions_reader(exchange)
        totals = balance_totals(exchange.fetch_balance())
        rows_held = reader() if reader is not None else []
    except READ_ERRORS as exc:
        return unknown(now, unreadable_reason(exc))
    return reconciliation(now, reading, totals, quote, book.marks, positions=rows_held)


async def reconcile_async(
    exchange: Any, book: LiveBook, quote: str, now: datetime, lock: asyncio.Lock
) -> Reconciliation:
    """The async transport: the same reads, awaited, the same lock discipline."""
    try:
        rows = await exchange.fetch_open_orders()
    except Exception as exc:  # noqa: BLE001 - unreadable is "unknown", never "flat"
        return unknown(now, str(book.unreadable(exc).error))
    async with lock:
        reading = book.classify(rows)
    try:
        reader = positions_reader(exchange)
        totals = balance_totals(await exchange.fetch_balance())
        rows_held = await reader() if reader is not None else []
    except READ_ERRORS as exc:
        return unknown(now, unreadable_reason(exc))
    return reconciliation(now, reading, totals, quote, book.marks, positions=rows_held)


async def attest_key_async(client: Any, now: datetime) -> KeyAttestation:
    """``attest_key`` for an async client: the same read, awaited, the same verdict."""
    venue = str(client.id)
    if venue not in KEY_READS:
        return key_not_reported(venue, now)
    try:
        answer = await getattr(client, KEY_READS[venue])()
    except KEY_READ_ERRORS as exc:
        return key_unanswered(venue, exc, now)
    return judge_key(venue, answer, now)


class AccountChecks:
    """What both transports write: the checks file, the hourly attestation's clock, the alert."""

    def __init__(self, venue: str, quote: str, data_dir: Path, alert: Alert, dead_man: str = NO_DEAD_MAN) -> None:
        self.venue, self.quote, self.data_dir, self.alert, self.dead_man = venue, quote, data_dir, alert, dead_man
        self.attestation: KeyAttestation | None = None
        self._attested_at = float("-inf")

    def attestation_due(self) -> bool:
        return self.attestation is None or time.monotonic() - self._attested_at >= ATTEST_EVERY_S

    def attested(self, key: KeyAttestation) -> None:
        self.attestation, self._attested_at = key, time.monotonic()

    def record(self, now: datetime, reconciliation: Reconciliation) -> ExchangeChecks:
        checks = ExchangeChecks(
            venue=self.venue,
            currency=self.quote,
            written_at=now,
            pid=os.getpid(),
            reconciliation=reconciliation,
            attestation=self.attestation,
            dead_man_switch=self.dead_man,
            dead_man_switch_available=False,
        )
        write_checks(self.data_dir, checks)
        if reconciliation.status != "matching":
            self.alert("RECONCILIATION", reconciliation.describe(self.quote))
        return checks

    def failed(self, exc: BaseException) -> None:
        self.alert("RECONCILIATION", f"the account check failed: {type(exc).__name__}: {exc}")


class CheckThread:
    """Keeps the checks fresh from its own thread: one ``check_once`` at start (a live
    request may follow right away), then every ``every_s``; a failure is alerted and the
    checks go on (the file then ages, and a live request is refused as unknown)."""

    checks: AccountChecks

    def __init__(self, every_s: float, name: str) -> None:
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def check_once(self) -> ExchangeChecks:
        raise NotImplementedError

    def start(self) -> None:
        try:
            self.check_once()
        except Exception as exc:  # noqa: BLE001 - no checks written: a live request is refused
            self.checks.failed(exc)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10.0)

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.check_once()
            except Exception as exc:  # noqa: BLE001 - a reading bug must not end the checks
                self.checks.failed(exc)


class GuardAccountWatch(CheckThread):
    """The sync guard's checks; ``lock`` (the gate's) taken only around the book (``reconcile``)."""

    def __init__(
        self, exchange: Any, book: LiveBook, checks: AccountChecks, *, every_s: float, lock: threading.RLock
    ) -> None:
        super().__init__(every_s, "nija-guard-account")
        self.exchange, self.book, self.checks, self.lock = exchange, book, checks, lock

    def check_once(self) -> ExchangeChecks:
        now = datetime.now(UTC)
        rec = reconcile(self.exchange, self.book, self.checks.quote, now, self.lock)
        if self.checks.attestation_due():
            self.checks.attested(attest_key(self.exchange, now))
        return self.checks.record(now, rec)


class AsyncGuardAccountWatch:
    """The same checks as a task on the bot's loop: reads awaited, the async guard's
    ``lock`` taken only around the book, the file written in a worker thread, so the loop never blocks on either."""

    def __init__(
        self, exchange: Any, book: LiveBook, checks: AccountChecks, *, every_s: float, lock: asyncio.Lock
    ) -> None:
        self.exchange, self.book, self.checks, self.every_s, self.lock = exchange, book, checks, every_s, lock

    async def run(self, stop: asyncio.Event) -> None:
        """One check at once, then every ``every_s`` until ``stop``."""
        while True:
            try:
                await self.check_once()
            except Exception as exc:  # noqa: BLE001 - a reading bug must not end the checks
                self.checks.failed(exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.every_s)
            if stop.is_set():
                return

    async def check_once(self) -> ExchangeChecks:
        now = datetime.now(UTC)
        rec = await reconcile_async(self.exchange, self.book, self.checks.quote, now, self.lock)
        if self.checks.attestation_due():
            self.checks.attested(await attest_key_async(self.exchange, now))
        return await asyncio.to_thread(self.checks.record, now, rec)
