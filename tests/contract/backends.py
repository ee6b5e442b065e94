"""The store backends of the contract suite: fresh records, a second handle onto the
same records (as another process would open), and a hand edit of the stored state."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest

from nija.domain.records import TradingRecord, Unreadable
from nija.domain.states import parse_state
from nija.store.json_files import STATE_FILE, JsonFileStore
from nija.store.memory import MemoryStore
from nija.store.ports import Store


@dataclass
class Backend:
    name: str
    make: Callable[[], Store]
    another: Callable[[Store], Store]
    tamper_state: Callable[[Store, str], None]


def memory() -> Backend:
    def tamper(store: Store, state: str) -> None:
        assert isinstance(store, MemoryStore)
        snap = store.load()
        try:
            trading: TradingRecord | Unreadable = replace(TradingRecord(), current_state=parse_state(state))
        except ValueError as exc:
            trading = Unreadable("memory", str(exc))
        store._snapshot = replace(snap, trading=trading)

    return Backend("memory", MemoryStore, lambda store: store, tamper)


def files(tmp_path_factory: pytest.TempPathFactory) -> Backend:
    def make() -> Store:
        return JsonFileStore(tmp_path_factory.mktemp("data"))

    def another(store: Store) -> Store:
        assert isinstance(store, JsonFileStore)
        return JsonFileStore(store.data_dir)

    def tamper(store: Store, state: str) -> None:
        assert isinstance(store, JsonFileStore)
        doc: dict[str, object] = {"current_state": state, "history": [], "last_updated": None}
        (store.data_dir / STATE_FILE).write_text(json.dumps(doc))

    return Backend("files", make, another, tamper)


def postgres(url: str) -> Backend:
    from nija.store.postgres import PostgresStore
    from nija.store.postgres.connect import connect

    def make() -> Store:
        return PostgresStore(url, bot=f"bot-{uuid.uuid4().hex[:8]}")

    def another(store: Store) -> Store:
        assert isinstance(store, PostgresStore)
        return PostgresStore(url, bot=store.scope)

    def tamper(store: Store, state: str) -> None:
        assert isinstance(store, PostgresStore)
        with connect(url) as conn:  # a hand edit: straight into the row, history untouched
            conn.execute("INSERT INTO nija_scope (name) VALUES (%s) ON CONFLICT DO NOTHING", (store.scope,))
            conn.execute("UPDATE nija_scope SET state = %s WHERE name = %s", (state, store.scope))

    return Backend("postgres", make, another, tamper)
