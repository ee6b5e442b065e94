"""Notifications reach a real local HTTP receiver; a slow or dead receiver never delays a kill
(proved by ordering: the kill completes while the receiver still holds a request)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nija.assembly import build_service
from nija.config import NijaConfig
from nija.domain.events import Event, EventKind
from nija.domain.transitions import Who
from nija.notify.sender import Notifier
from nija.notify.settings import NotificationSettings
from nija.observability.metrics import metrics_of
from nija.service import SafetyService
from tests.conftest import REPO, Run, cli_env
from tests.notify.receiver import Receiver, closed_port, receiving

OPERATOR = Who("alice@host", "test")


def service_notifying(data_dir: Path, url: str, **options: Any) -> tuple[SafetyService, Notifier]:
    settings = NotificationSettings(urls=(url,), **options)
    service = build_service(data_dir, config=NijaConfig(notifications=settings))
    notifier = next(listener for listener in service.listeners if isinstance(listener, Notifier))
    return service, notifier


def test_a_kill_notification_reaches_the_receiver(data_dir: Path) -> None:
    with receiving(Receiver()) as receiver:
        service, notifier = service_notifying(data_dir, receiver.url(), retries=0)
        service.activate_kill("exchange outage", OPERATOR)
        assert notifier.flush(60)
        message = receiver.messages.get(timeout=60)
    assert "kill switch ACTIVATED" in message["title"]
    assert "Reason: exchange outage" in message["message"]
    assert "By: alice@host via test" in message["message"]
    assert message["type"] == "failure"
    assert notifier.sent == 1
    assert notifier.failed == 0


def test_when_the_receiver_is_stuck_then_a_kill_still_completes_first(data_dir: Path) -> None:
    # The worker is held inside a delivery (the restore's) when the kill comes: if the kill
    # waited for notifications it could not return before the receiver is released.
    with receiving(Receiver(hold=True)) as receiver:
        service, notifier = service_notifying(data_dir, receiver.url(), retries=0, timeout_seconds=600)
        service.restore(OPERATOR)
        assert receiver.arrived.wait(timeout=60)
        service.activate_kill("while the receiver hangs", OPERATOR)
        kill_done_while_held = receiver.answered == 0
        assert service.snapshot().kill_active
        receiver.release.set()
        assert notifier.flush(60)
        titles = [receiver.messages.get(timeout=60)["title"] for _ in range(2)]
    assert kill_done_while_held
    assert "restored" in titles[0]
    assert "kill switch ACTIVATED" in titles[1]


def test_when_the_receiver_is_down_then_the_kill_happens_and_the_failure_is_counted(data_dir: Path) -> None:
    service, notifier = service_notifying(
        data_dir, f"json://127.0.0.1:{closed_port()}/hook", retries=2, retry_delay_seconds=0
    )
    service.activate_kill("receiver down", OPERATOR)
    assert service.snapshot().kill_active
    assert service.listener_errors == []
    assert notifier.flush(120)
    assert notifier.failed == 1
    assert notifier.sent == 0
    value = metrics_of(service).registry.get_sample_value(
        "nija_notification_failures_total", {"kind": "kill_activated"}
    )
    assert value == 1.0


def test_retries_back_off_and_stop_after_the_configured_attempts(tmp_path: Path) -> None:
    slept: list[float] = []
    settings = NotificationSettings(
        urls=(f"json://127.0.0.1:{closed_port()}/hook",), retries=3, retry_delay_seconds=0.5
    )
    failures: list[str] = []
    notifier = Notifier(settings, str(tmp_path), on_failure=failures.append, sleep=slept.append)
    notifier(Event(EventKind.RESET, "op", "cli", "r", datetime.now(UTC)))
    assert notifier.flush(120)
    assert slept == [0.5, 1.0, 2.0]
    assert failures == ["reset"]


def test_events_not_chosen_are_not_sent(data_dir: Path) -> None:
    with receiving(Receiver()) as receiver:
        service, notifier = service_notifying(data_dir, receiver.url(), events=[EventKind.KILL_DEACTIVATED])
        service.restore(OPERATOR)
        service.activate_kill("k", OPERATOR)
        service.deactivate_kill("fixed", OPERATOR)
        assert notifier.flush(60)
        assert receiver.messages.qsize() == 1
        assert "deactivated" in receiver.messages.get(timeout=60)["title"]


def write_config(data_dir: Path, url: str, extra: str = "") -> None:
    (data_dir / "nija.toml").write_text(
        f'[notifications]\nurls = ["{url}"]\nretries = 0\nflush_timeout_seconds = 60\n{extra}', encoding="utf-8"
    )


def test_the_cli_kill_is_committed_before_its_notification_arrives(run: Run, data_dir: Path) -> None:
    def observe() -> dict[str, Any]:
        state = json.loads((data_dir / ".nija_trading_state.json").read_text(encoding="utf-8"))
        return {"kill_file": (data_dir / "EMERGENCY_STOP").exists(), "state": state["current_state"]}

    with receiving(Receiver(on_arrival=observe)) as receiver:
        write_config(data_dir, receiver.url())
        result = run("emergency_kill_switch.py", "activate", "from the cli")
        assert result.returncode == 0, result.stderr
        message = receiver.messages.get(timeout=60)  # sent before the command exited
    assert message["observed"] == {"kill_file": True, "state": "EMERGENCY_STOP"}
    assert "Reason: from the cli" in message["message"]


def test_a_kill_by_the_real_entry_point_is_notified_before_the_process_ends(data_dir: Path) -> None:
    """The fast path (no click) and its exit (the collector's last pass skipped) still
    deliver the notification: the process waits for it (flush_timeout_seconds)."""
    with receiving(Receiver()) as receiver:
        write_config(data_dir, receiver.url())
        result = subprocess.run(
            [sys.executable, str(REPO / "emergency_kill_switch.py"), "activate", "from", "the", "entry"],
            cwd=data_dir,
            env=cli_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert receiver.messages.qsize() == 1  # delivered before the command exited
        assert "Reason: from the entry" in receiver.messages.get(timeout=1)["message"]


def test_a_held_receiver_does_not_delay_the_cli_kill(data_dir: Path) -> None:
    with receiving(Receiver(hold=True)) as receiver:
        write_config(data_dir, receiver.url(), "timeout_seconds = 600\n")
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "emergency_kill_switch.py"), "activate", "held receiver"],
            cwd=data_dir,
            env=cli_env(PYTHONUNBUFFERED="1"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        first_line = proc.stdout.readline()  # printed after the kill, whatever the receiver does
        kill_file_then = (data_dir / "EMERGENCY_STOP").exists()
        answered_then = receiver.answered
        receiver.release.set()
        _, err = proc.communicate(timeout=120)
    assert "KILL SWITCH ACTIVATED" in first_line
    assert kill_file_then
    assert answered_then == 0
    assert proc.returncode == 0, err


def test_a_bad_notification_url_is_refused_without_echoing_it(run: Run, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text('[notifications]\nurls = ["nosuchscheme://s3cr3t-token@x"]\n')
    result = run("nija", "live", "request")
    assert result.returncode == 2
    assert "notifications.urls" in result.stderr
    assert "nosuchscheme" in result.stderr
    assert "s3cr3t-token" not in result.stderr + result.stdout


def test_an_unknown_notification_key_is_refused_by_name(run: Run, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text('[notifications]\nurl = "json://x"\n')
    result = run("nija", "live", "request")
    assert result.returncode == 2
    assert "notifications.url" in result.stderr
