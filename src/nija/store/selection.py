"""Which store a command works on: the JSON files of a data directory (the default) or
one scope (the fleet, or a bot) of a PostgreSQL database."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from nija.domain.errors import UsageProblem

_BOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True, slots=True)
class StoreSelection:
    """``--store URL`` / NIJA_STORE, ``--bot NAME`` / NIJA_BOT and ``--fleet``."""

    url: str | None = None
    bot: str | None = None
    fleet: bool = False

    @classmethod
    def from_env(cls) -> StoreSelection:
        return cls(os.environ.get("NIJA_STORE") or None, os.environ.get("NIJA_BOT") or None)

    @property
    def is_postgres(self) -> bool:
        return self.url is not None

    def validated(self) -> StoreSelection:
        if self.url is not None and not self.url.startswith(_SCHEMES):
            raise UsageProblem(
                f"Unsupported store {self.url.split('://')[0]!r}: only postgresql://... URLs are supported",
                "Pass --store postgresql://USER@HOST:PORT/DB (or NIJA_STORE), or leave it unset "
                "for the JSON files in --data-dir",
                code="BAD_STORE_URL",
            )
        if self.bot is not None and self.fleet:
            raise UsageProblem("--bot and --fleet name different scopes", "Pass one of them", code="BAD_SCOPE")
        if (self.bot is not None or self.fleet) and self.url is None:
            raise UsageProblem(
                "--bot and --fleet need the PostgreSQL fleet store",
                "Pass --store postgresql://... (or set NIJA_STORE); the JSON files hold one bot",
                code="BAD_SCOPE",
            )
        # fullmatch: match() with '$' would let a trailing newline through
        if self.bot is not None and not _BOT_NAME.fullmatch(self.bot):
            raise UsageProblem(
                f"Invalid bot name {self.bot!r}",
                "Use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit",
                code="BAD_SCOPE",
            )
        return self
