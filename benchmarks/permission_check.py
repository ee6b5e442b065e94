"""The order-permission check with nothing changed, against one os.stat of the state file,
without and with the running bot's live verifier (the view ``nija run`` uses).

Target: under 20 µs per check. Run: python benchmarks/permission_check.py"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stats import per_call, summary

from nija.domain.live_auth import LiveVerifier
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.json_files import JsonFileStore

ROUNDS, BATCH = 2000, 50


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        store = JsonFileStore(directory)
        SafetyService(store).restore(Who("bench", "bench"))
        view = store.permission_view()
        bots_view = store.permission_view(LiveVerifier("bench-run-" + "x" * 22))
        assert view.check().allowed
        assert bots_view.check().allowed
        state_file = Path(directory) / ".nija_trading_state.json"
        checks = per_call(view.check, ROUNDS, BATCH)
        verified = per_call(bots_view.check, ROUNDS, BATCH)
        stats = per_call(lambda: os.stat(state_file), ROUNDS, BATCH)
    check_median = sorted(checks)[len(checks) // 2]
    verified_median = sorted(verified)[len(verified) // 2]
    stat_median = sorted(stats)[len(stats) // 2]
    print(f"permission check:               {summary(checks, 'µs', 1e6)}")
    print(f"permission check with verifier: {summary(verified, 'µs', 1e6)}")
    print(f"one os.stat:                    {summary(stats, 'µs', 1e6)}")
    print(f"ratio check/stat (medians): {check_median / stat_median:.1f}x")
    print(f"ratio verifier/plain (medians): {verified_median / check_median:.2f}x")
    worst = max(check_median, verified_median)
    print(f"target < 20 µs: {'met' if worst < 20e-6 else 'NOT met'}")


if __name__ == "__main__":
    main()
