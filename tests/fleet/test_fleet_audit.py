"""The fleet's audit trail in the database: written in the same transaction as the change,
one valid chain under concurrent writers from several processes, and tampering detected
by ``nija audit verify --store URL`` (exit 5)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nija.assembly import build_service
from nija.domain.transitions import Who
from nija.store.postgres import PostgresStore
from nija.store.postgres.connect import connect
from nija.store.postgres.schema import CODE_VERSION, MIGRATIONS_TABLE, migrations
from nija.store.selection import StoreSelection
from tests.conftest import cli_env

WHO = Who("tester@host", "test")
WORKER = Path(__file__).with_name("audit_worker.py")


def nija(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nija", *args], capture_output=True, text=True, env=cli_env(), cwd=cwd, timeout=120
    )


def verify(url: str, cwd: Path) -> tuple[int, dict[str, object]]:
    done = nija("audit", "verify", "--store", url, "--json", cwd=cwd)
    return done.returncode, json.loads(done.stdout)


def service(url: str, data_dir: Path, **scope: str) -> object:
    return build_service(data_dir, selection=StoreSelection(url, **scope))  # type: ignore[arg-type]


def sql(url: str, query: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with connect(url) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def test_concurrent_changes_from_several_processes_make_one_valid_complete_chain(
    fleet_url: str, tmp_path: Path
) -> None:
    scopes = ["alpha", "beta", "gamma", "delta", "@fleet", "account:main-kraken"]
    with connect(fleet_url) as conn:  # two of the bots trade the account being killed
        for bot in scopes[:4]:
            conn.execute("INSERT INTO nija_scope (name) VALUES (%s)", (bot,))
        conn.execute("UPDATE nija_scope SET account = 'main-kraken' WHERE name IN ('alpha', 'beta')")
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), fleet_url, scope, "12", str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
        )
        for scope in scopes
    ]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0] * len(workers), outputs
    assert all(out.startswith("done") for out, _ in outputs)

    code, view = verify(fleet_url, tmp_path)
    assert code == 0, view
    assert view["intact"] is True
    assert view["complete"] is True
    # Every history row written (the cascades' too) has exactly one record, numbered 1..N.
    transitions, kills, audited, entries, top = sql(
        fleet_url,
        "SELECT (SELECT count(*) FROM nija_transition), (SELECT count(*) FROM nija_kill_event),"
        " (SELECT count(*) FROM nija_audit), (SELECT count(*) FROM nija_audit WHERE entry IS NOT NULL),"
        " (SELECT max(seq) FROM nija_audit)",
    )[0]
    assert entries == int(str(transitions)) + int(str(kills))
    assert top == audited == view["records"]
    assert int(str(audited)) > 100  # several processes really wrote


@pytest.fixture
def audited_fleet(fleet_url: str, tmp_path: Path) -> str:
    """A fleet with a few audited changes: two bots restored, a fleet kill and its end."""
    for bot in ("alpha", "beta"):
        service(fleet_url, tmp_path, bot=bot).restore(WHO)  # type: ignore[attr-defined]
    fleet = service(fleet_url, tmp_path, fleet=True)  # type: ignore[arg-type]
    fleet.activate_kill("drill", WHO)  # type: ignore[attr-defined]
    fleet.deactivate_kill("drill over", WHO)  # type: ignore[attr-defined]
    code, view = verify(fleet_url, tmp_path)
    assert code == 0, view
    assert int(str(view["records"])) >= 10, view
    return fleet_url


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ("UPDATE nija_audit SET line = replace(line, 'drill', 'dr1ll') WHERE seq = 6", "edited"),
        ("DELETE FROM nija_audit WHERE seq = 4", "expected record #4 here, found #5"),
        ("DELETE FROM nija_audit WHERE seq = (SELECT max(seq) FROM nija_audit)", "records removed from the end"),
        (
            "UPDATE nija_audit SET seq = -3 WHERE seq = 3; UPDATE nija_audit SET seq = 3 WHERE seq = 4;"
            " UPDATE nija_audit SET seq = 4 WHERE seq = -3",
            "renumbered or moved",
        ),
        ("UPDATE nija_audit SET scope = 'beta' WHERE seq = 1", "differ from the hashed record"),
    ],
    ids=["edited", "deleted", "cut-at-end", "reordered", "moved-to-another-bot"],
)
def test_tampering_with_the_fleet_chain_is_detected_with_exit_5(
    audited_fleet: str, tmp_path: Path, tamper: str, expected: str
) -> None:
    sql(audited_fleet, tamper)
    code, view = verify(audited_fleet, tmp_path)
    assert code == 5
    assert view["intact"] is False
    problem = view["problem"]
    assert isinstance(problem, dict)
    assert expected in str(problem["message"])
    plain = nija("audit", "verify", "--store", audited_fleet, cwd=tmp_path)
    assert plain.returncode == 5
    assert "NOT intact" in plain.stdout + plain.stderr


def test_an_edited_record_with_its_hash_recomputed_breaks_the_next_link(audited_fleet: str, tmp_path: Path) -> None:
    with connect(audited_fleet) as conn:
        line = str(conn.execute("SELECT line FROM nija_audit WHERE seq = 2").fetchone()[0])  # type: ignore[index]
        from nija.audit import chain

        body, _ = chain.split(line.encode())
        forged = body.replace(b'"tester@host"', b'"someone@else"')
        conn.execute(
            "UPDATE nija_audit SET line = %s WHERE seq = 2",
            ((forged[:-1] + b',"hash":"' + chain.digest(forged).encode() + b'"}').decode(),),
        )
    code, view = verify(audited_fleet, tmp_path)
    assert code == 5
    assert view["problem"] == {
        "seq": 3,
        "message": "it does not follow the record before it (records removed, inserted or reordered)",
    }


def test_a_history_row_written_around_nija_has_no_record_and_verify_says_so(audited_fleet: str, tmp_path: Path) -> None:
    sql(
        audited_fleet,
        "INSERT INTO nija_transition (scope, from_state, to_state, reason, at, actor, source) "
        "VALUES ('alpha', 'DRY_RUN', 'OFF', 'by hand', now(), 'mallory', 'psql')",
    )
    code, view = verify(audited_fleet, tmp_path)
    assert code == 5
    assert view["intact"] is True
    assert view["complete"] is False
    assert "alpha DRY_RUN -> OFF" in str(view["missing"])


def test_an_audit_record_that_cannot_be_written_rolls_the_change_back(fleet_url: str, tmp_path: Path) -> None:
    sql(
        fleet_url,
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN RAISE EXCEPTION 'audit disk full'; END $$;"
        " CREATE TRIGGER refuse BEFORE INSERT ON nija_audit FOR EACH ROW EXECUTE FUNCTION refuse()",
    )
    done = nija("restore", "--store", fleet_url, "--bot", "alpha", "--yes", cwd=tmp_path)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "audit disk full" in done.stdout + done.stderr
    assert sql(fleet_url, "SELECT count(*) FROM nija_transition") == [(0,)]  # the change was not committed


def test_audit_show_bot_lists_that_bots_records_only(audited_fleet: str, tmp_path: Path) -> None:
    done = nija("audit", "show", "--store", audited_fleet, "--bot", "alpha", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown
    assert {r["scope"] for r in shown} == {"alpha"}
    # Its own restore and the fleet kill recorded on it, in order.
    assert [r["source"] for r in shown if r["kind"] == "kill_activated"] == ["fleet"]
    everything = json.loads(nija("audit", "show", "--store", audited_fleet, "--json", cwd=tmp_path).stdout)
    assert {r["scope"] for r in everything} == {"alpha", "beta", "@fleet"}
    assert [r["seq"] for r in everything] == list(range(1, len(everything) + 1))


def test_audit_show_bot_on_the_json_files_is_refused_with_exit_2(tmp_path: Path) -> None:
    done = nija("audit", "show", "--bot", "alpha", cwd=tmp_path)
    assert done.returncode == 2
    assert "--store" in done.stdout + done.stderr


def test_an_existing_installation_upgrades_cleanly_and_its_new_changes_are_audited(
    bare_url: str, tmp_path: Path
) -> None:
    # A fleet at schema version 3 with history, as installed before the audit trail.
    with connect(bare_url) as conn, conn.transaction():
        conn.execute(f"CREATE TABLE {MIGRATIONS_TABLE} (version integer PRIMARY KEY, name text NOT NULL)")
        for migration in migrations()[:3]:
            conn.execute(migration.sql.encode())
            conn.execute(f"INSERT INTO {MIGRATIONS_TABLE} VALUES (%s, %s)", (migration.version, migration.name))  # noqa: S608
        conn.execute("INSERT INTO nija_scope (name, state) VALUES ('old', 'DRY_RUN')")
        conn.execute(
            "INSERT INTO nija_transition (scope, from_state, to_state, reason, at, actor, source) "
            "VALUES ('old', 'OFF', 'DRY_RUN', 'before the audit trail', now(), 'ops', 'cli')"
        )
    refused = nija("status", "--store", bare_url, "--bot", "old", cwd=tmp_path)
    assert refused.returncode == 4
    assert "db upgrade" in refused.stdout + refused.stderr
    upgraded = nija("db", "upgrade", "--store", bare_url, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert sql(bare_url, f"SELECT max(version) FROM {MIGRATIONS_TABLE}") == [(CODE_VERSION,)]  # noqa: S608
    code, view = verify(bare_url, tmp_path)
    assert code == 0
    assert view["records"] == 0
    assert view["complete"] is True
    service(bare_url, tmp_path, bot="old").reset(WHO)  # type: ignore[attr-defined]
    code, view = verify(bare_url, tmp_path)
    assert code == 0, view
    assert view["complete"] is True, view
    store = PostgresStore(bare_url)
    try:
        found = store.audit_records(scope="old")
    finally:
        store.close()
    # The transition, in its transaction; then the reset itself (an event of its own).
    assert [(r.seq, r.kind, r.details) for r in found] == [  # type: ignore[union-attr]
        (1, "transition", {"from": "DRY_RUN", "to": "OFF"}),
        (2, "reset", {"path": "DRY_RUN \u2192 OFF"}),
    ]
