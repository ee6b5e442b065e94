"""The running bot's verifier: live only for its own run, for the request it saw pending,
with a proof of the code, and only once; and the records round-trip through the codec."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from nija.domain import live_auth
from nija.domain.events import Event, EventKind
from nija.domain.live_auth import LiveRefusal, LiveVerifier
from nija.domain.permission import PermissionCode, decide
from nija.domain.records import Heartbeat, LiveGrant, PendingLive, Snapshot, TradingRecord, Transition
from nija.domain.states import Mode, TradingState
from nija.notify.message import message_for
from nija.notify.settings import NotificationSettings
from nija.store import codec

S = TradingState
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RUN = "r" * 32
CODE = "ABCD-EFGH-IJKL-MNOP"


def pending(nonce: str = "n1", run: str = RUN, code: str = CODE) -> TradingRecord:
    entry = Transition(S.DRY_RUN, S.LIVE_PENDING_CONFIRMATION, "requested", NOW)
    commit = live_auth.commitment(live_auth.proof(nonce, code))
    request = PendingLive(commit, "alice", NOW, NOW + timedelta(minutes=10), run, nonce, "uid:1@h")
    return TradingRecord(S.LIVE_PENDING_CONFIRMATION, (entry,), NOW, request)


def confirmed(nonce: str = "n1", run: str = RUN, code: str = CODE) -> TradingRecord:
    before = pending(nonce, run, code)
    after = before.with_transition(Transition(S.LIVE_PENDING_CONFIRMATION, S.LIVE_ACTIVE, "confirmed", NOW))
    grant = LiveGrant(run, nonce, live_auth.proof(nonce, code), "bob", "token:bob", NOW)
    return replace(after, live_grant=grant)


def dry_run() -> TradingRecord:
    return TradingRecord(S.DRY_RUN, (Transition(S.OFF, S.DRY_RUN, "restore", NOW),), NOW)


def test_the_legitimate_sequence_is_live_for_its_run() -> None:
    verifier = LiveVerifier(RUN)
    assert verifier.observe(pending()).ok
    assert verifier.seen_nonce == "n1"  # what the heartbeat acknowledges
    assert decide(Snapshot(trading=confirmed()), verifier).mode is Mode.LIVE
    assert verifier.live_nonce == "n1"
    assert decide(Snapshot(trading=confirmed()), verifier).mode is Mode.LIVE  # re-reading the same record


@pytest.mark.parametrize(
    ("record", "why"),
    [
        (confirmed(run="x" * 32), LiveRefusal.OTHER_RUN),
        (confirmed(nonce="n2"), LiveRefusal.NEVER_SEEN),
        (confirmed(code="WRONG-CODE"), LiveRefusal.BAD_PROOF),
        (replace(confirmed(), live_grant=None), LiveRefusal.NO_GRANT),
        (replace(confirmed(), history=()), LiveRefusal.NOT_CONFIRMED),
    ],
)
def test_anything_else_is_not_verified(record: TradingRecord, why: str) -> None:
    verifier = LiveVerifier(RUN)
    verifier.observe(pending())
    permission = decide(Snapshot(trading=record), verifier)
    assert (permission.allowed, permission.code) == (False, PermissionCode.LIVE_NOT_VERIFIED)
    assert verifier.refused == why


def test_a_live_state_never_seen_pending_is_refused() -> None:
    assert not decide(Snapshot(trading=confirmed()), LiveVerifier(RUN)).allowed


@pytest.mark.parametrize("leave", ["dry_run", "kill", "other_request"])
def test_once_left_the_same_confirmation_never_passes_again(leave: str) -> None:
    verifier = LiveVerifier(RUN)
    verifier.observe(pending())
    assert decide(Snapshot(trading=confirmed()), verifier).allowed
    if leave == "dry_run":
        decide(Snapshot(trading=dry_run()), verifier)
    elif leave == "kill":
        decide(Snapshot(trading=confirmed(), kill_flag=True), verifier)
    else:
        verifier.observe(pending("n9"))
    permission = decide(Snapshot(trading=confirmed()), verifier)  # the restored copy
    assert not permission.allowed
    assert verifier.refused == LiveRefusal.SPENT


def test_a_request_cancelled_before_its_confirmation_is_dead() -> None:
    verifier = LiveVerifier(RUN)
    verifier.observe(pending())
    verifier.observe(dry_run())
    assert not decide(Snapshot(trading=confirmed()), verifier).allowed


def test_a_code_swapped_under_a_seen_nonce_is_ignored() -> None:
    verifier = LiveVerifier(RUN)
    verifier.observe(pending())
    verifier.observe(pending(code="EDITOR-CODE"))  # an editor rewrote the commitment
    assert not decide(Snapshot(trading=confirmed(code="EDITOR-CODE")), verifier).allowed


def test_a_request_for_another_run_is_not_acknowledged() -> None:
    verifier = LiveVerifier(RUN)
    verifier.observe(pending(run="x" * 32))
    assert verifier.seen_nonce == ""


def test_recovering_to_dry_run_ends_the_incident() -> None:
    verifier = LiveVerifier(RUN)
    decide(Snapshot(trading=confirmed()), verifier)
    assert verifier.refused
    decide(Snapshot(trading=dry_run()), verifier)
    assert verifier.refused == ""


def test_without_the_bot_live_is_what_its_heartbeat_says_it_verified() -> None:
    beat = Heartbeat(1, "h", NOW, NOW, run_id=RUN, live_nonce="n1")
    assert decide(Snapshot(trading=confirmed(), heartbeat=beat)).mode is Mode.LIVE
    for other in (replace(beat, live_nonce=""), replace(beat, run_id="x" * 32), replace(beat, stopped=True), None):
        assert decide(Snapshot(trading=confirmed(), heartbeat=other)).code == PermissionCode.LIVE_NOT_VERIFIED


def test_codes_are_normalised_and_proofs_bound_to_their_request() -> None:
    assert live_auth.proof("n", "abcd efgh-ijkl") == live_auth.proof("n", "ABCDEFGHIJKL")
    assert live_auth.proof("n1", CODE) != live_auth.proof("n2", CODE)
    assert not live_auth.opens("", live_auth.proof("n", CODE))


def test_records_round_trip_through_the_guide_files() -> None:
    for record in (pending(), confirmed()):
        assert codec.decode_trading(codec.encode_trading(record)) == record
    beat = Heartbeat(1, "h", NOW, NOW, False, RUN, 61.5, "n1", "n1", "")
    assert codec.decode_heartbeat(codec.encode_heartbeat(beat)) == beat


def test_an_old_pending_request_decodes_but_names_no_run() -> None:
    raw = (
        b'{"current_state": "LIVE_PENDING_CONFIRMATION", "history": [], "pending_live": {"code_sha256": "ab",'
        b' "requested_by": "a", "requested_at": "2026-01-01T00:00:00+00:00",'
        b' "expires_at": "2026-01-01T00:10:00+00:00"}}'
    )
    request = codec.decode_trading(raw).pending_live
    assert request is not None
    assert (request.run_id, request.nonce, request.code_hash) == ("", "", "")


@pytest.mark.parametrize("bad", ['"x"', "-1", "true", "NaN", "1e12"])
def test_a_heartbeat_with_a_bad_dry_run_time_is_no_heartbeat(bad: str) -> None:
    raw = (
        '{"pid": 1, "host": "h", "last_beat": "2026-01-01T00:00:00+00:00", '
        f'"started_at": "2026-01-01T00:00:00+00:00", "dry_run_seconds": {bad}}}'
    ).encode()
    with pytest.raises(codec.DecodeError):
        codec.decode_heartbeat(raw)


@pytest.mark.parametrize("kind", [EventKind.LIVE_NOT_VERIFIED, EventKind.LIVE_WRONG_CODE])
def test_live_incidents_are_notified_by_default_with_their_own_title(kind: EventKind) -> None:
    assert kind in NotificationSettings().events
    message = message_for(Event(kind, "bot@h", "AUTO_LIVE_NOT_VERIFIED", "restored backup", NOW), "/data")
    assert "NIJA" in message.title
    assert message.title != f"NIJA {kind}"
    assert "restored backup" in message.body


@pytest.mark.parametrize("odd", ["é" * 32, "\ud800" * 32, ""])
def test_odd_text_in_a_grant_is_refused_not_a_crash(odd: str) -> None:
    verifier = LiveVerifier(RUN)
    verifier.observe(pending())
    record = confirmed()
    assert record.live_grant is not None
    for grant in (replace(record.live_grant, run_id=odd), replace(record.live_grant, proof=odd)):
        permission = decide(Snapshot(trading=replace(record, live_grant=grant)), verifier)
        assert permission.code == PermissionCode.LIVE_NOT_VERIFIED
    assert not live_auth.opens(odd or "x", "\ud800")
    assert live_auth.proof("n", "\ud800é") != live_auth.proof("n", "")


def test_status_shows_only_nija_s_own_refusal_texts_from_a_heartbeat() -> None:
    from nija.domain.diagnosis import report

    beat = Heartbeat(1, "h", NOW, NOW, run_id=RUN, live_refused="\x1b[2J\x1b[HDRY_RUN, no capital at risk")
    (issue,) = report(Snapshot(trading=dry_run(), heartbeat=beat), NOW).inconsistencies
    assert issue.code == "LIVE_NOT_VERIFIED"
    assert "\x1b" not in issue.message + "".join(issue.details)
    spent = replace(beat, live_refused=LiveRefusal.SPENT)
    (issue,) = report(Snapshot(trading=dry_run(), heartbeat=spent), NOW).inconsistencies
    assert LiveRefusal.SPENT in issue.message
