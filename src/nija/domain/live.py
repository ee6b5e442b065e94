"""The live-enable flow: request (DRY_RUN → LIVE_PENDING_CONFIRMATION), confirm with a
one-time code and the typed risk acknowledgment (→ LIVE_ACTIVE), cancel, and expiry.

This is the only path to LIVE_ACTIVE. A request is granted to the bot running in DRY_RUN
(its heartbeat names its run); the confirmation binds to that run and request and leaves
a grant the running bot verifies (``live_auth``). The code is never stored: the request
keeps a commitment, the confirmation a proof."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from nija.domain import live_auth
from nija.domain.actions import FixAction
from nija.domain.errors import AcknowledgmentRequired, LiveRequestRefused
from nija.domain.events import Event, EventKind
from nija.domain.permission import PermissionCode
from nija.domain.records import (
    HEARTBEAT_CLOCK_TOLERANCE,
    HEARTBEAT_MAX_AGE,
    Heartbeat,
    LiveGrant,
    PendingLive,
    Snapshot,
    TradingRecord,
)
from nija.domain.states import TradingState
from nija.domain.transitions import Who, confirmed_live, transition


class LiveCode(StrEnum):
    """Stable codes of live-flow refusals (the API's ``error.code``, the CLI's JSON)."""

    NO_BOT_RUNNING = "NO_BOT_RUNNING"
    DRY_RUN_TOO_SHORT = "DRY_RUN_TOO_SHORT"
    NO_CREDENTIALS = "NO_CREDENTIALS"
    NO_PENDING_REQUEST = "NO_PENDING_REQUEST"
    PENDING_CONFIRMATION_EXPIRED = "PENDING_CONFIRMATION_EXPIRED"
    REQUEST_NOT_BOUND = "REQUEST_NOT_BOUND"
    REQUESTED_RUN_GONE = "REQUESTED_RUN_GONE"
    REQUEST_FROM_THE_FUTURE = "REQUEST_FROM_THE_FUTURE"
    NOT_ACKNOWLEDGED = "NOT_ACKNOWLEDGED"
    WRONG_CODE = "WRONG_CODE"
    SECOND_PERSON_REQUIRED = "SECOND_PERSON_REQUIRED"
    TOO_MANY_WRONG_CODES = "TOO_MANY_WRONG_CODES"


ACKNOWLEDGMENT_PHRASE = "I understand that live trading risks real capital"


@dataclass(frozen=True, slots=True)
class LivePolicy:
    """The rules of the live flow (nija.toml ``[live]``): how long in DRY_RUN, who confirms, the phrase."""

    min_dry_run: timedelta = timedelta(minutes=60)
    confirmation_window: timedelta = timedelta(minutes=10)
    require_second_person: bool = False
    phrase: str = ACKNOWLEDGMENT_PHRASE
    heartbeat_max_age: timedelta = HEARTBEAT_MAX_AGE


def request_live(
    snapshot: Snapshot,
    policy: LivePolicy,
    who: Who,
    now: datetime,
    *,
    code_hash: str,
    nonce: str,
    credentials_configured: bool,
    inconsistency_codes: tuple[str, ...],
) -> TradingRecord:
    """``code_hash``: ``live_auth.commitment(live_auth.proof(nonce, code))``."""
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
    beat = running_bot(snapshot, now, policy)
    if beat is None:
        raise LiveRequestRefused(
            "No bot is running in DRY_RUN here: live trading is granted to a running bot, which must "
            "first have run in DRY_RUN; nothing was done",
            "Start the bot in DRY_RUN first ('nija run'), let it run for the minimum DRY_RUN period, "
            "then request live trading again",
            code=LiveCode.NO_BOT_RUNNING,
        )
    remaining = policy.min_dry_run - timedelta(seconds=beat.dry_run_s)
    if remaining > timedelta(0):
        minutes = remaining.total_seconds() / 60
        raise LiveRequestRefused(
            f"The bot must run in DRY_RUN for {policy.min_dry_run.total_seconds() / 60:g} minutes "
            f"before going live: the running bot has run {beat.dry_run_s / 60:.1f} minutes in DRY_RUN, "
            f"{minutes:.1f} minutes remain",
            "Keep the bot running in DRY_RUN and try again later",
            code=LiveCode.DRY_RUN_TOO_SHORT,
        )
    if not credentials_configured:
        raise LiveRequestRefused(
            "No live exchange credentials are configured",
            "Set the exchange API key and secret (environment or secrets file) before going live",
            code=LiveCode.NO_CREDENTIALS,
        )
    pending = PendingLive(
        code_hash,
        who.actor,
        now,
        now + policy.confirmation_window,
        run_id=beat.run_id,
        nonce=nonce,
        requested_principal=who.identity,
    )
    requested = transition(
        record,
        TradingState.LIVE_PENDING_CONFIRMATION,
        f"Live trading requested by {who.actor} for bot run {short_run(beat.run_id)}; awaiting confirmation",
        who,
        now,
        kill_active=False,
    )
    return replace(requested, pending_live=pending)


def running_bot(snapshot: Snapshot, now: datetime, policy: LivePolicy) -> Heartbeat | None:
    """The heartbeat of a bot alive on this scope with a run id, if there is one."""
    beat = snapshot.heartbeat
    if beat is None or not beat.run_id or not beat.is_alive(now, policy.heartbeat_max_age):
        return None
    return beat


def short_run(run_id: str) -> str:
    """Enough of a run id to tell runs apart in messages and history."""
    return run_id[:8]


def live_not_verified(actor: str, detail: str, run_id: str, now: datetime) -> Event:
    """The incident of a running bot shown a LIVE_ACTIVE its run cannot verify (``nija run``
    and every other bot run publish the same event, then raise the kill)."""
    return Event(
        EventKind.LIVE_NOT_VERIFIED,
        actor,
        "AUTO_LIVE_NOT_VERIFIED",
        detail,
        now,
        {"code": PermissionCode.LIVE_NOT_VERIFIED, "run": short_run(run_id)},
    )


def confirm_live(
    snapshot: Snapshot,
    policy: LivePolicy,
    who: Who,
    now: datetime,
    *,
    code: str,
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
            code=LiveCode.NO_PENDING_REQUEST,
        )
    if now >= pending.expires_at:
        raise LiveRequestRefused(
            "The live request has expired and cannot be confirmed",
            "Request live trading again",
            code=LiveCode.PENDING_CONFIRMATION_EXPIRED,
        )
    if pending.requested_at - now > HEARTBEAT_CLOCK_TOLERANCE:
        # Made on a clock that runs ahead: its window would outlast the policy's by the skew.
        ahead = (pending.requested_at - now).total_seconds()
        raise LiveRequestRefused(
            f"The live request was made {ahead:.0f} s in the future by this host's clock: the clocks of "
            "the requesting host and this one disagree, so its confirmation window cannot be told; "
            "nothing was done",
            "Synchronise the clocks (NTP), cancel the request ('nija live cancel') and request again",
            code=LiveCode.REQUEST_FROM_THE_FUTURE,
        )
    if not pending.run_id or not pending.nonce:
        raise LiveRequestRefused(
            "The pending live request names no bot run (made by an older NIJA) and cannot be confirmed",
            "Cancel it ('nija live cancel') and request live trading again while the bot runs",
            code=LiveCode.REQUEST_NOT_BOUND,
        )
    beat = running_bot(snapshot, now, policy)
    if beat is None or beat.run_id != pending.run_id:
        raise LiveRequestRefused(
            f"The bot run this request was made for ({short_run(pending.run_id)}) is no longer running: "
            "a confirmation works only for the run that was asked; nothing was done",
            "Cancel the request ('nija live cancel'), make sure the bot runs in DRY_RUN, and request again",
            code=LiveCode.REQUESTED_RUN_GONE,
        )
    if beat.seen_nonce != pending.nonce:
        raise LiveRequestRefused(
            "The running bot has not acknowledged this live request yet; nothing was done",
            "Try again in a few seconds (the bot acknowledges a request in its next heartbeat); if it "
            "persists, the bot saw the request end (a kill, a restore): cancel it and request again",
            code=LiveCode.NOT_ACKNOWLEDGED,
        )
    code_proof = live_auth.proof(pending.nonce, code)
    if not live_auth.opens(pending.code_hash, code_proof):
        raise LiveRequestRefused(
            "Wrong confirmation code", "Use the code returned by the live request", code=LiveCode.WRONG_CODE
        )
    if phrase != policy.phrase:
        raise AcknowledgmentRequired(
            "The risk acknowledgment was not typed exactly",
            f"Type exactly: {policy.phrase}",
        )
    if policy.require_second_person and who.identity == pending.requester:
        raise LiveRequestRefused(
            "A second person must confirm live trading: the requester cannot confirm it "
            f"(both are {who.identity}, whatever the environment says)",
            "Ask another person to confirm from their own OS account or with their own API token",
            code=LiveCode.SECOND_PERSON_REQUIRED,
        )
    confirmed = confirmed_live(
        record,
        f"Live trading confirmed by {who.actor} for bot run {short_run(pending.run_id)} "
        f"with risk acknowledgment: {phrase}",
        who,
        now,
    )
    grant = LiveGrant(pending.run_id, pending.nonce, code_proof, who.actor, who.identity, now)
    return replace(confirmed, live_grant=grant)


def count_wrong_code(record: TradingRecord, who: Who, now: datetime) -> tuple[TradingRecord, int, bool]:
    """A wrong code is recorded on the request; after ``MAX_WRONG_CODES`` the request is
    cancelled (back to DRY_RUN). Returns the record, the count and whether it was cancelled."""
    pending = record.pending_live
    assert pending is not None
    count = pending.wrong_codes + 1
    if count >= live_auth.MAX_WRONG_CODES:
        cancelled = transition(
            record,
            TradingState.DRY_RUN,
            f"Live request cancelled after {count} wrong confirmation codes (last by {who.actor})",
            who,
            now,
            kill_active=False,
        )
        return cancelled, count, True
    return replace(record, pending_live=replace(pending, wrong_codes=count)), count, False


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
