"""The live flow of the service: request, confirm, cancel and expire a live request, with
the exchange-side checks a request also needs (``nija.exchange_checks``).

``SafetyService`` owns one ``LiveFlow`` and delegates to it; every change goes through the
service's ``ServiceChanges``, so it is audited and announced like any other. Each
operation reads the clock once: its checks, its record and its events agree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from nija.domain import live, live_auth
from nija.domain.change import Change
from nija.domain.clock import Clock
from nija.domain.diagnosis import report
from nija.domain.errors import CredentialsUnreadable, LiveRequestRefused, NijaError, SafetyRefusal, UsageProblem
from nija.domain.events import Event, EventKind
from nija.domain.records import Snapshot, TradingRecord
from nija.domain.transitions import Who
from nija.service_changes import Outcome, ServiceChanges
from nija.store.ports import Transaction

# An exchange-side precondition of a live request, at the request's time: raises
# LiveRequestRefused with the figures, or returns warnings for the operator.
LiveCheck = Callable[[datetime], tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class LiveRequest:
    code: str  # shown once; only a commitment to it is stored
    expires_at: datetime
    outcome: Outcome
    run: str = ""  # the bot run it was made for (a prefix of its id)


class LiveFlow:
    """``config_problem``: nija.toml is invalid and the service carries on with defaults
    (diagnosis, recovery); the live flow then refuses, since its policy may be what was
    dropped. ``credentials``: whether exchange credentials are configured (raises
    UsageProblem when they are there but unusable); None: no credentials at all."""

    def __init__(
        self,
        changes: ServiceChanges,
        *,
        clock: Clock,
        policy: live.LivePolicy,
        checks: list[LiveCheck],
        config_problem: str | None,
        credentials: Callable[[], bool] | None,
    ) -> None:
        self.changes = changes
        self.clock = clock
        self.policy = policy
        self.checks = checks  # the service's own list: a check appended there is run
        self.config_problem = config_problem
        self.credentials = credentials

    def credentials_configured(self) -> bool:
        """Raises CredentialsUnreadable (a refusal, for every front end) when they are unusable."""
        if self.credentials is None:
            return False
        try:
            return self.credentials()
        except UsageProblem as exc:
            raise CredentialsUnreadable(exc.message, exc.fix) from exc

    def request(self, who: Who, credentials_configured: bool | None) -> LiveRequest:
        if credentials_configured is None:
            credentials_configured = self.credentials_configured()
        code = new_code()
        import secrets  # only for a live request: status never loads it

        nonce = secrets.token_hex(16)
        now = self.clock()
        exchange_warnings: tuple[str, ...] = ()
        if self.checks:
            # The exchange's side (what the running bot read) only once the bot itself may
            # go: the first refusal an operator sees is the most basic one. Outside the
            # transaction (the checks read the store); the transaction decides again.
            self._request(self.changes.store.load(), who, code, nonce, credentials_configured, now)
            exchange_warnings = tuple(w for check in self.checks for w in check(now))  # may refuse
        with self.changes.changing() as (tx, events):
            record = self._request(tx.snapshot, who, code, nonce, credentials_configured, now)
            outcome = self.changes.commit(tx, Change(trading=record), events)
        pending = record.pending_live
        assert pending is not None
        self.changes.publish(
            Event(
                EventKind.LIVE_REQUESTED,
                who.actor,
                who.source,
                "live requested",
                now,
                {"expires_at": pending.expires_at.isoformat(), "run": live.short_run(pending.run_id)},
            )
        )
        if exchange_warnings:
            outcome = replace(outcome, warnings=outcome.warnings + exchange_warnings)
        return LiveRequest(code, pending.expires_at, outcome, live.short_run(pending.run_id))

    def _request(
        self, snap: Snapshot, who: Who, code: str, nonce: str, credentials_configured: bool, now: datetime
    ) -> TradingRecord:
        """The domain's live request on ``snap`` (pure: raises its refusal, writes nothing)."""
        inconsistencies = report(snap, now, history_items=0).inconsistencies
        return live.request_live(
            snap,
            self._policy(),
            who,
            now,
            code_hash=live_auth.commitment(live_auth.proof(nonce, code)),
            nonce=nonce,
            credentials_configured=credentials_configured,
            inconsistency_codes=tuple(i.code for i in inconsistencies if i.code != "FILE_NOT_WRITABLE"),
        )

    def confirm(self, code: str, phrase: str, who: Who) -> Outcome:
        refusal: NijaError | None = None
        now = self.clock()
        with self.changes.changing() as (tx, events):
            expired = self._expire(tx, who, events, now)
            if expired is not None:
                refusal = SafetyRefusal(
                    "The live request has expired and cannot be confirmed; the bot is back in DRY_RUN",
                    "Request live trading again",
                    code=live.LiveCode.PENDING_CONFIRMATION_EXPIRED,
                )
            else:
                try:
                    record = live.confirm_live(tx.snapshot, self._policy(), who, now, code=code, phrase=phrase)
                except LiveRequestRefused as exc:
                    if exc.code != str(live.LiveCode.WRONG_CODE):  # an area code on a shared class
                        raise
                    refusal = self._count_wrong_code(tx, who, events, now)
                else:
                    outcome = self.changes.commit(tx, Change(trading=record), events)
        if refusal is not None:
            raise refusal
        self.changes.publish(Event(EventKind.LIVE_CONFIRMED, who.actor, who.source, phrase, now))
        return outcome

    def _count_wrong_code(self, tx: Transaction, who: Who, events: list[Event], now: datetime) -> LiveRequestRefused:
        record = tx.snapshot.trading
        assert isinstance(record, TradingRecord)
        updated, count, cancelled = live.count_wrong_code(record, who, now)
        self.changes.commit(tx, Change(trading=updated), events)
        limit = live_auth.MAX_WRONG_CODES
        events.append(
            Event(
                EventKind.LIVE_WRONG_CODE,
                who.actor,
                who.source,
                f"wrong confirmation code {count} of {limit}",
                now,
                {"count": str(count), "limit": str(limit)},
            )
        )
        if cancelled:
            events.append(
                Event(
                    EventKind.LIVE_CANCELLED,
                    who.actor,
                    who.source,
                    f"cancelled after {count} wrong confirmation codes",
                    now,
                )
            )
            return LiveRequestRefused(
                f"Wrong confirmation code ({count} of {limit}): the live request is cancelled and the bot "
                "is back in DRY_RUN",
                "Find out who tried the wrong codes; request live trading again if it is still intended",
                code=live.LiveCode.TOO_MANY_WRONG_CODES,
            )
        return LiveRequestRefused(
            f"Wrong confirmation code ({count} of {limit}; the request is cancelled after {limit})",
            "Use the code returned by the live request",
            code=live.LiveCode.WRONG_CODE,
        )

    def _policy(self) -> live.LivePolicy:
        if self.config_problem is not None:
            raise UsageProblem(
                f"Live trading cannot be requested or confirmed while nija.toml is invalid: {self.config_problem}",
                "Fix nija.toml (its [live] settings decide who may go live), then try again",
            )
        return self.policy

    def cancel(self, who: Who, reason: str) -> Outcome:
        """``who`` and ``reason`` already checked by the service (the policy every front end shares)."""
        now = self.clock()
        with self.changes.changing() as (tx, events):
            record = live.cancel_live(tx.snapshot, who, now, reason)
            if record is None:
                kill = "; the kill switch is active" if tx.snapshot.kill_active else ""
                nothing = f"No live request is pending (state {tx.snapshot.state}{kill}): nothing to cancel"
                return self.changes.commit(tx, Change(messages=(nothing,)), events)
            outcome = self.changes.commit(tx, Change(trading=record), events)
        self.changes.publish(Event(EventKind.LIVE_CANCELLED, who.actor, who.source, reason or "cancelled", now))
        return outcome

    def expire(self, who: Who) -> Outcome | None:
        now = self.clock()
        with self.changes.changing() as (tx, events):
            return self._expire(tx, who, events, now)

    def _expire(self, tx: Transaction, who: Who, events: list[Event], now: datetime) -> Outcome | None:
        record = tx.snapshot.trading
        if not isinstance(record, TradingRecord) or tx.snapshot.kill_active:
            return None  # while killed nothing but EMERGENCY_STOP may be entered
        expired = live.expire_pending(record, who, now)
        if expired is None:
            return None
        outcome = self.changes.commit(tx, Change(trading=expired), events)
        events.append(Event(EventKind.LIVE_EXPIRED, who.actor, who.source, "confirmation window expired", now))
        return outcome


def new_code() -> str:
    """80 random bits, shown as four groups of four base32 characters."""
    import base64
    import secrets

    text = base64.b32encode(secrets.token_bytes(live_auth.CODE_BYTES)).decode()
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


__all__ = ["LiveCheck", "LiveFlow", "LiveRequest", "new_code"]
