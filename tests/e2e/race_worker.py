"""A worker process for the race and crash tests: performs operations on a data directory.

    python race_worker.py DATA_DIR MODE COUNT SEED

MODE ``recover`` alternates restores and resets; ``kill`` activates the kill switch
once after a short random delay; ``churn`` cycles every operation forever (crash test).
Prints one JSON line: how many transitions this worker committed."""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from nija.domain.errors import LockTimeout, SafetyRefusal
from nija.domain.transitions import Who
from nija.service import SafetyService
from nija.store.json_files import JsonFileStore


def main() -> None:
    data_dir, mode, count, seed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(seed)
    service = SafetyService(JsonFileStore(data_dir, lock_timeout_s=60))
    who = Who(f"worker-{seed}", "race-test")
    committed = refused = 0
    if mode == "kill":
        time.sleep(rng.uniform(0.05, 0.3))
        committed += len(service.activate_kill(f"kill from worker {seed}", who).transitions)
    elif mode == "recover":
        for _ in range(count):
            operation = service.restore if rng.random() < 0.5 else service.reset
            try:
                committed += len(operation(who).transitions)
            except (SafetyRefusal, LockTimeout):
                refused += 1
    elif mode == "churn":
        print("ready", flush=True)
        announced = False
        while True:
            pick = rng.random()
            try:
                if pick < 0.3:
                    outcome = service.restore(who)
                elif pick < 0.5:
                    outcome = service.reset(who)
                elif pick < 0.75:
                    outcome = service.activate_kill("churn", who)
                else:
                    outcome = service.deactivate_kill("churn over", who)
            except SafetyRefusal:
                continue
            if outcome.transitions and not announced:  # the test kills only a worker that writes
                print("wrote", flush=True)
                announced = True
    print(json.dumps({"committed": committed, "refused": refused}))


if __name__ == "__main__":
    main()
