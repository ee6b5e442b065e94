"""The host agent's wire format and its choices that need no database: what a bot
decodes from the agent, which notifications make the agent re-read, and the
``[store] agent`` key."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from nija.config import load_config
from nija.domain.errors import UsageProblem
from nija.domain.permission import decide
from nija.store.agent import wire
from nija.store.agent.server import concerns
from nija.store.postgres.view import snapshot_from_row

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ROW = ("DRY_RUN", False, "OFF", "DRY_RUN", AT, False, False, "OFF", None, None, "run", "", False, False, None)


def test_an_update_round_trips_with_its_timestamps_and_objects() -> None:
    update = wire.Update(7, 123.5, "connected", (*ROW, {"nonce": "n"}, Decimal("1.25")))
    back = wire.decode_update(wire.encode_update(update).rstrip(b"\n"))
    assert back == update
    assert back.row is not None
    assert isinstance(back.row[4], datetime)


def test_a_decoded_row_decides_as_the_database_row_does() -> None:
    back = wire.decode_update(wire.encode_update(wire.Update(1, 1.0, "", ROW)))
    assert back.row is not None
    assert decide(snapshot_from_row(back.row)) == decide(snapshot_from_row(ROW))
    assert decide(snapshot_from_row(back.row)).code == "DRY_RUN"


@pytest.mark.parametrize(
    "line",
    [b"", b"[]", b'{"confirmed": 1}', b'{"seq": 1, "confirmed": "soon"}', b'{"seq": 1, "row": 5}', b"\xff"],
)
def test_anything_else_than_an_update_is_refused(line: bytes) -> None:
    with pytest.raises(ValueError, match=r"."):  # the bot's view then halts and reconnects (fail closed)
        wire.decode_update(line)


def test_the_kill_line_carries_no_row() -> None:
    back = wire.decode_update(wire.encode_update(wire.Update(2, 5.0, "", None, kill=True)))
    assert back.kill
    assert back.row is None


def test_the_agent_re_reads_for_its_bots_the_fleet_and_unknown_scopes_only() -> None:
    served = {"alpha", "beta"}
    assert concerns("alpha", served)
    assert concerns("@fleet", served)
    assert concerns("account:main-kraken", served), "a kill scope that is no bot (an account) concerns everyone"
    assert not concerns("gamma", served), "another host's bot"


def test_the_agent_key_must_be_an_absolute_path(tmp_path: Path) -> None:
    (tmp_path / "nija.toml").write_text('[store]\nagent = "run/agent.sock"\n')
    with pytest.raises(UsageProblem, match=r"store\.agent: .*not an absolute path"):
        load_config(tmp_path)
    (tmp_path / "nija.toml").write_text('[store]\nagent = "/run/nija/agent.sock"\n')
    assert load_config(tmp_path).store.agent == Path("/run/nija/agent.sock")
