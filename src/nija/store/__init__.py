"""Storage backends behind one port (``ports.Store``)."""

from __future__ import annotations

import os
from pathlib import Path

from nija.store.json_files import JsonFileStore
from nija.store.ports import PermissionView, Store, Transaction

__all__ = ["JsonFileStore", "PermissionView", "Store", "Transaction", "open_store"]


def open_store(data_dir: str | Path | None = None) -> Store:
    """The store for a data directory: ``--data-dir``, else NIJA_DATA_DIR, else the cwd."""
    chosen = data_dir if data_dir is not None else os.environ.get("NIJA_DATA_DIR") or "."
    return JsonFileStore(Path(chosen))
