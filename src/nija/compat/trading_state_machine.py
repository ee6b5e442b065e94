"""The original bot's ``bot/trading_state_machine.py``, backed by NIJA's state machine.

Same names, signatures and return shapes; NIJA's rules where the original was unsafe
(docs/compat.md): nothing here reaches live trading (only ``nija live request`` and a
confirmation with the risk acknowledgment do), no environment variable changes the
state, a restart never resumes live, EMERGENCY_STOP is a latched kill, and transitions
follow NIJA's table. Every read asks the store, so all processes agree."""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, ParamSpec, TypeVar

from nija.compat.backend import Backend, backend_for
from nija.compat.records import transition_view
from nija.domain.codes import ErrorCode
from nija.domain.errors import SafetyRefusal, StateTransitionError, UsageProblem
from nija.domain.moves import LIVE_FLOW
from nija.domain.records import TradingRecord
from nija.domain.states import TRANSITIONS, Mode, TradingState
from nija.store.json_files import STATE_FILE

logger = logging.getLogger("nija.trading_state_machine")
RESTARTED = "Previous state was %s: a restart never resumes live trading (now OFF)"

P = ParamSpec("P")
R = TypeVar("R")

__all__ = [
    "ExecutionProgressState",
    "ExecutionSafetyState",
    "StateTransitionError",
    "TradingState",
    "TradingStateMachine",
    "commit_activation",
    "get_execution_anomaly_snapshot",
    "get_state_machine",
    "report_execution_anomaly",
    "require_live_trading",
    "require_state",
]


class ExecutionSafetyState(StrEnum):
    LOCKED = "LOCKED"
    AUTHORIZED = "AUTHORIZED"


class ExecutionProgressState(StrEnum):
    LOCKED = "LOCKED"
    ARMED = "ARMED"
    CONVERGING = "CONVERGING"
    BLOCKED_RETRY = "BLOCKED_RETRY"
    AUTHORIZED = "AUTHORIZED"
    FAIL_SAFE = "FAIL_SAFE"


