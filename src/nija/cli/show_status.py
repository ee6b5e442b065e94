"""What ``status`` shows: the diagnosis, the bot's exchange checks and its kill receipt.
No click here: the click command (``nija.cli.recovery``) and the fast path of a plain
``status`` (``nija.cli.plain``) both call ``show_status``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nija.cli import render
from nija.cli.invocation import command_service
from nija.cli.output import print_json
from nija.domain.errors import InconsistenciesFound
from nija.store import config_dir

if TYPE_CHECKING:
    from nija.exchange_checks import ExchangeChecks
    from nija.kill_receipt import KillReceipt

RECEIPT_FILE, CHECKS_FILE = ".nija_kill_receipt.json", ".nija_exchange_checks.json"  # as in those modules


def show_status(data_dir: Path | None, as_json: bool) -> int:
    """Show the status; the exit code: 5 (InconsistenciesFound) if it found any, else 0."""
    service = command_service(data_dir)
    if getattr(service.store, "is_fleet", False):  # rich's tables load only for the fleet
        from nija.cli.fleet_status import show_fleet

        show_fleet(service.store, as_json)
        return 0
    report = service.status()
    directory = config_dir(data_dir)
    receipt, exchange = _exchange_reports(directory)
    if as_json:
        from nija.views import status_view, to_json  # the views load for --json only (start-up)

        view = to_json(status_view(report, service.store.location))
        exchange_view = exchange.model_dump(mode="json") if exchange else None
        receipt_json = receipt.model_dump(mode="json") | {"verdict": receipt.verdict} if receipt else None
        print_json({**view, "kill_receipt": receipt_json, "exchange_checks": exchange_view})
    else:
        out = render.out()
        render.status(out, report, service.store.location)
        if exchange is not None:
            render.exchange_checks(out, exchange)
        if receipt is not None:
            render.kill_receipt(out, receipt)
    return InconsistenciesFound.exit_code if report.inconsistencies else 0


def _exchange_reports(directory: Path) -> tuple[KillReceipt | None, ExchangeChecks | None]:
    """The bot's kill receipt and exchange checks, if it wrote any (pydantic loads only then)."""
    if not (directory / RECEIPT_FILE).exists() and not (directory / CHECKS_FILE).exists():
        return None, None
    from nija.exchange_checks import read_checks
    from nija.kill_receipt import read_receipt

    return read_receipt(directory), read_checks(directory)
