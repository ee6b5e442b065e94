"""The answer to "may an order be placed now, and in which mode?".

A stored LIVE_ACTIVE alone never moves money (invariant 7): the running bot decides
with its ``LiveVerifier``; any other reader (status, the API) can only say whether the
running bot, alive now, has published that it verified this very confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from nija.domain.live_auth import LiveVerifier
from nija.domain.records import HEARTBEAT_MAX_AGE, Heartbeat, Snapshot, TradingRecord, future_beat_words
from nija.domain.states import Mode, TradingState


class PermissionCode(StrEnum):
    LIVE_ACTIVE = "LIVE_ACTIVE"
    DRY_RUN = "DRY_RUN"
    KILL_SWITCH_ACTIVE = "KILL_SWITCH_ACTIVE"
    STATE_UNREADABLE = "STATE_UNREADABLE"
    LIVE_NOT_VERIFIED = "LIVE_NOT_VERIFIED"
    HISTORY_MISMATCH = "HISTORY_MISMATCH"


@dataclass(frozen=True, slots=True)
class Permission:
    """Whether orders may be placed now, in which mode, and the stable code and reason."""

    allowed: bool
    mode: Mode | None
    code: str
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


LIVE = Permission(True, Mode.LIVE, PermissionCode.LIVE_ACTIVE, "LIVE_ACTIVE: orders go to the exchange")


def decide(snapshot: Snapshot, verifier: LiveVerifier | None = None, *, now: datetime | None = None) -> Permission:
    """``verifier``: the running bot's; without one, LIVE_ACTIVE is judged from what the
    alive bot's heartbeat says it verified: alive at ``now`` (a bot that crashed leaves a
    heartbeat that only grows old, never "stopped"). ``now`` None: the caller judges the
    heartbeat's age itself (``diagnosis``)."""
    if snapshot.kill_active:
        if verifier is not None:
            verifier.interrupt()
        return Permission(False, None, PermissionCode.KILL_SWITCH_ACTIVE, "the kill switch is active")
    record = snapshot.trading
    if not isinstance(record, TradingRecord):  # pragma: no cover - unreadable implies kill_active
        return Permission(False, None, PermissionCode.STATE_UNREADABLE, "the trading state record is unreadable")
    state = record.current_state
    if verifier is not None:
        verdict = verifier.observe(record)
        if not verdict.ok:
            return not_verified(verdict.detail)
    if state is TradingState.DRY_RUN:
        return Permission(True, Mode.SIMULATED, PermissionCode.DRY_RUN, "DRY_RUN: orders are simulated")
    if state is TradingState.LIVE_ACTIVE:
        if verifier is not None:
            return LIVE
        return published_verification(record, snapshot.heartbeat, now)
    return Permission(False, None, f"STATE_{state}", f"{state} places no orders")


def not_verified(detail: str) -> Permission:
    return Permission(
        False,
        None,
        PermissionCode.LIVE_NOT_VERIFIED,
        f"LIVE_ACTIVE is not verified by the running bot: {detail}; every order is denied",
    )


def verifying_bot_gone() -> Permission:
    return not_verified(
        f"the bot that verified this confirmation is not running (no heartbeat for "
        f"{HEARTBEAT_MAX_AGE.total_seconds():g} s)"
    )


def published_verification(record: TradingRecord, beat: Heartbeat | None, now: datetime | None = None) -> Permission:
    grant = record.live_grant
    if beat is None or beat.stopped or not beat.run_id:
        return not_verified("no running bot has verified this confirmation")
    if now is not None and beat.from_the_future(now):
        return not_verified(future_beat_words(beat.last_beat, now))
    if now is not None and not beat.is_alive(now, HEARTBEAT_MAX_AGE):
        return verifying_bot_gone()
    if grant is None or grant.run_id != beat.run_id:
        return not_verified("the confirmation was not made for the running bot's run")
    if beat.live_nonce != grant.nonce:
        return not_verified("the running bot has not (yet) verified this confirmation")
    return LIVE


def reached_live_by_confirmation(record: TradingRecord) -> bool:
    """A hand-edited file must never be enough to trade live (one check of several)."""
    if not record.history:
        return False
    last = record.history[-1]
    return last.from_state is TradingState.LIVE_PENDING_CONFIRMATION and last.to_state is TradingState.LIVE_ACTIVE
