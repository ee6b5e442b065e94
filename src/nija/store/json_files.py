"""The embedded default store: the guide's JSON files and the kill file in a data directory.

    .nija_trading_state.json      trading state machine (guide format)
    .nija_kill_switch_state.json  kill switch record (guide format)
    EMERGENCY_STOP                the kill file: its existence alone means "killed"
    .nija_heartbeat.json          the running bot's heartbeat
    .nija.lock                    the cross-process lock for read-modify-write

Write order keeps every crash point safe: the kill file is raised before anything
else. A deactivation first grabs the kill file it saw (renamed to .EMERGENCY_STOP.removing,
which readers still count as a kill), refusing before anything is written if it is not
the one the operator saw; then it writes the records and deletes the grabbed file last.
A crash in between leaves the grabbed file, which the next writer puts back."""

from __future__ import annotations

import errno
import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from nija.domain.change import Change
from nija.domain.errors import (
    KillRaisedDuringDeactivation,
    StorageNotWritable,
    StorageProblem,
    StorageUnavailable,
    UsageProblem,
)
from nija.domain.live_auth import LiveVerifier
from nija.domain.permission import Permission, decide
from nija.domain.records import Heartbeat, KillFlag, KillRecord, Snapshot, TradingRecord, Unreadable
from nija.domain.states import Mode
from nija.domain.transitions import Who
from nija.store import codec, kill_file
from nija.store.atomic import check_writable, describe_unwritable, fsync_directory, not_writable, write_atomic
from nija.store.kill_file import KILL_FILE, REMOVING

__all__ = ["HEARTBEAT_FILE", "KILL_FILE", "KILL_STATE_FILE", "LOCK_FILE", "STATE_FILE", "JsonFileStore"]
from nija.store.changes import FileChangeFeed
from nija.store.lock import DEFAULT_TIMEOUT_S, exclusive
from nija.store.record_file import RecordUnreadable, read_record

STATE_FILE = ".nija_trading_state.json"
KILL_STATE_FILE = ".nija_kill_switch_state.json"
HEARTBEAT_FILE = ".nija_heartbeat.json"
LOCK_FILE = ".nija.lock"

R = TypeVar("R")

_KILLED = kill_file.KILLED


class _Raw:
    """Bytes read from a record file (None when the file is absent). Plain classes for the
    private helpers: on Python 3.11 each dataclass costs every command ~1 ms to create."""

    __slots__ = ("data",)

    def __init__(self, data: bytes | None) -> None:
        self.data = data


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
        # The kill file is checked before the records are read as well as after: a
        # deactivation removes it last, so records read after an absent kill file are new.
        flagged_before = kill_file.exists(self.data_dir)
        state_raw, kill_raw = self._read(self.state_path), self._read(self.kill_state_path)
        return self._snapshot(state_raw, kill_raw, kill_file.inspect(self.data_dir, settle=True), flagged_before)

    def _snapshot(
        self, state_raw: _Raw | Unreadable, kill_raw: _Raw | Unreadable, flag: KillFlag | None, flagged: bool = False
    ) -> Snapshot:
        return Snapshot(
            trading=_decode(state_raw, self.state_path, codec.decode_trading, TradingRecord),
            kill=_decode(kill_raw, self.kill_state_path, codec.decode_kill, KillRecord),
            kill_flag=flag is not None or flagged,
            flag=flag,
            heartbeat=self._heartbeat(),
            not_writable=self._not_writable(),
        )

    def _read(self, path: Path) -> _Raw | Unreadable:
        try:
            return _Raw(read_record(path))
        except RecordUnreadable as exc:
            return Unreadable(str(path), str(exc))

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
    def transaction(self, *, timeout_s: float | None = None) -> Iterator[_FileTransaction]:
        self._require_directory()
        if getattr(self._in_transaction, "active", False):
            raise UsageProblem("Nested transactions on one store would deadlock", "Fix the caller")
        with exclusive(self.lock_path, self.lock_timeout_s if timeout_s is None else timeout_s):
            self._in_transaction.active = True
            try:
                self._remove_orphaned_temp_files()
                yield _FileTransaction(self)
            finally:
                self._in_transaction.active = False

    def raise_kill_flag(self, reason: str, who: Who, now: datetime) -> None:
        """Create EMERGENCY_STOP with its cause; one that exists already is left as it is
        (it is a kill already, and its cause comes first). Raises KillFileNotWritten."""
        kill_file.raise_file(self.data_dir, reason, who, now)

    def permission_view(self, verifier: LiveVerifier | None = None) -> FilePermissionView:
        return FilePermissionView(self, verifier)

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
        # One listing matched by hand: a glob compiles a pattern per call, on every change.
        try:
            names = os.listdir(self.data_dir)
        except OSError:
            names = []
        for name in names:
            if _matches(name, f"{STATE_FILE}.", ".tmp") or _matches(name, f"{KILL_STATE_FILE}.", ".tmp"):
                with suppress(OSError):
                    (self.data_dir / name).unlink()
        grabbed = [self.data_dir / n for n in names if _matches(n, f".{KILL_FILE}.", ".removing")]
        for path in (*grabbed, self.data_dir / REMOVING):
            if os.path.lexists(path):
                with suppress(OSError):
                    kill_file.put_back(path, self.kill_path)


