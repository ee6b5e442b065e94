"""``nija.config`` is a leaf: loading its models loads none of NIJA's wiring, stores or
service (the circle assembly <-> config <-> wiring is gone), only its section models and
the leaves they stand on. A fresh interpreter, because this process has loaded it all."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import cli_env

LEAVES = {
    "nija",
    "nija.config",
    "nija.config.model",
    "nija.domain",
    "nija.domain.actions",
    "nija.domain.codes",
    "nija.domain.errors",
    "nija.domain.events",
    "nija.notify",
    "nija.notify.settings",
    "nija.observability",
    "nija.observability.settings",
    "nija.runtime",
    "nija.runtime.settings",
    "nija.store",
    "nija.store.record_file",
}


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys, json; {statement}; print(json.dumps([m for m in sys.modules if m.startswith('nija')]))"
    out = subprocess.run([sys.executable, "-c", code], env=cli_env(), capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_the_configuration_models_load_only_leaves() -> None:
    assert _loaded_after("from nija.config import NijaConfig, load_config") <= LEAVES


def test_the_file_name_alone_loads_nothing_else() -> None:
    assert _loaded_after("from nija.config import CONFIG_FILE") == {"nija", "nija.config"}
