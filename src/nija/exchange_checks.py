"""What the running bot last learned from the exchange, and what a live request needs.

The bot holds the exchange connection, so it does the reading: at start, every
``exchange.reconcile_s`` (reads only, in every state) and, for the API key, hourly. It
writes ``.nija_exchange_checks.json`` in the data directory; ``live request`` (CLI, API,
TUI through the service) reads it and refuses, with the figures, when:
- the account holds exposure the bot's own fills do not explain (beyond
  ``exchange.exposure_tolerance``), or the reconciliation could not be read (unknown is
  never flat);
- the API key can withdraw or transfer funds (where the venue can tell);
- ``require_key_attestation`` and the key's permissions are unknown;
- ``require_dead_man_switch`` and the venue offers none the bot can arm.
A key without an IP whitelist is a warning. A running bot that has not reported yet
refuses too; with no bot running the other live rules decide (they need one)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from nija.domain.codes import ErrorCode
from nija.domain.errors import LiveRequestRefused
from nija.store.atomic import write_atomic

CHECKS_FILE = ".nija_exchange_checks.json"


class _Item(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Unexplained(_Item):
    currency: str
    quantity: float  # held on the account beyond what the bot's own fills bought
    value: float | None  # in the quote currency; None when no price is known


class Reconciliation(_Item):
    checked_at: datetime
    status: str  # "matching", "unexplained", "unknown"
    own_open: int = 0
    foreign_open: int = 0
    own_positions: int = 0  # holdings the bot's own books explain (freqtrade's open trades)
    unexplained: tuple[Unexplained, ...] = ()
    error: str | None = None

    @property
    def exposure(self) -> float:
        return sum(u.value or 0.0 for u in self.unexplained)

    def describe(self, currency: str) -> str:
        if self.status == "unknown":
            return f"the account could not be read ({self.error}): its exposure is unknown, never assumed flat"
        if self.status == "matching":
            return "the account matches the bot's own fills"
        items = ", ".join(
            f"{u.quantity:g} {u.currency}" + (f" ({u.value:,.2f} {currency})" if u.value is not None else " (no price)")
            for u in self.unexplained
        )
        return f"exposure the bot's own fills do not explain: {items}; total {self.exposure:,.2f} {currency}"


class KeyAttestation(_Item):
    checked_at: datetime
    status: str  # "trade-only", "can withdraw", "can transfer", "unknown"
    ip_whitelist: bool | None = None
    detail: str = ""

    @property
    def line(self) -> str:
        if self.status == "unknown":
            return f"API key permissions unknown: {self.detail}"
        ip = {True: "IP whitelist set", False: "NO IP whitelist", None: "IP whitelist unknown"}[self.ip_whitelist]
        return f"API key: {self.status} ({ip}); {self.detail}".rstrip("; ")


class ExchangeChecks(_Item):
    venue: str
    currency: str
    written_at: datetime
    pid: int
    reconciliation: Reconciliation | None = None
    attestation: KeyAttestation | None = None
    dead_man_switch: str = ""
    dead_man_switch_available: bool = False


def write_checks(data_dir: Path, checks: ExchangeChecks) -> None:
    write_atomic(data_dir / CHECKS_FILE, checks.model_dump_json(indent=2).encode(), durable=False)


def read_checks(data_dir: Path) -> ExchangeChecks | None:
    try:
        return ExchangeChecks.model_validate_json((data_dir / CHECKS_FILE).read_bytes())
    except (OSError, ValidationError):
        return None


def check_for_live(
    checks: ExchangeChecks | None,
    now: datetime,
    *,
    bot_alive: bool,
    max_age: timedelta,
    tolerance: float,
    require_dead_man_switch: bool,
    require_key_attestation: bool,
) -> tuple[str, ...]:
    """Raise LiveRequestRefused with the figures, or return warnings. Pure: no I/O."""
    if checks is None or now - checks.written_at > max_age or checks.reconciliation is None:
        if not bot_alive:
            return ()  # nothing to judge: the live rules refuse a request without a running bot
        raise LiveRequestRefused(
            "The running bot has not reported a fresh reconciliation with the exchange: its exposure is unknown",
            "Wait for the bot's next reconciliation (exchange.reconcile_s) and check its alerts, then request again",
            code=ErrorCode.EXPOSURE_UNKNOWN,
        )
    rec = checks.reconciliation
    if rec.status == "unknown":
        raise LiveRequestRefused(
            f"Live trading refused on {checks.venue}: {rec.describe(checks.currency)}",
            "Fix the exchange connection (see the bot's alerts) and request again",
            code=ErrorCode.EXPOSURE_UNKNOWN,
        )
    if rec.status == "unexplained" and (any(u.value is None for u in rec.unexplained) or rec.exposure > tolerance):
        raise LiveRequestRefused(
            f"Live trading refused on {checks.venue}: {rec.describe(checks.currency)} "
            f"(tolerance {tolerance:,.2f} {checks.currency})",
            "Trade from a dedicated account or subaccount, move those holdings away, or raise "
            "exchange.exposure_tolerance if they are meant to stay",
            code=ErrorCode.EXPOSURE_UNEXPLAINED,
        )
    warnings: list[str] = []
    if rec.own_open or rec.own_positions:
        warnings.append(
            f"the bot's own {rec.own_open} open order(s) and {rec.own_positions} open position(s) "
            f"on {checks.venue} carry into live trading"
        )
    key = checks.attestation
    if key is not None and key.status in ("can withdraw", "can transfer"):
        raise LiveRequestRefused(
            f"Live trading refused: the API key {key.status} funds ({key.detail})",
            "Create a trade-only API key (no withdrawal, no transfer) and configure it",
            code=ErrorCode.KEY_CAN_WITHDRAW,
        )
    if key is None or key.status == "unknown":
        if require_key_attestation:
            raise LiveRequestRefused(
                f"Live trading refused: API key permissions unknown on {checks.venue} "
                f"({key.detail if key else 'not checked'}) and exchange.require_key_attestation = true",
                "Use a venue that reports key permissions, or set require_key_attestation = false after "
                "checking on the exchange's website that the key cannot withdraw",
                code=ErrorCode.KEY_PERMISSIONS_UNKNOWN,
            )
        warnings.append(f"permissions unknown: {key.detail if key else 'the API key was not checked'}")
    elif key.ip_whitelist is False:
        warnings.append("the API key has no IP whitelist: anyone holding it can trade from anywhere")
    if not checks.dead_man_switch_available:
        if require_dead_man_switch:
            raise LiveRequestRefused(
                f"Live trading refused: dead man's switch {checks.dead_man_switch} "
                "and exchange.require_dead_man_switch = true",
                "Use a venue with a dead man's switch, or set require_dead_man_switch = false knowingly",
                code=ErrorCode.NO_DEAD_MAN_SWITCH,
            )
        warnings.append(f"dead man's switch: {checks.dead_man_switch}")
    return tuple(warnings)


def live_request_check(
    data_dir: Path,
    *,
    bot_alive: Callable[[datetime], bool],
    reconcile_s: float = 30.0,
    tolerance: float = 0.0,
    require_dead_man_switch: bool = False,
    require_key_attestation: bool = False,
) -> Callable[[datetime], tuple[str, ...]]:
    """The check ``SafetyService.request_live`` runs (registered by ``nija.assembly``), at
    the request's own time: one clock read per operation."""

    def check(now: datetime) -> tuple[str, ...]:
        return check_for_live(
            read_checks(data_dir),
            now,
            bot_alive=bot_alive(now),
            max_age=timedelta(seconds=2 * reconcile_s + 30),
            tolerance=tolerance,
            require_dead_man_switch=require_dead_man_switch,
            require_key_attestation=require_key_attestation,
        )

    return check
