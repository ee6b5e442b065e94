"""Every store backend behind one fixture: the contract suite runs once per backend.

Each backend hands out fresh, empty records (memory: a new store; files: a new data
directory; PostgreSQL: a new bot in a database created for this test session and dropped
after it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nija.store.ports import Store
from tests.contract.backends import Backend, files, memory, postgres


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    from nija.store.postgres.testing import temporary_database

    with temporary_database() as url:
        yield url


@pytest.fixture(params=["memory", "files", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    if request.param == "memory":
        return memory()
    if request.param == "files":
        return files(tmp_path_factory)
    return postgres(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    made = backend.make()
    yield made
    close = getattr(made, "close", None)
    if close is not None:
        close()
