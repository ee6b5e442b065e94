"""A fleet of 1,000 bots on one default PostgreSQL through host agents (issue 17, item 1).

    NIJA_TEST_PG_DSN=postgresql://postgres@127.0.0.1:5432/postgres python benchmarks/fleet_agent.py \
        [--hosts 50] [--bots-per-host 20] [--rounds 3] [--beat 1.0]

Starts HOSTS real ``nija agent`` processes and, per host, one process holding that host's
bots as light stand-ins (nija.store.agent.watch: one permission view (its reader thread) per
bot, a heartbeat through the agent every --beat seconds, as ``nija run`` sends). Prints:

- the connections the fleet holds (pg_stat_activity by application_name);
- the fleet kill to all bots refusing: p50/p99/max over every bot of every round,
  next to the same kill reaching 20 bots that each hold their own view (today's path);
- the permission check's cost through the agent, next to the view with its own connection;
- transitions per second with 8 clients, quiet and with the whole fleet running.

A bot "refuses" from the moment its view changed its cached answer to deny (the view's
``changed_ns``): check() is two attribute reads, so every check after that instant refuses.
The simulated hosts share this machine's cores: on a small machine the figures are those
of 100 processes queuing for CPU, not of one host's agent and bots."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from _fleet import commits
from _stats import percentile
from fleet_transitions import run as transitions

from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.agent import AgentPermissionView
from nija.store.agent.watch import read_output
from nija.store.postgres import PostgresStore
from nija.store.postgres.connect import connect
from nija.store.postgres.testing import admin_dsn, temporary_database

SRC = Path(__file__).resolve().parents[1] / "src"
WHO = Who("bench@host", "benchmark")
KILLED = "DENY KILL_SWITCH_ACTIVE"
DRY = "ALLOW DRY_RUN"


class Hosted:
    """One process of stand-in bots; remembers every (time ns, answer) per bot."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        self.ready = threading.Event()
        self.seen: dict[str, list[tuple[int, str]]] = {}
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        read_output(self.proc.stdout, self.ready, self._record)

    def _record(self, ns: int, bot: str, answer: str) -> None:
        with self.lock:
            self.seen.setdefault(bot, []).append((ns, answer))

    def first(self, answer: str, since_ns: int) -> dict[str, int]:
        with self.lock:
            return {
                bot: next(t for t, a in entries if a == answer and t >= since_ns)
                for bot, entries in self.seen.items()
                if any(a == answer and t >= since_ns for t, a in entries)
            }

    def now(self, answer: str) -> int:
        with self.lock:
            return sum(1 for entries in self.seen.values() if entries and entries[-1][1] == answer)


