"""The FastAPI app: the JSON API under ``/api``, ``/healthz``, and the web control center.

Every change goes through ``SafetyService`` with the token's name as the actor. Handlers
are plain functions (run in a thread pool) because the store does blocking file I/O."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import anyio
import structlog
from fastapi import Depends, FastAPI, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST
from sse_starlette import EventSourceResponse

from nija import __version__
from nija.api import errors
from nija.api.auth import Authenticator, Principal, requires
from nija.api.config_watch import ConfigWatch
from nija.api.events import KEEPALIVE_S, Watcher, stream
from nija.api.headers import SecurityHeaders
from nija.api.payloads import runtime_payload, status_payload
from nija.api.ratelimit import FailureLimiter
from nija.api.schemas import (
    ActivateIn,
    CancelIn,
    ConfirmIn,
    DeactivateIn,
    HealthOut,
    LivePolicyOut,
    PlanIn,
    RuntimeOut,
    WhoAmIOut,
)
from nija.api.tokens import Role, TokenFile
from nija.assembly import wire
from nija.config import CONFIG_FILE, NijaConfig, load_config
from nija.domain.clock import Clock
from nija.domain.diagnosis import report
from nija.domain.errors import CredentialsUnreadable, NijaError
from nija.domain.recovery import Plan
from nija.domain.transitions import Who
from nija.kill_adoption import BareKillAdopter
from nija.observability.inconsistencies import InconsistencyWatch
from nija.observability.metrics import Metrics
from nija.observability.request_id import RequestIdMiddleware
from nija.service import SafetyService, system_clock
from nija.views import (
    ApiStatusView,
    HistoryView,
    LiveRequestView,
    OutcomeView,
    RecoveryPlanView,
    history_view,
    live_request_view,
    outcome_view,
    plan_view,
    to_json,
)

WEB = resources.files("nija.api") / "web"
SERVER = Who(actor="nija-serve", source="api")

Viewer = Annotated[Principal, Depends(requires(Role.VIEWER))]
Operator = Annotated[Principal, Depends(requires(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(requires(Role.ADMIN))]


def _log_config_change(message: str) -> None:
    structlog.get_logger("nija.api").warning("config_changed", message=message)


def create_app(
    data_dir: Path,
    config: NijaConfig | None = None,
    *,
    clock: Clock | None = None,
    watch_interval: float = 0.05,
    config_problem: str | None = None,
    on_config_change: Callable[[str], None] | None = None,
) -> FastAPI:
    """The app for one data directory; ``clock`` is for tests (expiry without waiting)."""
    data_dir = Path(data_dir).resolve()
    settings = config if config is not None else load_config(data_dir)
    # A bad nija.toml: the server carries on with ``config``, and the live flow refuses.
    wired = wire(data_dir, config=settings, config_problem=config_problem, clock=clock or system_clock)
    service = wired.service
    config_watch = ConfigWatch(data_dir / CONFIG_FILE, on_config_change or _log_config_change)
    # A report older than a few of the bot's report periods is marked stale on every screen.
    stale_after_s = max(3.0, 3 * settings.bot.report_s)
    announcer = InconsistencyWatch(service, SERVER)
    adopter = BareKillAdopter(service, SERVER)

    def status_and_announce() -> dict[str, Any]:
        snapshot = service.snapshot()  # one read of the store per event
        found = report(snapshot, service.clock(), history_items=0)
        if adopter.check(found):  # a bare `touch EMERGENCY_STOP` is recorded at once, so rm undoes nothing
            snapshot = service.snapshot()
            found = report(snapshot, service.clock(), history_items=0)
        announcer.check(found)  # newly found inconsistencies are audited and notified once
        payload: dict[str, Any] = to_json(
            status_payload(service, snapshot, data_dir=data_dir, server_notice=config_watch.notice())
        )
        return payload

    def runtime_now() -> dict[str, Any]:
        return runtime_payload(data_dir, service, stale_after_s=stale_after_s)

    watcher = Watcher(
        data_dir,
        changes=service.store.changes,
        status=status_and_announce,
        runtime=runtime_now,
        expire=lambda: _expire(service),
        clock=service.clock,
        interval=watch_interval,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(config_watch.start)  # arming the feed may take a moment
        task = asyncio.create_task(watcher.run())
        try:
            yield
        finally:
            await asyncio.to_thread(config_watch.close)
            watcher.close()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(
        title="NIJA control plane",
        version=__version__,
        description="Kill switch, safe recovery and the live-enable flow. Authenticate with "
        "'Authorization: Bearer <token>' (tokens: 'nija token create NAME --role viewer|operator|admin').",
        docs_url=None,  # the interactive docs load scripts from a CDN; /openapi.json is the contract
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.auth = Authenticator(
        TokenFile(data_dir),
        FailureLimiter(
            settings.api.failed_auth_limit,
            settings.api.failed_auth_window_seconds,
            max_clients=settings.api.failed_auth_max_clients,
        ),
    )
    errors.install(app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestIdMiddleware)
    if settings.api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.api.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    _routes(app, service, watcher, data_dir, runtime_now, config_watch)
    _metrics_route(app, wired.metrics)
    _web(app)
    return app


def _metrics_route(app: FastAPI, metrics: Metrics) -> None:

    # Behind a viewer token like every read: Prometheus sends it with `authorization: credentials`.
    @app.get("/metrics", response_class=PlainTextResponse, responses={401: {}, 403: {}}, tags=["read"])
    def prometheus(_: Viewer) -> PlainTextResponse:
        return PlainTextResponse(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


def _routes(
    app: FastAPI,
    service: SafetyService,
    watcher: Watcher,
    data_dir: Path,
    runtime_now: Callable[[], dict[str, Any]],
    config_watch: ConfigWatch,
) -> None:
    read, write = errors.READ_ERRORS, errors.WRITE_ERRORS

    @app.get("/healthz", response_model=HealthOut, tags=["health"])
    def healthz() -> dict[str, Any]:
        """Liveness of the server (no authentication; says nothing about the bot)."""
        return {"ok": True}

    @app.get("/api/whoami", response_model=WhoAmIOut, responses=read, tags=["read"])
    def whoami(me: Viewer) -> dict[str, Any]:
        """The token's name and role (the web control center's sign-in check)."""
        return {"name": me.name, "role": str(me.role)}

    @app.get("/api/status", response_model=ApiStatusView, responses=read, tags=["read"])
    def status(me: Viewer) -> ApiStatusView:
        """The same diagnosis as 'nija status --json', plus the outstanding live request and
        the server's own notice (nija.toml changed: restart to apply it). ``store`` (where
        the records live, secrets masked) is shown to admins only."""
        return status_payload(
            service, data_dir=data_dir, show_store=me.role is Role.ADMIN, server_notice=config_watch.notice()
        )

    @app.get("/api/history", response_model=HistoryView, responses={**read, 422: write[422]}, tags=["read"])
    def history(_: Viewer, limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> HistoryView:
        """The newest trading state transitions and kill switch events, oldest first."""
        transitions, kills = service.history()
        return history_view(transitions[-limit:], kills[-limit:])

    @app.get("/api/runtime", response_model=RuntimeOut, responses=read, tags=["read"])
    def runtime(_: Viewer) -> dict[str, Any]:
        """Open orders, positions and P&L as published by the running bot (none if no bot runs)."""
        return runtime_now()

    @app.post("/api/kill-switch/activate", response_model=OutcomeView, responses=write, tags=["kill switch"])
    def activate(body: ActivateIn, me: Viewer) -> OutcomeView:
        """Stop all trading now (EMERGENCY_STOP). Every role may do this."""
        return outcome_view(service.activate_kill(body.reason, me.who))

    @app.post("/api/kill-switch/deactivate", response_model=OutcomeView, responses=write, tags=["kill switch"])
    def deactivate(body: DeactivateIn, me: Admin) -> OutcomeView:
        """Deactivate the kill switch (admin): EMERGENCY_STOP → OFF, never to trading."""
        return outcome_view(service.deactivate_kill(body.reason, me.who, expected=body.expected))

    for action, planner, runner in (
        ("restore", service.plan_restore, service.restore),
        ("reset", service.plan_reset, service.reset),
    ):
        _plan_routes(app, action, planner, runner)

    @app.get("/api/live/policy", response_model=LivePolicyOut, responses=read, tags=["live"])
    def live_policy(_: Viewer) -> dict[str, Any]:
        """The live-enable rules in force (the wizard shows the phrase to type)."""
        policy = service.policy
        return {
            "min_dry_run_minutes": policy.min_dry_run.total_seconds() / 60,
            "confirmation_minutes": policy.confirmation_window.total_seconds() / 60,
            "require_second_person": policy.require_second_person,
            "acknowledgment_phrase": policy.phrase,
            "credentials_configured": _credentials_state(service),
        }

    @app.post("/api/live/request", response_model=LiveRequestView, responses=write, tags=["live"])
    def live_request(me: Operator) -> LiveRequestView:
        """DRY_RUN → LIVE_PENDING_CONFIRMATION; returns the one-time confirmation code and its expiry."""
        return live_request_view(service.request_live(me.who))

    @app.post("/api/live/confirm", response_model=OutcomeView, responses=write, tags=["live"])
    def live_confirm(body: ConfirmIn, me: Admin) -> OutcomeView:
        """LIVE_PENDING_CONFIRMATION → LIVE_ACTIVE with the code and the acknowledgment typed exactly (admin)."""
        return outcome_view(service.confirm_live(body.code, body.phrase, me.who))

    @app.post("/api/live/cancel", response_model=OutcomeView, responses=write, tags=["live"])
    def live_cancel(body: CancelIn, me: Operator) -> OutcomeView:
        """Withdraw the live request: back to DRY_RUN."""
        return outcome_view(service.cancel_live(me.who, body.reason))

    @app.get(
        "/api/events",
        response_class=EventSourceResponse,
        responses={
            **read,
            200: {
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
                "description": "Server-sent events: 'status' (ApiStatusView), 'runtime' (RuntimeOut), "
                "'error' (ProblemView)",
            },
        },
        tags=["read"],
    )
    def events(request: Request, me: Viewer) -> EventSourceResponse:
        """A stream of status snapshots, pushed on every change from any process."""
        auth: Authenticator = request.app.state.auth

        def still_allowed() -> bool:
            try:
                record = auth.tokens.verify(_bearer(request))
            except NijaError:  # an unreadable token file fails closed
                return False
            return record is not None and record.name == me.name

        shutdown = anyio.Event()
        return EventSourceResponse(
            stream(watcher, still_allowed, shutdown),
            ping=KEEPALIVE_S,
            shutdown_event=shutdown,
            shutdown_grace_period=2,
            sep="\n",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )


def _plan_routes(
    app: FastAPI,
    action: str,
    planner: Callable[[], Plan],
    runner: Callable[..., Any],
) -> None:
    target = "DRY_RUN (simulation)" if action == "restore" else "OFF"

    def plan(_: Viewer) -> RecoveryPlanView:
        return plan_view(planner())

    def run(me: Operator, body: PlanIn | None = None) -> OutcomeView:
        # The path shown is the staleness token; the service checks it under its lock.
        return outcome_view(runner(me.who, expected=body.expected_path if body is not None else None))

    app.get(
        f"/api/{action}/plan",
        response_model=RecoveryPlanView,
        responses=errors.READ_ERRORS,
        tags=["recovery"],
        summary=f"What {action} would do",
        name=f"{action}_plan",
    )(plan)
    app.post(
        f"/api/{action}",
        response_model=OutcomeView,
        responses=errors.WRITE_ERRORS,
        tags=["recovery"],
        summary=f"{action.capitalize()} to {target} (operator)",
        name=action,
    )(run)


def _credentials_state(service: SafetyService) -> bool:
    try:
        return service.credentials_configured()
    except CredentialsUnreadable:
        return False  # shown as not configured; requesting says why (CREDENTIALS_UNREADABLE)


def _expire(service: SafetyService) -> None:
    service.expire_live_request(SERVER)


def _bearer(request: Request) -> str:
    return request.headers.get("authorization", "").partition(" ")[2].strip()


def _web(app: FastAPI) -> None:
    web_dir = Path(str(WEB))
    app.mount("/static", StaticFiles(directory=web_dir), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(web_dir / "index.html", headers={"Cache-Control": "no-store"})
