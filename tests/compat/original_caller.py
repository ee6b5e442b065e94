"""A program that uses the two modules the way the original bot's callers do (its
safe_restore_trading.py, api_server.py, broker guards, decorators, auto-triggers), run as
a real process by the tests: ``python original_caller.py SCENARIO [ARGS]``.

It imports ``bot.kill_switch`` and ``bot.trading_state_machine`` from the repository root
(the shims), and, like the original's tools, also the bare names with ``bot/`` on sys.path.
Each scenario prints one JSON document on stdout."""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bot.kill_switch import (  # noqa: E402 - the path set-up above is the point
    KillSwitch,
    check_kill_switch,
    get_auto_trigger,
    get_kill_switch,
    require_kill_switch_inactive,
)
from bot.trading_state_machine import (  # noqa: E402
    StateTransitionError,
    TradingState,
    TradingStateMachine,
    commit_activation,
    get_state_machine,
    require_live_trading,
    require_state,
)


def signal_ready(text: str) -> None:
    """Tell the test this process got going: the file appears whole (renamed into place)."""
    ready = Path(os.environ["CALLER_READY_FILE"])
    partial = ready.with_suffix(".partial")
    partial.write_text(text)
    partial.replace(ready)


def status() -> dict[str, Any]:
    """The original safe_restore_trading.py check_status() and api_server's endpoint."""
    kill_switch = get_kill_switch()
    ks_active = kill_switch.is_active()
    ks_status = kill_switch.get_status()
    state_machine = get_state_machine()
    current_state = state_machine.get_current_state()
    return {
        "state": current_state.value,
        "kill_active": ks_active,
        "status": {k: ks_status[k] for k in ("is_active", "kill_file_exists", "kill_file_path", "recent_history")},
        "activation_count": kill_switch.get_activation_count(),
        "can_trade": not (ks_active or current_state == TradingState.EMERGENCY_STOP),
        "summary": state_machine.get_state_summary(),
        "history": [f"{e['from']} -> {e['to']}: {e['reason']}" for e in state_machine.get_state_history()],
        "broker_calls": state_machine.can_make_broker_calls(),
        "live": state_machine.is_live_trading_active(),
        "dry_run": state_machine.is_dry_run_mode(),
        "trading_allowed": state_machine.is_trading_allowed(),
        "emergency": state_machine.is_emergency_stopped(),
    }


def transition(target: str, reason: str) -> dict[str, Any]:
    try:
        ok = get_state_machine().transition_to(TradingState[target], reason)
    except StateTransitionError as exc:
        return {"ok": False, "error": str(exc), "code": exc.code, "state": get_state_machine().get_current_state()}
    return {"ok": ok, "state": get_state_machine().get_current_state().value}


def kill(reason: str, source: str = "UI") -> dict[str, Any]:
    get_kill_switch().activate(reason, source)
    return {"kill_active": get_kill_switch().is_active(), "state": get_state_machine().get_current_state().value}


def deactivate(*reason: str) -> dict[str, Any]:
    try:
        get_kill_switch().deactivate(*reason)
    except RuntimeError as exc:
        return {"ok": False, "error": str(exc), "kill_active": get_kill_switch().is_active()}
    return {"ok": True, "kill_active": get_kill_switch().is_active(), "state": get_state_machine().get_current_state()}


@require_kill_switch_inactive
def place_order(symbol: str) -> str:
    return f"order {symbol}"


@require_live_trading()
def submit_real_order(symbol: str) -> str:
    return f"REAL order {symbol}"


@require_state(TradingState.DRY_RUN)
def simulate_order(symbol: str) -> str:
    return f"paper order {symbol}"


def attempt(call: Any) -> dict[str, Any]:
    try:
        return {"returned": call(), "raised": None}
    except Exception as exc:  # noqa: BLE001 - recording what each unsafe path does
        return {"returned": None, "raised": type(exc).__name__, "runtime_error": isinstance(exc, RuntimeError)}


def release_then_dispatch(sm: TradingStateMachine) -> bool:
    sm.release_core_loop_ownership()
    return bool(sm.can_dispatch_trades())


