"""``nija audit verify|show``: prove and read the audit trail."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.text import Text

from nija.assembly import audit_trail, build_service
from nija.audit import AuditLog, AuditRecord, BadLine, Verdict, records
from nija.audit.changes import Committed
from nija.audit.errors import AuditChainBroken, AuditIncomplete, AuditWriteFailed
from nija.audit.reconcile import unaudited
from nija.audit.since import parse_since
from nija.cli import render
from nija.cli.common import EXIT_CODES_HELP, common_options, current_selection, handles_errors, print_json
from nija.domain.errors import StorageProblem
from nija.domain.events import EventKind
from nija.domain.records import Snapshot
from nija.domain.text import json_for_terminal, printable
from nija.store import JsonFileStore, StoreSelection, config_dir
from nija.store.lock import exclusive

AUDIT_EXIT_HELP = (
    "Exit codes: 0 intact and complete (or nothing to show), 1 unexpected error, 2 usage, 4 storage problem, "
    "5 the audit trail was edited, cut or reordered, or a committed change has no record (verify only)."
)
RECONCILE_FIX = (
    "Run 'nija audit reconcile' to append the missing records, marked as recovered (any NIJA command "
    "that changes state does this too); if nothing crashed, keep the files as evidence: records were removed"
)


@click.group("audit", help="The tamper-evident audit trail (.nija_audit.jsonl).")
def audit_group() -> None:
    pass


def _log(data_dir: Path | None) -> AuditLog:
    return AuditLog(config_dir(data_dir))  # the data directory for every store


@audit_group.command(epilog=AUDIT_EXIT_HELP)
@common_options(mutating=False)
@click.option(
    "--local",
    is_flag=True,
    help="On the fleet store: this host's own trail (.nija_audit.jsonl in --data-dir) instead of the fleet's chain.",
)
@handles_errors
def verify(data_dir: Path | None, as_json: bool, local: bool) -> None:
    """Check that no audit record was edited, removed, inserted or reordered, and that every
    change in the state and kill switch histories has its record. With --store: the whole
    fleet's chain in the database (every bot, the fleet, the accounts)."""
    if current_selection().validated().is_postgres and not local:
        from nija.cli.audit_fleet import verify_fleet

        verify_fleet(current_selection(), as_json)
        return
    log = _log(data_dir)
    snapshot = _settled_snapshot(data_dir)  # read first: later records only add
    verdict = log.verify()
    gaps = unaudited(log, snapshot) if verdict.intact else []
    if as_json:
        print_json({**verdict_view(verdict, log.path), **completeness_view(gaps)})
        if not verdict.intact or gaps:
            sys.exit(AuditChainBroken.exit_code)
        return
    if verdict.problem is not None:
        raise AuditChainBroken(
            f"Audit trail {log.path} is NOT intact at {verdict.problem.describe()}",
            _intact_before(verdict.records)
            + "keep this file as evidence and compare it with a backup or the notifications that were sent",
        )
    if gaps:
        more = f" ({len(gaps)} changes have no record)" if len(gaps) > 1 else ""
        raise AuditIncomplete(
            f"Audit trail {log.path} is incomplete: the change {gaps[0].describe()} has no audit record{more}",
            RECONCILE_FIX,
        )
    last = f", last #{verdict.last.seq} {verdict.last.hash[:16]}…" if verdict.last else ""
    note = ""
    if verdict.interrupted:
        lines = ", ".join(map(str, verdict.interrupted))
        note = f" (writes cut by a crash, kept as evidence, at line {lines})"
    render.console().print(
        f"✅ Audit trail intact: {verdict.records} records{last}; every recorded change has its record{note}",
        markup=False,
    )


@audit_group.command(epilog=EXIT_CODES_HELP)
@common_options(mutating=False)
@handles_errors
def reconcile(data_dir: Path | None, as_json: bool) -> None:
    """Append the audit records of committed changes that have none, marked as recovered."""
    service = build_service(data_dir, selection=StoreSelection())
    trail = audit_trail(service)
    assert trail is not None  # the JSON files of a data directory always get one
    service.reconcile_audit()
    if service.listener_errors:
        raise AuditWriteFailed(
            "Reconciliation could not write the audit trail: " + "; ".join(service.listener_errors),
            f"Make {trail.log.directory} writable and check the disk, then run 'nija audit reconcile' again",
        )
    found = trail.recovered
    if as_json:
        print_json({"recovered": [entry.describe() for entry in found]})
        return
    out = render.console()
    if not found:
        out.print("✅ Nothing to recover: every change in the histories has its audit record", markup=False)
    for entry in found:
        out.print(Text(f"Recovered: {entry.describe()}"))


