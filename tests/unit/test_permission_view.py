"""The order gate's permission check: cached while nothing changes, never stale, fails closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from nija.domain.records import Snapshot
from nija.domain.states import Mode
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.json_files import JsonFileStore

WHO = Who("t", "test")


@pytest.fixture
def store(data_dir: Path) -> JsonFileStore:
    return JsonFileStore(data_dir)


def test_unchanged_files_are_not_parsed_again(store: JsonFileStore, monkeypatch: pytest.MonkeyPatch) -> None:
    SafetyService(store).restore(WHO)
    view = store.permission_view()
    assert view.check().mode is Mode.SIMULATED
    loads = []
    original = store.load

    def counted() -> Snapshot:
        loads.append(1)
        return original()

    monkeypatch.setattr(store, "load", counted)
    for _ in range(100):
        assert view.check().allowed
    assert loads == []


def test_every_write_by_another_writer_is_seen(store: JsonFileStore, data_dir: Path) -> None:
    view = store.permission_view()
    other = SafetyService(JsonFileStore(data_dir))  # a separate store object, as another process has
    for _ in range(20):
        other.restore(WHO)
        assert view.check().allowed
        other.reset(WHO)
        assert not view.check().allowed


def test_kill_file_denies_immediately_and_alone(store: JsonFileStore, data_dir: Path) -> None:
    SafetyService(store).restore(WHO)
    view = store.permission_view()
    assert view.check().allowed
    (data_dir / "EMERGENCY_STOP").touch()
    denied = view.check()
    assert not denied.allowed
    assert denied.code == "KILL_SWITCH_ACTIVE"


def test_an_exception_while_deciding_denies(
    store: JsonFileStore, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = SafetyService(store)
    service.restore(WHO)
    view = store.permission_view()
    assert view.check().allowed

    def broken_load() -> None:
        raise RuntimeError("disk controller on fire")

    monkeypatch.setattr(store, "load", broken_load)
    service.reset(WHO)
    service.restore(WHO)  # back to DRY_RUN, but the files changed, so the view must re-read
    denied = view.check()
    assert not denied.allowed
    assert denied.code == "CHECK_FAILED"
    assert "disk controller on fire" in denied.reason


def test_a_state_path_that_cannot_be_read_denies(store: JsonFileStore, data_dir: Path) -> None:
    SafetyService(store).restore(WHO)
    view = store.permission_view()
    assert view.check().allowed
    (data_dir / ".nija_trading_state.json").unlink()
    (data_dir / ".nija_trading_state.json").mkdir()  # exists, but is not a readable file
    assert not view.check().allowed
