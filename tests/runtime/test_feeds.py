"""Feeds: the shipped sample, CSV replays, and live prices through ccxt (recorded HTTP)."""

from __future__ import annotations

import base64
from pathlib import Path

import ccxt
import pytest
import requests

from nija.domain.errors import UsageProblem
from nija.runtime.feeds import ccxt_candles, read_csv, sample_path
from nija.runtime.settings import ExchangeSettings, FeedSettings
from tests.runtime.test_exchange_broker import RecordedKraken


def test_the_shipped_sample_is_labelled_synthetic_and_small() -> None:
    path = sample_path()
    assert path.stat().st_size < 1_000_000
    assert "SYNTHETIC" in path.read_text().splitlines()[0]
    candles = read_csv(path)
    assert {c.symbol for c in candles} == {"BTC/USDT", "ETH/USDT", "SOL/USDT"}
    assert all(c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high for c in candles)


def test_csv_accepts_epoch_seconds_milliseconds_and_iso_times_and_filters_symbols(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "# comment\ntimestamp,symbol,open,high,low,close,volume\n"
        "1767225720000,BTC/USDT,3,3,3,3,1\n"
        "2026-01-01T00:01:00Z,BTC/USDT,2,2,2,2,1\n"
        "1767225600,BTC/USDT,1,1,1,1,1\n"
        "1767225600,ETH/USDT,9,9,9,9,1\n"
    )
    candles = read_csv(path, ("BTC/USDT",))
    assert [(c.timestamp, c.close) for c in candles] == [(1767225600, 1), (1767225660, 2), (1767225720, 3)]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("1,BTC/USDT,1,2,0.5,abc,1", "could not convert"),
        ("1,BTC/USDT,1,0.9,0.5,1,1", "0 < low <= open, close <= high"),
        ("1,BTC/USDT,1,2", "expected 7 columns"),
    ],
)
def test_a_bad_line_is_refused_with_its_number_and_the_format(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "c.csv"
    path.write_text(f"timestamp,symbol,open,high,low,close,volume\n{line}\n")
    with pytest.raises(UsageProblem) as caught:
        read_csv(path)
    assert "line 2" in caught.value.message
    assert problem in caught.value.message
    assert "timestamp,symbol,open,high,low,close,volume" in caught.value.fix


def test_live_prices_yield_only_closed_candles_once() -> None:
    client = ccxt.kraken({"apiKey": "k", "secret": base64.b64encode(b"s").decode(), "enableRateLimit": False})
    adapter = RecordedKraken({"OHLC": (200, "OHLC.json")})
    client.session.mount("https://", adapter)
    feed = FeedSettings(kind="ccxt", symbols=("BTC/USDT",), poll_s=0.01)
    two_polls = lambda: len(adapter.calls("OHLC")) >= 2  # noqa: E731
    candles = list(ccxt_candles(feed, ExchangeSettings(), stop=two_polls, on_error=print, client=client))
    assert len(adapter.calls("OHLC")) == 2
    # Both polls see the same three candles; the forming last one is never yielded, none twice.
    assert [(c.timestamp, c.close) for c in candles] == [(1767225600, 43050.0), (1767225660, 43090.0)]


def test_live_feed_errors_are_reported_not_raised() -> None:
    client = ccxt.kraken({"enableRateLimit": False})
    client.session.mount("https://", RecordedKraken({"OHLC": requests.ConnectionError}))
    errors: list[str] = []
    polls = iter([False, True])
    feed = FeedSettings(kind="ccxt", symbols=("BTC/USDT",), poll_s=0.01)
    assert (
        list(
            ccxt_candles(
                feed, ExchangeSettings(), stop=lambda: next(polls, True), on_error=errors.append, client=client
            )
        )
        == []
    )
    assert "NetworkError" in errors[0] or "ExchangeNotAvailable" in errors[0]


def test_csv_is_read_as_csv_quoted_fields_crlf_and_spaces(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_bytes(
        b"timestamp,symbol,open,high,low,close,volume\r\n"
        b'"2026-01-01T00:00:00Z","BTC/USDT",100,110,90,105,1.5\r\n'
        b"1767225660, ETH/USDT, 10, 11, 9, 10.5, 2\r\n"
    )
    candles = read_csv(path)
    assert [(c.symbol, c.close) for c in candles] == [("BTC/USDT", 105.0), ("ETH/USDT", 10.5)]


def test_an_unterminated_quote_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text('1767225600,BTC/USDT,100,110,90,105,1\n"1767225660,BTC/USDT,100,110,90,105,1\n')
    with pytest.raises(UsageProblem, match=r"line \d"):
        read_csv(path)
