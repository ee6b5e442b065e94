"""The bot's share of its exchange account's risk (fleet store, ``[exchange] account``).

At start the bot declares its account (so an account kill covers it from its first
order); while it trades live it sends its daily loss and gross exposure with its report,
and the database sums every bot's on that account (``nija.account_risk``). Simulated
trading moves no money on the account: a bot out of live sends nothing, and its last live
figures of the day keep counting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from nija.domain.account_risk import Breach
from nija.domain.transitions import Who
from nija.runtime.brokers.base import Broker


class AccountReporter:
    def __init__(self, store: object, account: str, who: Who, data_dir: Path) -> None:
        from nija.store.postgres import PostgresStore

        assert isinstance(store, PostgresStore)  # built only on the fleet store (for_store)
        self.store, self.account, self.who, self.data_dir = store, account, who, data_dir
        self.breach: Breach | None = None
        self.declared = False  # until the database took it, the account's kill misses this bot

    @classmethod
    def for_store(cls, store: object, account: str | None, who: Who, data_dir: Path) -> AccountReporter | None:
        if account is None or not hasattr(store, "report_account"):
            return None  # no account declared, or the JSON files: one bot, its own limits
        return cls(store, account, who, data_dir)

    def declare(self) -> None:
        self.store.declare_account(self.account)
        self.declared = True

    @property
    def meanwhile(self) -> str:
        """What a failed declaration means, for its alert."""
        return (
            f" every heartbeat; until then a kill of account {self.account} does not stop this bot "
            "and a live request for it is refused"
        )

    def report(
        self, book: Broker, daily_loss: float | None, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        from nija.account_risk import report

        exposure = sum(abs(h.quantity) * (book.mark(h.symbol) or h.average_price) for h in book.holdings())
        self.breach = report(
            self.store,
            self.account,
            daily_loss=daily_loss,
            gross_exposure=exposure,
            who=self.who,
            now=now(),
            data_dir=self.data_dir,
        )
