"""The PostgreSQL fleet store: many bots, one database, one fleet kill switch.

``PostgresStore(url, bot=None)`` is the fleet's scope; ``bot="name"`` one bot's."""

from __future__ import annotations

from nija.store.postgres.rows import FLEET
from nija.store.postgres.schema import CODE_VERSION, SchemaOutdated, SchemaTooNew, upgrade
from nija.store.postgres.store import PostgresStore
from nija.store.postgres.transaction import PostgresTransaction
from nija.store.postgres.view import PostgresPermissionView

__all__ = [
    "CODE_VERSION",
    "FLEET",
    "PostgresPermissionView",
    "PostgresStore",
    "PostgresTransaction",
    "SchemaOutdated",
    "SchemaTooNew",
    "upgrade",
]
