"""The bot's reading of the exchange account: reconciliation (open orders, balances,
derivative positions against the bot's own fills) and API-key attestation, every
``exchange.reconcile_s`` in its own thread (reads only, so it runs in every state).

While live, unexplained exposure raises an alert and, beyond
``exchange.exposure_tolerance``, the kill switch (source ``AUTO_RECONCILIATION``); an
unreadable account is "unknown" (alerted, never flat). Results go to
``.nija_exchange_checks.json`` for ``live request``, and to the audit trail when they
change (the attestation every time it is taken)."""

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
from nija.runtime.account_reading import balance_totals, positions, positions_reader, unreadable_reason
from nija.runtime.brokers.base import BookReading
from nija.runtime.brokers.exchange import READ_ERRORS, ExchangeBroker
from nija.runtime.risk import Trigger
from nija.runtime.settings import ExchangeSettings

ATTEST_EVERY_S = 3600.0
_DUST = 1e-9


def settled(now: datetime, reading: BookReading, unexplained: list[Unexplained]) -> Reconciliation:
    """The reconciliation of a readable account: "matching" unless something is unexplained."""
    return Reconciliation(
        checked_at=now,
        status="unexplained" if unexplained else "matching",
        own_open=len(reading.own_open),
        foreign_open=len(reading.foreign_open),
        unexplained=tuple(unexplained),
    )


def reconcile_account(broker: ExchangeBroker, now: datetime) -> Reconciliation:
    client = broker.client
    reading = broker.read_book()
    if reading.error is not None:
        return Reconciliation(checked_at=now, status="unknown", error=reading.error)
    try:
        totals = balance_totals(broker.balance())
        reader = positions_reader(client)
        held = positions(reader()) if reader is not None else []
    except READ_ERRORS as exc:
        return Reconciliation(checked_at=now, status="unknown", error=unreadable_reason(exc))
    unexplained: list[Unexplained] = []
    for currency, amount in sorted(totals.items()):
        symbol = f"{currency}/{broker.quote}"
        extra = amount - broker.owned.position(symbol)
        if currency != broker.quote and extra > _DUST:
            mark = broker.mark(symbol)
            unexplained.append(Unexplained(currency=currency, quantity=extra, value=extra * mark if mark else None))
    for row in held:
        extra = row.contracts - broker.owned.position(row.symbol)
        if extra > _DUST:
            unexplained.append(Unexplained(currency=row.symbol, quantity=extra, value=row.notional))
    return settled(now, reading, unexplained)


# The ccxt method that says what an API key may do, per venue (the others cannot tell).
KEY_READS = {
    **dict.fromkeys(("binance", "binanceusdm", "binancecoinm"), "sapiGetAccountApiRestrictions"),
    **dict.fromkeys(("okx", "myokx", "okxus"), "privateGetAccountConfig"),
    **dict.fromkeys(("bybit", "bybiteu", "bybitid"), "privateGetV5UserQueryApi"),
}
KEY_READ_ERRORS = (ccxt.BaseError, KeyError, ValueError, TypeError)


def attest_key(client: Any, now: datetime) -> KeyAttestation:
    """Read what the API key may do, where the venue says so through ccxt."""
    venue = str(client.id)
    if venue not in KEY_READS:
        return key_not_reported(venue, now)
    try:
        answer = getattr(client, KEY_READS[venue])()
    except KEY_READ_ERRORS as exc:
        return key_unanswered(venue, exc, now)
    return judge_key(venue, answer, now)


def key_not_reported(venue: str, now: datetime) -> KeyAttestation:
    return KeyAttestation(
        checked_at=now, status="unknown", detail=f"{venue} does not report an API key's permissions through ccxt"
    )


def key_unanswered(venue: str, exc: BaseException, now: datetime) -> KeyAttestation:
    return KeyAttestation(checked_at=now, status="unknown", detail=f"{venue} did not answer: {exc}"[:300])


