"""The embedded default store: the guide's JSON files and the kill file in a data directory.

    .nija_trading_state.json      trading state machine (guide format)
    .nija_kill_switch_state.json  kill switch record (guide format)
    EMERGENCY_STOP                the kill file: its existence alone means "killed"
    .nija_heartbeat.json          the running bot's heartbeat
    .nija.lock                    the cross-process lock for read-modify-write

Write order keeps every crash point safe: the kill file is raised before anything
else and cleared before the records say "inactive", so a crash in between always
leaves some sign of the kill behind."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from nija.domain.change import Change
from nija.domain.errors import (
    SafetyRefusal,
    StorageNotWritable,
    StorageProblem,
    StorageUnavailable,
    UsageProblem,
)
from nija.domain.permission import Permission, decide
from nija.domain.records import Heartbeat, KillRecord, Snapshot, TradingRecord, Unreadable
from nija.domain.transitions import Who
from nija.store import codec
from nija.store.atomic import check_writable, describe_unwritable, fsync_directory, not_writable, write_atomic
from nija.store.changes import FileChangeFeed
from nija.store.lock import DEFAULT_TIMEOUT_S, exclusive
from nija.store.record_file import RecordUnreadable, read_record

STATE_FILE = ".nija_trading_state.json"
KILL_STATE_FILE = ".nija_kill_switch_state.json"
KILL_FILE = "EMERGENCY_STOP"
HEARTBEAT_FILE = ".nija_heartbeat.json"
LOCK_FILE = ".nija.lock"

R = TypeVar("R")

_KILLED = Permission(False, None, "KILL_SWITCH_ACTIVE", "the kill file EMERGENCY_STOP exists")


@dataclass(frozen=True, slots=True)
class _Raw:
    """Bytes read from a record file (None when the file is absent)."""

    data: bytes | None


class JsonFileStore:
    def __init__(self, data_dir: Path | str, *, lock_timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.data_dir = Path(data_dir)
        self.state_path = self.data_dir / STATE_FILE
        self.kill_state_path = self.data_dir / KILL_STATE_FILE
        self.kill_path = self.data_dir / KILL_FILE
        self.heartbeat_path = self.data_dir / HEARTBEAT_FILE
        self.lock_path = self.data_dir / LOCK_FILE
        self.lock_timeout_s = lock_timeout_s
        self._in_transaction = threading.local()

    @property
    def location(self) -> str:
        return str(self.data_dir.resolve())

    # -- reading -------------------------------------------------------------------
    def load(self) -> Snapshot:
        self._require_directory()
        state_raw, kill_raw = self._read(self.state_path), self._read(self.kill_state_path)
        return self._snapshot(state_raw, kill_raw)

    def _snapshot(self, state_raw: _Raw | Unreadable, kill_raw: _Raw | Unreadable) -> Snapshot:
        return Snapshot(
            trading=_decode(state_raw, self.state_path, codec.decode_trading, TradingRecord),
            kill=_decode(kill_raw, self.kill_state_path, codec.decode_kill, KillRecord),
            kill_flag=self._kill_flag_identity() is not None,
            heartbeat=self._heartbeat(),
            not_writable=self._not_writable(),
        )

    def _read(self, path: Path) -> _Raw | Unreadable:
        try:
            return _Raw(read_record(path))
        except RecordUnreadable as exc:
            return Unreadable(str(path), str(exc))

    def _kill_flag_identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.kill_path)
        except FileNotFoundError:
            return None
        except OSError:
            return (-1, -1)  # exists but cannot be inspected: still a kill
        return (st.st_ino, st.st_mtime_ns)

    def _heartbeat(self) -> Heartbeat | None:
        try:
            raw = read_record(self.heartbeat_path)
            return None if raw is None else codec.decode_heartbeat(raw)
        except (RecordUnreadable, codec.DecodeError):
            return None

    def _not_writable(self) -> tuple[str, ...]:
        paths = (self.state_path, self.kill_state_path)
        problems = {p for p in (describe_unwritable(path) for path in paths) if p}
        return tuple(sorted(problems))

    def _require_directory(self) -> None:
        if not self.data_dir.is_dir():
            raise StorageUnavailable(
                f"The data directory {self.data_dir} does not exist",
                "Pass --data-dir with the bot's data directory (or set NIJA_DATA_DIR), or create it",
            )

    # -- writing -------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[_FileTransaction]:
        self._require_directory()
        if getattr(self._in_transaction, "active", False):
            raise UsageProblem("Nested transactions on one store would deadlock", "Fix the caller")
        with exclusive(self.lock_path, self.lock_timeout_s):
            self._in_transaction.active = True
            try:
                self._remove_orphaned_temp_files()
                yield _FileTransaction(self)
            finally:
                self._in_transaction.active = False

    def raise_kill_flag(self, reason: str, who: Who, now: datetime) -> None:
        body = json.dumps(
            {
                "reason": reason,
                "actor": who.actor,
                "source": who.source,
                "timestamp": now.isoformat(),
                "pid": os.getpid(),
            }
        ).encode()
        try:
            fd = os.open(self.kill_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, body + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
            fsync_directory(self.data_dir)
        except OSError as exc:
            raise not_writable(self.kill_path, exc) from exc

    def permission_view(self) -> FilePermissionView:
        return FilePermissionView(self)

    def changes(self) -> FileChangeFeed:
        """Wakes on any change of the state, kill and heartbeat records and the kill file."""
        return FileChangeFeed(self.data_dir, (STATE_FILE, KILL_STATE_FILE, KILL_FILE, HEARTBEAT_FILE))

    def beat(self, heartbeat: Heartbeat) -> None:
        # Not fsynced: a heartbeat lost in a crash is simply an old heartbeat.
        write_atomic(self.heartbeat_path, codec.encode_heartbeat(heartbeat), durable=False)

    def _remove_orphaned_temp_files(self) -> None:
        """Temp files left by a writer that died mid-write (only writers hold the lock).

        A kill file grabbed by a deactivation that died is put back, never deleted: when
        in doubt, the kill stands (status then shows KILL_FILE_WITHOUT_RECORD)."""
        for pattern in (f"{STATE_FILE}.*.tmp", f"{KILL_STATE_FILE}.*.tmp"):
            for leftover in self.data_dir.glob(pattern):
                with suppress(OSError):
                    leftover.unlink()
        for grabbed in self.data_dir.glob(f".{KILL_FILE}.*.removing"):
            with suppress(OSError):
                _put_back(grabbed, self.kill_path)


class _FileTransaction:
    def __init__(self, store: JsonFileStore) -> None:
        self._store = store
        self._state_raw = store._read(store.state_path)
        self._kill_raw = store._read(store.kill_state_path)
        self._flag_identity = store._kill_flag_identity()
        self._snapshot = store._snapshot(self._state_raw, self._kill_raw)

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def commit(self, change: Change) -> None:
        """Write the state, then the kill record, and remove the kill file last: whatever
        point a failure or a crash stops at, some sign of the kill is still there."""
        store = self._store
        if change.clear_kill_flag:
            self._refuse_if_kill_flag_changed()
        written: list[str] = []
        try:
            if change.trading is not None:
                self._replace(store.state_path, self._snapshot.trading, codec.encode_trading(change.trading))
                written.append(store.state_path.name)
            if change.kill is not None:
                self._replace(store.kill_state_path, self._snapshot.kill, codec.encode_kill(change.kill))
                written.append(store.kill_state_path.name)
            if change.clear_kill_flag:
                self._clear_kill_flag()
        except StorageProblem as exc:
            if not written:
                raise
            raise type(exc)(
                f"{exc.message}. Partly written: {', '.join(written)} already changed; the kill "
                "switch stays active while EMERGENCY_STOP or an active record remains",
                exc.fix,
                code=exc.code,
            ) from exc

    def _replace(self, path: Path, seen: TradingRecord | KillRecord | Unreadable, data: bytes) -> None:
        if isinstance(seen, Unreadable):
            raw = self._state_raw if path == self._store.state_path else self._kill_raw
            self._back_up(path, raw)
        check_writable(path)
        write_atomic(path, data)

    def _back_up(self, path: Path, raw: _Raw | Unreadable) -> None:
        """Keep the bytes of an unreadable record before anything replaces them.

        What could not be read (a FIFO, a directory, a file too large or unreadable to
        us) is kept whole under the backup name instead: hard-linked (the entry itself,
        never followed), or for a directory moved aside. Nothing is opened, so nothing blocks."""
        backup = path.with_name(f"{path.name}.corrupt-{uuid.uuid4().hex[:8]}")
        if isinstance(raw, _Raw) and raw.data is not None:
            write_atomic(backup, raw.data)
            return
        try:
            try:
                os.link(path, backup, follow_symlinks=False)
            except OSError:
                if not path.is_dir() or path.is_symlink():
                    raise
                os.rename(path, backup)
            fsync_directory(self._store.data_dir)
        except FileNotFoundError:
            return  # gone since it was read: nothing left to keep
        except OSError as exc:
            raise StorageNotWritable(
                f"Cannot keep {path} as {backup.name} before replacing it: {exc.strerror}",
                f"Move {path} aside yourself (mv {path} {backup}), then try again",
            ) from exc

    def _refuse_if_kill_flag_changed(self) -> None:
        if self._store._kill_flag_identity() != self._flag_identity:
            raise _new_kill_refusal()

    def _clear_kill_flag(self) -> None:
        """Remove the kill file only if it is the one seen when the change was decided.

        Renaming grabs exactly one inode; a kill file touched or created after the
        snapshot is put back and the deactivation refused, so no kill is ever lost."""
        store = self._store
        grabbed = store.data_dir / f".{KILL_FILE}.{uuid.uuid4().hex}.removing"
        try:
            os.rename(store.kill_path, grabbed)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise not_writable(store.kill_path, exc) from exc
        st = os.stat(grabbed)
        if (st.st_ino, st.st_mtime_ns) != self._flag_identity:
            _put_back(grabbed, store.kill_path)
            raise _new_kill_refusal()
        os.unlink(grabbed)
        fsync_directory(store.data_dir)


def _new_kill_refusal() -> SafetyRefusal:
    return SafetyRefusal(
        "A new kill arrived while deactivating: the kill switch stays active",
        "Find out who activated it (emergency_kill_switch.py history) before trying again",
        code="KILL_RAISED_DURING_DEACTIVATION",
    )


def _put_back(grabbed: Path, kill_path: Path) -> None:
    """Return a grabbed kill file; if yet another appeared meanwhile, the kill stands anyway."""
    try:
        os.link(grabbed, kill_path)
    except FileExistsError:
        pass
    except OSError:
        if not kill_path.exists():
            os.rename(grabbed, kill_path)
            return
    os.unlink(grabbed)


def _decode(
    raw: _Raw | Unreadable, path: Path, decoder: Callable[[bytes], R], default: Callable[[], R]
) -> R | Unreadable:
    if isinstance(raw, Unreadable):
        return raw
    if raw.data is None:
        return default()
    try:
        return decoder(raw.data)
    except codec.DecodeError as exc:
        return Unreadable(str(path), str(exc))


_Signature = tuple[int, int, int] | None


class FilePermissionView:
    """Caches the decision and re-reads the records only when a file changed.

    Atomic replacement always creates a new inode, so (inode, mtime, size) of each
    record file changes on every write; the kill file is checked first and alone
    decides. Any error while deciding denies."""

    def __init__(self, store: JsonFileStore) -> None:
        self._store = store
        self._key: tuple[_Signature, _Signature] | None = None
        self._permission = Permission(False, None, "NOT_CHECKED", "not checked yet")

    def check(self) -> Permission:
        store = self._store
        try:
            try:
                os.stat(store.kill_path)
                return _KILLED
            except FileNotFoundError:
                pass
            key = (_signature(store.state_path), _signature(store.kill_state_path))
            if key != self._key:
                self._permission = decide(store.load())
                self._key = key
            return self._permission
        except Exception as exc:  # noqa: BLE001 - the gate fails closed on anything
            self._key = None
            return Permission(False, None, "CHECK_FAILED", f"the permission check failed: {exc}")


def _signature(path: Path) -> _Signature:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)
