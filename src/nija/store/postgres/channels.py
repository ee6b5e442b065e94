"""Which NOTIFY channel carries what: one channel per scope, and the general channel.

Every commit and kill flag notifies twice, with the same payload (``change:<scope>`` or
``kill:<scope>``): on its scope's own channel, which only the views of that scope listen
on (a bot's own view, the host agent serving it, and for an account or the fleet the
views of every bot under it), and on the general channel ``nija``, which only the
whole-fleet listeners use (the fleet's change feed: ``nija serve``, ``status --fleet``,
the control center) and which every NIJA version before per-scope channels listened on.
So a notification reaches the listeners it concerns, not every agent of the fleet.

A scope's channel is ``nija_`` and the first 32 hex digits of the SHA-256 of its name:
37 lowercase characters, a valid unquoted identifier for any scope name (bot names,
``@fleet``, ``@account:NAME`` with any characters) well under PostgreSQL's 63 bytes, and
the same in every process. A collision only adds wake-ups: listeners still read the
scope from the payload."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from nija.store.postgres.connect import Conn

GENERAL = "nija"
_NOTIFY_SQL = "SELECT pg_notify(%s, %s), pg_notify(%s, %s)"


def channel(scope: str) -> str:
    return "nija_" + hashlib.sha256(scope.encode()).hexdigest()[:32]


def notify(conn: Conn, kind: str, scope: str) -> None:
    """``kind:scope`` on the scope's channel and the general one (one round trip)."""
    payload = f"{kind}:{scope}"
    conn.execute(_NOTIFY_SQL, (channel(scope), payload, GENERAL, payload))


class Subscriptions:
    """The scope channels one connection LISTENs on, kept equal to a wanted set. LISTEN
    before reading: a change committed after the LISTEN is notified, one before it is in
    the read that follows."""

    def __init__(self) -> None:
        self.scopes: frozenset[str] = frozenset()

    def sync(self, conn: Conn, scopes: Iterable[str]) -> bool:
        """LISTEN to the scopes newly wanted, UNLISTEN the others; True when one was added
        (the caller then reads again, so nothing committed before it is missed)."""
        wanted = frozenset(scopes)
        added, gone = wanted - self.scopes, self.scopes - wanted
        statements = [f"LISTEN {channel(s)}" for s in sorted(added)]
        statements += [f"UNLISTEN {channel(s)}" for s in sorted(gone)]
        if statements:
            conn.execute("; ".join(statements))  # no parameters: one round trip for all
        self.scopes = wanted
        return bool(added)
