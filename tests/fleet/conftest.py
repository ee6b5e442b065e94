"""A fresh fleet database per test (created on the real server, dropped afterwards), and
helpers to run the real CLI against it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nija.store.postgres.testing import temporary_database


@pytest.fixture
def fleet_url() -> Iterator[str]:
    with temporary_database() as url:
        yield url


@pytest.fixture
def bare_url() -> Iterator[str]:
    """A database without the NIJA schema (never upgraded)."""
    with temporary_database(upgraded=False) as url:
        yield url
