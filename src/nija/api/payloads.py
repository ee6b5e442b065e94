"""The JSON the API returns for reading endpoints and pushes on the event stream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nija.bot_report import freshness, read_report
from nija.domain.diagnosis import report
from nija.domain.live import short_run
from nija.domain.records import Snapshot, TradingRecord
from nija.kill_receipt import read_receipt, receipt_view
from nija.service import LiveRequest, SafetyService
from nija.views import outcome_view, status_view


def status_payload(
    service: SafetyService,
    snapshot: Snapshot | None = None,
    *,
    history_items: int = 10,
    data_dir: Path | None = None,
    show_store: bool = False,
) -> dict[str, Any]:
    """``status_view`` (the CLI's ``--json``) plus the outstanding live request and the
    newest kill receipt (from ``data_dir``), from one snapshot (``snapshot``, or a fresh read).

    Where the records live (a directory, a database URL with its secrets masked) is for
    admins only (``show_store``): it tells a viewer about hosts, users and paths."""
    snapshot = snapshot if snapshot is not None else service.snapshot()
    location = service.store.location if show_store else None
    payload = status_view(report(snapshot, service.clock(), history_items=history_items), location)
    pending = snapshot.trading.pending_live if isinstance(snapshot.trading, TradingRecord) else None
    payload["pending_live"] = (
        {
            "requested_by": pending.requested_by,
            "requested_at": pending.requested_at.isoformat(),
            "expires_at": pending.expires_at.isoformat(),
            "run": short_run(pending.run_id) if pending.run_id else None,
            "acknowledged": bool(
                pending.nonce
                and snapshot.heartbeat is not None
                and snapshot.heartbeat.run_id == pending.run_id
                and snapshot.heartbeat.seen_nonce == pending.nonce
            ),
            "wrong_codes": pending.wrong_codes,
        }
        if pending is not None and payload["state"] == "LIVE_PENDING_CONFIRMATION"
        else None
    )
    payload["kill_receipt"] = receipt_view(read_receipt(data_dir)) if data_dir is not None else None
    return payload


def runtime_payload(data_dir: Path, service: SafetyService, *, stale_after_s: float) -> dict[str, Any]:
    """The bot's last report and whether it can be believed (see ``bot_report.freshness``)."""
    bot = read_report(data_dir)
    fresh = freshness(bot, service.snapshot().heartbeat, service.clock(), stale_after_s)
    return {
        "running": fresh.running,
        "report": bot.model_dump(mode="json") if bot is not None else None,
        "age_s": fresh.age_s,
        "stale": fresh.stale,
        "stale_after_s": stale_after_s,
        "stopped_at": fresh.stopped_at.isoformat() if fresh.stopped_at else None,
    }


def live_request_view(result: LiveRequest) -> dict[str, Any]:
    return {
        "code": result.code,
        "expires_at": result.expires_at.isoformat(),
        "run": result.run,
        "outcome": outcome_view(result.outcome),
    }
