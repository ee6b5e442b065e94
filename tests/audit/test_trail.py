"""The audit trail as operators meet it: real processes racing, a failed audit write during a
kill, and the ``nija audit verify|show`` commands."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from nija.assembly import build_service
from nija.audit import AuditLog, chain, records
from nija.domain.events import Event, EventKind
from nija.domain.transitions import Who
from tests.conftest import Run, cli_env

APPENDER = """
import sys
from datetime import datetime, UTC
from nija.audit import AuditLog
from nija.domain.events import Event, EventKind
log = AuditLog(sys.argv[1])
for n in range(int(sys.argv[3])):
    log.append(Event(EventKind.ORDER_DENIED, sys.argv[2], "bot", f"{sys.argv[2]}-{n}", datetime.now(UTC)))
"""


def test_when_processes_append_at_once_then_the_chain_stays_whole_and_nothing_is_lost(data_dir: Path) -> None:
    writers, each = 4, 40
    procs = [
        subprocess.Popen([sys.executable, "-c", APPENDER, str(data_dir), f"w{w}", str(each)], env=cli_env())
        for w in range(writers)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * writers
    verdict = AuditLog(data_dir).verify()
    assert verdict.intact, verdict.problem
    assert verdict.records == writers * each
    reasons = [r.reason for _, r in records(AuditLog(data_dir).path) if not isinstance(r, Exception)]
    for w in range(writers):  # each writer's records are all there, in its own order
        assert [x for x in reasons if x.startswith(f"w{w}-")] == [f"w{w}-{n}" for n in range(each)]


def test_when_a_write_was_cut_by_a_crash_then_the_torn_line_is_kept_and_its_number_never_reused(
    data_dir: Path,
) -> None:
    log = AuditLog(data_dir)
    when = datetime(2026, 2, 17, 22, 0, tzinfo=UTC)
    log.append(Event(EventKind.RESET, "op", "cli", "first", when))
    with log.path.open("ab") as f:
        f.write(b'{"actor":"op","details":{},"kind":"re')  # a crash in the middle of a write
    AuditLog(data_dir).append(Event(EventKind.RESTORE, "op", "cli", "after the crash", when))
    lines = log.path.read_bytes().splitlines()
    assert len(lines) == 3
    assert lines[1].startswith(b'{"actor":"op","details":{},"kind":"re')
    verdict = log.verify()
    assert verdict.intact, verdict.problem
    assert verdict.interrupted == (2,)
    seqs = [r.seq for _, r in records(log.path) if not isinstance(r, Exception)]
    assert seqs == [1, 3]  # the torn record used up #2
    assert [r.reason for _, r in records(log.path) if not isinstance(r, Exception)] == ["first", "after the crash"]


def test_a_torn_line_that_shows_its_number_is_never_given_that_number_again(data_dir: Path) -> None:
    log = AuditLog(data_dir)
    when = datetime(2026, 2, 17, 22, 0, tzinfo=UTC)
    for n in range(3):
        log.append(Event(EventKind.RESET, "op", "cli", f"r{n}", when))
    whole = chain.encode(Event(EventKind.RESET, "op", "cli", "cut", when), 4, log.verify().last.hash)[0]  # type: ignore[union-attr]
    with log.path.open("ab") as f:
        f.write(whole[: whole.index(b',"source"') + 3])  # cut just after `"seq":4,`
    assert AuditLog(data_dir).append(Event(EventKind.RESTORE, "op", "cli", "next", when)).seq == 5
    second_crash = chain.encode(Event(EventKind.RESET, "op", "cli", "cut again", when), 6, "0" * 64)[0]
    with log.path.open("ab") as f:
        f.write(second_crash[:30])  # a torn line whose number cannot be read: it still used #6
    assert AuditLog(data_dir).append(Event(EventKind.RESTORE, "op", "cli", "last", when)).seq == 7
    verdict = log.verify()
    assert verdict.intact, verdict.problem
    assert verdict.interrupted == (4, 6)
    seqs = [r.seq for _, r in records(log.path) if not isinstance(r, Exception)]
    assert seqs == [1, 2, 3, 5, 7]
    assert len(set(seqs)) == len(seqs)


def test_a_torn_line_followed_by_a_record_that_skips_past_it_is_named_as_damage(data_dir: Path) -> None:
    log = AuditLog(data_dir)
    when = datetime(2026, 2, 17, 22, 0, tzinfo=UTC)
    for n in range(4):
        log.append(Event(EventKind.RESET, "op", "cli", f"r{n}", when))
    lines = log.path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1][:40] + b"\n"  # record #2 cut after it was written whole: #3 still names it
    log.path.write_bytes(b"".join(lines))
    verdict = log.verify()
    assert verdict.problem is not None
    assert verdict.problem.line == 2
    assert "does not continue the chain" in verdict.problem.message


def test_when_the_audit_cannot_be_written_then_the_kill_still_happens_and_the_cli_says_so(
    run: Run, data_dir: Path
) -> None:
    (data_dir / ".nija_audit.jsonl").mkdir()  # the audit file cannot be opened for writing
    result = run("emergency_kill_switch.py", "activate", "disk trouble")
    assert result.returncode == 0, result.stderr
    assert (data_dir / "EMERGENCY_STOP").exists()
    assert build_service(data_dir).snapshot().kill_active
    assert "KILL SWITCH ACTIVATED" in result.stdout
    assert "Warning: the action was done, but audit" in result.stderr
    assert "kill_activated" in result.stderr
    assert ".nija_audit.jsonl" in result.stderr


def test_when_the_audit_cannot_be_written_then_the_service_reports_it(data_dir: Path) -> None:
    (data_dir / ".nija_audit.jsonl").mkdir()
    service = build_service(data_dir)
    service.activate_kill("x", Who("op", "test"))
    assert service.snapshot().kill_active
    assert any(
        error.startswith("audit: The audit record for ") and "'kill_activated'" in error and "NOT written" in error
        for error in service.listener_errors
    )


def test_a_kill_and_a_recovery_can_be_reconstructed_from_the_audit(run: Run, data_dir: Path) -> None:
    assert run("emergency_kill_switch.py", "activate", "exchange outage").returncode == 0
    assert run("emergency_kill_switch.py", "deactivate", "--yes", "exchange back").returncode == 0
    assert run("safe_restore_trading.py", "restore", "--yes").returncode == 0
    verify = run("nija", "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    assert "intact: 6 records" in verify.stdout
    shown = run("nija", "audit", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    by_kind = {r["kind"]: r for r in rows}
    assert by_kind["kill_activated"]["reason"] == "exchange outage"
    assert by_kind["kill_activated"]["source"] == "cli"
    assert by_kind["kill_deactivated"]["reason"] == "exchange back"
    assert by_kind["restore"]["details"]["path"].endswith("DRY_RUN")
    kills = run("nija", "audit", "show", "--kind", "kill_activated")
    assert "exchange outage" in kills.stdout
    assert "exchange back" not in kills.stdout


def test_verify_names_the_first_bad_record_and_exits_5(run: Run, data_dir: Path) -> None:
    for reason in ("one", "two", "three"):
        assert run("emergency_kill_switch.py", "activate", reason).returncode == 0
    log = data_dir / ".nija_audit.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    del lines[1]
    log.write_bytes(b"".join(lines))
    result = run("nija", "audit", "verify")
    assert result.returncode == 5
    assert "NOT intact at record #3 (line 2)" in result.stderr
    as_json = run("nija", "audit", "verify", "--json")
    assert as_json.returncode == 5
    report = json.loads(as_json.stdout)
    assert report["intact"] is False
    assert report["problem"]["line"] == 2
    assert report["records"] == 1


def test_show_since_filters_by_time_and_refuses_a_bad_time(run: Run, data_dir: Path) -> None:
    log = AuditLog(data_dir)
    log.append(Event(EventKind.RESET, "op", "cli", "old", datetime(2020, 1, 1, tzinfo=UTC)))
    log.append(Event(EventKind.RESET, "op", "cli", "new", datetime.now(UTC)))
    recent = run("nija", "audit", "show", "--since", "1h")
    assert "new" in recent.stdout
    assert "old" not in recent.stdout
    dated = run("nija", "audit", "show", "--since", "2019-12-31", "--json")
    assert [r["reason"] for r in json.loads(dated.stdout)] == ["old", "new"]
    bad = run("nija", "audit", "show", "--since", "yesterday-ish")
    assert bad.returncode == 2
    assert "--since 'yesterday-ish' is neither a time nor an age" in bad.stderr


def test_show_and_verify_on_an_empty_directory(run: Run) -> None:
    assert run("nija", "audit", "verify").returncode == 0
    shown = run("nija", "audit", "show", "--json")
    assert shown.returncode == 0
    assert json.loads(shown.stdout) == []


LOOPING_APPENDER = """
import sys
from datetime import datetime, UTC
from nija.audit import AuditLog
from nija.domain.events import Event, EventKind
log = AuditLog(sys.argv[1])
n = 0
while True:
    log.append(Event(EventKind.ORDER_DENIED, "bot", "bot", f"denial {n}", datetime.now(UTC)))
    n += 1
    if n == 20:
        print("appending", flush=True)
