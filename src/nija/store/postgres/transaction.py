"""One transaction on a scope of the fleet database: the rules' snapshot (with the fleet and
the bot's account composed in), the commit, the cascade of a fleet or account kill, and the
audit records of every history row written (appended to the chain before the commit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from nija.audit import fleet as fleet_audit
from nija.audit.changes import kill_event, transition_event
from nija.domain.change import Change
from nija.domain.codes import ErrorCode
from nija.domain.errors import KillFileNotRemoved, KillRaisedDuringDeactivation, SafetyRefusal
from nija.domain.records import (
    Heartbeat,
    KillEvent,
    KillFlag,
    KillFlagKind,
    KillRecord,
    Snapshot,
    TradingRecord,
    Transition,
)
from nija.domain.states import TradingState
from nija.store import kill_file
from nija.store.postgres import cascade, channels, rows
from nija.store.postgres.connect import Conn, mask
from nija.store.postgres.rows import ACCOUNT_PREFIX, ScopeRows

if TYPE_CHECKING:
    from nija.store.postgres.store import PostgresStore

_FLEET_STATES = (TradingState.OFF, TradingState.EMERGENCY_STOP)


class PostgresTransaction:
    def __init__(self, store: PostgresStore, conn: Conn) -> None:
        self._store = store
        self._conn = conn
        self.audit_items: list[fleet_audit.Item] = []  # appended to the chain before the commit
        where = mask(store.url)
        self._fleet_killed = self._account_killed = False
        self.account: str | None = None
        if store.is_group:
            rows.ensure_scope(conn, store.scope)
            self._own = rows.read_scope(conn, store.scope, where, lock="FOR UPDATE", history=rows.TX_HISTORY)
        else:
            self._fleet_killed = rows.fleet_killed(conn, share_lock=True)
            rows.ensure_scope(conn, store.scope)
            self.account = rows.bot_account(conn, store.scope)
            self._account_killed = rows.account_killed(conn, self.account, share_lock=True)
            self._own = rows.read_scope(conn, store.scope, where, lock="FOR UPDATE", history=rows.TX_HISTORY)
        # The live rules ask whether a bot runs on this scope (live request and confirm).
        above = self._fleet_killed or self._account_killed
        snapshot = replace(compose(self._own, fleet_killed=above), heartbeat=read_heartbeat(conn, store.scope))
        self._snapshot = kill_file.composed(snapshot, store.kill_dir)

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def commit(self, change: Change) -> None:
        store, conn, scope = self._store, self._conn, self._store.scope
        lifting = change.clear_kill_flag or (change.kill is not None and not change.kill.is_active)
        if lifting and self._fleet_killed:
            raise SafetyRefusal(
                f"The fleet kill switch is active: bot {scope}'s kill switch cannot be lifted under it; "
                "nothing was done",
                f'Deactivate the fleet kill first: nija kill deactivate --fleet --store {mask(store.url)} "<reason>"',
                code=ErrorCode.FLEET_KILL_ACTIVE,
            )
        if lifting and self._account_killed:
            raise SafetyRefusal(
                f"The kill switch of account {self.account} is active: bot {scope}'s kill switch cannot be "
                "lifted under it; nothing was done",
                f"Deactivate the account kill first: nija kill deactivate --account {self.account} "
                f'--store {mask(store.url)} "<reason>"',
                code=ErrorCode.ACCOUNT_KILL_ACTIVE,
            )
        if lifting and store.kill_dir is not None and kill_file.exists(store.kill_dir):
            # Checked at the commit: a touch after the change was decided refuses it too.
            raise KillFileNotRemoved(str(store.kill_dir / kill_file.KILL_FILE))
        if change.trading is not None and store.is_group and change.trading.current_state not in _FLEET_STATES:
            what = "an account" if store.is_account else "The fleet"
            raise SafetyRefusal(
                f"{what} has no trading state of its own (can't move it to {change.trading.current_state}); "
                "nothing was done",
                "Pass --bot NAME to restore, reset or go live with one bot",
                code=ErrorCode.FLEET_HAS_NO_TRADING_STATE,
            )
        if change.clear_kill_flag:
            _clear_flags(conn, scope, self._own.flag_ids)
        if change.kill is not None:
            if not isinstance(self._own.kill, KillRecord):
                rows.back_up(conn, scope, "kill", self._own.raw)
            self._audit(scope, rows.write_kill(conn, scope, self._own.kill, change.kill))
        if change.trading is not None:
            if not isinstance(self._own.trading, TradingRecord):
                rows.back_up(conn, scope, "trading", self._own.raw)
            self._audit(scope, rows.write_trading(conn, scope, self._own.trading, change.trading))
        if store.is_group and change.kill is not None:
            self._cascade(change.kill)
        channels.notify(conn, "change", scope)

    def _audit(self, scope: str, written: Sequence[tuple[str, Transition | KillEvent]]) -> None:
        """Every history row written gets its record, with the row's id (completeness)."""
        for entry_id, entry in written:
            event = transition_event(entry) if isinstance(entry, Transition) else kill_event(entry)
            self.audit_items.append(fleet_audit.Item(scope, event, entry_id))

    def _cascade(self, scope_kill: KillRecord) -> None:
        conn, store = self._conn, self._store
        where = mask(store.url)
        if store.is_account:
            account = store.scope.removeprefix(ACCOUNT_PREFIX)
            bots = conn.execute(
                "SELECT name FROM nija_scope WHERE account = %s ORDER BY name FOR UPDATE", (account,)
            ).fetchall()
            source, label = cascade.ACCOUNT_SOURCE, f"Account {account}"
        else:
            bots = conn.execute(
                "SELECT name FROM nija_scope WHERE name NOT LIKE '@%%' ORDER BY name FOR UPDATE"
            ).fetchall()
            source, label = cascade.FLEET_SOURCE, "Fleet"
        now = scope_kill.last_updated
        assert now is not None  # a kill record changed by the domain always has a timestamp
        for (name,) in bots:
            bot = rows.read_scope(conn, str(name), where, history=rows.TX_HISTORY)
            change = cascade.bot_change(compose(bot, fleet_killed=False), scope_kill, now, source=source, label=label)
            if change is None or change.is_empty:
                continue
            if change.kill is not None:
                self._audit(str(name), rows.write_kill(conn, str(name), bot.kill, change.kill))
            if change.trading is not None:
                self._audit(str(name), rows.write_trading(conn, str(name), bot.trading, change.trading))
            channels.notify(conn, "change", str(name))


