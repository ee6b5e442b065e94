"""What a guarded bot learned from its exchange, for ``nija live request``.

A live request needs the running bot's reconciliation with the exchange
(``.nija_exchange_checks.json``, nija/exchange_checks.py): the bot holds the connection,
so it does the reading. A guarded bot with API keys does it like ``nija run``: at
construction, then every ``exchange.reconcile_s``, reads only, in every state. The guard
does not follow the account's fills, so every holding besides the quote currency counts
as unexplained (beyond ``exchange.exposure_tolerance``): a guarded bot goes live from a
dedicated account holding cash, never on top of positions nobody accounted for. The key
attestation is the same as ``nija run``'s (hourly); the guard arms no dead man's switch.

Sync exchanges only: an async guard's calls are awaited on the bot's loop, so it writes
no checks, and a live request with it running is refused (EXPOSURE_UNKNOWN)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ccxt

from nija.exchange_checks import ExchangeChecks, KeyAttestation, Reconciliation, Unexplained, write_checks
from nija.guarded.live_book import LiveBook
from nija.runtime.account_checks import ATTEST_EVERY_S, attest_key, settled
from nija.runtime.brokers.exchange import describe

_DUST = 1e-9
NO_DEAD_MAN = "not armed by the guard (nija.guard does not arm the venue's dead man's switch)"


def reconcile(exchange: Any, book: LiveBook, quote: str, now: datetime) -> Reconciliation:
    reading = book.read_book()
    if reading.error is not None:
        return Reconciliation(checked_at=now, status="unknown", error=reading.error)
    try:
        totals: dict[str, Any] = exchange.fetch_balance().get("total") or {}
    except ccxt.BaseError as exc:
        return Reconciliation(checked_at=now, status="unknown", error=describe(exc).reason)
    unexplained = []
    for currency, amount in sorted(totals.items()):
        held = float(amount or 0.0)
        if currency != quote and held > _DUST:
            mark = book.marks.get(f"{currency}/{quote}")
            unexplained.append(Unexplained(currency=currency, quantity=held, value=held * mark if mark else None))
    return settled(now, reading, unexplained)


class GuardAccountWatch:
    """Keeps the checks fresh from its own thread; exchange calls under ``lock`` (the
    gate's: one private call at a time keeps the venue's nonces in order)."""

    def __init__(
        self,
        exchange: Any,
        book: LiveBook,
        *,
        quote: str,
        data_dir: Path,
        every_s: float,
        lock: threading.RLock,
        alert: Callable[[str, str], None],
    ) -> None:
        self.exchange, self.book, self.quote, self.data_dir = exchange, book, quote, data_dir
        self.every_s, self.lock, self.alert = every_s, lock, alert
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="nija-guard-account", daemon=True)
        self._attestation: KeyAttestation | None = None
        self._attested_at = float("-inf")

    def start(self) -> None:
        """One check at once (a live request may follow right away), then every ``every_s``."""
        try:
            self.check_once()
        except Exception as exc:  # noqa: BLE001 - no checks written: a live request is refused
            self.alert("RECONCILIATION", f"the account check failed: {type(exc).__name__}: {exc}")
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
                self.alert("RECONCILIATION", f"the account check failed: {type(exc).__name__}: {exc}")

    def check_once(self) -> ExchangeChecks:
        now = datetime.now(UTC)
        with self.lock:
            reconciliation = reconcile(self.exchange, self.book, self.quote, now)
            if self._attestation is None or time.monotonic() - self._attested_at >= ATTEST_EVERY_S:
                self._attestation = attest_key(self.exchange, now)
                self._attested_at = time.monotonic()
        checks = ExchangeChecks(
            venue=str(self.exchange.id),
            currency=self.quote,
            written_at=now,
            pid=os.getpid(),
            reconciliation=reconciliation,
            attestation=self._attestation,
            dead_man_switch=NO_DEAD_MAN,
            dead_man_switch_available=False,
        )
        write_checks(self.data_dir, checks)
        if reconciliation.status != "matching":
            self.alert("RECONCILIATION", reconciliation.describe(self.quote))
        return checks
