"""Connecting to the fleet database, with errors that name the problem and the fix."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from nija.domain.errors import NijaError, StorageProblem, StorageUnavailable
from nija.store.selection import mask_url, redact

Conn = psycopg.Connection[tuple[object, ...]]

CONNECT_TIMEOUT_S = 5


def mask(url: str) -> str:
    """The URL without its secrets (see ``mask_url``), for messages and ``location``."""
    return mask_url(url)


def connect(url: str, *, application_name: str = "nija") -> Conn:
    """An autocommit connection; ``application_name`` shows in pg_stat_activity."""
    try:
        return psycopg.connect(
            url,
            autocommit=True,
            application_name=application_name,
            connect_timeout=CONNECT_TIMEOUT_S,
            # A peer that vanished without closing the socket is noticed within seconds.
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=2,
            keepalives_count=2,
        )
    except psycopg.Error as exc:
        raise StorageUnavailable(
            f"Cannot connect to the fleet database {mask(url)}: {redact(_first_line(exc), url)}",
            "Check that PostgreSQL is running and that --store / NIJA_STORE names an existing database "
            "(then run 'nija db upgrade --store URL' once)",
        ) from exc


def server_full(exc: BaseException) -> bool:
    """The server (or the database) refused a connection for want of a free slot (SQLSTATE
    53300): transient by nature, unlike a wrong address or a missing database."""
    cause = exc.__cause__ if isinstance(exc, StorageUnavailable) else exc
    if not isinstance(cause, psycopg.Error):
        return False
    text = str(cause)
    return cause.sqlstate == "53300" or "too many clients" in text or "too many connections" in text


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turn driver errors into StorageProblem (exit 4); our own errors pass through."""
    try:
        yield
    except NijaError:
        raise
    except psycopg.OperationalError as exc:
        raise StorageUnavailable(
            f"Lost the fleet database {mask(url)}: {redact(_first_line(exc), url)}; nothing more was written",
            "Check the database server and the network, then run the command again",
        ) from exc
    except psycopg.Error as exc:
        raise StorageProblem(
            f"The fleet database {mask(url)} refused the operation: {redact(_first_line(exc), url)}; "
            "nothing was written",
            "Run 'nija db upgrade --store URL' if the schema is old, else report this error",
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
