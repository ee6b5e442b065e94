"""One bot's report to its account: ``python account_worker.py URL BOT ACCOUNT LOSS EXPOSURE DATA_DIR``.

Does what a live bot's report does (``nija.runtime.account_report``): declares its account,
sends its figures, and the database judges the account. Prints ``breach CODE`` or ``ok``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from nija.account_risk import report
from nija.domain.transitions import Who
from nija.store.postgres import PostgresStore


def main() -> None:
    url, bot, account, loss, exposure, data_dir = sys.argv[1:7]
    store = PostgresStore(url, bot=bot)
    try:
        breach = report(
            store,
            account,
            daily_loss=float(loss),
            gross_exposure=float(exposure),
            who=Who(bot, "bot"),
            now=datetime.now(UTC),
            data_dir=Path(data_dir),
        )
    finally:
        store.close()
    print("ok" if breach is None else f"breach {breach.code}")


if __name__ == "__main__":
    main()
