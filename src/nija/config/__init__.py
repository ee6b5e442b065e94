"""The typed configuration file ``nija.toml`` in the data directory: a leaf.

``nija.config`` imports nothing of NIJA's but its own section models and the leaves they
stand on (the exception tree, the section models of runtime, notify and observability,
the non-blocking file reader); ``tests/unit/test_config_leaf.py`` holds it to that. The
models (pydantic) load on first use: a plain ``status`` without nija.toml never pays
for them, and ``assembly`` checks for the file by name (``CONFIG_FILE``) first."""

from __future__ import annotations

CONFIG_FILE = "nija.toml"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nija.config.model import ApiSettings as ApiSettings
    from nija.config.model import LiveSettings as LiveSettings
    from nija.config.model import NijaConfig as NijaConfig
    from nija.config.model import Section as Section
    from nija.config.model import load_config as load_config
    from nija.config.model import load_config_lenient as load_config_lenient

_MODEL = frozenset({"ApiSettings", "LiveSettings", "NijaConfig", "Section", "load_config", "load_config_lenient"})


def __getattr__(name: str) -> object:
    if name in _MODEL:
        from nija.config import model

        return getattr(model, name)
    raise AttributeError(f"module 'nija.config' has no attribute {name!r}")
