"""A data directory's instance identity: which bot "mine" means on an exchange account.

What a bot owns there (the client ids it placed, the positions its fills opened, the guard's
client-id prefix) is keyed on a random id created once in the directory
(``.nija_instance.json``). The file's contents travel with any copy, so it also records
what a copy cannot carry: the inode of the directory and the file's own inode, and their
generation numbers where the file system has them (ext4, XFS, btrfs: a new one whenever an
inode number is reused, so deleting the directory and restoring it in place, which may get
the very same inode numbers back, is still told apart). ``cp -r``,
``cp -a``, rsync, a tar or backup restore and a move to another file system create new
inodes; a restart, a reboot, a container restart on the same volume and ``mv`` on one
file system keep them. When they do not match, the directory is a copy (or restored): it
gets a new id, and whatever was recorded under the old one is foreign until the operator
adopts it (``nija adopt-orders``). Orphaning one's own orders after a restore, loudly, is
the safe side; taking another bot's orders is not.

Not detectable (documented in docs/exchange.md): a block-level clone (a volume snapshot,
``dd``, a cloned VM image) keeps every inode."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import struct
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from nija.domain.errors import StorageCorrupt
from nija.store.atomic import fsync_directory, not_writable, temp_name

INSTANCE_FILE = ".nija_instance.json"
_FS_IOC_GETVERSION = 0x80087601  # _IOR('v', 1, long): the inode's generation (what NFS handles carry)


class InstanceCode(StrEnum):
    DIRECTORY_COPIED = "DIRECTORY_COPIED"  # the identity was written in another directory: a new one was made
    FOREIGN_OWNED_RECORDS = "FOREIGN_OWNED_RECORDS"  # orders/positions recorded by another instance: left alone


@dataclass(frozen=True, slots=True)
class Instance:
    id: str
    # The id the file carried when this directory turned out to be a copy (it then got ``id``).
    replaced: str | None = None
    # Ids the operator declared this directory's own (``nija adopt-orders``): moved or restored.
    adopted: tuple[str, ...] = ()
    # The ids the replaced one had adopted: a copy of a copy hands over what it owned.
    inherited: tuple[str, ...] = ()
    # This very call found the copy and made the new id (not stored: said once, at that start).
    copied_now: bool = field(default=False, compare=False)

    def owns(self, instance_id: str) -> bool:
        return instance_id == self.id or instance_id in self.adopted

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.id, *self.adopted)


def copied_notice(instance: Instance, directory: Path) -> str:
    return (
        f"{directory} is a copy or a restore of another bot's data directory (its identity was written "
        f"elsewhere): it is now instance {instance.id}; orders and positions of instance {instance.replaced} "
        "are not this bot's and are left alone. If this really is that bot's directory, moved or restored, "
        f"stop the bot and run: nija adopt-orders --data-dir {directory}"
    )


def instance_of(directory: Path) -> Instance:
    """This directory's identity, created on first use; a new one when the file was copied here.
    Serialised by an flock on the directory itself: two processes never make two ids."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        found = _read(directory)
        if found is not None and found[1]:
            return found[0]
        if found is None:
            return _write(directory, Instance(_new_id()))
        before = found[0]
        # What the source owned (its own id, and what its operator adopted), never what it
        # only could have adopted: a copy run as a bot of its own never owned its source.
        return _write(directory, Instance(_new_id(), before.id, inherited=before.adopted, copied_now=True))
    finally:
        os.close(fd)  # releases the flock


def adopt_replaced(directory: Path) -> Instance:
    """The operator's word that this directory is the one that wrote the id it replaced."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        found = _read(directory)
        if found is None or not found[1]:
            raise RuntimeError("instance_of() first")
        instance = found[0]
        chain = () if instance.replaced is None else (instance.replaced, *instance.inherited)
        adopted = tuple(dict.fromkeys((*instance.adopted, *chain)))
        if adopted == instance.adopted:
            return instance
        return _write(directory, Instance(instance.id, instance.replaced, adopted, instance.inherited))
    finally:
        os.close(fd)


def _new_id() -> str:
    return secrets.token_hex(16)


def _read(directory: Path) -> tuple[Instance, bool] | None:
    """The recorded identity and whether this directory is where it was written."""
    path = directory / INSTANCE_FILE
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
            file_inode = os.fstat(handle.fileno()).st_ino
            file_generation = _generation(handle.fileno())
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _corrupt(path, exc.strerror or str(exc)) from exc
    try:
        doc = json.loads(raw)
        instance = Instance(
            str(doc["id"]),
            str(doc["replaced"]) if doc.get("replaced") else None,
            tuple(str(i) for i in doc.get("adopted", ())),
            tuple(str(i) for i in doc.get("inherited", ())),
        )
        here = _vouching(doc) == _vouched(directory, file_inode, file_generation)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _corrupt(path, str(exc)) from exc
    return instance, here


def _write(directory: Path, instance: Instance) -> Instance:
    """Atomically (temp file, fsync, rename): the file names its own inode, known only once
    the temp file exists, and a rename keeps it."""
    path = directory / INSTANCE_FILE
    tmp = temp_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            doc = {
                "version": 1,
                "id": instance.id,
                "replaced": instance.replaced,
                "adopted": list(instance.adopted),
                "inherited": list(instance.inherited),
                **_vouched(directory, os.fstat(fd).st_ino, _generation(fd)),
            }
            view = memoryview(json.dumps(doc, indent=1).encode())
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_directory(directory)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise not_writable(path, exc) from exc
    return instance


def _vouched(directory: Path, file_inode: int, file_generation: int | None) -> dict[str, int | None]:
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return {
            "directory_inode": os.fstat(dir_fd).st_ino,
            "directory_generation": _generation(dir_fd),
            "file_inode": file_inode,
            "file_generation": file_generation,
        }
    finally:
        os.close(dir_fd)


def _vouching(doc: dict[str, object]) -> dict[str, object]:
    keys = ("directory_inode", "directory_generation", "file_inode", "file_generation")
    return {key: doc[key] for key in keys}


def _generation(fd: int) -> int | None:
    """None where the file system keeps none (tmpfs, overlay, NFS...): the inodes alone decide."""
    try:
        return int(struct.unpack("l", fcntl.ioctl(fd, _FS_IOC_GETVERSION, b"\0" * 8))[0])
    except OSError:
        return None


def _corrupt(path: Path, detail: str) -> StorageCorrupt:
    return StorageCorrupt(
        f"The data directory's identity {path} cannot be read ({detail}); the bot touches nothing it "
        "placed on the exchange until it can",
        f"Restore {path.name} from a backup, or move it away (the directory then gets a new identity: "
        "orders and positions recorded under the old one are left alone until `nija adopt-orders`)",
    )
