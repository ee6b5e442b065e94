"""The original bot's hot reads through nija.compat (is_active, get_current_state,
can_make_broker_calls) against the store's permission check they are built on, and
against a full status read (what they would cost without the permission view).

Target: each compat read within 3x the bare permission check. Run: python benchmarks/compat_reads.py"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stats import per_call, summary

from nija.compat.kill_switch import KillSwitch
from nija.compat.trading_state_machine import TradingStateMachine
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.json_files import JsonFileStore

ROUNDS, BATCH = 1000, 50


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        store = JsonFileStore(directory)
        SafetyService(store).restore(Who("bench", "bench"))
        view = store.permission_view()
        ks = KillSwitch(directory)
        sm = TradingStateMachine(Path(directory) / ".nija_trading_state.json")
        service = SafetyService(store)
        results = {
            "permission check (baseline)": per_call(view.check, ROUNDS, BATCH),
            "KillSwitch.is_active()": per_call(ks.is_active, ROUNDS, BATCH),
            "get_current_state()": per_call(sm.get_current_state, ROUNDS, BATCH),
            "can_make_broker_calls()": per_call(sm.can_make_broker_calls, ROUNDS, BATCH),
            "full status read": per_call(service.status, ROUNDS, BATCH),
        }
    base = statistics.median(results["permission check (baseline)"])
    worst = 0.0
    for name, samples in results.items():
        ratio = statistics.median(samples) / base
        if name.endswith("()"):
            worst = max(worst, ratio)
        print(f"{name:30} {summary(samples, 'µs', 1e6)}  ({ratio:.1f}x the permission check)")
    print(f"target: compat reads within 3x the permission check: {'met' if worst <= 3 else 'NOT met'} ({worst:.1f}x)")


if __name__ == "__main__":
    main()
