"""Plain-data views of domain objects, shared by ``--json`` output and the HTTP API."""

from __future__ import annotations

from typing import Any

from nija.domain.diagnosis import StatusReport
from nija.domain.live import short_run
from nija.domain.records import KillEvent, Transition
from nija.domain.states import Mode
from nija.service import Outcome


def status_view(report: StatusReport, location: str | None) -> dict[str, Any]:
    activation = report.last_activation if report.kill_active else None
    beat = report.heartbeat
    return {
        "state": str(report.state),
        "kill_switch": {
            "active": report.kill_active,
            "kill_file_exists": report.kill_file_exists,
            "record_active": report.kill_record_active,
            "reason": activation.reason if activation else None,
            "since": activation.timestamp.isoformat() if activation else None,
            "source": activation.source if activation else None,
            "actor": activation.actor if activation else None,
            "seen": report.kill_seen,
        },
        "can_trade": report.can_trade,
        "mode": str(report.permission.mode) if report.permission.mode else None,
        "permission": {"code": report.permission.code, "reason": report.permission.reason},
        "bot": {
            "alive": report.bot_alive,
            "pid": beat.pid if beat else None,
            "host": beat.host if beat else None,
            "last_heartbeat": beat.last_beat.isoformat() if beat else None,
            "run": short_run(beat.run_id) if beat and beat.run_id else None,
            "dry_run_minutes": round(beat.dry_run_s / 60, 2) if beat and report.bot_alive else None,
            "live_verified": bool(beat and report.bot_alive and report.permission.mode is Mode.LIVE),
        },
        "inconsistencies": [
            {"code": i.code, "message": i.message, "fix": i.fix, "action": i.action} for i in report.inconsistencies
        ],
        "recent_history": [transition_view(t) for t in report.recent_history],
        "store": location,
        "checked_at": report.checked_at.isoformat(),
    }


def transition_view(t: Transition) -> dict[str, Any]:
    return {
        "from": str(t.from_state),
        "to": str(t.to_state),
        "reason": t.reason,
        "timestamp": t.timestamp.isoformat(),
        "actor": t.actor,
        "source": t.source,
    }


def kill_event_view(e: KillEvent) -> dict[str, Any]:
    return {
        "action": str(e.action) if e.action else None,
        "reason": e.reason,
        "timestamp": e.timestamp.isoformat(),
        "actor": e.actor,
        "source": e.source,
        "repeated": e.repeated,
    }


def outcome_view(outcome: Outcome) -> dict[str, Any]:
    return {
        "before": str(outcome.before),
        "after": str(outcome.after),
        "changed": outcome.changed,
        "kill_active": outcome.kill_active,
        "transitions": [transition_view(t) for t in outcome.transitions],
        "messages": list(outcome.messages),
        "warnings": list(outcome.warnings),
    }