def unsafe() -> dict[str, Any]:
    """Every path by which the original could reach live trading or lose a kill."""
    sm = get_state_machine()
    ks = get_kill_switch()
    results = {
        "transition_live_active": attempt(lambda: sm.transition_to(TradingState.LIVE_ACTIVE, "go live")),
        "transition_pending": attempt(lambda: sm.transition_to(TradingState.LIVE_PENDING_CONFIRMATION, "user")),
        "activate_live_trading": attempt(lambda: sm.activate_live_trading("force start")),
        "force_activate_live": attempt(lambda: sm.force_activate_live()),
        "commit_activation_method": attempt(lambda: sm.commit_activation({"valid_brokers": 1})),
        "maybe_auto_activate": attempt(lambda: sm.maybe_auto_activate()),
        "commit_activation_gate": attempt(lambda: commit_activation(False, True, True, True, True, True, True)),
        "submit_real_order": attempt(lambda: submit_real_order("BTC-USD")),
        "can_execute": attempt(lambda: sm.can_execute()),
        "release_then_dispatch": attempt(lambda: release_then_dispatch(sm)),
    }
    # The original's own patches poke its privates and its table: here they change nothing.
    sm.VALID_TRANSITIONS[TradingState.DRY_RUN].append(TradingState.LIVE_ACTIVE)
    sm._current_state = TradingState.LIVE_ACTIVE  # type: ignore[attr-defined]
    sm._activation_committed = True  # type: ignore[attr-defined]
    results["poked_privates_state"] = {"returned": sm.get_current_state().value, "raised": None}
    results["poked_privates_broker_calls"] = {"returned": sm.can_make_broker_calls(), "raised": None}
    results["poked_table_transition"] = attempt(lambda: sm.transition_to(TradingState.LIVE_ACTIVE, "table edit"))
    ks.activate("unsafe-path test kill", "TEST")
    results["killed_transition_dry_run"] = attempt(lambda: sm.transition_to(TradingState.DRY_RUN, "resume"))
    results["killed_transition_off"] = attempt(lambda: sm.transition_to(TradingState.OFF, "resume"))
    results["killed_place_order"] = attempt(lambda: place_order("BTC-USD"))
    results["killed_check"] = attempt(check_kill_switch)
    results["killed_assert"] = attempt(lambda: ks.assert_not_active("entry"))
    results["deactivate_without_reason"] = attempt(ks.deactivate)
    results["deactivate_blank_reason"] = attempt(lambda: ks.deactivate("   "))
    results["final"] = status()
    return results


def live_order() -> dict[str, Any]:
    """What a live bot does once NIJA's confirmation flow has made it LIVE_ACTIVE."""
    sm = get_state_machine()
    return {
        "submit_real_order": attempt(lambda: submit_real_order("BTC-USD")),
        "activate_live_trading": attempt(lambda: sm.activate_live_trading("already confirmed")),
        "transition_live_active": attempt(lambda: sm.transition_to(TradingState.LIVE_ACTIVE, "stay live")),
        "simulate_order": attempt(lambda: simulate_order("BTC-USD")),
        **status(),
    }


def wait_for_live(timeout: str) -> dict[str, Any]:
    """A running original bot, in simulation until the operator confirms live via NIJA."""
    sm = get_state_machine()
    signal_ready(sm.get_current_state().value)
    deadline = time.monotonic() + float(timeout)
    while time.monotonic() < deadline and not sm.is_live_trading_active():
        time.sleep(0.02)
    return live_order()


def simulate_until_stopped(timeout: str) -> dict[str, Any]:
    """A running original bot in simulation, reporting once it reads EMERGENCY_STOP (or at
    the timeout): what it then tries."""
    sm = get_state_machine()
    signal_ready(sm.get_current_state().value)
    deadline = time.monotonic() + float(timeout)
    while time.monotonic() < deadline and not sm.is_emergency_stopped():
        time.sleep(0.02)
    return live_order()


