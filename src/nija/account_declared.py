"""A live request needs the bot's exchange account declared in the fleet database
(``[exchange] account``): until then the account's kill would not stop the bot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from nija.domain.codes import ErrorCode
from nija.domain.errors import LiveRequestRefused


def account_declared_check(
    bot: str, account: str, declared: Callable[[], str | None]
) -> Callable[[datetime], tuple[str, ...]]:
    """The check ``SafetyService.request_live`` runs; ``declared`` reads the bot's account
    as the database has it."""

    def check(now: datetime) -> tuple[str, ...]:
        recorded = declared()
        if recorded == account:
            return ()
        has = f"the database has it on account {recorded}" if recorded else "the database has no account for it"
        raise LiveRequestRefused(
            f"Live trading refused: bot {bot} trades exchange account {account} ([exchange] account), but "
            f"{has} yet, so a kill of account {account} would not stop it; nothing was changed",
            "The bot declares its account at start and retries every heartbeat: check its ACCOUNT_NOT_DECLARED "
            "alert and the fleet database, then request live again",
            code=ErrorCode.ACCOUNT_NOT_DECLARED,
        )

    return check
