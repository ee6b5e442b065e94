"""The event stream: status snapshots pushed to every connected client when anything changes.

Changes come from any process (the CLI, the kill file, the bot): one watcher per server
waits on the store's change feed (inotify for the files, LISTEN/NOTIFY for PostgreSQL),
whatever the number of clients. It also recomputes the status every ``refresh`` seconds
(a bot's liveness changes without any write) and returns an expired live request to
DRY_RUN, so that a countdown reaching zero is reflected without anyone clicking. The
framing, keep-alive pings and shutdown of the stream are sse-starlette's."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
from sse_starlette import ServerSentEvent

from nija.bot_report import report_signature
from nija.domain.errors import NijaError
from nija.store.changes import ChangeFeed

KEEPALIVE_S = 15.0
RETRY_MS = 1000
SEP = "\n"  # plain LF, as the web page and most clients split on

Message = tuple[str, str]  # (event name, JSON data)
_NEVER = object()


def _meaning(status: dict[str, Any]) -> str:
    """The status without what changes on every look (clock, heartbeat time)."""
    stable = {**status, "checked_at": None, "bot": {**status["bot"], "last_heartbeat": None}}
    return json.dumps(stable, sort_keys=True)


@dataclass
class Watcher:
    data_dir: Path  # where the bot's runtime report lives (for every store)
    changes: Callable[[], ChangeFeed]  # the store's feed, opened when the watcher runs
    status: Callable[[], dict[str, Any]]
    runtime: Callable[[], dict[str, Any]]
    expire: Callable[[], None]
    clock: Callable[[], datetime]
    interval: float = 0.05  # how often the runtime report's signature is looked at
    refresh: float = 2.0
    latest: dict[str, Message] = field(default_factory=dict)  # event name -> last message
    _subscribers: set[asyncio.Queue[Message | None]] = field(default_factory=set)

    def subscribe(self) -> asyncio.Queue[Message | None]:
        queue: asyncio.Queue[Message | None] = asyncio.Queue(maxsize=64)
        for message in self.latest.values():
            queue.put_nowait(message)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Message | None]) -> None:
        self._subscribers.discard(queue)

    def close(self) -> None:
        for queue in self._subscribers:
            self.end(queue)

    def end(self, queue: asyncio.Queue[Message | None]) -> None:
        """End one subscriber's stream."""
        self._offer(queue, None)

    async def run(self) -> None:
        feed = self.changes()
        try:
            await asyncio.gather(self._follow_status(feed), self._follow_runtime())
        finally:
            feed.close()

    async def _follow_status(self, feed: ChangeFeed) -> None:
        last_status = ""
        while True:
            status = await self._safely(self.status)
            if status is not None:
                if _meaning(status) != last_status:
                    last_status = _meaning(status)
                    self._broadcast("status", status)
                if _expired(status, self.clock()):
                    await self._safely(self.expire)
                    continue  # show the expiry at once
            await asyncio.to_thread(feed.wait, self.refresh)

    async def _follow_runtime(self) -> None:
        seen: object = _NEVER  # the first look always publishes, report or not
        while True:
            now = report_signature(self.data_dir)
            if now != seen:
                seen = now
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
        message = (event, json.dumps(data, separators=(",", ":")))
        self.latest[event] = message
        for queue in tuple(self._subscribers):
            self._offer(queue, message)

    @staticmethod
    def _offer(queue: asyncio.Queue[Message | None], message: Message | None) -> None:
        if queue.full():  # a slow client skips stale snapshots rather than growing memory
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()
        queue.put_nowait(message)


def _expired(status: dict[str, Any], now: datetime) -> bool:
    pending = status.get("pending_live")
    return pending is not None and datetime.fromisoformat(pending["expires_at"]) <= now


async def stream(
    watcher: Watcher, still_allowed: Callable[[], bool], shutdown: anyio.Event
) -> AsyncIterator[ServerSentEvent]:
    """One client's events: the latest snapshots first, then every change; ends when the
    server stops (``shutdown``, set by sse-starlette) or the client's token is revoked
    (checked before every message, and at least every ``KEEPALIVE_S`` while quiet)."""
    queue = watcher.subscribe()

    async def end_on_shutdown() -> None:
        await shutdown.wait()
        watcher.end(queue)  # the stream then finishes its response cleanly

    stopper = asyncio.create_task(end_on_shutdown())
    try:
        yield ServerSentEvent(retry=RETRY_MS, sep=SEP)
        while True:
            try:
                message = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
            except TimeoutError:
                if not still_allowed():
                    return
                continue  # sse-starlette's pings keep the connection open
            if message is None or not still_allowed():
                return
            event, data = message
            yield ServerSentEvent(data=data, event=event, sep=SEP)
    finally:
        stopper.cancel()
        watcher.unsubscribe(queue)
