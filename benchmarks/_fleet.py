"""What the fleet benchmarks read from PostgreSQL's own statistics."""

from __future__ import annotations

from nija.store.postgres.connect import connect
from nija.store.postgres.testing import admin_dsn


def commits(dbname: str) -> int:
    """Transactions committed in ``dbname`` so far (pg_stat_database.xact_commit)."""
    with connect(admin_dsn()) as admin:
        row = admin.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (dbname,)).fetchone()
    assert row is not None
    return int(row[0])  # type: ignore[call-overload]