def _matches(name: str, prefix: str, suffix: str) -> bool:
    """``prefix*suffix`` as a glob reads it (the two never overlap)."""
    return len(name) >= len(prefix) + len(suffix) and name.startswith(prefix) and name.endswith(suffix)


class _FileTransaction:
    def __init__(self, store: JsonFileStore) -> None:
        self._store = store
        flagged_before = kill_file.exists(store.data_dir)
        self._state_raw = store._read(store.state_path)
        self._kill_raw = store._read(store.kill_state_path)
        self._flag = kill_file.inspect(store.data_dir, settle=True)
        self._snapshot = store._snapshot(self._state_raw, self._kill_raw, self._flag, flagged_before)

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def commit(self, change: Change) -> None:
        """Grab the kill file first (refusing, with nothing written, if it is not the one
        seen), then write the state and the kill record, and delete the grabbed file last:
        whatever point a failure or a crash stops at, some sign of the kill is still there."""
        store = self._store
        lifting = change.kill is not None and not change.kill.is_active
        if lifting and not change.clear_kill_flag and self._flag is None and kill_file.exists(store.data_dir):
            raise KillRaisedDuringDeactivation()  # a kill file raised after the snapshot must not be lifted unseen
        grabbed = self._grab_kill_flag() if change.clear_kill_flag else None
        try:
            self._write(change, grabbed)
            if grabbed is not None:
                self._remove(grabbed)
        finally:
            if grabbed is not None:
                grabbed.close()

    def _write(self, change: Change, grabbed: _Grabbed | None) -> None:
        store = self._store
        written: list[Path] = []
        try:
            if change.trading is not None:
                self._replace(store.state_path, self._snapshot.trading, codec.encode_trading(change.trading))
                written.append(store.state_path)
            if change.kill is not None:
                self._replace(store.kill_state_path, self._snapshot.kill, codec.encode_kill(change.kill))
                written.append(store.kill_state_path)
        except StorageProblem as exc:
            if grabbed is not None:
                kill_file.put_back(grabbed.path, store.kill_path)
            if not written:
                raise
            raise type(exc)(
                f"{exc.message}. Partly written: {', '.join(p.name for p in written)} already changed; the kill "
                "switch stays active while EMERGENCY_STOP or an active record remains",
                exc.fix,
                code=exc.code,
            ) from exc
        if grabbed is not None and grabbed.touched():
            # `touch` opened the kill file before we took it and set its time after we
            # compared it: a new kill. Put the records back as they were, and refuse.
            self._undo(written)
            kill_file.put_back(grabbed.path, store.kill_path)
            raise KillRaisedDuringDeactivation()

    def _remove(self, grabbed: _Grabbed) -> None:
        store = self._store
        try:
            os.unlink(grabbed.path)
            fsync_directory(store.data_dir)
        except OSError as exc:
            raise not_writable(grabbed.path, exc) from exc
        if grabbed.touched():
            # Touched in the last instant, as it was deleted: that kill stands, as a new kill file.
            with suppress(StorageProblem):
                kill_file.raise_file(
                    store.data_dir,
                    "Kill file EMERGENCY_STOP touched while a deactivation removed it",
                    Who("nija", "kill-file"),
                    datetime.now(UTC),
                )

    def _undo(self, written: list[Path]) -> None:
        """Put back the bytes read under this lock (an unreadable record's are in its backup)."""
        for path in written:
            raw = self._state_raw if path == self._store.state_path else self._kill_raw
            if not isinstance(raw, _Raw):
                continue
            if raw.data is None:
                with suppress(OSError):
                    path.unlink()
            else:
                write_atomic(path, raw.data)

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
        backup = path.with_name(f"{path.name}.corrupt-{os.urandom(4).hex()}")
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

    def _grab_kill_flag(self) -> _Grabbed | None:
        """Take exactly the kill file seen when the change was decided, before any write.

        Renaming grabs one inode; a kill file touched, replaced or created after the
        snapshot is put back and the deactivation refused: nothing has been written yet.
        The grabbed inode stays open, so a touch that lands on it later is noticed too."""
        store = self._store
        seen = self._flag
        now = kill_file.inspect(store.data_dir)
        if now is None and seen is None:
            return None
        if now is None or seen is None or now.identity != seen.identity or not now.removable:
            raise KillRaisedDuringDeactivation()
        path = store.data_dir / REMOVING
        try:
            os.rename(store.kill_path, path)
        except FileNotFoundError:
            raise KillRaisedDuringDeactivation() from None  # gone under us: someone else's doing, look again
        except OSError as exc:
            raise not_writable(store.kill_path, exc) from exc
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            kill_file.put_back(path, store.kill_path)
            raise KillRaisedDuringDeactivation() from None
        grabbed = _Grabbed(path, fd, seen.identity)
        if grabbed.touched() or _open_for_writing(fd):
            grabbed.close()
            kill_file.put_back(path, store.kill_path)
            raise KillRaisedDuringDeactivation()
        return grabbed


