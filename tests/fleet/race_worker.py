"""One racing client: ``python race_worker.py URL BOT ROUNDS``; prints how many
transitions it recorded. Each process opens its own store (its own connections)."""

from __future__ import annotations

import os
import sys

from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.postgres import PostgresStore


def main() -> None:
    url, bot, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    service = SafetyService(PostgresStore(url, bot=bot))
    who = Who(f"racer-{os.getpid()}", "test")
    recorded = 0
    for _ in range(rounds):
        recorded += len(service.restore(who).transitions)
        recorded += len(service.reset(who).transitions)
    print(recorded)


if __name__ == "__main__":
    main()
