"""Storage backends behind one port (``ports.Store``)."""

from __future__ import annotations

import os
from pathlib import Path

from nija.domain.errors import UsageProblem
from nija.store.json_files import JsonFileStore
from nija.store.lock import DEFAULT_TIMEOUT_S
from nija.store.ports import PermissionView, Store, Transaction

__all__ = ["JsonFileStore", "PermissionView", "Store", "Transaction", "open_store"]


def open_store(data_dir: str | Path | None = None) -> Store:
    """The store for a data directory: ``--data-dir``, else NIJA_DATA_DIR, else the cwd."""
    chosen = data_dir if data_dir is not None else os.environ.get("NIJA_DATA_DIR") or "."
    timeout = os.environ.get("NIJA_LOCK_TIMEOUT")
    try:
        lock_timeout_s = float(timeout) if timeout else DEFAULT_TIMEOUT_S
    except ValueError:
        raise UsageProblem(
            f"NIJA_LOCK_TIMEOUT must be a number of seconds, not {timeout!r}", "Set it to e.g. 10, or unset it"
        ) from None
    return JsonFileStore(Path(chosen), lock_timeout_s=lock_timeout_s)
