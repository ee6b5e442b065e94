"""What a fleet or account kill does to each bot (pure: the store applies it in the same
transaction).

Activating the fleet kill (or an account's: every bot trading that exchange account)
records a kill on every bot whose own kill switch is not already active (so each bot is
EMERGENCY_STOP with a consistent record); deactivating it lifts only the kills that very
scope recorded (by its source), never a bot's own kill nor one another scope recorded.
Whatever a bot's own record says, a scope still active keeps the bot killed: the store
composes the fleet and the account kills into every bot's snapshot."""

from __future__ import annotations

from datetime import datetime

from nija.domain import killswitch
from nija.domain.change import Change
from nija.domain.records import KillAction, KillRecord, Snapshot
from nija.domain.transitions import Who

FLEET_SOURCE = "fleet"
ACCOUNT_SOURCE = "account"


def bot_change(
    bot: Snapshot, fleet_kill: KillRecord, now: datetime, *, source: str = FLEET_SOURCE, label: str = "Fleet"
) -> Change | None:
    """``bot``: the bot's own records (without the fleet or account composed in);
    ``fleet_kill``: the scope's kill record after the change (the fleet's, or the account's
    with ``source`` ACCOUNT_SOURCE). None when the bot is left as it is."""
    if not fleet_kill.history:
        return None
    event = fleet_kill.history[-1]
    who = Who(actor=event.actor, source=source)
    if event.action is KillAction.ACTIVATE:
        if bot.kill_active:
            return None
        return killswitch.activate(bot, f"{label} kill switch: {event.reason}", who, now)
    if event.action is KillAction.DEACTIVATE:
        own = bot.kill
        if bot.kill_flag or not isinstance(own, KillRecord) or not own.is_active:
            return None
        # Any activation of the bot's own since (a repeated one too, a note under the fleet's
        # cause) is a kill the fleet did not record: it stays.
        latest = next((e for e in reversed(own.history) if e.action is KillAction.ACTIVATE), None)
        if latest is None or latest.source != source:
            return None
        return killswitch.deactivate(bot, f"{label} kill switch deactivated: {event.reason}", who, now)
    return None
