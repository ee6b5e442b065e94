"""A plain ``status`` and a plain ``kill activate`` run without click (``nija.cli.plain``):
for every situation an operator can meet they must say and do exactly what the click
commands say and do, and whatever they do not serve must reach click untouched.

Each case runs twice on two copies of one data directory: once through the entry point's
fast path, once as the entry point ran it before (for an activation the early raise, then)
through the click command; output, exit code and the files written must match (times, the
hashes of times and the kill fingerprint aside: they differ between any two runs)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from nija.assembly import build_service
from nija.cli import entry
from nija.cli.main import emergency_kill_switch, safe_restore_trading
from nija.domain.transitions import Who
from tests.conftest import CHILD_ENV

Setup = Callable[[Path], None]
ALICE = Who("alice@host", "cli")


def _clean(_: Path) -> None:
    pass


def _dry_run(d: Path) -> None:
    build_service(d).restore(ALICE)


def _killed(d: Path) -> None:
    build_service(d).activate_kill("drill", ALICE)


def _bare_kill_file(d: Path) -> None:
    (d / "EMERGENCY_STOP").write_text("")


def _corrupt_state(d: Path) -> None:
    build_service(d).restore(ALICE)
    (d / ".nija_trading_state.json").write_text("{not json")


def _bad_config(d: Path) -> None:
    (d / "nija.toml").write_text("[live]\nmin_dry_run_minutes = 'soon'\n")


def _hostile_history(d: Path) -> None:
    build_service(d).restore(ALICE)
    path = d / ".nija_trading_state.json"
    doc = json.loads(path.read_text())
    doc["history"][-1]["reason"] = "ok\x1b[2J\x1b[31mLIVE"  # a repaint, written by hand
    path.write_text(json.dumps(doc))


SITUATIONS: dict[str, Setup] = {
    "clean": _clean,
    "dry run": _dry_run,
    "killed": _killed,
    "bare kill file": _bare_kill_file,
    "corrupt state": _corrupt_state,
    "bad nija.toml": _bad_config,
    "hostile history": _hostile_history,
}

_TIMES = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?")
_FINGERPRINT = re.compile(r'"(seen|kill_seen)": "[0-9a-f]{16}"')
_BACKUP = re.compile(r"\.corrupt-[0-9a-f]{8}")
_HASH = re.compile(r"[0-9a-f]{64}")  # the audit chain's: it hashes the times


def _normal(text: str, *dirs: Path) -> str:
    for d in dirs:
        text = text.replace(str(d), "DIR")
    text = _FINGERPRINT.sub('"seen": "X"', _TIMES.sub("T", text))
    return _HASH.sub("H", _BACKUP.sub(".corrupt-X", text))


CACHES = {".nija_audit.reconciled"}  # inode and digests of times: a shortcut, not a record


def _files(d: Path) -> dict[str, str]:
    files = (p for p in sorted(d.iterdir()) if p.is_file() and p.name not in CACHES)
    return {_BACKUP.sub(".corrupt-X", p.name): _normal(p.read_text(errors="replace"), d) for p in files}


def _fast(program: str, args: list[str]) -> tuple[int, str, str]:
    with CliRunner().isolation() as (out, err, _):
        try:
            entry.fast_path(program, args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
        else:
            raise AssertionError(f"{program} {args} was not served by the fast path")
    return code, out.getvalue().decode(), err.getvalue().decode()


def _click(command: object, args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(command, args)  # type: ignore[arg-type]
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def twins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[Setup], tuple[Path, Path]]:
    for name, value in CHILD_ENV.items():
        monkeypatch.setenv(name, value)
    for name in ("NIJA_STORE", "NIJA_BOT", "NIJA_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)

    def make(setup: Setup) -> tuple[Path, Path]:
        a = tmp_path / "a" / "data"
        a.mkdir(parents=True)
        setup(a)
        b = tmp_path / "b" / "data"
        shutil.copytree(a, b)
        return a, b

    return make


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("situation", SITUATIONS)
def test_a_plain_status_says_and_does_what_the_click_command_does(
    twins: Callable[[Setup], tuple[Path, Path]], situation: str, as_json: bool
) -> None:
    a, b = twins(SITUATIONS[situation])
    flags = ["--json"] if as_json else []
    fast = _fast("safe_restore_trading", ["status", "--data-dir", str(a), *flags])
    slow = _click(safe_restore_trading, ["status", "--data-dir", str(b), *flags])
    assert (fast[0], _normal(fast[1], a), _normal(fast[2], a)) == (slow[0], _normal(slow[1], b), _normal(slow[2], b))
    assert _files(a) == _files(b)


@pytest.mark.parametrize("words", [["drill"], ["  runaway  orders "], ["drill", "--json"], ["--yes", "drill"]])
@pytest.mark.parametrize(
    "situation", ["clean", "dry run", "killed", "bare kill file", "corrupt state", "bad nija.toml"]
)
def test_a_plain_activation_says_and_does_what_the_click_command_does(
    twins: Callable[[Setup], tuple[Path, Path]], situation: str, words: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from nija import emergency

    a, b = twins(SITUATIONS[situation])
    monkeypatch.setattr(emergency, "_raised", None)
    fast = _fast("emergency_kill_switch", ["activate", *words, "--data-dir", str(a)])
    monkeypatch.setattr(emergency, "_raised", None)
    # As the entry point ran it before the fast path: the early raise, then the click command.
    emergency.raise_first([*words, "--data-dir", str(b)])
    slow = _click(emergency_kill_switch, ["activate", *words, "--data-dir", str(b)])
    assert (fast[0], _normal(fast[1], a), _normal(fast[2], a)) == (slow[0], _normal(slow[1], b), _normal(slow[2], b))
    assert _files(a).keys() == _files(b).keys()
    assert _files(a) == _files(b)


@pytest.mark.parametrize(
    ("program", "args"),
    [
        ("safe_restore_trading", ["status", "--help"]),
        ("safe_restore_trading", ["status", "--fleet"]),
        ("safe_restore_trading", ["status", "--data-dir"]),
        ("safe_restore_trading", ["status", "--data-dir="]),
        ("safe_restore_trading", ["status", "extra"]),
        ("safe_restore_trading", ["status", "--json=1"]),
        ("safe_restore_trading", ["restore"]),
        ("nija", ["status", "-h"]),
        ("emergency_kill_switch", ["activate"]),
        ("emergency_kill_switch", ["activate", "   "]),
        ("emergency_kill_switch", ["activate", "--", "drill"]),
        ("emergency_kill_switch", ["activate", "drill", "--store", "postgresql://x"]),
        ("emergency_kill_switch", ["activate", "r\u00e9seau"]),
        ("emergency_kill_switch", ["activate", "\u3000drill"]),
        ("emergency_kill_switch", ["activate", "tab\there"]),
        ("emergency_kill_switch", ["status"]),
        ("nija", ["kill", "status"]),
    ],
)
def test_anything_not_plain_is_left_to_click_and_raises_nothing(
    program: str, args: list[str], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nija import emergency

    monkeypatch.chdir(data_dir)
    monkeypatch.setattr(emergency, "_raised", None)
    with CliRunner().isolation() as (out, err, _):
        entry.fast_path(program, args)  # returns: click's to run
    assert (out.getvalue(), err.getvalue()) == (b"", b"")
    assert not (data_dir / "EMERGENCY_STOP").exists()
    assert list(data_dir.iterdir()) == []


@pytest.mark.parametrize("variable", ["NIJA_STORE", "NIJA_BOT"])
def test_a_store_chosen_by_the_environment_is_left_to_click(
    variable: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, "postgresql://nobody@127.0.0.1:1/none" if variable == "NIJA_STORE" else "bot-1")
    for program, args in (("safe_restore_trading", ["status"]), ("emergency_kill_switch", ["activate", "drill"])):
        with CliRunner().isolation():
            entry.fast_path(program, [*args, "--data-dir", str(data_dir)])
    assert list(data_dir.iterdir()) == []


def test_a_data_directory_that_is_a_file_gets_clicks_usage_error(tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("")
    for program, args in (("safe_restore_trading", ["status"]), ("emergency_kill_switch", ["activate", "drill"])):
        with CliRunner().isolation():
            entry.fast_path(program, [*args, "--data-dir", str(file)])  # returns: click's to run
    code, _, err = _click(safe_restore_trading, ["status", "--data-dir", str(file)])
    assert code == 2
    assert "is a file" in err
