#!/usr/bin/env bash
# Install everything the tests need on a fresh machine, then run lint, types and tests.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: Chromium for the web control center's browser tests, PostgreSQL for
# the fleet store. Installed only when missing.
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
# Debian's python3 makes virtual environments only with python3-venv (ensurepip); both
# .venv and freqtrade's .venv-freqtrade need it.
python3 -c 'import ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}" >/dev/null
fi

# PostgreSQL: use the running server, else start the installed cluster.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
export NIJA_TEST_PG_DSN="${NIJA_TEST_PG_DSN:-postgresql://postgres@127.0.0.1:5432/postgres}"
# A freshly installed Debian cluster asks for passwords over TCP: on this throw-away test
# server, let local connections in without one (what the tests' DSN expects).
if ! psql "$NIJA_TEST_PG_DSN" -qAtc 'select 1' >/dev/null 2>&1; then
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf | sort -V | tail -n 1)
  as_root sed -i -E 's/^(local|host)(\s+all\s+all\s+.*)\s(peer|md5|scram-sha-256)$/\1\2 trust/' "$hba"
  as_root sed -i -E 's/^(local\s+all\s+postgres\s+)peer$/\1trust/' "$hba"
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
fi

# Python: a project virtual environment with the package and its test extras.
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# The real freqtrade for tests/freqtrade, in its own environment (its pins differ from ours).
bash scripts/install_freqtrade.sh

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
# Several workers even on 2 cores: the suite mostly waits (bot processes, browsers,
# freqtrade, PostgreSQL), it computes little. NIJA_TEST_WORKERS=0 runs it in this process;
# tests that must not overlap share an xdist_group (loadgroup keeps a group on one worker).
.venv/bin/python -m pytest -n "${NIJA_TEST_WORKERS:-4}" --dist loadgroup "$@"
