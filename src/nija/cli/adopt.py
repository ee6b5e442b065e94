"""``nija adopt-orders``: the operator's word that a data directory that was moved to another
file system or restored from a backup really is the bot that placed the orders and opened
the positions recorded in it (nija.runtime.instance). Until then they are foreign: never
cancelled or sold by it. Never run it on a copy of a bot that still runs elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

import click

from nija.cli.common import EXIT_CODES_HELP, handles_errors
from nija.domain.errors import StorageUnavailable
from nija.runtime.brokers.owned import FILE_PREFIX, OwnedBook
from nija.runtime.instance import adopt_replaced, instance_of
from nija.runtime.run_claim import no_bot_running
from nija.store import config_dir


@click.command("adopt-orders", epilog=EXIT_CODES_HELP)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="NIJA_DATA_DIR",
    help="The moved or restored data directory (default: NIJA_DATA_DIR, else the current directory).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@handles_errors
def adopt_orders(data_dir: Path | None, yes: bool) -> None:
    """Adopt the orders and positions recorded in a moved or restored data directory."""
    directory = config_dir(data_dir)
    if not directory.is_dir():
        raise StorageUnavailable(f"The data directory {directory} does not exist", "Pass the bot's --data-dir")
    with no_bot_running(directory):
        instance = instance_of(directory)
        accounts = {_account(p) for p in directory.glob(f"{FILE_PREFIX}.*.json")}
        books = [OwnedBook(directory, account, instance) for account in sorted(a for a in accounts if a)]
        records = [p.name for book in books for p in book.foreign_records]
        chain = {i for i in (instance.replaced, *instance.inherited) if i}
        if not records and chain <= set(instance.adopted):
            click.echo(f"Nothing to adopt: {directory} holds no orders or positions of another instance.")
            return
        click.echo(
            f"{directory} is instance {instance.id}. Adopting makes this bot cancel, and on a kill with "
            "flatten_on_kill sell, what these recorded: "
            + (", ".join(records) or f"the guard's orders of instance(s) {', '.join(sorted(chain))}")
        )
        click.echo("Do this only if no other bot runs from a copy of this directory.")
        if not yes:
            click.confirm("Adopt them?", default=False, abort=True)
        adopt_replaced(directory)
        adopted = sum(book.adopt_foreign() for book in books)
    click.echo(f"Adopted {adopted} record(s) of orders and positions; the guard's earlier client ids are its own.")


def _account(path: Path) -> str | None:
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None  # unreadable: OwnedBook refuses it when the bot starts, naming it
    account = doc.get("account") if isinstance(doc, dict) else None
    return account if isinstance(account, str) and path.name.startswith(f"{FILE_PREFIX}.{account}.") else None
