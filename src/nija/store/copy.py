"""Copy one bot's records between stores (JSON files <-> a PostgreSQL bot), history kept.

The target must be empty (no history, no kill record): a copy never merges or overwrites.
A bot in a live state is refused: its copy would trade live (or hold a pending code) without
the target's own confirmation.
A raised kill (kill file or flag) is raised on the target first, so a copy of a stopped
bot is stopped from its first instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nija.domain.change import Change
from nija.domain.codes import ErrorCode
from nija.domain.errors import SafetyRefusal, StorageCorrupt, UsageProblem
from nija.domain.records import KillRecord, Snapshot, TradingRecord
from nija.domain.transitions import Who
from nija.store.ports import Store


@dataclass(frozen=True, slots=True)
class Copied:
    transitions: int
    kill_events: int
    kill_flag: bool


def copy_records(source: Store, target: Store, who: Who, now: datetime) -> Copied:
    snap = source.load()
    trading, kill = _readable(snap, source.location)
    _refuse_live(trading, source.location)
    if not trading.history and not kill.history and not snap.kill_flag:
        raise UsageProblem(
            f"{source.location} holds no records: nothing to copy",
            "Check --from (and --bot for the fleet database)",
            code=ErrorCode.NOTHING_TO_COPY,
        )
    with target.transaction() as tx:
        _require_empty(tx.snapshot, target.location)
        if snap.kill_flag:
            target.raise_kill_flag(_flag_reason(kill), who, now)
        tx.commit(Change(trading=trading, kill=kill))
    return Copied(len(trading.history), len(kill.history), snap.kill_flag)


def _readable(snap: Snapshot, where: str) -> tuple[TradingRecord, KillRecord]:
    if not isinstance(snap.trading, TradingRecord) or not isinstance(snap.kill, KillRecord):
        raise StorageCorrupt(
            f"The records in {where} are unreadable; nothing was copied",
            "Run 'nija status' there, repair with 'nija kill deactivate \"<reason>\"', then copy again",
        )
    return snap.trading, snap.kill


def _refuse_live(trading: TradingRecord, where: str) -> None:
    if trading.current_state.is_live or trading.pending_live is not None:
        raise SafetyRefusal(
            f"{where} is in {trading.current_state}: a copy would allow live trading there at once, "
            "without its own confirmation (nothing was copied)",
            "Leave live trading first ('nija restore' for DRY_RUN or 'nija reset' for OFF, with the "
            "same --data-dir/--store/--bot), then copy again",
            code=ErrorCode.LIVE_NOT_COPIED,
        )


def _require_empty(snap: Snapshot, where: str) -> None:
    trading, kill = snap.trading, snap.kill
    empty = (
        isinstance(trading, TradingRecord)
        and not trading.history
        and isinstance(kill, KillRecord)
        and not kill.history
        and not kill.is_active
    )
    if not empty:
        raise SafetyRefusal(
            f"The target {where} already holds records; a copy never overwrites them (nothing was copied)",
            "Copy into a new bot name (--bot) or an empty data directory",
            code=ErrorCode.TARGET_NOT_EMPTY,
        )


def _flag_reason(kill: KillRecord) -> str:
    last = kill.last_activation
    return last.reason if last is not None else "Kill flag copied from another store"
