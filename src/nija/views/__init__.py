"""The wire views: declared once (``shapes.py``), built from the domain's objects once
(here), for the API (its response models), the TUI (both backends) and the CLI's
``--json`` (``to_json`` writes a view as the API does, without pydantic). Standard
library only: loading them costs a command's start-up next to nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from enum import Enum
from typing import Any

from nija.domain.diagnosis import StatusReport
from nija.domain.live import short_run
from nija.domain.records import KillEvent, Snapshot, TradingRecord, Transition
from nija.domain.recovery import Plan
from nija.domain.states import Mode, TradingState
from nija.live_flow import LiveRequest
from nija.service import Outcome
from nija.views.shapes import (
    ApiStatusView,
    BotView,
    HistoryView,
    KillEventView,
    KillSwitchView,
    LiveRequestView,
    OutcomeView,
    PendingLiveView,
    PermissionStatus,
    PlanStepView,
    ProblemView,
    RecoveryPlanView,
    StatusView,
    TransitionView,
    wire_name,
)


def status_view(report: StatusReport, location: str | None) -> StatusView:
    activation = report.last_activation if report.kill_active else None
    beat = report.heartbeat
    return StatusView(
        state=report.state,
        kill_switch=KillSwitchView(
            active=report.kill_active,
            kill_file_exists=report.kill_file_exists,
            record_active=report.kill_record_active,
            reason=activation.reason if activation else None,
            since=activation.timestamp.isoformat() if activation else None,
            source=activation.source if activation else None,
            actor=activation.actor if activation else None,
            seen=report.kill_seen,
        ),
        can_trade=report.can_trade,
        mode=report.permission.mode,
        permission=PermissionStatus(code=report.permission.code, reason=report.permission.reason),
        bot=BotView(
            alive=report.bot_alive,
            pid=beat.pid if beat else None,
            host=beat.host if beat else None,
            last_heartbeat=beat.last_beat.isoformat() if beat else None,
            run=short_run(beat.run_id) if beat and beat.run_id else None,
            dry_run_minutes=round(beat.dry_run_s / 60, 2) if beat and report.bot_alive else None,
            live_verified=bool(beat and report.bot_alive and report.permission.mode is Mode.LIVE),
        ),
        inconsistencies=tuple(
            ProblemView(code=i.code, message=i.message, fix=i.fix, action=i.action) for i in report.inconsistencies
        ),
        recent_history=tuple(transition_view(t) for t in report.recent_history),
        store=location,
        checked_at=report.checked_at.isoformat(),
    )


def api_status_view(
    status: StatusView,
    snapshot: Snapshot,
    *,
    kill_receipt: dict[str, Any] | None = None,
    server_notice: ProblemView | None = None,
) -> ApiStatusView:
    """``status`` plus the outstanding live request (from the same ``snapshot``), the
    newest kill receipt and the server's own notice."""
    pending = snapshot.trading.pending_live if isinstance(snapshot.trading, TradingRecord) else None
    shown = None
    if pending is not None and status.state == TradingState.LIVE_PENDING_CONFIRMATION:
        beat = snapshot.heartbeat
        shown = PendingLiveView(
            requested_by=pending.requested_by,
            requested_at=pending.requested_at.isoformat(),
            expires_at=pending.expires_at.isoformat(),
            run=short_run(pending.run_id) if pending.run_id else None,
            acknowledged=bool(
                pending.nonce
                and beat is not None
                and beat.run_id == pending.run_id
                and beat.seen_nonce == pending.nonce
            ),
            wrong_codes=pending.wrong_codes,
        )
    fields = {f.name: getattr(status, f.name) for f in dataclasses.fields(status)}
    return ApiStatusView(**fields, pending_live=shown, kill_receipt=kill_receipt, server_notice=server_notice)


def transition_view(t: Transition) -> TransitionView:
    return TransitionView(
        from_=t.from_state,
        to=t.to_state,
        reason=t.reason,
        timestamp=t.timestamp.isoformat(),
        actor=t.actor,
        source=t.source,
    )


def kill_event_view(e: KillEvent) -> KillEventView:
    return KillEventView(
        action=e.action if e.action else None,
        reason=e.reason,
        timestamp=e.timestamp.isoformat(),
        actor=e.actor,
        source=e.source,
        repeated=e.repeated,
    )


def history_view(transitions: Sequence[Transition], kills: Sequence[KillEvent]) -> HistoryView:
    return HistoryView(
        transitions=tuple(transition_view(t) for t in transitions),
        kill_switch=tuple(kill_event_view(k) for k in kills),
    )


def outcome_view(outcome: Outcome) -> OutcomeView:
    return OutcomeView(
        before=outcome.before,
        after=outcome.after,
        changed=outcome.changed,
        kill_active=outcome.kill_active,
        transitions=tuple(transition_view(t) for t in outcome.transitions),
        messages=tuple(outcome.messages),
        warnings=tuple(outcome.warnings),
    )


def plan_view(plan: Plan) -> RecoveryPlanView:
    return RecoveryPlanView(
        action=plan.action,
        path=plan.path,
        steps=tuple(PlanStepView(from_state=s.from_state, to_state=s.to_state, reason=s.reason) for s in plan.steps),
        nothing_to_do=plan.nothing_to_do,
        warnings=tuple(plan.warnings),
    )


def live_request_view(result: LiveRequest) -> LiveRequestView:
    return LiveRequestView(
        code=result.code,
        expires_at=result.expires_at.isoformat(),
        run=result.run,
        outcome=outcome_view(result.outcome),
    )


def to_json(view: object) -> Any:
    """A shape as JSON data, field by field in declaration order, as the API writes it."""
    if dataclasses.is_dataclass(view) and not isinstance(view, type):
        return {wire_name(f.name): to_json(getattr(view, f.name)) for f in dataclasses.fields(view)}
    if isinstance(view, dict):
        return {key: to_json(value) for key, value in view.items()}
    if isinstance(view, tuple | list):
        return [to_json(item) for item in view]
    if isinstance(view, Enum):
        return view.value
    return view


__all__ = [
    "ApiStatusView",
    "BotView",
    "HistoryView",
    "KillEventView",
    "KillSwitchView",
    "LiveRequestView",
    "OutcomeView",
    "PendingLiveView",
    "PermissionStatus",
    "PlanStepView",
    "ProblemView",
    "RecoveryPlanView",
    "StatusView",
    "TransitionView",
    "api_status_view",
    "history_view",
    "kill_event_view",
    "live_request_view",
    "outcome_view",
    "plan_view",
    "status_view",
    "to_json",
    "transition_view",
]
