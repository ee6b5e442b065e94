"""Versioned SQL migrations (``migrations/NNNN_name.sql``), applied by ``nija db upgrade``.

Every other command checks the version first and refuses a database older (or newer)
than the code, so a half-upgraded fleet never runs on a schema it does not understand."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import psycopg

from nija.domain.codes import ErrorCode
from nija.domain.errors import StorageProblem

MIGRATIONS_TABLE = "nija_schema_migrations"


class SchemaOutdated(StorageProblem):
    code = ErrorCode.SCHEMA_OUTDATED


class SchemaTooNew(StorageProblem):
    code = ErrorCode.SCHEMA_TOO_NEW


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> tuple[Migration, ...]:
    found = []
    for entry in resources.files(__package__).joinpath("migrations").iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append(Migration(int(number), rest.removesuffix(".sql"), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..N without gaps: {[m.version for m in found]}")
    return tuple(found)


CODE_VERSION = len(migrations())


def current_version(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (MIGRATIONS_TABLE,)).fetchone()
    if row is None or not row[0]:
        return 0
    got = conn.execute(f"SELECT coalesce(max(version), 0) FROM {MIGRATIONS_TABLE}").fetchone()  # noqa: S608 - constant
    return int(got[0]) if got else 0  # type: ignore[call-overload]


def require_current(conn: psycopg.Connection[tuple[object, ...]], where: str) -> None:
    version = current_version(conn)
    if version < CODE_VERSION:
        raise SchemaOutdated(
            f"The database {where} has NIJA schema version {version}, older than this NIJA (version "
            f"{CODE_VERSION}); nothing was read or written",
            f"Run 'nija db upgrade --store {where}' (back up the database first)",
        )
    if version > CODE_VERSION:
        raise SchemaTooNew(
            f"The database {where} has NIJA schema version {version}, newer than this NIJA understands "
            f"(version {CODE_VERSION}); nothing was read or written",
            "Upgrade NIJA on this host to the version the rest of the fleet runs",
        )


def upgrade(conn: psycopg.Connection[tuple[object, ...]]) -> list[Migration]:
    """Apply the missing migrations in one transaction (all or nothing); returns those applied.

    An advisory lock serialises concurrent upgrades from several hosts."""
    applied = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('nija_schema_upgrade'))")
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
            "(version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        version = current_version(conn)
        if version > CODE_VERSION:
            require_current(conn, "")
        for migration in migrations():
            if migration.version <= version:
                continue
            conn.execute(migration.sql.encode())
            conn.execute(
                f"INSERT INTO {MIGRATIONS_TABLE} (version, name) VALUES (%s, %s)",  # noqa: S608 - constant
                (migration.version, migration.name),
            )
            applied.append(migration)
    return applied
