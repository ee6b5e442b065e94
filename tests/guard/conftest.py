from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.kraken_server import FakeKraken


@pytest.fixture
def fake() -> Iterator[FakeKraken]:
    with FakeKraken() as server:
        yield server


@pytest.fixture
def guarded(fake: FakeKraken, data_dir):  # type: ignore[no-untyped-def]
    """A guarded sync kraken client on ``data_dir``; closed after the test."""
    import nija
    from tests.guard.helpers import kraken

    made = []

    def make():  # type: ignore[no-untyped-def]
        exchange = nija.guard(kraken(fake), data_dir=data_dir)
        made.append(exchange)
        return exchange

    yield make
    for exchange in made:
        exchange.close()
