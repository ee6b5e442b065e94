"""The guard's allow-list, against names ccxt has and names it might add."""

from __future__ import annotations

import ccxt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nija.guarded.methods import CANCEL_METHODS, ORDER_METHODS, PRIVATE_READS, Kind, classify, snake
from nija.integrations.freqtrade.client import plain

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10)
# Refused in every state: an unknown order method, or a cancel the guard cannot check
# (any name with "cancel" in it that is not one of the guard's own cancels).
NEVER_PASSED = (Kind.ORDER_UNKNOWN, Kind.CANCEL_UNKNOWN)


@given(st.sampled_from(["create", "edit", "close"]), st.lists(WORD, min_size=1, max_size=4))
def test_any_create_edit_or_close_method_is_never_passed_through(verb: str, words: list[str]) -> None:
    name = "_".join([verb, *words])
    assert classify(name) in (Kind.ORDER, *NEVER_PASSED)
    camel = verb + "".join(w.title() for w in words)
    assert classify(camel) is classify(name)


@given(st.sampled_from(["private", "sapi", "v1private", "fapiprivate", "v5"]), WORD, WORD)
def test_raw_signed_write_endpoints_are_refused_in_every_state(api: str, path: str, more: str) -> None:
    for method in ("post", "put", "delete", "patch"):
        assert classify(f"{api}_{method}_{path}_{more}") in NEVER_PASSED


READ_PREFIXES = ("fetch_", "load_", "watch_", "un_watch_", "public", "parse_", "safe_", "handle_", "is_", "check_")


@given(WORD, WORD)
def test_a_method_the_guard_does_not_know_is_never_passed_as_a_read(a: str, b: str) -> None:
    name = f"{a}_{b}"
    known = {"market_id", "market_ids", "market_symbols", "sort_by", "index_by", "group_by", "filter_by"}
    if not name.startswith(READ_PREFIXES) and name not in known:
        assert classify(name) is not Kind.READ


def test_every_ccxt_order_method_is_decided_or_refused() -> None:
    """All of ccxt's own order-placing and editing methods, as installed."""
    names = {n for n in dir(ccxt.Exchange) if n.startswith(("create_", "edit_", "close_"))}
    names -= {"create_ccxt_trade_id", "create_ohlcv_object", "create_safe_dictionary", "create_expired_option_market"}
    for name in sorted(names):
        kind = classify(name)
        assert kind in (Kind.ORDER, Kind.ORDER_UNKNOWN), name
        assert (kind is Kind.ORDER) == (snake(name) in ORDER_METHODS), name


@pytest.mark.parametrize("name", sorted(CANCEL_METHODS | PRIVATE_READS))
def test_cancels_and_private_reads_are_answered_by_the_guard(name: str) -> None:
    assert classify(name) in (Kind.CANCEL, Kind.PRIVATE_READ)


@pytest.mark.parametrize("name", ["withdraw", "transfer", "set_leverage", "set_margin_mode", "borrow_margin"])
def test_funds_moving_methods_are_live_only(name: str) -> None:
    assert classify(name) is Kind.LIVE_ONLY


def test_freqtrades_words_cannot_drive_a_terminal() -> None:
    assert plain("stopped\x1b[2J\x1b[31m\nfake line\u202e") == "stopped?[2J?[31m?fake line?"


@given(WORD, WORD)
def test_a_cancel_the_guard_does_not_check_is_refused_in_every_state(a: str, b: str) -> None:
    """Raw cancel endpoints (a GET on some venues), *_ws variants, names ccxt may add."""
    for name in (f"cancel_{a}_{b}", f"private_get_{a}_cancel{b}", f"{a}_cancel_{b}"):
        if name.startswith(READ_PREFIXES):
            continue  # fetch_canceled_orders and the like: reads
        assert classify(name) in (Kind.CANCEL, Kind.CANCEL_UNKNOWN), name
        assert (classify(name) is Kind.CANCEL) == (name in CANCEL_METHODS), name


def test_every_ccxt_cancel_method_is_answered_by_both_guards_or_refused() -> None:
    from nija.guarded.async_ import AsyncGuardedExchange
    from nija.guarded.sync import GuardedExchange

    names = {n for n in dir(ccxt.Exchange) if "cancel" in n and not n.startswith(("_", "fetch_"))}
    for name in sorted(names):
        kind = classify(name)
        assert kind in (Kind.CANCEL, Kind.CANCEL_UNKNOWN), name
    for name in CANCEL_METHODS:
        assert name in GuardedExchange.__dict__, name
        assert name in AsyncGuardedExchange.__dict__, name
