"""Real host agents and light bot stand-ins (nija.store.agent.watch) for the fleet tests."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from nija.store.agent.watch import read_output
from nija.store.postgres.connect import connect
from nija.store.postgres.testing import admin_dsn
from tests.conftest import cli_env
from tests.runtime.runtime_helpers import wait_for


def answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


class Agent:
    """``nija agent --store URL --socket PATH`` as a real process."""

    def __init__(self, url: str, path: Path, **env: str) -> None:
        self.url, self.path, self.env = url, path, env
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> Agent:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nija", "agent", "--store", self.url, "--socket", str(self.path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(**self.env),
        )
        wait_for(lambda: answers(self.path), timeout=60, what=f"the agent listening on {self.path}")
        return self

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def sigkill(self) -> None:
        self.signal(signal.SIGKILL)
        assert self.proc is not None
        self.proc.wait(timeout=30)

    def stop(self) -> str:
        """SIGTERM; returns its stderr."""
        if self.proc is None or self.proc.poll() is not None:
            return ""
        self.proc.send_signal(signal.SIGCONT)
        self.proc.terminate()
        _, err = self.proc.communicate(timeout=30)
        return err


class Host:
    """The bots of one host: one watch process, one view per bot, their answers as printed."""

    def __init__(self, socket_path: Path, bots: list[str], *, direct: str | None = None, stale: float = 1.0) -> None:
        command = [sys.executable, "-m", "nija.store.agent.watch", str(socket_path), *bots, "--stale", str(stale)]
        if direct is not None:
            command += ["--direct", direct]
        self.bots = bots
        self.history: dict[str, list[str]] = {b: [] for b in bots}
        self.ready = threading.Event()
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        read_output(self.proc.stdout, self.ready, self._record)

    def _record(self, _ns: int, bot: str, answer: str) -> None:
        with self._lock:
            self.history[bot].append(answer)

    def answer(self, bot: str) -> str:
        with self._lock:
            seen = self.history[bot]
            return seen[-1] if seen else ""

    def seen(self, bot: str) -> list[str]:
        with self._lock:
            return list(self.history[bot])

    def all(self, answer: str) -> bool:
        return all(self.answer(b) == answer for b in self.bots)

    def wait_ready(self) -> None:
        wait_for(self.ready.is_set, timeout=60, what="every bot's view confirmed")
        wait_for(lambda: all(self.answer(b) for b in self.bots), what="every bot's first answer")

    def close(self) -> None:
        self.proc.kill()
        self.proc.communicate(timeout=30)


def connections(url: str) -> Counter[str]:
    """The test database's connections by application_name (this query's own excluded)."""
    name = urlsplit(url).path.lstrip("/")
    with connect(admin_dsn()) as admin:
        found = admin.execute(
            "SELECT application_name FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,)
        ).fetchall()
    return Counter(str(r[0]) for r in found)


@contextmanager
def no_new_connections(url: str) -> Iterator[None]:
    """The test database refuses new connections meanwhile (open ones keep working): what
    runs inside can only use a connection that exists, such as the agent's."""
    name = urlsplit(url).path.lstrip("/")
    with connect(admin_dsn()) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