def wait(predicate: object, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def connections(dbname: str) -> Counter[str]:
    with connect(admin_dsn()) as admin:
        rows = admin.execute("SELECT application_name FROM pg_stat_activity WHERE datname = %s", (dbname,)).fetchall()
    return Counter(str(r[0]) for r in rows)


class Trace:
    """Where one round's time went: the kill call until its flag's NOTIFY was committed (the
    kill's own connection and insert), then per host the first of its bots refusing (the
    NOTIFY's delivery to that host's agent, its push, that bot's reader waking), then the
    spread to its last bot (the other reader threads of the host's process being scheduled)."""

    def __init__(self) -> None:
        self.flag: list[float] = []
        self.earliest: list[float] = []
        self.fanout: list[float] = []
        self.first: list[float] = []
        self.spread: list[float] = []

    def add(self, t0: int, flagged: int, hosts: list[Hosted]) -> None:
        self.flag.append((flagged - t0) / 1e6)
        # Read on the bots' side only (the issuing process may be descheduled right after its
        # commit): the first bot of the fleet refusing, then every bot after that one.
        every = [t for host in hosts for t in host.first(KILLED, t0).values()]
        self.earliest.append((min(every) - t0) / 1e6)
        self.fanout += [(t - min(every)) / 1e6 for t in every]
        for host in hosts:
            stamps = host.first(KILLED, t0).values()
            self.first.append((min(stamps) - flagged) / 1e6)
            self.spread.append((max(stamps) - min(stamps)) / 1e6)


def kill_round(url: str, hosts: list[Hosted], bots: list[str], trace: Trace | None = None) -> list[float]:
    """Fleet kill; the ms until each bot's view denied; then lift it and restore every bot."""
    fleet = SafetyService(PostgresStore(url))
    fleet.status()  # the service's connection is open, as in a running control center
    store = fleet.store
    assert isinstance(store, PostgresStore)
    raise_flag = store.raise_kill_flag
    flagged = [0]

    def timed_flag(reason: str, who: Who, now: datetime) -> None:
        raise_flag(reason, who, now)
        flagged[0] = time.time_ns()  # committed: its NOTIFY is on its way to every listener

    store.raise_kill_flag = timed_flag  # type: ignore[method-assign]
    t0 = time.time_ns()
    fleet.activate_kill("benchmark fleet kill", WHO)
    wait(lambda: sum(len(h.first(KILLED, t0)) for h in hosts) == len(bots), "every bot refusing")
    latencies = [(t - t0) / 1e6 for h in hosts for t in h.first(KILLED, t0).values()]
    if trace is not None:
        trace.add(t0, flagged[0], hosts)
    fleet.deactivate_kill("benchmark round over", WHO)
    fleet.store.close()  # type: ignore[attr-defined]
    restore(url, bots)
    wait(lambda: sum(h.now(DRY) for h in hosts) == len(bots), "every bot trading again")
    return latencies


ACCOUNT = "bench-account"


def account_round(url: str, hosts: list[Hosted], members: set[str], bots: list[str]) -> tuple[list[float], int]:
    """An account kill: the ms until each bot on the account refused, and how many bots not on
    it refused meanwhile (must be 0); then lift it and restore the account's bots."""
    account = SafetyService(PostgresStore(url, bot=f"@account:{ACCOUNT}"))
    account.status()  # its connection open, as in a running control center
    t0 = time.time_ns()
    account.activate_kill("benchmark account kill", WHO)

    def refused() -> dict[str, int]:
        return {b: t for h in hosts for b, t in h.first(KILLED, t0).items()}

    wait(lambda: members <= set(refused()), "the account's bots refusing")
    seen = refused()
    latencies = [(seen[b] - t0) / 1e6 for b in members]
    spilled = len(set(seen) - members)
    account.deactivate_kill("benchmark round over", WHO)
    account.store.close()  # type: ignore[attr-defined]
    restore(url, sorted(members))
    wait(lambda: sum(h.now(DRY) for h in hosts) == len(bots), "every bot trading again")
    return latencies, spilled


def restore(url: str, bots: list[str]) -> None:
    for bot in bots:  # one short connection at a time: a default server has 100
        store = PostgresStore(url, bot=bot)
        SafetyService(store).restore(WHO)
        store.close()


def figures(name: str, samples: list[float]) -> str:
    return (
        f"{name}: p50 {percentile(samples, 0.5):.1f} ms, p99 {percentile(samples, 0.99):.1f} ms, "
        f"max {max(samples):.1f} ms (n={len(samples)})"
    )


def check_cost(view: object, calls: int) -> float:
    check = view.check  # type: ignore[attr-defined]
    started = time.perf_counter_ns()
    for _ in range(calls):
        check()
    return (time.perf_counter_ns() - started) / calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--bots-per-host", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--beat", type=float, default=1.0, help="heartbeat period of each bot (nija run: 1 s)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each transitions run")
    parser.add_argument("--stale", type=float, default=2.0, help="NIJA_STALE_AFTER of agents and bots")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(SRC), "NIJA_STALE_AFTER": str(args.stale)}
    with temporary_database(prefix="nija_bench") as url, tempfile.TemporaryDirectory() as tmp:
        dbname = urlsplit(url).path.lstrip("/")
        quiet = transitions(url, [f"tx{i}" for i in range(8)], args.seconds)

        # Today's path, for comparison: 20 bots, each view with its own connection.
        direct_bots = [f"direct{i}" for i in range(20)]
        restore(url, direct_bots)
        direct = Hosted(
            [
                sys.executable,
                "-m",
                "nija.store.agent.watch",
                "-",
                *direct_bots,
                "--direct",
                url,
                "--stale",
                str(args.stale),
            ],
            env,
        )
        wait(direct.ready.is_set, "the direct views")
        direct_conns = connections(dbname)
        direct_lat = kill_round(url, [direct], direct_bots)
        direct.proc.kill()
        direct.proc.wait()

        names = {h: [f"h{h}-b{b}" for b in range(args.bots_per_host)] for h in range(args.hosts)}
        bots = [b for host in names.values() for b in host]
        started = time.monotonic()
        restore(url, bots)
        setup_s = time.monotonic() - started
        # Two bots of every host trade one exchange account (an account spans hosts).
        members = {b for host in names.values() for b in host[:2]}
        for bot in sorted(members):
            member = PostgresStore(url, bot=bot)
            member.declare_account(ACCOUNT)
            member.close()
        agents, hosts = [], []
        for h in names:
            sock = Path(tmp) / f"host{h}" / "agent.sock"
            agents.append(
                subprocess.Popen(
                    [sys.executable, "-m", "nija", "agent", "--store", url, "--socket", str(sock)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=env,
                )
            )
        for h, host_bots in names.items():
            sock = Path(tmp) / f"host{h}" / "agent.sock"
            wait(sock.exists, f"agent {h}")
            command = [sys.executable, "-m", "nija.store.agent.watch", str(sock), *host_bots]
            hosts.append(Hosted([*command, "--stale", str(args.stale), "--beat", str(args.beat)], env))
        try:
            wait(lambda: all(h.ready.is_set() for h in hosts), "every bot's view confirmed")
            wait(lambda: sum(h.now(DRY) for h in hosts) == len(bots), "every bot allowed")
            time.sleep(2.0)
            held = connections(dbname)
            before = commits(dbname)
            time.sleep(args.seconds)
            tx_rate = (commits(dbname) - before) / args.seconds

            latencies: list[float] = []
            trace = Trace()
            for _ in range(args.rounds):
                latencies += kill_round(url, hosts, bots, trace)
            account_lat: list[float] = []
            spilled = 0
            for _ in range(args.rounds):
                lat, spill = account_round(url, hosts, members, bots)
                account_lat += lat
                spilled += spill

            # The permission check's cost, in this process, through one of the agents.
            view = AgentPermissionView(Path(tmp) / "host0" / "agent.sock", "h0-b0", stale_after_s=args.stale)
            view.wait_confirmed(30)
            agent_ns = check_cost(view, 200_000)
            view.close()
            own = PostgresStore(url, bot="h0-b0", stale_after_s=args.stale)
            own_view = own.permission_view()
            own_view.wait_confirmed(30)
            own_ns = check_cost(own_view, 200_000)
            own.close()

            loaded = transitions(url, [f"tx{i}" for i in range(8)], args.seconds)
        finally:
            for p in [*(h.proc for h in hosts), *agents]:
                p.kill()
            for p in [*(h.proc for h in hosts), *agents]:
                p.wait()

    print(f"fleet through host agents: {args.hosts} hosts x {args.bots_per_host} bots = {len(bots)} bots")
    print(f"  (bots: light stand-ins, one view each, a beat every {args.beat:g} s through the agent)")
    print(f"  setup: {len(bots)} bots restored to DRY_RUN in {setup_s:.1f} s")
    print(
        f"  connections held: {sum(held.values())} = "
        + ", ".join(f"{n or '(none)'} {c}" for n, c in held.most_common())
    )
    print(f"    baseline, 20 bots each with its own view: {sum(direct_conns.values())} connections")
    print(f"  database load with the fleet running: {tx_rate:,.0f} transactions/s")
    print("  " + figures(f"fleet kill to all {len(bots)} refusing, {args.rounds} rounds", latencies))
    print("  " + figures("    baseline, fleet kill to 20 bots with their own views", direct_lat))
    print("  " + figures(f"account kill to its {len(members)} bots (2 per host) refusing", account_lat))
    print(f"    bots not on the account that refused during its kill: {spilled} (must be 0)")
    print("  where it went: " + figures("the kill call to its flag committed", trace.flag))
    print("    " + figures("the kill call to the first bot of the fleet refusing", trace.earliest))
    print("    " + figures("then to each bot refusing (fan-out: NOTIFY to 50 agents, push, readers)", trace.fanout))
    print("    " + figures("then to each host's first bot refusing (NOTIFY, agent, push)", trace.first))
    print("    " + figures("then to the host's last bot (its process's other readers)", trace.spread))
    print(
        f"  permission check: {agent_ns:.0f} ns through the agent, {own_ns:.0f} ns with its own view "
        f"(ratio {agent_ns / own_ns:.2f})"
    )
    print(
        f"  transitions/s, 8 clients: {quiet:,.0f} quiet, {loaded:,.0f} with the fleet running "
        f"(ratio {loaded / quiet:.2f})"
    )


if __name__ == "__main__":
    main()
