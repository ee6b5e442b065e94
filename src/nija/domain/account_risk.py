"""Account-wide risk: the limits of one exchange account judged on the sum of every bot
trading it (pure: the figures are summed by the database, the clock is the caller's).

Fail closed: a bot whose figure cannot be read is not a bot that lost nothing. While any
limit is set, one unreadable figure is a breach of its own, named as such."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class AccountRiskCode(StrEnum):
    ACCOUNT_DAILY_LOSS = "ACCOUNT_DAILY_LOSS"
    ACCOUNT_GROSS_EXPOSURE = "ACCOUNT_GROSS_EXPOSURE"
    ACCOUNT_REPORT_UNREADABLE = "ACCOUNT_REPORT_UNREADABLE"


@dataclass(frozen=True, slots=True)
class AccountLimits:
    daily_loss: float | None = None  # None: no limit of this kind
    gross_exposure: float | None = None

    @property
    def any(self) -> bool:
        return self.daily_loss is not None or self.gross_exposure is not None


@dataclass(frozen=True, slots=True)
class BotFigures:
    bot: str
    daily_loss: float | None  # None: the report's figure is missing or not a number
    gross_exposure: float | None


@dataclass(frozen=True, slots=True)
class AccountFigures:
    account: str
    day: str
    limits: AccountLimits
    bots: tuple[BotFigures, ...]  # every bot on the account with a report for ``day``
    daily_loss: float  # the sums of the readable figures, as the database computed them
    gross_exposure: float


@dataclass(frozen=True, slots=True)
class Breach:
    code: AccountRiskCode
    reason: str  # the kill's reason: which bots, their figures, the limit
    details: dict[str, str]


def judge(figures: AccountFigures) -> Breach | None:
    limits = figures.limits
    if not limits.any:
        return None
    name = f"account {figures.account}"
    unreadable = [b.bot for b in figures.bots if not _readable(b, limits)]
    if unreadable:
        return Breach(
            AccountRiskCode.ACCOUNT_REPORT_UNREADABLE,
            f"{name}: the report of {', '.join(unreadable)} cannot be read, so the account's risk cannot be "
            f"judged on {figures.day} (an unreadable report never counts as no loss)",
            {"account": figures.account, "day": figures.day, "unreadable": ",".join(unreadable)},
        )
    if limits.daily_loss is not None and figures.daily_loss >= limits.daily_loss:
        return _breach(figures, AccountRiskCode.ACCOUNT_DAILY_LOSS, "daily loss", figures.daily_loss, limits.daily_loss)
    if limits.gross_exposure is not None and figures.gross_exposure >= limits.gross_exposure:
        return _breach(
            figures,
            AccountRiskCode.ACCOUNT_GROSS_EXPOSURE,
            "gross exposure",
            figures.gross_exposure,
            limits.gross_exposure,
        )
    return None


def _readable(bot: BotFigures, limits: AccountLimits) -> bool:
    """Every figure a set limit needs is a finite number (an exposure is never negative)."""
    if limits.daily_loss is not None and (bot.daily_loss is None or not math.isfinite(bot.daily_loss)):
        return False
    exposure = bot.gross_exposure
    return limits.gross_exposure is None or (exposure is not None and math.isfinite(exposure) and exposure >= 0)


def _breach(figures: AccountFigures, code: AccountRiskCode, what: str, total: float, limit: float) -> Breach:
    attr = "daily_loss" if code is AccountRiskCode.ACCOUNT_DAILY_LOSS else "gross_exposure"
    per_bot = ", ".join(f"{b.bot} {getattr(b, attr):,.2f}" for b in figures.bots)
    reason = (
        f"account {figures.account} {what} {total:,.2f} reached the account limit {limit:,.2f} on {figures.day} "
        f"(summed over {len(figures.bots)} bots: {per_bot})"
    )
    details = {"account": figures.account, "day": figures.day, "total": f"{total:.2f}", "limit": f"{limit:.2f}"}
    details |= {f"bot.{b.bot}": f"{getattr(b, attr):.2f}" for b in figures.bots}
    return Breach(code, reason, details)