def live_until_killed(timeout: str) -> dict[str, Any]:
    """A running original bot that, once live, keeps running (until it is killed)."""
    wait_for_live(timeout)
    time.sleep(float(timeout))
    return live_order()


def live_after_owner_stops(timeout: str) -> dict[str, Any]:
    """Started while another bot owned a live confirmation; that bot then stops beating."""
    sm = get_state_machine()
    signal_ready(sm.get_state_summary()["permission"]["code"])
    deadline = time.monotonic() + float(timeout)
    while time.monotonic() < deadline:
        if sm.get_state_summary()["permission"]["code"] != "LIVE_OWNED_BY_RUNNING_BOT":
            break
        time.sleep(0.05)
    return live_order()


def wait_for_kill(timeout: str) -> dict[str, Any]:
    """A bot loop: place guarded orders until the kill switch stops it."""
    placed = 0
    deadline = time.monotonic() + float(timeout)
    while time.monotonic() < deadline:
        try:
            place_order("BTC-USD")
        except RuntimeError as exc:
            return {"stopped": True, "error": str(exc), "placed": placed}
        placed += 1
        if placed == 1:
            signal_ready("ready")
        time.sleep(0.005)
    return {"stopped": False, "placed": placed}


def poll_kill(timeout: str) -> dict[str, Any]:
    """A monitor loop polling is_active(), as the original's dashboards do."""
    ks = get_kill_switch()
    deadline = time.monotonic() + float(timeout)
    while time.monotonic() < deadline:
        if ks.is_active() and ks.get_status()["recent_history"]:
            break
        time.sleep(0.05)
    return {"kill_active": ks.is_active(), "status": ks.get_status()}


def callbacks(timeout: str) -> dict[str, Any]:
    """Callbacks for own transitions at once, for other processes' changes on a read."""
    sm = get_state_machine()
    fired: list[str] = []
    for state in TradingState:
        sm.register_callback(state, functools.partial(fired.append, state.value))
    sm.transition_to(TradingState.DRY_RUN, "callback test")
    own = list(fired)
    signal_ready("ready")
    deadline = time.monotonic() + float(timeout)
    while time.monotonic() < deadline and TradingState.EMERGENCY_STOP.value not in fired:
        sm.is_trading_allowed()
        time.sleep(0.01)
    seen_remote = list(fired)
    get_kill_switch().deactivate("callback test: remote kill understood")
    return {"own": own, "seen_remote": seen_remote, "all": fired}


def auto_trigger() -> dict[str, Any]:
    trigger = get_auto_trigger(max_daily_loss_pct=3.0, max_consecutive_losses=3)
    first = trigger.auto_trigger_if_needed(10_000.0)
    small = trigger.auto_trigger_if_needed(9_800.0)
    big = trigger.auto_trigger_if_needed(9_600.0)
    return {"first": first, "small": small, "big": big, **status()}


def identity() -> dict[str, Any]:
    """The original's tools import the bare names with bot/ on sys.path."""
    sys.path.insert(0, str(REPO / "bot"))
    import bot.kill_switch
    import bot.trading_state_machine
    import kill_switch  # type: ignore[import-not-found]
    import trading_state_machine  # type: ignore[import-not-found]

    return {
        "same_kill_module": kill_switch is bot.kill_switch,
        "same_state_module": trading_state_machine is bot.trading_state_machine,
        "same_singleton": kill_switch.get_kill_switch() is bot.kill_switch.get_kill_switch(),
        "kill_file_path": KillSwitch().get_status()["kill_file_path"],
    }


