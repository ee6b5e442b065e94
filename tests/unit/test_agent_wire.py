"""The host agent's wire format and its choices that need no database: what a bot
decodes from the agent, which notifications make the agent re-read, and the
``[store] agent`` key."""

from __future__ import annotations

import json
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


def test_an_account_report_and_its_figures_round_trip() -> None:
    from datetime import date

    from nija.domain.account_risk import AccountFigures, AccountLimits, BotFigures

    report = wire.Report("b1", "acct", date(2026, 12, 1), {"daily_loss": 12.5, "gross_exposure": 3}, AT)
    request = json.loads(wire.report_request(report))
    assert wire.report_from(request["bot"], request) == report
    figures = AccountFigures(
        "acct", "2026-12-01", AccountLimits(1000.0, None), (BotFigures("b1", 12.5, None),), 12.5, 0.0
    )
    assert wire.figures_from(json.loads(json.dumps(wire.figures_doc(figures)))) == figures


@pytest.mark.parametrize("figure", ["12.5", True, None, [1]], ids=["text", "bool", "null", "list"])
def test_a_reported_figure_that_is_no_number_stays_unreadable_never_zero(figure: object) -> None:
    request = {"account": "acct", "day": "2026-12-01", "now": AT.isoformat(), "figures": {"daily_loss": figure}}
    assert wire.report_from("b1", request).figures == {"daily_loss": None}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"account": ""}, "account must be a name"),
        ({"now": "2026-12-01T12:00:00"}, "time zone"),
        ({"figures": [1]}, "figures must be an object"),
        ({"day": "yesterday"}, "isoformat"),
    ],
    ids=["no-account", "naive-time", "figures-list", "bad-day"],
)
def test_a_malformed_report_is_refused(change: dict[str, object], problem: str) -> None:
    request = {"account": "acct", "day": "2026-12-01", "now": AT.isoformat(), "figures": {}, **change}
    with pytest.raises(ValueError, match=problem):
        wire.report_from("b1", request)
