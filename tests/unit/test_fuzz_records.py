"""A smaller run of ``benchmarks/fuzz_records.py`` (seeded mutation of real record files
through the real readers, the gate and the renderers): nothing trades on conflicting
content and nothing crashes. The benchmark itself runs 100,000 cases."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz_records.py"


def load_fuzzer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_records", BENCHMARK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fuzz_records", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3, 2026])
def test_mutated_records_never_trade_on_conflicting_content_and_never_crash(tmp_path: Path, seed: int) -> None:
    figures = load_fuzzer().run(4000, seed, tmp_path)
    assert figures.examples == []
    assert figures.trades_on_conflict == 0
    assert figures.crashes == 0
    # The mutations bite: a lenient reading would have traded on some, and some still trade cleanly.
    assert figures.lenient_would_trade > 50
    assert figures.duplicate_cases > 500
    assert figures.allowed > 0
