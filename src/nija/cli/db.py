"""``nija db upgrade|version`` (the fleet database's schema) and ``nija store copy``."""

from __future__ import annotations

from pathlib import Path

import click

from nija.cli import render
from nija.cli.common import EXIT_CODES_HELP, cli_who, handles_errors, print_json
from nija.domain.errors import UsageProblem
from nija.service import system_clock
from nija.store.copy import copy_records
from nija.store.json_files import JsonFileStore
from nija.store.ports import Store
from nija.store.selection import StoreSelection

_STORE = click.option(
    "--store", "url", envvar="NIJA_STORE", required=True, metavar="URL", help="postgresql://... (default: NIJA_STORE)."
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")


@click.group("db", help="The fleet database (PostgreSQL): schema migrations.")
def db_group() -> None:
    pass


@db_group.command(epilog=EXIT_CODES_HELP)
@_STORE
@_JSON
@handles_errors
def upgrade(url: str, as_json: bool) -> None:
    """Apply the missing schema migrations (safe to run again; concurrent runs wait)."""
    from nija.store.postgres import CODE_VERSION
    from nija.store.postgres import upgrade as apply
    from nija.store.postgres.connect import connect, database_errors, mask

    StoreSelection(url).validated()
    conn = connect(url)
    with conn, database_errors(url):
        applied = apply(conn)
    if as_json:
        print_json({"applied": [m.version for m in applied], "version": CODE_VERSION})
        return
    for migration in applied:
        click.echo(f"Applied migration {migration.version:04d} {migration.name}")
    click.echo(f"✅ {mask(url)} is at schema version {CODE_VERSION}" + ("" if applied else " (nothing to do)"))


@db_group.command(epilog=EXIT_CODES_HELP)
@_STORE
@_JSON
@handles_errors
def version(url: str, as_json: bool) -> None:
    """Show the database's schema version and the one this NIJA needs."""
    from nija.store.postgres import CODE_VERSION
    from nija.store.postgres.connect import connect, database_errors
    from nija.store.postgres.schema import current_version

    StoreSelection(url).validated()
    conn = connect(url)
    with conn, database_errors(url):
        found = current_version(conn)
    if as_json:
        print_json({"database": found, "code": CODE_VERSION})
        return
    click.echo(f"Database schema version {found}; this NIJA needs {CODE_VERSION}")


@click.group("store", help="Move records between the JSON files and the fleet database.")
def store_group() -> None:
    pass


@store_group.command("copy", epilog=EXIT_CODES_HELP)
@click.option("--from", "source", required=True, metavar="DIR|URL", help="A data directory or postgresql://...")
@click.option("--to", "target", required=True, metavar="DIR|URL", help="A data directory or postgresql://...")
@click.option("--bot", required=True, help="The bot's name on the PostgreSQL side.")
@_JSON
@handles_errors
def copy(source: str, target: str, bot: str, as_json: bool) -> None:
    """Copy one bot's state, kill switch and full history; the target must be empty."""
    from_store, to_store = _open(source, bot), _open(target, bot)
    if from_store.location == to_store.location:
        raise UsageProblem("--from and --to are the same store", "Name two different stores")
    done = copy_records(from_store, to_store, cli_who(), system_clock())
    if as_json:
        print_json({"transitions": done.transitions, "kill_events": done.kill_events, "kill_flag": done.kill_flag})
        return
    render.console().print(
        f"✅ Copied {done.transitions} transitions and {done.kill_events} kill switch events "
        f"from {from_store.location} to {to_store.location}" + (" (kill raised there too)" if done.kill_flag else "")
    )


def _open(where: str, bot: str) -> Store:
    if "://" in where:
        from nija.store.postgres import PostgresStore

        StoreSelection(where, bot).validated()
        return PostgresStore(where, bot=bot)
    path = Path(where)
    if not path.is_dir():
        raise UsageProblem(f"{where} is not a directory", "Create it, or check the path")
    return JsonFileStore(path)