class TradingStateMachine:
    """The trading state: a view of NIJA's store, never a private copy of it."""

    # NIJA's table (the original also allowed OFF -> LIVE_PENDING_CONFIRMATION / LIVE_ACTIVE).
    VALID_TRANSITIONS: ClassVar[dict[TradingState, list[TradingState]]] = {
        state: sorted(targets) for state, targets in TRANSITIONS.items()
    }

    def __init__(self, state_file: str | os.PathLike[str] | None = None) -> None:
        """``state_file``: a path ending in .nija_trading_state.json; its directory is the
        data directory (default: NIJA_DATA_DIR, else the project root)."""
        location = None
        if state_file is not None:
            path = Path(state_file)
            if path.name != STATE_FILE:
                raise UsageProblem(
                    f"NIJA keeps the trading state in {STATE_FILE}, not {path.name}",
                    f"Pass {path.with_name(STATE_FILE)} (or only set NIJA_DATA_DIR to {path.parent})",
                )
            location = path.parent
        self._backend: Backend = backend_for(location)
        self._first_snap_accepted = False
        self._apply_restart_rule()
        logger.info(
            "Trading state machine backed by NIJA at %s: %s",
            self._backend.service.store.location,
            self.get_current_state(),
        )

    def _apply_restart_rule(self) -> None:
        """The state machine's start is the bot's start: this process becomes the store's bot
        run (its heartbeat, its own live verification) unless another bot runs there, and a
        persisted live state with no live bot behind it becomes OFF (recorded), once per
        process. If that cannot be recorded, this process refuses live trading."""
        backend = self._backend
        if backend.started:
            return
        backend.started = True
        try:
            outcome = backend.start_run()
            if outcome is not None:
                if outcome.changed:
                    logger.warning(RESTARTED, outcome.before)
                return
            _, status = backend.snapshot_and_report()
            if status.state.is_live and not status.bot_alive:
                backend.change(lambda: backend.service.on_bot_start(backend.who()))
                logger.warning(RESTARTED, status.state)
        except Exception as exc:  # noqa: BLE001 - fail closed in this process
            backend.live_blocked = f"the restart rule could not be applied ({exc}): live trading refused here"
            logger.error("%s", backend.live_blocked)

    # -- reading -------------------------------------------------------------------
    def get_current_state(self) -> TradingState:
        """The effective state, read now: EMERGENCY_STOP while any kill is in force, and for
        a LIVE_ACTIVE that was not reached by a confirmed live request."""
        return self._backend.state()

    def is_trading_allowed(self) -> bool:
        return self._allowed(None)

    def is_live_trading_active(self) -> bool:
        return self._allowed(Mode.LIVE)

    def is_dry_run_mode(self) -> bool:
        return self._allowed(Mode.SIMULATED)

    def is_emergency_stopped(self) -> bool:
        return self.get_current_state() is TradingState.EMERGENCY_STOP

    def can_make_broker_calls(self) -> bool:
        """True only in LIVE_ACTIVE reached by NIJA's confirmation flow, with no kill."""
        return self._allowed(Mode.LIVE)

    def _allowed(self, mode: Mode | None) -> bool:
        permission, _ = self._backend.read()
        return permission.allowed and (mode is None or permission.mode is mode)

    def get_state_history(self, limit: int = 10) -> list[dict[str, Any]]:
        record = self._backend.service.snapshot().trading
        history = record.history if isinstance(record, TradingRecord) else ()
        return [transition_view(t) for t in history[-limit:]]

    def get_state_summary(self) -> dict[str, Any]:
        """One consistent reading (the original deadlocked here, holding its lock)."""
        permission, state = self._backend.read()
        allowed = permission.allowed
        return {
            "current_state": state.value,
            "is_trading_allowed": allowed,
            "is_live_trading_active": allowed and permission.mode is Mode.LIVE,
            "is_dry_run_mode": allowed and permission.mode is Mode.SIMULATED,
            "is_emergency_stopped": state is TradingState.EMERGENCY_STOP,
            "can_make_broker_calls": allowed and permission.mode is Mode.LIVE,
            "recent_history": self.get_state_history(5),
            "permission": {"code": permission.code, "reason": permission.reason},
        }

    # -- changing ------------------------------------------------------------------
    def transition_to(self, new_state: TradingState | str, reason: str = "") -> bool:
        """OFF and DRY_RUN under NIJA's table; EMERGENCY_STOP raises the latched kill;
        live states raise StateTransitionError naming the confirmation flow. Returns True
        (already there included); a refusal raises and writes nothing."""
        target = _parse(new_state)
        permission, current = self._backend.read()
        text = reason.strip() or f"{current} → {target} via nija.compat (no reason given)"
        if target is TradingState.EMERGENCY_STOP:
            if not self._backend.kill_active():
                self._backend.activate_kill(text, "STATE_MACHINE")
            return True
        # As the original, already there is success (and writes nothing); for LIVE_ACTIVE only
        # if this process may trade live, so "transition, then trade" stays safe.
        if target is current and (target is not TradingState.LIVE_ACTIVE or permission.mode is Mode.LIVE):
            return True
        backend = self._backend
        try:
            backend.change(lambda: backend.service.move(target, text, backend.who()))
        except SafetyRefusal as exc:
            logger.error("Transition to %s refused: %s", target, exc.message)
            raise StateTransitionError(exc.message, exc.fix, code=exc.code) from exc
        return True

    def register_callback(self, state: TradingState, callback: Callable[[], object]) -> None:
        """``callback()`` runs when this process's own change enters ``state`` (at once),
        and when it reads a state another process moved to (on that read)."""
        self._backend.observer.register(_parse(state), callback)

    # -- the original's activation API: never reaches live -------------------------------
    def activate_live_trading(self, reason: str = "force start") -> bool:
        """True only if live trading is already active by NIJA's confirmation flow."""
        return self._refuse_activation("activate_live_trading", reason)

    def force_activate_live(self, reason: str = "forced bypass") -> bool:
        logger.error("force_activate_live refused (%s): %s", reason, LIVE_FLOW)
        return False

    def commit_activation(self, cycle_capital: dict[str, Any] | None = None) -> bool:
        return self._refuse_activation("commit_activation", "activation commit")

    def maybe_auto_activate(self, cycle_capital: dict[str, Any] | None = None) -> bool:
        return self._refuse_activation("maybe_auto_activate", "auto activation")

    def _refuse_activation(self, name: str, reason: str) -> bool:
        if self.is_live_trading_active():
            return True
        logger.critical("%s refused (%s): %s", name, reason, LIVE_FLOW)
        return False

    def get_activation_committed(self) -> bool:
        return self.can_make_broker_calls()

    def activation_committed(self) -> bool:
        return self.can_make_broker_calls()

    def has_execution_authority(self) -> bool:
        return self.can_make_broker_calls()

    def can_execute(self, require_executing: bool = True) -> bool:
        return self.can_make_broker_calls()

    def can_dispatch_trades(self) -> bool:
        return self.can_make_broker_calls()

    def release_core_loop_ownership(self, reason: str = "runtime handoff") -> None:
        """Grants nothing: only NIJA's permission decides whether orders may go out."""
        logger.info("release_core_loop_ownership(%s): no effect under NIJA", reason)

    def get_execution_authority_snapshot(self, gates_ok: bool | None = None) -> dict[str, Any]:
        permission = self._backend.permission()
        live = permission.allowed and permission.mode is Mode.LIVE
        authorized = ExecutionSafetyState.AUTHORIZED if live else ExecutionSafetyState.LOCKED
        return {
            "safety_state": authorized.value,
            "progress_state": (ExecutionProgressState.AUTHORIZED if live else ExecutionProgressState.LOCKED).value,
            "reason": permission.reason,
            "intent_present": False,
            "gates_ok": live,
            "converged": live,
            "trading_authority": live,
            "execution_permitted": live,
            "runtime_authority_state": authorized.value,
            "runtime_authority_reason": permission.code,
            "runtime_lifecycle_phase": self.get_current_state().value,
        }

    def get_first_snap_accepted(self) -> bool:
        return self._first_snap_accepted

    def set_first_snap_accepted(self, value: bool = True) -> None:
        """Kept for callers; it no longer gates anything (NIJA's flow does)."""
        self._first_snap_accepted = bool(value)


