"""Safety fixes from review: write order, crash leftovers, expiry while killed, bare kills."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from nija.domain.errors import StorageNotWritable
from nija.domain.live import ACKNOWLEDGMENT_PHRASE, LivePolicy
from nija.domain.states import TradingState
from nija.domain.transitions import Who
from nija.kill_adoption import BareKillAdopter
from nija.service import SafetyService
from nija.store import json_files
from nija.store.json_files import JsonFileStore
from nija.testing import FakeClock, HeartbeatBot

WHO = Who("t", "test")


def live_service(data_dir: Path, clock: FakeClock) -> SafetyService:
    service = SafetyService(JsonFileStore(data_dir), clock=clock, policy=LivePolicy(min_dry_run=timedelta(0)))
    service.restore(WHO)
    bot = HeartbeatBot(service.store, clock)
    request = service.request_live(WHO, credentials_configured=True)
    bot.step()  # the running bot acknowledges the request
    service.confirm_live(request.code, ACKNOWLEDGMENT_PHRASE, WHO)
    return service


def test_deactivation_failing_halfway_leaves_the_kill_standing(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service = live_service(data_dir, FakeClock())
    (data_dir / "EMERGENCY_STOP").touch()  # a bare kill while LIVE_ACTIVE
    real_write = json_files.write_atomic  # type: ignore[attr-defined]

    def disk_full_for_the_kill_record(path: Path, data: bytes, **kwargs: object) -> None:
        if path.name == json_files.KILL_STATE_FILE:
            raise StorageNotWritable(f"Cannot write {path}: no space left on device (disk full)")
        real_write(path, data, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(json_files, "write_atomic", disk_full_for_the_kill_record)
    with pytest.raises(StorageNotWritable, match="Partly written"):
        service.deactivate_kill("fixed", WHO)
    assert (data_dir / "EMERGENCY_STOP").exists()
    assert not service.store.permission_view().check().allowed
    assert service.status().state is TradingState.OFF  # written first, and OFF trades nothing


def test_a_kill_file_grabbed_by_a_dead_deactivation_is_put_back(data_dir: Path) -> None:
    store = JsonFileStore(data_dir)
    service = SafetyService(store, clock=FakeClock())
    service.activate_kill("x", WHO)
    (data_dir / "EMERGENCY_STOP").rename(data_dir / ".EMERGENCY_STOP.0123abcd.removing")  # died here
    with store.transaction():
        pass
    assert (data_dir / "EMERGENCY_STOP").exists()
    assert not list(data_dir.glob(".EMERGENCY_STOP.*"))


def test_no_expiry_transition_while_the_kill_switch_is_active(data_dir: Path) -> None:
    clock = FakeClock()
    service = SafetyService(JsonFileStore(data_dir), clock=clock, policy=LivePolicy(min_dry_run=timedelta(0)))
    service.restore(WHO)
    HeartbeatBot(service.store, clock)
    service.request_live(WHO, credentials_configured=True)
    (data_dir / "EMERGENCY_STOP").touch()
    clock.advance(minutes=30)
    assert service.expire_live_request(WHO) is None
    assert service.status().state is TradingState.LIVE_PENDING_CONFIRMATION  # only a kill may move it now


def test_bare_kill_file_is_adopted_as_soon_as_it_is_seen(data_dir: Path) -> None:
    service = SafetyService(JsonFileStore(data_dir), clock=FakeClock())
    service.restore(WHO)
    adopter = BareKillAdopter(service, WHO)
    assert not adopter.check(service.status())  # nothing to adopt
    (data_dir / "EMERGENCY_STOP").touch()
    assert adopter.check(service.status())
    (data_dir / "EMERGENCY_STOP").unlink()
    status = service.status()
    assert status.kill_active  # deleting the file now deactivates nothing
    assert status.state is TradingState.EMERGENCY_STOP
    assert not adopter.check(status)


def test_a_kill_file_with_its_cause_adopted_by_another_process_keeps_its_author_on_the_stop(data_dir: Path) -> None:
    """The API (or CLI) raises the kill file with its cause before its record; a server, a bot
    or a status that records it first writes the stop under the kill's author, not its own."""
    clock = FakeClock()
    service = SafetyService(JsonFileStore(data_dir), clock=clock)
    service.restore(WHO)
    service.store.raise_kill_flag("operator pulled the plug", Who("alice", "api"), clock())
    assert BareKillAdopter(service, Who("nija-serve", "api")).check(service.status())
    *_, stop = service.history()[0]
    assert (stop.to_state, stop.actor, stop.source) == ("EMERGENCY_STOP", "alice", "api")
    assert "operator pulled the plug" in stop.reason
    cause = service.status(history_items=1).last_activation
    assert cause is not None
    assert (cause.actor, cause.source) == ("alice", "api")
