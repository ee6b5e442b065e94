"""``nija audit verify|show --store URL``: the fleet's audit chain in the database."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime

from nija.audit.chain import AuditRecord, BadLine
from nija.audit.errors import AuditChainBroken, AuditIncomplete
from nija.audit.fleet import FleetVerdict
from nija.cli import render
from nija.cli.common import print_json
from nija.store.postgres import PostgresStore
from nija.store.postgres.connect import mask
from nija.store.postgres.rows import account_scope
from nija.store.selection import StoreSelection

FLEET_INCOMPLETE_FIX = (
    "Every change is audited in its own transaction, so a history row without its record was written "
    "around NIJA (by hand, or by a tool with direct access): keep the database as evidence and find who"
)


def _store(selection: StoreSelection) -> PostgresStore:
    assert selection.url is not None  # only called with --store
    return PostgresStore(selection.url, bot=selection.bot)


def verify_fleet(selection: StoreSelection, as_json: bool) -> None:
    store = _store(selection)
    try:
        verdict = store.verify_audit()
    finally:
        store.close()
    where = f"the fleet database {mask(store.url)}"
    if as_json:
        print_json(fleet_verdict_view(verdict, where))
        if not (verdict.intact and verdict.complete):
            sys.exit(AuditChainBroken.exit_code)
        return
    problem = verdict.chain.problem
    if problem is not None:
        good = verdict.chain.records
        before = f"records #1 to #{good} before it are intact; " if good else ""
        raise AuditChainBroken(
            f"Audit trail in {where} is NOT intact at record #{problem.seq}: {problem.message}",
            f"{before.capitalize()}keep a copy of the database (pg_dump -t nija_audit) as evidence and compare "
            "it with a backup or the hosts' own trails (.nija_audit.jsonl)",
        )
    if verdict.missing:
        more = f" ({len(verdict.missing)} rows have none)" if len(verdict.missing) > 1 else ""
        raise AuditIncomplete(
            f"Audit trail in {where} is incomplete: the history row {verdict.missing[0]} has no audit record{more}",
            FLEET_INCOMPLETE_FIX,
        )
    last = verdict.chain.last
    tail = f", last #{last.seq} {last.hash[:16]}…" if last else ""
    render.console().print(
        f"✅ Fleet audit trail intact: {verdict.chain.records} records{tail}; every change in the database "
        "since the trail began has its record",
        markup=False,
    )


def fleet_verdict_view(verdict: FleetVerdict, where: str) -> dict[str, object]:
    problem = verdict.chain.problem
    last = verdict.chain.last
    return {
        "store": where,
        "intact": verdict.intact,
        "records": verdict.chain.records,
        "last": {"seq": last.seq, "hash": last.hash} if last else None,
        "problem": None if problem is None else {"seq": problem.seq, "message": problem.message},
        "complete": verdict.complete,
        "missing": list(verdict.missing),
    }


def fleet_records(selection: StoreSelection, since: datetime | None) -> Iterator[tuple[str, AuditRecord | BadLine]]:
    store = _store(selection)
    try:
        # None: every scope (--fleet too: a fleet incident is every bot's)
        scope = account_scope(selection.account) if selection.account is not None else selection.bot
        found = store.audit_records(scope=scope, since=since)
    finally:
        store.close()
    for item in found:
        yield (f"{mask(store.url)} record #{item.seq}" if isinstance(item, AuditRecord) else mask(store.url)), item