"""


def test_when_a_writer_is_killed_mid_stream_then_the_chain_verifies_and_continues(data_dir: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", LOOPING_APPENDER, str(data_dir)], env=cli_env(), stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "appending\n"
    proc.kill()  # SIGKILL: anywhere, including between the record and the head
    proc.wait(timeout=30)
    log = AuditLog(data_dir)
    before = log.verify()
    assert before.intact, before.problem
    assert before.records >= 20
    log.append(Event(EventKind.KILL_ACTIVATED, "op", "cli", "after the crash", datetime.now(UTC)))
    after = log.verify()
    assert after.intact, after.problem
    assert after.records == before.records + 1


def test_a_head_one_record_behind_after_a_crash_still_verifies(data_dir: Path) -> None:
    log = AuditLog(data_dir)
    when = datetime(2026, 2, 17, 22, 0, tzinfo=UTC)
    log.append(Event(EventKind.RESET, "op", "cli", "one", when))
    older_head = log.head_path.read_bytes()
    log.append(Event(EventKind.RESET, "op", "cli", "two", when))
    log.head_path.write_bytes(older_head)  # the crash came between the record and the head
    assert log.verify().intact
    assert AuditLog(data_dir).append(Event(EventKind.RESET, "op", "cli", "three", when)).seq == 3
    assert log.verify().records == 3
