"""Light stand-ins for the bots of one host: ``python -m nija.store.agent.watch SOCKET BOT...``.

One process, one permission view per bot (through the agent at SOCKET, or ``--direct
URL``: each with its own connection, today's path), and per bot a thread that waits for
its view's change signal and prints ``<unix time ns> <bot> <ALLOW|DENY> <code>`` each
time that bot's answer changes: the moment its gate would start refusing. ``--beat S``
sends each bot's heartbeat every S seconds (through the agent) as a running bot does.
Prints ``READY`` once every view is confirmed. Used by the fleet tests and benchmarks."""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from nija.domain.errors import StorageProblem
from nija.domain.permission import Permission
from nija.domain.records import Heartbeat
from nija.store.agent.client import AgentPermissionView, send_beat
from nija.store.changes import Signal, SignalFeed
from nija.store.postgres.store import PostgresStore

_print_lock = threading.Lock()


class _View(Protocol):
    def check(self) -> Permission: ...

    def wait_confirmed(self, timeout_s: float) -> bool: ...


def _say(text: str) -> None:
    with _print_lock:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def _follow(bot: str, view: _View, signal: Signal | None, beat_s: float, sock: Path) -> None:
    feed = SignalFeed(signal) if signal is not None else None
    check = view.check
    last = ""
    started = datetime.now(UTC)
    next_beat = 0.0
    while True:
        permission = check()
        answer = f"{'ALLOW' if permission.allowed else 'DENY'} {permission.code}"
        if answer != last:
            # The view's own record of when its cached answer changed (check() answered so
            # from then on); now, for an answer that changed by ageing (VIEW_STALE).
            changed = getattr(view, "changed_ns", 0)
            stamp = changed if changed and permission.code != "VIEW_STALE" else time.time_ns()
            _say(f"{stamp} {bot} {answer}")
            last = answer
        if beat_s > 0 and time.monotonic() >= next_beat:
            next_beat = time.monotonic() + beat_s
            beat = Heartbeat(os.getpid(), socket.gethostname(), datetime.now(UTC), started)
            with contextlib.suppress(StorageProblem):  # the view says so too; the next beat retries
                send_beat(sock, bot, beat)
        if feed is not None:
            feed.wait(0.25)  # wakes on every change; the timeout notices ageing (VIEW_STALE)
        else:
            time.sleep(0.001)  # a view of its own has no signal: poll like a busy gate


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m nija.store.agent.watch")
    parser.add_argument("socket", type=Path)
    parser.add_argument("bots", nargs="+")
    parser.add_argument("--direct", metavar="URL", help="bypass the agent: a view with its own connection per bot")
    parser.add_argument("--stale", type=float, default=2.0)
    parser.add_argument("--beat", type=float, default=0.0)
    args = parser.parse_args(argv)
    views: list[tuple[str, _View, Signal | None]] = []
    for bot in args.bots:
        if args.direct:
            views.append((bot, PostgresStore(args.direct, bot=bot, stale_after_s=args.stale).permission_view(), None))
        else:
            agent_view = AgentPermissionView(args.socket, bot, stale_after_s=args.stale)
            views.append((bot, agent_view, agent_view.signal))
    deadline = time.monotonic() + 120
    for _, view, _ in views:
        if not view.wait_confirmed(max(0.0, deadline - time.monotonic())):
            _say("NOT_CONFIRMED")
            return 4
    _say("READY")
    for bot, view, signal in views:
        threading.Thread(target=_follow, args=(bot, view, signal, args.beat, args.socket), daemon=True).start()
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
