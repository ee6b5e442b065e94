"""The fleet store's change feed: LISTEN/NOTIFY on a connection of its own.

Every commit and kill flag of the fleet database sends a NOTIFY on one channel naming
its scope; a bot's feed wakes for its own scope and the fleet's, the fleet's feed for
all. A lost connection wakes the consumer (something may have changed meanwhile) and
reconnects; while disconnected it wakes every ``POLL_S`` so readers re-read and see
the failure themselves, never silence."""

from __future__ import annotations

import threading

from nija.store.changes import Signal, SignalFeed
from nija.store.postgres.connect import Conn, connect
from nija.store.postgres.rows import ACCOUNT_PREFIX, FLEET
from nija.store.postgres.view import CHANNEL

RECONNECT_DELAY_S = 0.2
POLL_S = 1.0


class PostgresChangeFeed(SignalFeed):
    def __init__(self, url: str, scope: str) -> None:
        super().__init__(Signal())
        self._url = url
        self._mine = None if scope == FLEET else {scope, FLEET}  # None: every scope
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"nija-feed-{scope}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=POLL_S + 1)

    def _run(self) -> None:
        while not self._stop.is_set():
            conn: Conn | None = None
            try:
                conn = connect(self._url, application_name="nija-feed")
                conn.execute(f"LISTEN {CHANNEL}")
                self._signal.notify()  # (re)connected: what happened while away is news
                self._listen(conn)
            except Exception:  # noqa: BLE001 - any failure: wake the readers, reconnect
                self._signal.notify()
            finally:
                if conn is not None:
                    conn.close()
            self._stop.wait(RECONNECT_DELAY_S)

    def _listen(self, conn: Conn) -> None:
        while not self._stop.is_set():
            for note in conn.notifies(timeout=POLL_S, stop_after=1):
                _, _, scope = note.payload.partition(":")
                # Any account's kill may be this bot's account's: waking for it is cheap.
                if self._mine is None or scope in self._mine or scope.startswith(ACCOUNT_PREFIX):
                    self._signal.notify()
