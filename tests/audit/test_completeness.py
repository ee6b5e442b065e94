"""Every committed change has its audit record: ``nija audit verify`` checks the trail against
the state and kill switch histories, and the next NIJA process appends what a dead one left
unaudited, marked as recovered."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nija.assembly import build_service
from nija.audit import AuditLog, chain, records
from nija.audit.changes import committed, event_key, kill_event, transition_event
from nija.audit.reconcile import CHECKPOINT_FILE
from nija.domain.change import Change
from nija.domain.events import Event, EventKind
from nija.domain.records import KillAction, KillEvent, KillRecord, Snapshot, TradingRecord, Transition
from nija.domain.states import TradingState
from nija.domain.transitions import Who
from nija.store import JsonFileStore
from tests.conftest import Run

OP = Who("op", "cli")


def audit_rows(data_dir: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for _, record in records(AuditLog(data_dir).path):
        assert not isinstance(record, Exception), record
        rows.append({"kind": record.kind, "time": record.time, "details": record.details, "reason": record.reason})
    return rows


def commit_without_audit(data_dir: Path, to: TradingState, reason: str) -> Transition:
    """What a process killed between its commit and its audit append leaves behind."""
    store = JsonFileStore(data_dir)
    with store.transaction() as tx:
        record = tx.snapshot.trading
        assert isinstance(record, TradingRecord)
        entry = Transition(record.current_state, to, reason, datetime.now(UTC), "ghost", "bot")
        tx.commit(Change(trading=record.with_transition(entry)))
    return entry


def test_every_change_has_exactly_one_record_and_none_is_marked_recovered(run: Run, data_dir: Path) -> None:
    for args in (
        ("emergency_kill_switch.py", "activate", "outage"),
        ("emergency_kill_switch.py", "activate", "again"),
        ("emergency_kill_switch.py", "deactivate", "--yes", "fixed"),
        ("safe_restore_trading.py", "restore", "--yes"),
        ("safe_restore_trading.py", "reset", "--yes"),
    ):
        assert run(*args).returncode == 0
    entries = committed(build_service(data_dir).snapshot())
    keyed = [r for r in audit_rows(data_dir) if r["kind"] in ("transition", "kill_activated", "kill_deactivated")]
    assert len(keyed) == len(entries) == 7
    assert Counter((str(r["kind"]), str(r["time"])) for r in keyed) == Counter(e.key[:2] for e in entries)
    assert not any("recovered" in r["details"] for r in audit_rows(data_dir))  # type: ignore[operator]
    verify = run("nija", "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    assert "every recorded change has its record" in verify.stdout


def test_verify_names_the_first_change_without_a_record_and_reconcile_recovers_it(run: Run, data_dir: Path) -> None:
    assert run("emergency_kill_switch.py", "activate", "outage").returncode == 0
    assert run("emergency_kill_switch.py", "deactivate", "--yes", "fixed").returncode == 0
    assert run("safe_restore_trading.py", "restore", "--yes").returncode == 0
    log = AuditLog(data_dir)
    # Delete the restore's records, and put the head back as a crash before the append would.
    lines = log.path.read_bytes().splitlines(keepends=True)
    assert b'"to":"DRY_RUN"' in lines[-2]
    kept = lines[:-2]
    log.path.write_bytes(b"".join(kept))
    last = json.loads(kept[-1])
    log.head_path.write_text(json.dumps({"seq": last["seq"], "hash": last["hash"]}))
    assert log.verify().intact  # the chain alone cannot tell

    verify = run("nija", "audit", "verify")
    assert verify.returncode == 5, verify.stdout
    assert "is incomplete: the change OFF -> DRY_RUN at" in verify.stderr
    assert "has no audit record" in verify.stderr
    assert "nija audit reconcile" in verify.stderr
    as_json = run("nija", "audit", "verify", "--json")
    assert as_json.returncode == 5
    report = json.loads(as_json.stdout)
    assert report["intact"] is True
    assert report["complete"] is False
    assert len(report["missing"]) == 1

    # The checkpoint still claims the restore's records (beyond the cut log): it must not fool it.
    assert (data_dir / CHECKPOINT_FILE).exists()
    recovered = run("nija", "audit", "reconcile")
    assert recovered.returncode == 0, recovered.stderr
    assert "Recovered: OFF -> DRY_RUN" in recovered.stdout
    again = run("nija", "audit", "reconcile")
    assert "Nothing to recover" in again.stdout
    assert run("nija", "audit", "verify").returncode == 0
    rows = audit_rows(data_dir)
    assert rows[-1]["details"]["recovered"] == "true"  # type: ignore[index]
    assert rows[-1]["details"]["to"] == "DRY_RUN"  # type: ignore[index]


def test_the_next_state_change_first_appends_what_a_dead_process_left_unaudited(run: Run, data_dir: Path) -> None:
    assert run("safe_restore_trading.py", "restore", "--yes").returncode == 0  # OFF -> DRY_RUN
    ghost = commit_without_audit(data_dir, TradingState.OFF, "committed, then SIGKILL")
    verify = run("nija", "audit", "verify")
    assert verify.returncode == 5
    assert "committed, then SIGKILL" in verify.stderr

    assert run("emergency_kill_switch.py", "activate", "next operator").returncode == 0
    rows = audit_rows(data_dir)
    recovered = [r for r in rows if "recovered" in r["details"]]  # type: ignore[operator]
    assert len(recovered) == 1
    assert recovered[0]["reason"] == "committed, then SIGKILL"
    assert recovered[0]["time"] == ghost.timestamp.isoformat()
    # Recovered before the records of the change that found it.
    assert rows.index(recovered[0]) < [r["reason"] for r in rows].index("next operator")
    assert run("nija", "audit", "verify").returncode == 0


def test_a_dead_process_is_recovered_once_even_when_the_checkpoint_is_current(data_dir: Path) -> None:
    service = build_service(data_dir)
    service.restore(OP)
    commit_without_audit(data_dir, TradingState.OFF, "lost")
    service.reset(OP)  # nothing to do: still reconciles
    service.reconcile_audit()
    lost = [r for r in audit_rows(data_dir) if r["reason"] == "lost"]
    assert len(lost) == 1
    assert not service.listener_errors


def test_an_old_style_kill_record_written_moments_off_its_entry_counts_as_its_record(data_dir: Path) -> None:
    """Before kill records carried the entry's time, they read the clock a moment apart."""
    when = datetime(2026, 2, 17, 22, 0, tzinfo=UTC)
    store = JsonFileStore(data_dir)
    entry = KillEvent(KillAction.ACTIVATE, "old style", when, "cli", "op")
    with store.transaction() as tx:
        tx.commit(Change(kill=KillRecord().with_event(entry)))
    AuditLog(data_dir).append(Event(EventKind.KILL_ACTIVATED, "op", "cli", "old style", when - timedelta(seconds=0.01)))
    service = build_service(data_dir)
    service.reconcile_audit()
    assert len(audit_rows(data_dir)) == 1
    # ...but one old record stands for one entry only.
    with store.transaction() as tx:
        kill = tx.snapshot.kill
        assert isinstance(kill, KillRecord)
        tx.commit(Change(kill=kill.with_event(KillEvent(KillAction.ACTIVATE, "old style", when, "cli", "op"))))
    service.reconcile_audit()
    rows = audit_rows(data_dir)
    assert len(rows) == 2
    assert rows[1]["details"]["recovered"] == "true"  # type: ignore[index]