def threads() -> dict[str, Any]:
    """The original deadlocked here: deactivate() held the kill switch lock while the state
    machine called back into is_active(), and get_state_summary() re-took its own lock.
    Callbacks that read both, with reader threads running, must all complete."""
    import threading

    ks, sm = get_kill_switch(), get_state_machine()
    seen: list[str] = []
    sm.register_callback(TradingState.OFF, lambda: seen.append(f"OFF active={ks.is_active()}"))
    sm.register_callback(
        TradingState.EMERGENCY_STOP, lambda: seen.append(f"ES {sm.get_state_summary()['current_state']}")
    )
    stop = threading.Event()
    reads = [0] * 8

    def reader(i: int) -> None:
        while not stop.is_set():
            ks.is_active()
            sm.get_current_state()
            sm.get_state_summary()
            reads[i] += 1

    workers = [threading.Thread(target=reader, args=(i,)) for i in range(len(reads))]
    for worker in workers:
        worker.start()
    try:
        for round_ in range(5):
            ks.activate(f"round {round_}", "TEST")
            ks.deactivate(f"round {round_} fixed")
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
    return {"seen": seen, "all_read": all(reads), "alive": [w.is_alive() for w in workers], **status()}


def names() -> dict[str, Any]:
    """Every public name the original's callers use, with its signature, through the shims."""
    import inspect

    import bot.kill_switch as ks_module
    import bot.trading_state_machine as sm_module

    def described(owner: Any, name: str) -> str | None:
        thing = getattr(owner, name, None)
        if thing is None:
            return None
        return str(inspect.signature(thing)) if callable(thing) and not isinstance(thing, type) else "present"

    kill = {
        "KillSwitch": [
            "activate",
            "deactivate",
            "is_active",
            "assert_not_active",
            "get_status",
            "get_activation_count",
        ],
        "KillSwitchAutoTrigger": [
            "check_daily_loss",
            "check_weekly_drawdown",
            "get_weekly_risk_multiplier",
            "check_balance_delta",
            "record_trade_result",
            "record_api_error",
            "record_api_success",
            "check_all_triggers",
            "auto_trigger_if_needed",
            "reset_metrics",
        ],
    }
    state = {
        "TradingStateMachine": [
            "get_current_state",
            "transition_to",
            "is_trading_allowed",
            "is_live_trading_active",
            "is_dry_run_mode",
            "is_emergency_stopped",
            "can_make_broker_calls",
            "get_state_history",
            "get_state_summary",
            "register_callback",
            "activate_live_trading",
            "force_activate_live",
            "commit_activation",
            "maybe_auto_activate",
            "get_activation_committed",
            "activation_committed",
            "has_execution_authority",
            "can_execute",
            "can_dispatch_trades",
            "release_core_loop_ownership",
            "get_execution_authority_snapshot",
            "get_first_snap_accepted",
            "set_first_snap_accepted",
        ]
    }
    out: dict[str, Any] = {}
    for module, classes, functions in (
        (ks_module, kill, ["get_auto_trigger", "get_kill_switch", "check_kill_switch", "require_kill_switch_inactive"]),
        (
            sm_module,
            state,
            [
                "get_state_machine",
                "require_state",
                "require_live_trading",
                "commit_activation",
                "report_execution_anomaly",
                "get_execution_anomaly_snapshot",
            ],
        ),
    ):
        for cls_name, methods in classes.items():
            cls = getattr(module, cls_name)
            out[cls_name] = str(inspect.signature(cls))
            for method in methods:
                out[f"{cls_name}.{method}"] = described(cls, method)
        for function in functions:
            out[function] = described(module, function)
    out["TradingState"] = [s.value for s in sm_module.TradingState]
    out["StateTransitionError"] = issubclass(sm_module.StateTransitionError, Exception)
    return out


SCENARIOS: dict[str, Callable[..., dict[str, Any]]] = {
    "status": status,
    "transition": transition,
    "kill": kill,
    "deactivate": deactivate,
    "unsafe": unsafe,
    "wait_for_kill": wait_for_kill,
    "callbacks": callbacks,
    "poll_kill": poll_kill,
    "live_order": live_order,
    "wait_for_live": wait_for_live,
    "live_until_killed": live_until_killed,
    "simulate_until_stopped": simulate_until_stopped,
    "live_after_owner_stops": live_after_owner_stops,
    "auto_trigger": auto_trigger,
    "identity": identity,
    "names": names,
    "threads": threads,
}

if __name__ == "__main__":
    result = SCENARIOS[sys.argv[1]](*sys.argv[2:])
    print(json.dumps(result, default=str))
