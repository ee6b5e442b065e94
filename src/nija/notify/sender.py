"""Send notifications from one background thread, with retries and backoff.

The listener only puts a message on a queue, so a slow or dead receiver never delays a
safety action. A process that is about to exit (a CLI command) waits a bounded time
(``flush_timeout_seconds``) for the queue to drain, after its action is done and printed."""

from __future__ import annotations

import atexit
import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog

from nija.domain.events import Event
from nija.notify.message import Message, message_for
from nija.observability.logs import ensure_configured

if TYPE_CHECKING:
    import apprise

    from nija.notify.settings import NotificationSettings


def _log() -> structlog.typing.FilteringBoundLogger:
    ensure_configured()
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger("nija.notify")
    return logger


FailureHook = Callable[[str], None]  # called with the event kind after the last retry failed
MAX_QUEUE = 1000


class Notifier:
    __name__ = "notify"  # how SafetyService names this listener in listener_errors

    def __init__(
        self,
        settings: NotificationSettings,
        where: str,
        *,
        on_failure: FailureHook | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.where = where
        self.on_failure = on_failure
        self.sent = 0
        self.failed = 0
        self._sleep = sleep
        self._queue: queue.Queue[Message] = queue.Queue(MAX_QUEUE)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._targets = [_target(url) for url in settings.urls]

    def __call__(self, event: Event) -> None:
        if not self._targets or event.kind not in self.settings.events:
            return
        try:
            self._queue.put_nowait(message_for(event, self.where))
        except queue.Full:
            self._failed(str(event.kind), "queue full")
            return
        self._ensure_worker()

    def flush(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for queued messages to be sent (or given up); True if drained."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="nija-notify", daemon=True)
                self._thread.start()
                atexit.register(self._flush_at_exit)

    def _flush_at_exit(self) -> None:
        if not self.flush(self.settings.flush_timeout_seconds):
            _log().warning("notifications_unsent", pending=self._queue.unfinished_tasks)

    def _work(self) -> None:
        while True:
            message = self._queue.get()
            try:
                for index, target in enumerate(self._targets):
                    self._deliver(index, target, message)
            except Exception as exc:  # noqa: BLE001 - the worker must survive anything
                self._failed(message.kind, f"{type(exc).__name__}: {exc}")
            finally:
                self._queue.task_done()

    def _deliver(self, index: int, target: apprise.Apprise, message: Message) -> None:
        delay = self.settings.retry_delay_seconds
        for attempt in range(1, self.settings.retries + 2):
            result = target.notify(
                body=message.body,
                title=message.title,
                notify_type=message.notify_type,
                timeout=self.settings.timeout_seconds,
            )
            if result:
                self.sent += 1
                _log().info("notification_sent", kind=message.kind, target=index, attempt=attempt)
                return
            _log().warning("notification_attempt_failed", kind=message.kind, target=index, attempt=attempt)
            if attempt <= self.settings.retries:
                self._sleep(delay)
                delay *= 2
        self._failed(message.kind, f"target {index} failed after {self.settings.retries + 1} attempts")

    def _failed(self, kind: str, why: str) -> None:
        self.failed += 1
        _log().error("notification_failed", kind=kind, why=why)
        if self.on_failure is not None:
            self.on_failure(kind)


def _target(url: str) -> apprise.Apprise:
    import apprise

    target = apprise.Apprise()
    target.add(url)  # validated by NotificationSettings
    return target
