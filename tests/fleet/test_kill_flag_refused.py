"""A kill the fleet database refuses (a read-only failover) still ends in the kill path's
truth: the running bots are told directly and the error says where the kill holds, whether
the store's own idle connection or the kill's own carried the attempt."""

from __future__ import annotations

from datetime import datetime

import psycopg
import pytest
from psycopg import sql

from nija.domain.errors import KillNotOnDisk
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.postgres import PostgresStore
from nija.store.postgres.testing import admin_dsn


def _read_only(url: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        statement = sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = on")
        conn.execute(statement.format(sql.Identifier(str(name))))


@pytest.mark.parametrize("idle_connection_open", [True, False])
def test_a_refused_kill_flag_tells_the_bots_directly_and_says_so(fleet_url: str, idle_connection_open: bool) -> None:
    _read_only(fleet_url)
    store = PostgresStore(fleet_url, bot="b1")
    told: list[str] = []

    def messenger(reason: str, who: Who, now: datetime) -> tuple[int, ...]:
        told.append(reason)
        return (4242,)

    service = SafetyService(store, messenger=messenger)
    try:
        if idle_connection_open:
            store.load()  # a control center or an API: its connection is open and idle
        with pytest.raises(KillNotOnDisk, match="4242"):
            service.activate_kill("operator kill", Who("op", "CLI"))
        assert told == ["operator kill"]
    finally:
        store.close()