def _clear_flags(conn: Conn, scope: str, seen: tuple[int, ...]) -> None:
    """Remove exactly the flags seen when the change was decided; a flag raised meanwhile
    refuses the deactivation before anything is written."""
    present = {int(r[0]) for r in conn.execute("SELECT id FROM nija_kill_flag WHERE scope = %s", (scope,))}  # type: ignore[call-overload]
    if present - set(seen):
        raise KillRaisedDuringDeactivation()
    conn.execute("DELETE FROM nija_kill_flag WHERE id = ANY(%s)", (list(seen),))


def compose(own: ScopeRows, *, fleet_killed: bool) -> Snapshot:
    flag = None
    if own.flag_ids:  # the ids are the flag's identity: any new raise changes what was seen
        ids = ",".join(map(str, own.flag_ids))
        flag = KillFlag(ids, KillFlagKind.ROW, "nija_kill_flag", own.first_flag)
    return Snapshot(trading=own.trading, kill=own.kill, kill_flag=bool(own.flag_ids) or fleet_killed, flag=flag)


def read_heartbeat(conn: Conn, scope: str) -> Heartbeat | None:
    row = conn.execute(
        "SELECT pid, host, last_beat, started_at, stopped, run_id, dry_run_seconds, seen_nonce, live_nonce, "
        "live_refused FROM nija_heartbeat WHERE scope = %s",
        (scope,),
    ).fetchone()
    if row is None:
        return None
    pid, host, last_beat, started_at, stopped, run_id, dry_run_s, seen, live, refused = row
    return Heartbeat(
        int(pid),  # type: ignore[call-overload]
        str(host),
        last_beat,  # type: ignore[arg-type]
        started_at,  # type: ignore[arg-type]
        bool(stopped),
        str(run_id),
        float(dry_run_s),  # type: ignore[arg-type]
        str(seen),
        str(live),
        str(refused),
    )
