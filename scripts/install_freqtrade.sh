#!/usr/bin/env bash
# Install the real freqtrade (PyPI) into its own virtual environment for the integration
# tests: its pins (numpy, pandas, TA-Lib, its own ccxt) must not touch NIJA's .venv.
# Usage: bash scripts/install_freqtrade.sh  (idempotent; the version is pinned on purpose)
set -euo pipefail
cd "$(dirname "$0")/.."
FREQTRADE_VERSION="${FREQTRADE_VERSION:-2026.9}"
venv=.venv-freqtrade
if [ -x "$venv/bin/freqtrade" ] && "$venv/bin/python" -c "import freqtrade, sys; sys.exit(freqtrade.__version__ != '$FREQTRADE_VERSION')" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
# --prefer-binary: TA-Lib, numpy and pandas ship wheels (no compiler needed); only small
# pure-Python sdists such as sdnotify are built.
"$venv/bin/python" -m pip install -q --prefer-binary "freqtrade==$FREQTRADE_VERSION"
"$venv/bin/freqtrade" --version
