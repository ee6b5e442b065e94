"""NIJA's records in the shapes the original bot's callers read (plain dicts)."""

from __future__ import annotations

from typing import Any

from nija.domain.records import KillAction, KillEvent, Transition


def kill_event_view(event: KillEvent) -> dict[str, Any]:
    """The original wrote ``source`` on activations only, and its callers find "the latest
    activation" as the newest entry with a source: deactivations are shown without one."""
    entry: dict[str, Any] = {"reason": event.reason, "timestamp": event.timestamp.isoformat()}
    if event.action is KillAction.DEACTIVATE:
        entry.update(action=str(event.action), actor=event.actor, deactivated_via=event.source)
        return entry
    if event.action is KillAction.ACTIVATE or event.source != "unknown":
        entry["source"] = event.source
    if event.action is not None:
        entry["action"] = str(event.action)
    if event.actor != "unknown":
        entry["actor"] = event.actor
    return entry


def transition_view(transition: Transition) -> dict[str, Any]:
    """The guide's history entry (from, to, reason, timestamp) plus who and how."""
    return {
        "from": str(transition.from_state),
        "to": str(transition.to_state),
        "reason": transition.reason,
        "timestamp": transition.timestamp.isoformat(),
        "actor": transition.actor,
        "source": transition.source,
    }
