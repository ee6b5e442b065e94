"""API tokens: made by ``nija token create``, shown once, stored only as a SHA-256 hash.

The token file ``.nija_api_tokens.json`` in the data directory is written atomically
with mode 600. Tokens are 256 random bits, so a plain SHA-256 (not a slow password hash)
is enough: nobody can guess a preimage, and verifying stays cheap on every request."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from nija.domain.codes import ErrorCode
from nija.domain.errors import StorageCorrupt, UsageProblem
from nija.store import strict_json
from nija.store.atomic import write_atomic
from nija.store.lock import exclusive
from nija.store.record_file import RecordUnreadable, read_record

TOKENS_FILE = ".nija_api_tokens.json"
TOKENS_LOCK = ".nija_api_tokens.lock"
PREFIX = "nija_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    def at_least(self, other: Role) -> bool:
        order = (Role.VIEWER, Role.OPERATOR, Role.ADMIN)
        return order.index(self) >= order.index(other)


@dataclass(frozen=True, slots=True)
class TokenRecord:
    name: str
    role: Role
    hash: str
    created_at: str
    created_by: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenFile:
    """The token records of one data directory; re-read when the file changes on disk, so a
    ``nija token revoke`` in another process takes effect on the next request."""

    def __init__(self, data_dir: Path, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.path = data_dir / TOKENS_FILE
        self.lock_path = data_dir / TOKENS_LOCK
        self.clock = clock
        self._signature: tuple[int, int, int] | None = None
        self._records: tuple[TokenRecord, ...] = ()

    # -- reading -------------------------------------------------------------------
    def records(self) -> tuple[TokenRecord, ...]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._signature, self._records = None, ()
            return ()
        # The mode is checked on every load, not only when the content changed: a chmod
        # changes neither inode, mtime nor size, and must still stop the tokens at once.
        self._refuse_if_exposed(st.st_mode)
        signature = (st.st_ino, st.st_mtime_ns, st.st_size)
        if signature != self._signature:
            self._records = self._read()
            self._signature = signature
        return self._records

    def verify(self, token: str) -> TokenRecord | None:
        """The active record whose hash matches ``token`` (compared in constant time)."""
        digest = hash_token(token)
        found = None
        for record in self.records():
            if hmac.compare_digest(record.hash, digest) and record.active:
                found = record
        return found

    def _refuse_if_exposed(self, mode: int) -> None:
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            self._signature = None  # read afresh once the mode is fixed
            raise StorageCorrupt(
                f"The token file {self.path} is open to other users (mode {stat.filemode(mode)}); "
                "every token is refused until it is private again",
                f"Run: chmod 600 {self.path} (and, if others may have read it, revoke and re-create the tokens)",
                code=ErrorCode.TOKEN_FILE_MODE,
            )

    def _read(self) -> tuple[TokenRecord, ...]:
        try:
            # Strict and non-blocking like every record: one role per token, no FIFO hangs.
            doc = strict_json.loads(read_record(self.path) or b"")
            return tuple(TokenRecord(**{**item, "role": Role(item["role"])}) for item in doc["tokens"])
        except (OSError, ValueError, KeyError, TypeError, RecordUnreadable) as exc:
            raise StorageCorrupt(
                f"Cannot read the token file {self.path}: {exc}",
                "Restore it from a backup, or move it away and create new tokens with 'nija token create'",
                code=ErrorCode.TOKEN_FILE_CORRUPT,
            ) from exc

    # -- changing ------------------------------------------------------------------
    def create(self, name: str, role: Role, created_by: str) -> tuple[str, TokenRecord]:
        """Make a token; return it (to show once) and its record (which holds only the hash)."""
        if not _NAME.fullmatch(name):  # match() lets a trailing newline through
            raise UsageProblem(
                f"Invalid token name {name!r}",
                "Use 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit",
            )
        token = PREFIX + secrets.token_urlsafe(32)
        record = TokenRecord(name, role, hash_token(token), self.clock().isoformat(), created_by)
        with exclusive(self.lock_path):
            current = self._fresh()
            if any(r.name == name and r.active for r in current):
                raise UsageProblem(
                    f"A token named {name!r} already exists",
                    f"Revoke it first ('nija token revoke {name}') or pick another name",
                )
            self._write((*current, record))
        return token, record

    def revoke(self, name: str) -> TokenRecord:
        with exclusive(self.lock_path):
            current = self._fresh()
            match = [r for r in current if r.name == name and r.active]
            if not match:
                raise UsageProblem(f"No active token named {name!r}", "See the names with 'nija token list'")
            revoked = replace(match[0], revoked_at=self.clock().isoformat())
            self._write(tuple(revoked if r is match[0] else r for r in current))
        return revoked

    def _fresh(self) -> tuple[TokenRecord, ...]:
        self._signature = None
        return self.records()

    def _write(self, records: tuple[TokenRecord, ...]) -> None:
        doc = {"version": 1, "tokens": [asdict(r) for r in records]}
        # A new inode created with mode 600 (the umask can only narrow it) replaces the old file.
        write_atomic(self.path, json.dumps(doc, indent=2).encode(), mode=0o600)
        self._signature = None
