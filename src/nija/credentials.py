"""Live exchange credentials: from the environment or a secrets file others cannot read.

Never logged, never printed: ``Credentials.__repr__`` hides the values."""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from nija.domain.errors import UsageProblem
from nija.store.record_file import read_text

SECRETS_FILE = ".nija_secrets.toml"
ENV_KEY, ENV_SECRET, ENV_PASSWORD = "NIJA_API_KEY", "NIJA_API_SECRET", "NIJA_API_PASSWORD"


@dataclass(frozen=True)
class Credentials:
    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    password: str | None = field(default=None, repr=False)


def load_credentials(data_dir: Path, environ: dict[str, str] | None = None) -> Credentials | None:
    """Environment first, then ``.nija_secrets.toml``; None when neither is set.

    A secrets file readable by group or others is refused: fix its mode first."""
    env = os.environ if environ is None else environ
    if env.get(ENV_KEY) and env.get(ENV_SECRET):
        return Credentials(env[ENV_KEY], env[ENV_SECRET], env.get(ENV_PASSWORD) or None)
    path = data_dir / SECRETS_FILE
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UsageProblem(
            f"The secrets file {path} is readable by other users (mode {stat.filemode(mode)})",
            f"Run: chmod 600 {path}",
        )
    try:
        doc = tomllib.loads(read_text(path))  # never blocks on a FIFO
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageProblem(f"Cannot read the secrets file {path}: {exc}", "Fix its TOML syntax") from exc
    key, secret = doc.get("api_key"), doc.get("secret")
    if not isinstance(key, str) or not isinstance(secret, str) or not key or not secret:
        raise UsageProblem(
            f"The secrets file {path} needs string keys 'api_key' and 'secret'",
            "Add them (and 'password' if the exchange needs one)",
        )
    password = doc.get("password")
    return Credentials(key, secret, password if isinstance(password, str) else None)