def _parse(state: TradingState | str) -> TradingState:
    """A state by member, by name, or by another enum's member with the same value."""
    try:
        return TradingState(getattr(state, "value", state))
    except ValueError:
        raise StateTransitionError(
            f"Unknown trading state {state!r}",
            f"Use one of: {', '.join(TradingState)}",
        ) from None


_state_machine: TradingStateMachine | None = None
_instance_lock = threading.Lock()


def get_state_machine() -> TradingStateMachine:
    """The process's state machine on the default data directory (singleton)."""
    global _state_machine
    with _instance_lock:
        if _state_machine is None:
            _state_machine = TradingStateMachine()
        return _state_machine


def require_state(required_state: TradingState) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: run only in ``required_state`` (read at each call), else raise
    StateTransitionError."""

    def decorator(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            permission, current = get_state_machine()._backend.read()
            live_refused = required_state is TradingState.LIVE_ACTIVE and permission.mode is not Mode.LIVE
            if current is not required_state or live_refused:
                why = f" ({permission.reason})" if current is required_state else ""
                raise StateTransitionError(
                    f"Function {func.__name__} requires state {required_state.value} "
                    f"but current state is {current.value}{why}",
                    LIVE_FLOW if required_state is TradingState.LIVE_ACTIVE else "",
                    code=ErrorCode.WRONG_STATE,
                )
            return func(*args, **kwargs)

        return wrapper

    return decorator


def require_live_trading() -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: run only in a LIVE_ACTIVE reached by NIJA's confirmation flow."""
    return require_state(TradingState.LIVE_ACTIVE)


def commit_activation(
    kill: bool,
    capital_ready: bool,
    execution_ready: bool,
    venue_ready: bool,
    live_verified: bool,
    invariant: bool,
    snapshot_ready: bool,
) -> bool:
    """The original's final activation gate: never passes here, whatever the gates say
    (live trading is enabled only by NIJA's confirmation flow)."""
    logger.critical("commit_activation refused: %s", LIVE_FLOW)
    return False


_anomalies: Counter[str] = Counter()
_anomalies_lock = threading.Lock()


def report_execution_anomaly(kind: str, detail: str = "") -> None:
    """Counted and logged; it trips nothing (NIJA's pre-trade controls and kill do)."""
    with _anomalies_lock:
        _anomalies[str(kind or "").strip() or "unknown"] += 1
    logger.warning("Execution anomaly %s: %s", kind, detail)


def get_execution_anomaly_snapshot() -> dict[str, Any]:
    with _anomalies_lock:
        counts = dict(_anomalies)
    return {"enabled": False, "healthy": True, "reason": "", "tripped": False, "counts": counts, "thresholds": {}}
