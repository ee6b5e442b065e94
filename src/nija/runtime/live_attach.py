"""Attaching the live broker to a starting bot: reconcile its book, tell of orders it
did not place, arm its dead man's switch only while live, and watch the account."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from nija.config import NijaConfig
from nija.runtime.bot_reporter import foreign_orders
from nija.runtime.brokers.base import Broker
from nija.runtime.brokers.owned import OwnedBook, foreign_notice, foreign_records_notice
from nija.runtime.instance import InstanceCode
from nija.runtime.risk import Trigger
from nija.runtime.store_writes import Alert

if TYPE_CHECKING:
    from nija.runtime.account_checks import AccountWatch


def attach_live(
    live: Broker,
    config: NijaConfig,
    data_dir: Path,
    *,
    is_live: Callable[[], bool],
    alert: Alert,
    trip: Callable[[Trigger | None], None],
    record: Callable[[str, dict[str, str]], None],
) -> AccountWatch | None:
    """The started ``AccountWatch`` (the ccxt broker only), else None. ``is_live``: the
    bot trades live right now; ``trip``: raise an automatic kill; ``record``: audit a check."""
    reconcile = getattr(live, "reconcile", None)
    if reconcile is not None:
        reconcile()
    foreign = foreign_orders(live)
    if foreign:
        alert("FOREIGN_ORDERS", foreign_notice(len(foreign)))
    owned = getattr(live, "owned", None)
    if isinstance(owned, OwnedBook) and (records := owned.foreign_records):
        alert(InstanceCode.FOREIGN_OWNED_RECORDS, foreign_records_notice(records, data_dir))
    if hasattr(live, "arming_allowed"):
        live.arming_allowed = is_live
    if not hasattr(live, "owned"):
        return None
    from nija.runtime.account_checks import AccountWatch  # the ccxt broker (ccxt is imported only then)

    watch = AccountWatch(
        live,  # type: ignore[arg-type]
        config.exchange,
        data_dir,
        live=is_live,
        alert=alert,
        trip=trip,
        record=record,
    )
    watch.start()
    return watch
