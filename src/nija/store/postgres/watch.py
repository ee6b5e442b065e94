"""Watch one bot's order gate against the fleet database, as a running bot would:
``python -m nija.store.postgres.watch URL BOT``.

Prints ``READY`` once the view is confirmed, then one line per change of the answer:
``<unix time ns> <ALLOW|DENY> <code>``. Checks as fast as it can (a bot's hot path), so
the time printed is when the gate first answered differently. Used by the fleet tests
and benchmarks as a stand-in for a bot process."""

from __future__ import annotations

import sys
import time

from nija.store.postgres.store import PostgresStore


def main(argv: list[str]) -> int:
    url, bot = argv[0], argv[1]
    stale_after = float(argv[2]) if len(argv) > 2 else 2.0
    view = PostgresStore(url, bot=bot, stale_after_s=stale_after).permission_view()
    if not view.wait_confirmed(30):
        print("NOT_CONFIRMED", flush=True)
        return 4
    print("READY", flush=True)
    last = ""
    while True:
        permission = view.check()
        answer = f"{'ALLOW' if permission.allowed else 'DENY'} {permission.code}"
        if answer != last:
            print(f"{time.time_ns()} {answer}", flush=True)
            last = answer
        time.sleep(0.001)  # a busy bot checks often; leave CPU for the other bots on the host


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