def _open_for_writing(fd: int) -> bool:
    """Whether some process still holds the grabbed kill file open for writing: a `touch`
    that opened it before the grab and has not set its time yet, which would otherwise
    land on the deleted file, unseen. Linux refuses a read lease exactly then. Where
    leases cannot be taken (a file of another owner, NFS), the time checks alone decide."""
    try:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    except OSError as exc:
        return exc.errno == errno.EAGAIN
    with suppress(OSError):
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
    return False


class _Grabbed:
    """The kill file a deactivation took, held open until it is gone."""

    __slots__ = ("fd", "identity", "path")

    def __init__(self, path: Path, fd: int, identity: str) -> None:
        self.path = path
        self.fd = fd
        self.identity = identity

    def touched(self) -> bool:
        return kill_file.identity(os.fstat(self.fd)) != self.identity

    def close(self) -> None:
        with suppress(OSError):
            os.close(self.fd)


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

    def __init__(self, store: JsonFileStore, verifier: LiveVerifier | None = None) -> None:
        self._store = store
        self._verifier = verifier
        self._key: tuple[_Signature, _Signature, _Signature, int] | None = None
        self._permission = Permission(False, None, "NOT_CHECKED", "not checked yet")

    def check(self) -> Permission:
        if self._verifier is None:
            return self._check(None)
        with self._verifier.reading:
            return self._check(self._verifier)

    def _check(self, verifier: LiveVerifier | None) -> Permission:
        store = self._store
        try:
            if kill_file.exists(store.data_dir):  # any entry by that name, lstat: a kill
                if verifier is not None:
                    verifier.interrupt()
                return _KILLED
            generation = verifier.generation if verifier is not None else 0
            # A reader's live answer rests on the bot's heartbeat, which grows old unwritten
            # when that bot crashes: while it is live, it is decided on every check.
            beat = _signature(store.heartbeat_path) if verifier is None else None
            key = (_signature(store.state_path), _signature(store.kill_state_path), beat, generation)
            if key != self._key or (verifier is None and self._permission.mode is Mode.LIVE):
                now = datetime.now(UTC) if verifier is None else None
                self._permission = decide(store.load(), verifier, now=now)
                # Keyed on the generation after deciding: deciding may itself change it.
                self._key = (*key[:3], verifier.generation if verifier is not None else 0)
            return self._permission
        except Exception as exc:  # noqa: BLE001 - the gate fails closed on anything
            self._key = None
            if verifier is not None:
                verifier.interrupt()
            return Permission(False, None, "CHECK_FAILED", f"the permission check failed: {exc}")


def _signature(path: Path) -> _Signature:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)
