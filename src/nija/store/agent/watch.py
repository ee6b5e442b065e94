"""Light stand-ins for the bots of one host: ``python -m nija.store.agent.watch SOCKET BOT...``.

One process, one permission view per bot (through the agent at SOCKET, or ``--direct
URL``: each with its own connection, today's path), and one loop that prints
``<unix time ns> <bot> <ALLOW|DENY> <code>`` each time a bot's answer changes, stamped
with the moment its view changed it (its gate refuses from then on). ``--beat S``
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
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from nija.domain.errors import StorageProblem
from nija.domain.permission import Permission
from nija.domain.records import Heartbeat
from nija.store.agent.client import AgentPermissionView, send_beat
from nija.store.postgres.store import PostgresStore

_print_lock = threading.Lock()


class _View(Protocol):
    def check(self) -> Permission: ...

    def wait_confirmed(self, timeout_s: float) -> bool: ...


def _say(text: str) -> None:
    with _print_lock:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def _follow(views: list[tuple[str, _View]], beat_s: float, sock: Path) -> None:
    """One thread for every bot of the process: prints each change of a bot's answer with
    the time its view recorded it (so this loop's own pace is not measured) and sends the
    beats. Threads that only wait for their view would contend for the GIL at every push."""
    last = dict.fromkeys((bot for bot, _ in views), "")
    started = datetime.now(UTC)
    next_beat = 0.0
    while True:
        for bot, view in views:
            permission = view.check()
            answer = f"{'ALLOW' if permission.allowed else 'DENY'} {permission.code}"
            if answer != last[bot]:
                # The view's own record of when its cached answer changed (check() answered so
                # from then on); now, for an answer that changed by ageing (VIEW_STALE).
                changed = getattr(view, "changed_ns", 0)
                stamp = changed if changed and permission.code != "VIEW_STALE" else time.time_ns()
                _say(f"{stamp} {bot} {answer}")
                last[bot] = answer
        if beat_s > 0 and time.monotonic() >= next_beat:
            next_beat = time.monotonic() + beat_s
            for bot, _ in views:
                beat = Heartbeat(os.getpid(), socket.gethostname(), datetime.now(UTC), started)
                with contextlib.suppress(StorageProblem):  # the view says so too; the next beat retries
                    send_beat(sock, bot, beat)
        time.sleep(0.01)


def read_output(lines: Iterable[str], ready: threading.Event, record: Callable[[int, str, str], None]) -> None:
    """The reading side, for the tests and benchmarks that start this process: sets
    ``ready`` at ``READY`` and hands each answer line to ``record(ns, bot, answer)``."""
    for line in lines:
        parts = line.split()
        if parts == ["READY"]:
            ready.set()
        elif len(parts) == 4:
            record(int(parts[0]), parts[1], f"{parts[2]} {parts[3]}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m nija.store.agent.watch")
    parser.add_argument("socket", type=Path)
    parser.add_argument("bots", nargs="+")
    parser.add_argument("--direct", metavar="URL", help="bypass the agent: a view with its own connection per bot")
    parser.add_argument("--stale", type=float, default=2.0)
    parser.add_argument("--beat", type=float, default=0.0)
    args = parser.parse_args(argv)
    views: list[tuple[str, _View]] = []
    for bot in args.bots:
        if args.direct:
            views.append((bot, PostgresStore(args.direct, bot=bot, stale_after_s=args.stale).permission_view()))
        else:
            views.append((bot, AgentPermissionView(args.socket, bot, stale_after_s=args.stale)))
    deadline = time.monotonic() + 120
    for _, view in views:
        if not view.wait_confirmed(max(0.0, deadline - time.monotonic())):
            _say("NOT_CONFIRMED")
            return 4
    _say("READY")
    _follow(views, args.beat, args.socket)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
