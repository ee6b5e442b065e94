"""``import nija`` stays cheap: ``nija.guard`` loads ccxt only when first used."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import cli_env


def test_import_nija_does_not_load_ccxt_until_guard_is_used() -> None:
    code = (
        "import sys, nija\n"
        "assert 'ccxt' not in sys.modules, 'import nija loaded ccxt'\n"
        "assert callable(nija.guard)\n"
        "assert 'ccxt' in sys.modules\n"
        "from nija import guard\n"
        "assert guard is nija.guard\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env=cli_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
