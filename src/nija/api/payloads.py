"""The JSON the API returns for reading endpoints and pushes on the event stream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nija.bot_report import freshness, read_report
from nija.domain.diagnosis import report
from nija.domain.records import Snapshot
from nija.kill_receipt import read_receipt, receipt_view
from nija.service import SafetyService
from nija.views import ApiStatusView, ProblemView, api_status_view, status_view


def status_payload(
    service: SafetyService,
    snapshot: Snapshot | None = None,
    *,
    history_items: int = 10,
    data_dir: Path | None = None,
    show_store: bool = False,
    server_notice: dict[str, Any] | None = None,
) -> ApiStatusView:
    """``status_view`` (the CLI's ``--json``) plus the outstanding live request, the
    newest kill receipt (from ``data_dir``) and the server's notice, from one snapshot
    (``snapshot``, or a fresh read).

    Where the records live (a directory, a database URL with its secrets masked) is for
    admins only (``show_store``): it tells a viewer about hosts, users and paths."""
    snapshot = snapshot if snapshot is not None else service.snapshot()
    location = service.store.location if show_store else None
    return api_status_view(
        status_view(report(snapshot, service.clock(), history_items=history_items), location),
        snapshot,
        kill_receipt=receipt_view(read_receipt(data_dir)) if data_dir is not None else None,
        server_notice=ProblemView(**server_notice) if server_notice is not None else None,
    )


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
