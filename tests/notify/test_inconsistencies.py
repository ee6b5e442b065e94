"""A newly detected inconsistency is audited and notified once, and again if it comes back."""

from __future__ import annotations

from pathlib import Path

from nija.assembly import build_service
from nija.audit import AuditLog, records
from nija.config import NijaConfig
from nija.domain.transitions import Who
from nija.notify.sender import Notifier
from nija.notify.settings import NotificationSettings
from nija.observability.inconsistencies import InconsistencyWatch
from tests.notify.receiver import Receiver, receiving


def test_a_new_inconsistency_is_announced_once_and_again_when_it_returns(data_dir: Path) -> None:
    with receiving(Receiver()) as receiver:
        settings = NotificationSettings(urls=(receiver.url(),), retries=0)
        service = build_service(data_dir, config=NijaConfig(notifications=settings))
        notifier = next(listener for listener in service.listeners if isinstance(listener, Notifier))
        watch = InconsistencyWatch(service, Who("api@host", "api"))
        assert watch.check() == ()
        kill_file = data_dir / "EMERGENCY_STOP"
        kill_file.touch()  # raised by hand: the kill switch record does not know it
        codes = ("KILL_ACTIVE_STATE_NOT_STOPPED", "KILL_FILE_WITHOUT_RECORD")
        assert watch.check() == codes
        assert watch.check() == ()
        kill_file.unlink()
        assert watch.check() == ()
        kill_file.touch()
        assert watch.check() == codes
        assert notifier.flush(60)
        messages = [receiver.messages.get(timeout=60) for _ in range(4)]
    assert receiver.messages.empty()
    assert all("inconsistency detected" in m["title"] for m in messages)
    assert "code: KILL_FILE_WITHOUT_RECORD" in messages[1]["message"]
    audited = [r for _, r in records(AuditLog(data_dir).path) if not isinstance(r, Exception)]
    assert [(r.kind, r.details["code"], r.source) for r in audited] == [
        ("inconsistency_detected", code, "api") for code in codes
    ] * 2