def test_keys_of_records_and_entries_agree() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    t = Transition(TradingState.OFF, TradingState.DRY_RUN, "r", when, "a", "cli")
    k = KillEvent(KillAction.DEACTIVATE, "r", when, "cli", "a")
    snapshot = Snapshot(trading=TradingRecord().with_transition(t), kill=KillRecord().with_event(k))
    entries = committed(snapshot)
    assert [e.key for e in entries] == [event_key(transition_event(t)), event_key(kill_event(k))]
    assert entries[0].key == ("transition", "2026-01-01T00:00:00+00:00", "OFF", "DRY_RUN")
    assert entries[1].key == ("kill_deactivated", "2026-01-01T00:00:00+00:00")


def test_a_change_whose_record_was_torn_is_recovered_under_a_new_number(run: Run, data_dir: Path) -> None:
    assert run("safe_restore_trading.py", "restore", "--yes").returncode == 0
    ghost = commit_without_audit(data_dir, TradingState.OFF, "torn record")
    log = AuditLog(data_dir)
    last = log.verify().last
    assert last is not None
    line = chain.encode(transition_event(ghost), last.seq + 1, last.hash)[0]
    with log.path.open("ab") as f:
        f.write(line[: len(line) // 2])  # the power went out in the middle of its write
    verify = run("nija", "audit", "verify")
    assert verify.returncode == 5
    assert "torn record" in verify.stderr
    assert run("nija", "audit", "reconcile").returncode == 0
    verdict = log.verify()
    assert verdict.intact, verdict.problem
    assert verdict.interrupted == (last.seq + 1,)
    whole = [r for _, r in records(log.path) if not isinstance(r, Exception)]
    assert whole[-1].reason == "torn record"
    assert whole[-1].details["recovered"] == "true"
    assert whole[-1].seq == last.seq + 2  # the torn record's number is not reused
    assert run("nija", "audit", "verify").returncode == 0


def test_reconcile_says_so_when_the_trail_cannot_be_written(run: Run, data_dir: Path) -> None:
    commit_without_audit(data_dir, TradingState.DRY_RUN, "unaudited")
    (data_dir / ".nija_audit.jsonl").mkdir()  # the audit file cannot be opened for writing
    result = run("nija", "audit", "reconcile")
    assert result.returncode == 4, result.stdout
    assert "could not write the audit trail" in result.stderr
    assert "NOT written" in result.stderr


def test_a_record_deleted_and_the_chain_rewritten_around_it_is_still_found_missing(run: Run, data_dir: Path) -> None:
    """Someone who can write the data directory can rebuild a consistent chain without a record:
    the chain then verifies, but the history still names the change."""
    assert run("emergency_kill_switch.py", "activate", "outage").returncode == 0
    assert run("emergency_kill_switch.py", "deactivate", "--yes", "fixed").returncode == 0
    assert run("safe_restore_trading.py", "restore", "--yes").returncode == 0
    log = AuditLog(data_dir)
    kept = [r for _, r in records(log.path) if not isinstance(r, Exception)]
    victim = next(r for r in kept if r.kind == "kill_deactivated")
    kept.remove(victim)
    lines, prev = [], chain.GENESIS
    for seq, r in enumerate(kept, start=1):
        event = Event(EventKind(r.kind), r.actor, r.source, r.reason, r.timestamp, r.details)
        line, prev = chain.encode(event, seq, prev)
        lines.append(line)
    log.path.write_bytes(b"".join(lines))
    log.head_path.write_text(json.dumps({"seq": len(kept), "hash": prev}))
    (data_dir / CHECKPOINT_FILE).unlink()
    assert log.verify().intact  # the chain alone is fooled

    result = run("nija", "audit", "verify")
    assert result.returncode == 5
    assert f"the change kill_deactivated at {victim.time} by" in result.stderr
    assert "'fixed'" in result.stderr


def test_a_missing_change_with_control_characters_is_named_without_them(run: Run, data_dir: Path) -> None:
    commit_without_audit(data_dir, TradingState.DRY_RUN, "\x1b[2J\x1b[HDRY_RUN, no capital at risk")
    verify = run("nija", "audit", "verify")
    assert verify.returncode == 5
    assert "\x1b" not in verify.stderr
    assert "no capital at risk" in verify.stderr
    recovered = run("nija", "audit", "reconcile")
    assert recovered.returncode == 0
    assert "\x1b" not in recovered.stdout
    assert "Recovered: OFF -> DRY_RUN" in recovered.stdout
