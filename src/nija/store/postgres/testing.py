"""A throw-away fleet database for tests and benchmarks: created with a unique name,
upgraded to the current schema, and dropped afterwards (with its connections)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

from psycopg import sql

from nija.store.postgres.connect import connect
from nija.store.postgres.schema import upgrade

DEFAULT_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def admin_dsn() -> str:
    """NIJA_TEST_PG_DSN: a database on the server where the user may create databases."""
    return os.environ.get("NIJA_TEST_PG_DSN") or DEFAULT_ADMIN_DSN


def with_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


@contextmanager
def temporary_database(dsn: str | None = None, *, upgraded: bool = True, prefix: str = "nija_test") -> Iterator[str]:
    """Yield the URL of a fresh database; drop it on exit."""
    admin = dsn or admin_dsn()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with connect(admin) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(admin, name)
    try:
        if upgraded:
            with connect(url) as conn:
                upgrade(conn)
        yield url
    finally:
        with connect(admin) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
