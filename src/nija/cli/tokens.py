"""``nija token create|list|revoke``: API tokens for the control plane."""

from __future__ import annotations

from pathlib import Path

import click

from nija.api.tokens import Role, TokenFile
from nija.cli import render
from nija.cli.common import EXIT_CODES_HELP, cli_who, common_options, handles_errors, print_json
from nija.store import config_dir


def _tokens(data_dir: Path | None) -> TokenFile:
    return TokenFile(config_dir(data_dir))  # the data directory for every store


@click.group("token", help="API tokens for 'nija serve' (shown once, stored hashed).")
def token_group() -> None:
    pass


@token_group.command(epilog=EXIT_CODES_HELP)
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True, help="What the token may do.")
@common_options(mutating=False)
@handles_errors
def create(name: str, role: str, data_dir: Path | None, as_json: bool) -> None:
    """Create a token NAME (recorded as the actor of what it does). It is shown only once."""
    token, record = _tokens(data_dir).create(name, Role(role), cli_who().actor)
    if as_json:
        print_json({"name": record.name, "role": str(record.role), "token": token})
        return
    out = render.console()
    out.print(f"Token {record.name!r} ({record.role}) created. Copy it now: it is not shown again.", markup=False)
    click.echo(token)


@token_group.command("list", epilog=EXIT_CODES_HELP)
@common_options(mutating=False)
@handles_errors
def list_tokens(data_dir: Path | None, as_json: bool) -> None:
    """List token names, roles and dates (never the tokens)."""
    records = _tokens(data_dir).records()
    if as_json:
        print_json(
            [
                {
                    "name": r.name,
                    "role": str(r.role),
                    "created_at": r.created_at,
                    "created_by": r.created_by,
                    "revoked_at": r.revoked_at,
                }
                for r in records
            ]
        )
        return
    if not records:
        click.echo("No tokens. Create one with 'nija token create NAME --role viewer|operator|admin'.")
    for r in records:
        status = f"revoked {r.revoked_at}" if r.revoked_at else "active"
        click.echo(f"{r.name:<24} {r.role:<9} created {r.created_at} by {r.created_by}  {status}")


@token_group.command(epilog=EXIT_CODES_HELP)
@click.argument("name")
@common_options(mutating=False)
@handles_errors
def revoke(name: str, data_dir: Path | None, as_json: bool) -> None:
    """Revoke the token NAME: refused from the next request on."""
    record = _tokens(data_dir).revoke(name)
    if as_json:
        print_json({"name": record.name, "revoked_at": record.revoked_at})
        return
    click.echo(f"Token {record.name!r} revoked.")
