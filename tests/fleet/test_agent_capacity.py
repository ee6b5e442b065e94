"""A fleet starting all at once: a bot served by its host's agent opens a connection of its
own for its start-up transaction; while the server has no free slot it waits for one
(jittered retries) instead of refusing the run, and says so when it gives up."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from nija.domain.errors import StorageUnavailable
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.agent import AgentStore
from nija.store.postgres.testing import admin_dsn

WHO = Who("ops@host", "test")


@pytest.fixture
def bot_url(fleet_url: str) -> Iterator[str]:
    """The fleet database as a bot's role (not a superuser: connection limits hold for it)."""
    role = f"nija_bot_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN CONNECTION LIMIT 2").format(sql.Identifier(role)))
        admin.execute(sql.SQL("GRANT pg_read_all_data, pg_write_all_data TO {}").format(sql.Identifier(role)))
    params = psycopg.conninfo.conninfo_to_dict(fleet_url)
    params["user"] = role
    yield psycopg.conninfo.make_conninfo(**params)  # type: ignore[arg-type]
    with psycopg.connect(admin_dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture
def full_database(bot_url: str) -> Iterator[list[psycopg.Connection[tuple[object, ...]]]]:
    """Every slot of the bot's role taken (a limit of 2, both held)."""
    held = [psycopg.connect(bot_url, autocommit=True) for _ in range(2)]
    yield held
    for conn in held:
        conn.close()


def test_a_bot_waits_for_a_free_slot_instead_of_refusing_its_start(
    bot_url: str, tmp_path: Path, full_database: list[psycopg.Connection[tuple[object, ...]]]
) -> None:
    store = AgentStore(bot_url, bot="b1", socket_path=tmp_path / "agent.sock")

    class FreeASlotWhenRefused(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "waiting" in record.getMessage() and full_database:
                threading.Thread(target=full_database.pop().close).start()  # only once it was refused

    handler = FreeASlotWhenRefused()
    logging.getLogger("nija.store.agent").addHandler(handler)
    try:
        outcome = SafetyService(store).restore(WHO)  # the start-up transaction: it had to wait
    finally:
        logging.getLogger("nija.store.agent").removeHandler(handler)
        store.close()
    assert outcome.after == "DRY_RUN"
    assert len(full_database) == 1  # a slot was freed because the bot was refused, then it got in


def test_a_database_that_stays_full_is_refused_with_the_fix(
    bot_url: str, tmp_path: Path, full_database: list[psycopg.Connection[tuple[object, ...]]]
) -> None:
    store = AgentStore(bot_url, bot="b1", socket_path=tmp_path / "agent.sock", capacity_wait_s=0.3)
    try:
        with pytest.raises(StorageUnavailable, match="no free connection") as refused:
            SafetyService(store).restore(WHO)
    finally:
        store.close()
    assert "max_connections" in refused.value.fix
