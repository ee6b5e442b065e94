"""Many bot processes on one fleet database: each watches its own order gate
(``nija.store.postgres.watch``) as a running bot would."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nija.domain.records import TradingRecord
from nija.domain.states import TradingState
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.postgres import PostgresStore
from nija.store.postgres.connect import connect
from nija.store.postgres.testing import admin_dsn
from tests.conftest import cli_env

WHO = Who("tester@host", "test")
BOTS = 5


class Bot:
    """A watch process and the answers it printed, collected by a reader thread."""

    def __init__(self, url: str, name: str, env: dict[str, str], stale_after: float = 2.0) -> None:
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nija.store.postgres.watch", url, name, str(stale_after)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.strip())

    def answers(self) -> list[str]:
        """``ALLOW DRY_RUN``, ``DENY KILL_SWITCH_ACTIVE``, ... in order."""
        return [line.split(" ", 1)[1] for line in list(self.lines) if line[:1].isdigit()]

    def wait_for(self, answer: str, after: int = 0, timeout: float = 30) -> int:
        """Index of the first ``answer`` at or after position ``after``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = self.answers()
            for i in range(after, len(seen)):
                if seen[i].startswith(answer):
                    return i
            if self.process.poll() is not None:
                break
            time.sleep(0.01)
        raise AssertionError(f"bot {self.name} never answered {answer!r}: {self.answers()}")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def view_connections(url: str, bots: list[Bot]) -> dict[str, list[object]]:
    """Each bot's view connections, by server process id: a reconnection changes them."""
    name = url.rsplit("/", 1)[1]
    with connect(admin_dsn()) as admin:
        rows = admin.execute(
            "SELECT application_name, pid FROM pg_stat_activity WHERE datname = %s ORDER BY pid", (name,)
        ).fetchall()
    return {bot.name: [pid for app, pid in rows if app == f"nija-view:{bot.name}"] for bot in bots}


@pytest.fixture
def bots(fleet_url: str) -> Iterator[list[Bot]]:
    for i in range(BOTS):
        SafetyService(PostgresStore(fleet_url, bot=f"bot{i}")).restore(WHO)
    started = [Bot(fleet_url, f"bot{i}", cli_env()) for i in range(BOTS)]
    try:
        for bot in started:
            bot.wait_for("ALLOW DRY_RUN")
        yield started
    finally:
        for bot in started:
            bot.stop()


def test_a_fleet_kill_stops_every_bot_process(bots: list[Bot], fleet_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nija", "kill", "activate", "--fleet", "--store", fleet_url, "drill"],
        capture_output=True,
        text=True,
        env=cli_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for bot in bots:
        bot.wait_for("DENY KILL_SWITCH_ACTIVE")
        assert bot.answers()[-1] == "DENY KILL_SWITCH_ACTIVE"


def test_a_bot_whose_connection_is_killed_halts_until_it_reconnects(bots: list[Bot], fleet_url: str) -> None:
    victim, others = bots[0], bots[1:]
    name = fleet_url.rsplit("/", 1)[1]
    before = view_connections(fleet_url, others)
    with connect(admin_dsn()) as admin:
        # Keep it from reconnecting, then cut its connection.
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            before_cut = len(victim.answers())  # a stall may have flickered it stale before
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND application_name = %s",
                (name, f"nija-view:{victim.name}"),
            ).fetchone()
            assert killed == (1,)
            halted = victim.wait_for("DENY", after=before_cut)
            time.sleep(1)  # reconnecting is impossible meanwhile: it must stay halted
            assert victim.answers()[halted:] == [victim.answers()[halted]]
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    victim.wait_for("ALLOW DRY_RUN", after=halted)
    # The other bots were never disturbed: their connections were not cut, so they never
    # had to reconnect. (Their answers may flicker VIEW_STALE if the machine stalls one of
    # them for a second; what they answer now is ALLOW.)
    assert all(before.values()), before
    assert view_connections(fleet_url, others) == before
    for bot in others:
        assert all(a == "ALLOW DRY_RUN" or a.startswith("DENY VIEW_STALE") for a in bot.answers()), bot.answers()
        bot.wait_for("ALLOW DRY_RUN", after=len(bot.answers()) - 1)


def test_a_bot_that_cannot_confirm_its_view_halts_after_stale_after(fleet_url: str) -> None:
    SafetyService(PostgresStore(fleet_url, bot="slow")).restore(WHO)
    bot = Bot(fleet_url, "slow", cli_env(), stale_after=0.5)
    try:
        bot.wait_for("ALLOW DRY_RUN")
        # The view's next reading waits behind a lock for as long as the test holds it: the
        # connection stays up and nothing is notified, only the confirmation's age tells.
        # (Freezing the bot instead raced its gate against its reader once it ran again.)
        with connect(fleet_url) as blocker, blocker.transaction():
            blocker.execute("LOCK TABLE nija_kill_flag IN ACCESS EXCLUSIVE MODE")
            stale = bot.wait_for("DENY VIEW_STALE")
            assert bot.process.poll() is None
        bot.wait_for("ALLOW DRY_RUN", after=stale)
    finally:
        bot.stop()


def test_racing_processes_lose_no_transition(fleet_url: str) -> None:
    workers, rounds = 4, 10
    procs = [
        subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("race_worker.py")), fleet_url, "raced", str(rounds)],
            stdout=subprocess.PIPE,
            text=True,
            env=cli_env(),
        )
        for _ in range(workers)
    ]
    recorded = 0
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        recorded += int(out.strip())
    record = PostgresStore(fleet_url, bot="raced").load().trading
    assert isinstance(record, TradingRecord)
    # A racer may find the work already done (nothing to do); every recorded one is there.
    assert len(record.history) == recorded >= 2
    previous = TradingState.OFF
    for entry in record.history:
        assert entry.from_state is previous
        previous = entry.to_state
    assert previous is record.current_state is TradingState.OFF
