"""The event stream: status snapshots pushed to every connected client when anything changes.

Changes come from any process (the CLI, the kill file, the bot), so one watcher per
server polls the signatures (inode, mtime, size) of the data directory's files: a few
``stat`` calls every ``interval`` seconds, whatever the number of clients. It also
recomputes the status every ``refresh`` seconds (a bot's liveness changes without any
write) and returns an expired live request to DRY_RUN, so that a countdown reaching zero
is reflected without anyone clicking."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from nija.bot_report import REPORT_FILE
from nija.domain.errors import NijaError
from nija.store.json_files import HEARTBEAT_FILE, KILL_FILE, KILL_STATE_FILE, STATE_FILE

STATUS_FILES = (STATE_FILE, KILL_STATE_FILE, KILL_FILE, HEARTBEAT_FILE)
KEEPALIVE_S = 15.0

Signature = tuple[tuple[int, int, int] | None, ...]


def signature(data_dir: Path, names: tuple[str, ...]) -> Signature:
    result: list[tuple[int, int, int] | None] = []
    for name in names:
        try:
            st = os.stat(data_dir / name)
        except OSError:
            result.append(None)
        else:
            result.append((st.st_ino, st.st_mtime_ns, st.st_size))
    return tuple(result)


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _meaning(status: dict[str, Any]) -> str:
    """The status without what changes on every look (clock, heartbeat time)."""
    stable = {**status, "checked_at": None, "bot": {**status["bot"], "last_heartbeat": None}}
    return json.dumps(stable, sort_keys=True)


@dataclass
class Watcher:
    data_dir: Path
    status: Callable[[], dict[str, Any]]
    runtime: Callable[[], dict[str, Any]]
    expire: Callable[[], None]
    clock: Callable[[], datetime]
    interval: float = 0.05
    refresh: float = 2.0
    latest: dict[str, str] = field(default_factory=dict)  # event name -> last SSE message
    _subscribers: set[asyncio.Queue[str | None]] = field(default_factory=set)

    def subscribe(self) -> asyncio.Queue[str | None]:
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=64)
        for message in self.latest.values():
            queue.put_nowait(message)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str | None]) -> None:
        self._subscribers.discard(queue)

    def close(self) -> None:
        for queue in self._subscribers:
            self._offer(queue, None)

    async def run(self) -> None:
        status_sig: Signature | None = None
        runtime_sig: Signature | None = None
        last_status, last_refresh = "", 0.0
        loop = asyncio.get_running_loop()
        while True:
            now_sig = signature(self.data_dir, STATUS_FILES)
            if now_sig != status_sig or loop.time() - last_refresh >= self.refresh:
                status_sig, last_refresh = now_sig, loop.time()
                status = await self._safely(self.status)
                if status is not None:
                    if _meaning(status) != last_status:
                        last_status = _meaning(status)
                        self._broadcast("status", status)
                    if _expired(status, self.clock()):
                        await self._safely(self.expire)
            now_runtime = signature(self.data_dir, (REPORT_FILE,))
            if now_runtime != runtime_sig:
                runtime_sig = now_runtime
                runtime = await self._safely(self.runtime)
                if runtime is not None:
                    self._broadcast("runtime", runtime)
            await asyncio.sleep(self.interval)

    async def _safely(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` in a thread; a failure is news for the clients, never the end of the watcher."""
        try:
            return await asyncio.to_thread(fn)
        except NijaError as exc:
            self._broadcast("error", {"code": exc.code, "message": exc.message, "fix": exc.fix})
        except Exception as exc:  # noqa: BLE001 - a dead watcher would silently freeze every dashboard
            self._broadcast(
                "error",
                {
                    "code": "UNEXPECTED",
                    "message": f"Unexpected error while watching: {type(exc).__name__}: {exc}",
                    "fix": "Check the server's log; the watcher keeps trying",
                },
            )
        return None

    def _broadcast(self, event: str, data: dict[str, Any]) -> None:
        message = sse(event, data)
        self.latest[event] = message
        for queue in tuple(self._subscribers):
            self._offer(queue, message)

    @staticmethod
    def _offer(queue: asyncio.Queue[str | None], message: str | None) -> None:
        if queue.full():  # a slow client skips stale snapshots rather than growing memory
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()
        queue.put_nowait(message)


def _expired(status: dict[str, Any], now: datetime) -> bool:
    pending = status.get("pending_live")
    return pending is not None and datetime.fromisoformat(pending["expires_at"]) <= now


async def stream(watcher: Watcher, still_allowed: Callable[[], bool]) -> AsyncIterator[str]:
    """One client's SSE stream: the latest snapshots first, then every change; ends when
    the server stops or the client's token is revoked (checked before every message)."""
    queue = watcher.subscribe()
    try:
        yield "retry: 1000\n\n"
        while True:
            try:
                message: str | None = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
            except TimeoutError:
                message = ": keepalive\n\n"
            if message is None or not still_allowed():
                return
            yield message
    finally:
        watcher.unsubscribe(queue)
