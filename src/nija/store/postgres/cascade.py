"""What a fleet kill does to each bot (pure: the store applies it in the same transaction).

Activating the fleet kill records a kill on every bot whose own kill switch is not
already active (so each bot is EMERGENCY_STOP with a consistent record); deactivating it
lifts only the kills the fleet itself recorded, never a bot's own earlier or later kill."""

from __future__ import annotations

from datetime import datetime

from nija.domain import killswitch
from nija.domain.change import Change
from nija.domain.records import KillAction, KillRecord, Snapshot
from nija.domain.transitions import Who

FLEET_SOURCE = "fleet"


def bot_change(bot: Snapshot, fleet_kill: KillRecord, now: datetime) -> Change | None:
    """``bot``: the bot's own records (without the fleet composed in); ``fleet_kill``: the
    fleet's kill record after the change. None when the bot is left as it is."""
    if not fleet_kill.history:
        return None
    event = fleet_kill.history[-1]
    who = Who(actor=event.actor, source=FLEET_SOURCE)
    if event.action is KillAction.ACTIVATE:
        if bot.kill_active:
            return None
        return killswitch.activate(bot, f"Fleet kill switch: {event.reason}", who, now)
    if event.action is KillAction.DEACTIVATE:
        own = bot.kill
        if bot.kill_flag or not isinstance(own, KillRecord) or not own.is_active:
            return None
        # Any activation of the bot's own since (a repeated one too, a note under the fleet's
        # cause) is a kill the fleet did not record: it stays.
        latest = next((e for e in reversed(own.history) if e.action is KillAction.ACTIVATE), None)
        if latest is None or latest.source != FLEET_SOURCE:
            return None
        return killswitch.deactivate(bot, f"Fleet kill switch deactivated: {event.reason}", who, now)
    return None
