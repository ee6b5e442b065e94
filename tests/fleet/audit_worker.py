"""One concurrent writer: ``python audit_worker.py URL SCOPE ROUNDS DATA_DIR``.

SCOPE is a bot name, ``@fleet`` or ``account:NAME``; the service is built like every entry
point's (assembly), so the fleet audit recorder is attached. Each round changes something
(restore/reset or a kill and its deactivation); refusals under another scope's kill are
expected and counted. Prints ``done CHANGES REFUSED``."""

from __future__ import annotations

import os
import sys

from nija.assembly import build_service
from nija.domain.errors import SafetyRefusal
from nija.domain.transitions import Who
from nija.store.selection import StoreSelection


def main() -> None:
    url, scope, rounds, data_dir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if scope == "@fleet":
        selection = StoreSelection(url, fleet=True)
    elif scope.startswith("account:"):
        selection = StoreSelection(url, account=scope.removeprefix("account:"))
    else:
        selection = StoreSelection(url, bot=scope)
    service = build_service(data_dir, selection=selection)
    who = Who(f"writer-{os.getpid()}", "test")
    changes = refused = 0
    for i in range(rounds):
        try:
            if scope.startswith(("@", "account:")) or i % 3 == 2:
                changes += service.activate_kill(f"drill {i}", who).changed
                changes += service.deactivate_kill(f"drill {i} over", who).changed
            else:
                changes += len(service.restore(who).transitions)
                changes += len(service.reset(who).transitions)
        except SafetyRefusal:
            refused += 1
    if service.listener_errors:
        print("errors", service.listener_errors, file=sys.stderr)
        sys.exit(1)
    print("done", changes, refused)


if __name__ == "__main__":
    main()
