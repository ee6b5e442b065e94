"""Policies written once, in the service and the domain, for every front end."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path

import pytest

from nija.assembly import build_service
from nija.audit import errors as audit_errors
from nija.domain import errors
from nija.domain.errors import CredentialsUnreadable, NijaError
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.memory import MemoryStore
from nija.testing import FakeClock

ALICE = Who("alice@host", "cli")


class CountingClock(FakeClock):
    """Each read moves time on, so two reads in one operation would show in the records."""

    reads = 0

    def __call__(self) -> datetime:
        self.reads += 1
        return self.advance(microseconds=1)


def test_unreadable_credentials_refuse_a_live_request_the_same_way_everywhere(tmp_path: Path) -> None:
    secrets = tmp_path / ".nija_secrets.toml"
    secrets.write_text('api_key = "k"\nsecret = "s"\n')
    secrets.chmod(0o644)  # readable by others: refused, never used
    service = build_service(tmp_path)
    with pytest.raises(CredentialsUnreadable) as refused:
        service.request_live(ALICE)
    assert (refused.value.code, refused.value.exit_code) == ("CREDENTIALS_UNREADABLE", 3)
    assert "chmod 600" in refused.value.fix


def test_every_stable_code_is_a_str_enum_member_equal_to_its_text() -> None:
    classes = [c for m in (errors, audit_errors) for c in vars(m).values() if isinstance(c, type)]
    for cls in (c for c in classes if issubclass(c, NijaError)):
        assert isinstance(cls.code, StrEnum), cls
        assert cls.code == cls.code.value


@pytest.mark.parametrize("operation", ["restore", "deactivate", "activate"])
def test_one_clock_read_per_operation(operation: str) -> None:
    clock = CountingClock()
    service = SafetyService(MemoryStore(), clock=clock)
    if operation != "activate":
        service.activate_kill("drill", ALICE)
    if operation == "restore":
        service.deactivate_kill("drill over", ALICE)
    clock.reads = 0
    if operation == "restore":
        outcome = service.restore(ALICE)
    elif operation == "deactivate":
        outcome = service.deactivate_kill("fixed", ALICE)
    else:
        outcome = service.activate_kill("now", ALICE)
    assert clock.reads == 1
    assert len({t.timestamp for t in outcome.transitions}) == 1
