"""Storage backends behind one port (``ports.Store``).

Nothing is imported here at load: the emergency path raises the kill file through
``store.kill_raise`` before the stores load; the names below load on first use."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from nija.store.json_files import JsonFileStore
    from nija.store.ports import PermissionView, Store, Transaction
    from nija.store.selection import StoreSelection

__all__ = ["JsonFileStore", "PermissionView", "Store", "StoreSelection", "Transaction", "open_store"]

_LAZY = {
    "JsonFileStore": "nija.store.json_files",
    "PermissionView": "nija.store.ports",
    "Store": "nija.store.ports",
    "Transaction": "nija.store.ports",
    "StoreSelection": "nija.store.selection",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nija.store' has no attribute {name!r}")


def open_store(data_dir: str | Path | None = None, selection: StoreSelection | None = None) -> Store:
    """The store for a data directory (``--data-dir``, else NIJA_DATA_DIR, else the cwd),
    or, when a PostgreSQL URL is selected (``--store``, else NIJA_STORE), one scope of it."""
    from nija.domain.errors import UsageProblem
    from nija.store.selection import StoreSelection

    chosen = (selection or StoreSelection.from_env()).validated()
    if chosen.url is not None:
        from nija.store.postgres import PostgresStore
        from nija.store.postgres.rows import account_scope

        scope = account_scope(chosen.account) if chosen.account is not None else chosen.bot
        return PostgresStore(chosen.url, bot=scope)
    from nija.store.json_files import JsonFileStore
    from nija.store.lock import DEFAULT_TIMEOUT_S

    timeout = os.environ.get("NIJA_LOCK_TIMEOUT")
    try:
        lock_timeout_s = float(timeout) if timeout else DEFAULT_TIMEOUT_S
    except ValueError:
        raise UsageProblem(
            f"NIJA_LOCK_TIMEOUT must be a number of seconds, not {timeout!r}", "Set it to e.g. 10, or unset it"
        ) from None
    return JsonFileStore(config_dir(data_dir), lock_timeout_s=lock_timeout_s)


def config_dir(data_dir: str | Path | None = None) -> Path:
    """The data directory: ``--data-dir``, else NIJA_DATA_DIR, else the current directory."""
    from pathlib import Path

    return Path(data_dir if data_dir is not None else os.environ.get("NIJA_DATA_DIR") or ".")