def _settled_snapshot(data_dir: Path | None) -> Snapshot:
    """The data directory's histories with no change in flight: committers audit under the
    store's lock, so under it every committed change is audited or its process is gone."""
    store = JsonFileStore(config_dir(data_dir))
    if not (store.state_path.exists() or store.kill_state_path.exists()):
        return Snapshot()  # no history (or no directory): nothing to wait for
    try:
        with exclusive(store.lock_path, store.lock_timeout_s):  # the lock only: verify writes nothing
            return store.load()
    except StorageProblem:  # a read-only directory, say: read without the lock
        return store.load()


def completeness_view(gaps: list[Committed]) -> dict[str, object]:
    return {"complete": not gaps, "missing": [entry.describe() for entry in gaps]}


@audit_group.command(epilog=EXIT_CODES_HELP)
@common_options(mutating=False)
@click.option(
    "--since", "since", metavar="TIME", help="Only records at or after TIME (ISO 8601, or an age: 30m, 12h, 7d)."
)
@click.option(
    "--kind", "kinds", multiple=True, type=click.Choice([k.value for k in EventKind]), help="Only these kinds."
)
@click.option(
    "--local",
    is_flag=True,
    help="On the fleet store: this host's own trail (.nija_audit.jsonl in --data-dir) instead of the fleet's chain.",
)
@handles_errors
def show(data_dir: Path | None, as_json: bool, since: str | None, kinds: tuple[str, ...], local: bool) -> None:
    """Show the audit records (oldest first); it does not check the chain: run 'nija audit verify'.

    With --store: the fleet's records in the database; --bot NAME only that bot's (its own
    changes, and the kills the fleet or its account recorded on it); --account NAME the
    account's kill scope. The JSON files hold one bot: there --bot is refused (exit 2)."""
    selection = current_selection()
    cutoff = parse_since(since, datetime.now(UTC)) if since else None
    if selection.validated().is_postgres and not local:
        from nija.cli.audit_fleet import fleet_records

        source = fleet_records(selection, cutoff)
    else:
        log = _log(data_dir)
        source = ((f"{log.path} line {n}", item) for n, item in records(log.path))
    out = render.console()
    first = True
    if as_json:
        click.echo("[", nl=False)
    for where, item in source:
        if isinstance(item, BadLine):
            click.echo(printable(f"⚠️ {where}: {item}; run 'nija audit verify'"), err=True)
            continue
        if (kinds and item.kind not in kinds) or (cutoff is not None and not _at_or_after(item, cutoff)):
            continue
        if as_json:
            click.echo(
                ("\n  " if first else ",\n  ") + json_for_terminal(json.dumps(record_view(item), ensure_ascii=False)),
                nl=False,
            )
        else:
            out.print(Text(record_line(item)))
        first = False
    if as_json:
        click.echo("\n]" if not first else "]")
    elif first:
        out.print("(no audit records)")


def _intact_before(records: int) -> str:
    if records == 0:
        return ""
    return "Record #1 before it is intact; " if records == 1 else f"Records #1 to #{records} before it are intact; "


def _at_or_after(record: AuditRecord, cutoff: datetime) -> bool:
    try:
        return record.timestamp >= cutoff
    except (ValueError, TypeError):
        return True  # an odd time is shown rather than hidden


def record_line(record: AuditRecord) -> str:
    details = " ".join(f"{k}={v}" for k, v in sorted(record.details.items()))
    scope = f" [{record.scope}]" if record.scope else ""
    return (
        f"#{record.seq}{scope} {record.time} {record.kind} by {record.actor} via {record.source}: {record.reason}"
        + (f" [{details}]" if details else "")
    )


def record_view(record: AuditRecord) -> dict[str, object]:
    return {
        "seq": record.seq,
        **({"scope": record.scope} if record.scope else {}),
        "time": record.time,
        "kind": record.kind,
        "actor": record.actor,
        "source": record.source,
        "reason": record.reason,
        "details": record.details,
        "hash": record.hash,
    }


def verdict_view(verdict: Verdict, path: Path) -> dict[str, object]:
    problem = verdict.problem
    return {
        "path": str(path),
        "intact": verdict.intact,
        "records": verdict.records,
        "last": {"seq": verdict.last.seq, "hash": verdict.last.hash} if verdict.last else None,
        "problem": None
        if problem is None
        else {"line": problem.line, "seq": problem.seq, "message": problem.message, "where": problem.describe()},
    }