def judge_key(venue: str, answer: Any, now: datetime) -> KeyAttestation:
    """The verdict on the venue's answer to its ``KEY_READS`` method (pure: the sync and
    the async readers share it)."""
    try:
        method = KEY_READS[venue]
        if method == "sapiGetAccountApiRestrictions":
            withdraw, transfer = (
                _true(answer.get("enableWithdrawals")),
                _true(answer.get("enableInternalTransfer")) or _true(answer.get("permitsUniversalTransfer")),
            )
            return _verdict(now, withdraw, transfer, _true(answer.get("ipRestrict")), "binance apiRestrictions")
        if method == "privateGetAccountConfig":
            (row,) = answer["data"][:1]
            perms = {p.strip() for p in str(row.get("perm", "")).split(",")}
            return _verdict(now, "withdraw" in perms, False, bool(row.get("ip")), f"okx perm={','.join(sorted(perms))}")
        result = answer["result"]  # bybit
        wallet = set((result.get("permissions") or {}).get("Wallet") or [])
        ips = result.get("ips") or []
        return _verdict(
            now,
            "Withdraw" in wallet,
            bool(wallet & {"AccountTransfer", "SubMemberTransfer"}),
            bool(ips) and ips != ["*"],
            f"bybit query-api Wallet={','.join(sorted(wallet)) or 'none'}",
        )
    except (KeyError, ValueError, TypeError) as exc:
        return key_unanswered(venue, exc, now)


def _true(value: object) -> bool:
    return value is True or str(value).lower() == "true"


def _verdict(now: datetime, withdraw: bool, transfer: bool, ip: bool, detail: str) -> KeyAttestation:
    status = "can withdraw" if withdraw else "can transfer" if transfer else "trade-only"
    return KeyAttestation(checked_at=now, status=status, ip_whitelist=ip, detail=detail)


class AccountWatch:
    """The thread that keeps ``.nija_exchange_checks.json`` fresh and acts while live."""

    def __init__(
        self,
        broker: ExchangeBroker,
        settings: ExchangeSettings,
        data_dir: Path,
        *,
        live: Callable[[], bool],
        alert: Callable[[str, str], None],
        trip: Callable[[Trigger], None],
        record: Callable[[str, dict[str, str]], None],
    ) -> None:
        self.broker, self.settings, self.data_dir = broker, settings, data_dir
        self._live, self._alert, self._trip, self._record = live, alert, trip, record
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._attested_at = float("-inf")
        self._last_said = ""
        self._tripped = False
        self.latest: ExchangeChecks | None = None
        self._attestation: KeyAttestation | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="nija-account-checks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10.0)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.check_once()
            except Exception as exc:  # noqa: BLE001 - a reading bug must not end the checks
                self._alert("RECONCILIATION", f"the account check failed: {type(exc).__name__}: {exc}")
            self._stop.wait(self.settings.reconcile_s)

    def check_once(self) -> ExchangeChecks:
        now = datetime.now(UTC)
        reconciliation = reconcile_account(self.broker, now)
        if self._attestation is None or time.monotonic() - self._attested_at >= ATTEST_EVERY_S:
            self._attestation = attest_key(self.broker.client, now)
            self._attested_at = time.monotonic()
            key = self._attestation
            self._record(key.line, {"check": "key_attestation", "status": key.status, "venue": self.broker.client.id})
            if key.status in ("can withdraw", "can transfer") and self._live():
                self._alert("KEY_ATTESTATION", f"{key.line}: use a trade-only key")
        deadman = self.broker.deadman
        foreign_anywhere = bool(reconciliation.foreign_open)
        checks = ExchangeChecks(
            venue=str(self.broker.client.id),
            currency=self.broker.quote,
            written_at=now,
            pid=os.getpid(),
            reconciliation=reconciliation,
            attestation=self._attestation,
            dead_man_switch=deadman.status,
            dead_man_switch_available=deadman.switch.available
            and bool(deadman.seconds)
            and not (foreign_anywhere and deadman.switch.scope("") == "account"),
        )
        write_checks(self.data_dir, checks)
        self.latest = checks
        self._act(reconciliation)
        return checks

    def _act(self, rec: Reconciliation) -> None:
        said = rec.describe(self.broker.quote)
        if said != self._last_said:
            self._last_said = said
            self._record(said, {"check": "reconciliation", "status": rec.status, "venue": self.broker.client.id})
        if not self._live() or rec.status == "matching":
            return
        self._alert("RECONCILIATION", said)
        if rec.status == "unexplained" and rec.exposure > self.settings.exposure_tolerance and not self._tripped:
            self._tripped = True
            self._trip(
                Trigger(
                    "RECONCILIATION",
                    f"{said} (tolerance {self.settings.exposure_tolerance:,.2f} {self.broker.quote})",
                )
            )
