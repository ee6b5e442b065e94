"""Account-wide risk on the fleet store: a bot's report, judged with every other bot on its
exchange account; a breach kills the account (every bot on it) with the figures.

Whichever bot's report takes the sum over the limit kills the account, so the account
stops even when each bot stays under its own limits. The kill goes through the
service of the account's scope: recorded, cascaded and audited like any kill."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from nija.domain.account_risk import Breach, judge
from nija.domain.events import Event, EventKind
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.postgres import PostgresStore
from nija.store.selection import StoreSelection

ACCOUNT_RISK_SOURCE = "account-risk"


def account_service(url: str, account: str, data_dir: Path | None = None) -> SafetyService:
    from nija.assembly import build_service

    return build_service(data_dir, selection=StoreSelection(url, account=account))


def report(
    store: PostgresStore,
    account: str,
    *,
    daily_loss: float | None,
    gross_exposure: float | None,
    who: Who,
    now: datetime,
    data_dir: Path | None = None,
) -> Breach | None:
    """Store this bot's figures for today (UTC), judge the account, kill it on a breach."""
    totals = store.report_account(
        account, now.date(), {"daily_loss": daily_loss, "gross_exposure": gross_exposure}, now
    )
    breach = judge(totals)
    if breach is None:
        return None
    service = account_service(store.url, account, data_dir)
    try:
        if not service.status(history_items=0).kill_active:  # a kill in force needs no repeated note per report
            killer = Who(who.actor, ACCOUNT_RISK_SOURCE)
            service.activate_kill(breach.reason, killer)
            service.publish(
                Event(
                    EventKind.ACCOUNT_LIMIT_BREACHED,
                    killer.actor,
                    killer.source,
                    breach.reason,
                    now,
                    {"code": str(breach.code), **breach.details},
                )
            )
    finally:
        service.store.close()  # type: ignore[attr-defined]
    return breach
