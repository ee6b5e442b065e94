"""The fleet store's change feed: LISTEN/NOTIFY on a connection of its own.

Every commit and kill flag of the fleet database notifies its scope's channel and the
general one (``channels``). The fleet's feed LISTENs on the general channel and wakes
for every scope; an account's on its own and the fleet's channels; a bot's on the
channels of the bot, the fleet and the bot's account (read from the database after the LISTENs, and again when
the bot's own scope changes: a declared account is followed at once). A lost connection
wakes the consumer (something may have changed meanwhile) and reconnects; while
disconnected it wakes every ``POLL_S`` so readers re-read and see the failure
themselves, never silence."""

from __future__ import annotations

import threading

from nija.store.changes import Signal, SignalFeed
from nija.store.postgres.channels import GENERAL, Subscriptions
from nija.store.postgres.connect import Conn, connect
from nija.store.postgres.rows import ACCOUNT_PREFIX, FLEET, is_account_scope

RECONNECT_DELAY_S = 0.2
POLL_S = 1.0


class PostgresChangeFeed(SignalFeed):
    def __init__(self, url: str, scope: str) -> None:
        super().__init__(Signal())
        self._url = url
        self._scope = scope
        self._general = scope == FLEET  # the fleet's feed: every scope
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
                subscriptions = Subscriptions()
                if self._general:
                    conn.execute(f"LISTEN {GENERAL}")
                elif is_account_scope(self._scope):
                    subscriptions.sync(conn, [self._scope, FLEET])
                else:
                    self._follow(conn, subscriptions)
                self._signal.notify()  # (re)connected: what happened while away is news
                self._listen(conn, subscriptions)
            except Exception:  # noqa: BLE001 - any failure: wake the readers, reconnect
                self._signal.notify()
            finally:
                if conn is not None:
                    conn.close()
            self._stop.wait(RECONNECT_DELAY_S)

    def _follow(self, conn: Conn, subscriptions: Subscriptions) -> None:
        """A bot's feed: LISTEN on its channels, its account's learnt after the LISTEN on its own."""
        subscriptions.sync(conn, [self._scope, FLEET])
        row = conn.execute("SELECT account FROM nija_scope WHERE name = %s", (self._scope,)).fetchone()
        account = [] if row is None or row[0] is None else [ACCOUNT_PREFIX + str(row[0])]
        subscriptions.sync(conn, [self._scope, FLEET, *account])

    def _listen(self, conn: Conn, subscriptions: Subscriptions) -> None:
        bot = not self._general and not is_account_scope(self._scope)
        while not self._stop.is_set():
            own = False
            for note in conn.notifies(timeout=POLL_S, stop_after=1):
                own |= bot and note.payload.partition(":")[2] == self._scope
                self._signal.notify()
            if own:
                self._follow(conn, subscriptions)  # its account may have been declared
