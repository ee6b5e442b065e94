"""The live-enable flow: request (DRY_RUN → LIVE_PENDING_CONFIRMATION), confirm with a
one-time code and the typed risk acknowledgment (→ LIVE_ACTIVE), cancel, and expiry.

This is the only path to LIVE_ACTIVE. Codes arrive here already hashed: the domain
compares digests and never sees or stores a usable code."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from nija.domain.actions import FixAction
from nija.domain.errors import AcknowledgmentRequired, LiveRequestRefused
from nija.domain.records import PendingLive, Snapshot, TradingRecord
from nija.domain.states import TradingState
from nija.domain.transitions import Who, confirmed_live, transition

ACKNOWLEDGMENT_PHRASE = "I understand that live trading risks real capital"


@dataclass(frozen=True, slots=True)
class LivePolicy:
    min_dry_run: timedelta = timedelta(minutes=60)
    confirmation_window: timedelta = timedelta(minutes=10)
    require_second_person: bool = False
    phrase: str = ACKNOWLEDGMENT_PHRASE


def request_live(
    snapshot: Snapshot,
    policy: LivePolicy,
    who: Who,
    now: datetime,
    *,
    code_hash: str,
    credentials_configured: bool,
    inconsistency_codes: tuple[str, ...],
) -> TradingRecord:
    if snapshot.kill_active:
        raise LiveRequestRefused(
            "Cannot request live trading while the kill switch is active",
            "Deactivate the kill switch, restore to DRY_RUN and test there first",
            action=FixAction.KILL_DEACTIVATE,
        )
    record = snapshot.trading
    assert isinstance(record, TradingRecord)  # unreadable implies kill_active
    if record.current_state is not TradingState.DRY_RUN:
        raise LiveRequestRefused(
            f"Can't request live trading when in {record.current_state}: it must be in DRY_RUN",
            "Run 'python safe_restore_trading.py restore' and test in DRY_RUN first",
            action=FixAction.RESTORE,
        )
    if inconsistency_codes:
        raise LiveRequestRefused(
            f"Cannot request live trading with inconsistencies: {', '.join(inconsistency_codes)}",
            "Run 'python safe_restore_trading.py status' and repair what it reports",
            action=FixAction.STATUS,
        )
    since = record.entered_at(TradingState.DRY_RUN)
    if since is None:
        raise LiveRequestRefused(
            "Cannot tell how long the bot has been in DRY_RUN: the history does not say",
            "Run 'python safe_restore_trading.py reset' then 'restore' to start a recorded DRY_RUN period",
            action=FixAction.RESET,
        )
    remaining = policy.min_dry_run - (now - since)
    if remaining > timedelta(0):
        minutes = remaining.total_seconds() / 60
        raise LiveRequestRefused(
            f"The bot must run in DRY_RUN for {policy.min_dry_run.total_seconds() / 60:g} minutes "
            f"before going live: {minutes:.1f} minutes remain",
            "Keep testing in DRY_RUN and try again later",
            code="DRY_RUN_TOO_SHORT",
        )
    if not credentials_configured:
        raise LiveRequestRefused(
            "No live exchange credentials are configured",
            "Set the exchange API key and secret (environment or secrets file) before going live",
            code="NO_CREDENTIALS",
        )
    pending = PendingLive(code_hash, who.actor, now, now + policy.confirmation_window)
    requested = transition(
        record,
        TradingState.LIVE_PENDING_CONFIRMATION,
        f"Live trading requested by {who.actor}; awaiting confirmation",
        who,
        now,
        kill_active=False,
    )
    return replace(requested, pending_live=pending)


def confirm_live(
    snapshot: Snapshot,
    policy: LivePolicy,
    who: Who,
    now: datetime,
    *,
    code_hash: str,
    phrase: str,
) -> TradingRecord:
    if snapshot.kill_active:
        raise LiveRequestRefused(
            "Cannot confirm live trading while the kill switch is active",
            "Deactivate the kill switch, restore, and request live trading again",
        )
    record = snapshot.trading
    assert isinstance(record, TradingRecord)
    pending = record.pending_live
    if record.current_state is not TradingState.LIVE_PENDING_CONFIRMATION or pending is None:
        raise LiveRequestRefused(
            f"Can't confirm live trading when in {record.current_state}: there is no pending request",
            "Request live trading first; each confirmation code works once",
            code="NO_PENDING_REQUEST",
        )
    if now >= pending.expires_at:
        raise LiveRequestRefused(
            "The live request has expired and cannot be confirmed",
            "Request live trading again",
            code="PENDING_CONFIRMATION_EXPIRED",
        )
    if not hmac.compare_digest(pending.code_hash, code_hash):
        raise LiveRequestRefused(
            "Wrong confirmation code", "Use the code returned by the live request", code="WRONG_CODE"
        )
    if phrase != policy.phrase:
        raise AcknowledgmentRequired(
            "The risk acknowledgment was not typed exactly",
            f"Type exactly: {policy.phrase}",
        )
    if policy.require_second_person and who.actor == pending.requested_by:
        raise LiveRequestRefused(
            "A second person must confirm live trading: the requester cannot confirm it",
            "Ask another admin to confirm with their own token",
            code="SECOND_PERSON_REQUIRED",
        )
    return confirmed_live(record, f"Live trading confirmed by {who.actor} with risk acknowledgment: {phrase}", who, now)


def cancel_live(snapshot: Snapshot, who: Who, now: datetime, reason: str = "") -> TradingRecord | None:
    """The record back in DRY_RUN; None when no request is pending (nothing to do, like
    every other no-op: not a refusal)."""
    record = snapshot.trading
    if not isinstance(record, TradingRecord) or record.current_state is not TradingState.LIVE_PENDING_CONFIRMATION:
        return None
    return transition(
        record,
        TradingState.DRY_RUN,
        reason or f"Live request cancelled by {who.actor}",
        who,
        now,
        kill_active=snapshot.kill_active,
    )


def expire_pending(record: TradingRecord, who: Who, now: datetime) -> TradingRecord | None:
    """Return the record moved back to DRY_RUN if its live request has expired."""
    if record.current_state is not TradingState.LIVE_PENDING_CONFIRMATION:
        return None
    pending = record.pending_live
    if pending is not None and now < pending.expires_at:
        return None
    return transition(record, TradingState.DRY_RUN, "Live confirmation window expired", who, now, kill_active=False)
