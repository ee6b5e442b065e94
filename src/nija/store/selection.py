"""Which store a command works on: the JSON files of a data directory (the default) or
one scope (the fleet, or a bot) of a PostgreSQL database."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from nija.domain.codes import ErrorCode
from nija.domain.errors import UsageProblem

_BOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def valid_bot_name(name: str) -> bool:
    return _BOT_NAME.fullmatch(name) is not None


_SCHEMES = ("postgresql://", "postgres://")
# libpq connection parameters that are secrets (passfile names where one is kept).
SECRET_PARAMETERS = frozenset({"password", "sslpassword", "passfile"})
HIDDEN = "***"


def mask_url(url: str) -> str:
    """The store URL without its secrets, for messages and ``location``: the password in the
    user part and every ``password``, ``sslpassword`` and ``passfile`` query parameter.
    A URL too malformed to take apart is hidden whole rather than shown."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return f"{url.split('://')[0]}://{HIDDEN}" if "://" in url else HIDDEN
    netloc = parts.netloc
    userinfo, at, hostport = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.partition(':')[0]}:{HIDDEN}@{hostport}"
    query = "&".join(_mask_parameter(item) for item in parts.query.split("&")) if parts.query else ""
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def redact(text: str, url: str) -> str:
    """``text`` (a driver's error message, say) with every secret of ``url`` replaced."""
    for secret in sorted(_secrets(url), key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    return text


def _secrets(url: str) -> set[str]:
    found: set[str] = set()
    userinfo = url.split("://", 1)[-1].split("/", 1)[0].rpartition("@")[0]
    if ":" in userinfo:
        found.add(userinfo.partition(":")[2])
    query = url.partition("?")[2].partition("#")[0]
    for item in query.split("&"):
        name, _, value = item.partition("=")
        if unquote(name).strip().lower() in SECRET_PARAMETERS:
            found.add(value)
    found |= {unquote(secret) for secret in found}
    return {secret for secret in found if len(secret) >= 1}


def _mask_parameter(item: str) -> str:
    name = item.partition("=")[0]
    if unquote(name).strip().lower() in SECRET_PARAMETERS:
        return f"{name}={HIDDEN}"
    return item


@dataclass(frozen=True, slots=True)
class StoreSelection:
    """``--store URL`` / NIJA_STORE, ``--bot NAME`` / NIJA_BOT and ``--fleet``."""

    url: str | None = None
    bot: str | None = None
    fleet: bool = False
    account: str | None = None  # an exchange account's kill scope (every bot trading it)

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
                code=ErrorCode.BAD_STORE_URL,
            )
        if sum((self.bot is not None, self.fleet, self.account is not None)) > 1:
            raise UsageProblem(
                "--bot, --account and --fleet name different scopes", "Pass one of them", code=ErrorCode.BAD_SCOPE
            )
        if (self.bot is not None or self.fleet or self.account is not None) and self.url is None:
            raise UsageProblem(
                "--bot, --account and --fleet need the PostgreSQL fleet store",
                "Pass --store postgresql://... (or set NIJA_STORE); the JSON files hold one bot",
                code=ErrorCode.BAD_SCOPE,
            )
        # fullmatch: match() with '$' would let a trailing newline through
        if self.bot is not None and not _BOT_NAME.fullmatch(self.bot):
            raise UsageProblem(
                f"Invalid bot name {self.bot!r}",
                "Use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit",
                code=ErrorCode.BAD_SCOPE,
            )
        if self.account is not None:
            check_account_name(self.account)
        return self


def check_account_name(name: str) -> str:
    """An exchange account's name (``[exchange] account``, ``--account``): like a bot's."""
    if not _BOT_NAME.fullmatch(name):
        raise UsageProblem(
            f"Invalid account name {name!r}",
            "Use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. main-kraken)",
            code=ErrorCode.BAD_SCOPE,
        )
    return name
