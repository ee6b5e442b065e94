"""The groups list their commands without importing them: each listed line (but the
summaries `nija --help` has always shown as written) must be the start of the command's
own help, so the tables in cli/main.py cannot drift from the commands."""

from __future__ import annotations

import pytest

from nija.cli import main


@pytest.mark.parametrize(
    ("table", "name"),
    [(t, n) for t in (main.LAZY_COMMANDS, main.KILL_COMMANDS) for n in t if n not in main.nija.shown_whole],
)
def test_each_listed_help_line_is_the_commands_own(table: main.Table, name: str) -> None:
    target, line = table[name]
    command = main.load(target)
    own = (command.help or "").split("\n\n")[0]
    assert " ".join(own.split()).startswith(line), (name, own)
