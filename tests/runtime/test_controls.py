"""The pre-trade control chain: each control denies at its limit and not before, with its
own code and a reason that carries the figures; a bad input denies, never disables.
Property-based where a rule has a boundary. Pure: an injected clock, no I/O."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nija.runtime.controls import ControlChain, DataQuality, DenialCode, Reference, ReferenceBook, Trigger, Verdict
from nija.runtime.orders import OrderRequest, OrderType, Side
from nija.runtime.settings import RiskSettings

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
BIG = 10**9
# Every control out of the way, so each test meets only the one it is about.
LOOSE = RiskSettings(
    max_order_notional=1e15,
    max_position_notional=1e15,
    price_collar_pct=100,
    reference_max_age_s=86_400,
    max_submits_per_s=BIG,
    max_amends_per_s=BIG,
    max_open_orders=BIG,
    max_daily_orders=BIG,
    max_daily_notional=1e18,
    max_identical_orders=BIG,
    runaway_max_denials=BIG,
    max_order_to_fill_ratio=1e12,
)


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def chain(clock: Clock | None = None, trips: list[Trigger] | None = None, **limits: float) -> ControlChain:
    return ControlChain(
        LOOSE.model_copy(update=limits),
        clock or Clock(),
        on_trip=None if trips is None else trips.append,
    )


def limit(price: float, qty: float = 1.0, side: Side = Side.BUY, symbol: str = "BTC/USDT") -> OrderRequest:
    return OrderRequest(symbol, side, OrderType.LIMIT, qty, price)


def market(qty: float = 1.0, side: Side = Side.BUY) -> OrderRequest:
    return OrderRequest("BTC/USDT", side, OrderType.MARKET, qty)


def ref(price: float = 100.0, at: float = T0) -> Reference:
    return Reference(price, at)


def admit(c: ControlChain, request: OrderRequest, reference: Reference | None = None, **kw: Any) -> Verdict | None:
    return c.admit(request, ref() if reference is None else reference, open_orders=int(kw.pop("open_orders", 0)), **kw)


def distinct(i: int) -> OrderRequest:
    """Orders that are never duplicates of each other."""
    return limit(100.0, qty=1.0 + i * 1e-6)


# -- price collar ------------------------------------------------------------------------
def test_a_limit_exactly_at_the_collar_passes_and_a_cent_beyond_is_denied() -> None:
    c = chain(price_collar_pct=5.0)
    assert admit(c, limit(105.0)) is None
    assert admit(c, limit(95.0)) is None
    verdict = admit(c, limit(105.01))
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_PRICE_COLLAR
    assert "105.01 is 5.01% from the reference 100" in verdict.reason
    assert "price_collar_pct is 5%" in verdict.reason


@settings(deadline=None)  # a shared CI machine is slow at times; no timing is asserted
@given(
    reference=st.floats(0.01, 1e6),
    pct=st.floats(0.01, 50),
    inside=st.floats(0, 0.999),
    outside=st.floats(1.001, 100),
    above=st.booleans(),
)
def test_collar_boundary(reference: float, pct: float, inside: float, outside: float, above: bool) -> None:
    sign = 1 if above else -1
    c = chain(price_collar_pct=pct)
    assert admit(c, limit(reference * (1 + sign * pct / 100 * inside)), ref(reference)) is None
    price = reference * (1 + sign * pct / 100 * outside)
    if price <= 0:
        return
    verdict = admit(c, limit(price), ref(reference))
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_PRICE_COLLAR


def test_a_fat_fingered_price_is_denied_whatever_the_other_limits() -> None:
    c = chain(price_collar_pct=5.0)
    verdict = admit(c, limit(1_000.0, qty=0.001))  # tiny notional, price 10x the market
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_PRICE_COLLAR


# -- reference: missing, bad, stale ------------------------------------------------------
BAD_PRICES = [float("nan"), 0.0, -1.0, -0.0, float("inf"), float("-inf")]


@pytest.mark.parametrize("bad", BAD_PRICES, ids=repr)
@pytest.mark.parametrize("request_", [market(), limit(100.0)], ids=["market", "limit"])
def test_a_bad_reference_is_missing_never_no_limit(bad: float, request_: OrderRequest) -> None:
    c = chain(price_collar_pct=5.0)
    verdict = admit(c, request_, Reference(bad, T0))
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_NO_REFERENCE
    assert repr(bad) in verdict.reason
    assert "counts as missing" in verdict.reason


@pytest.mark.parametrize("request_", [market(), limit(100.0)], ids=["market", "limit"])
def test_no_reference_at_all_denies(request_: OrderRequest) -> None:
    verdict = chain().admit(request_, None, open_orders=0)
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_NO_REFERENCE
    assert "no reference price for BTC/USDT" in verdict.reason


def test_a_reference_with_a_nan_time_is_missing() -> None:
    verdict = admit(chain(), market(), Reference(100.0, float("nan")))
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_NO_REFERENCE


@settings(deadline=None)  # a shared CI machine is slow at times; no timing is asserted
@given(max_age=st.integers(1, 100_000), age=st.integers(0, 100_000), beyond=st.integers(1, 10**6))
def test_a_reference_is_fresh_up_to_its_max_age_and_stale_after(max_age: int, age: int, beyond: int) -> None:
    clock = Clock()
    c = chain(clock, reference_max_age_s=float(max_age))
    clock.t = T0 + min(age, max_age)  # whole seconds: exact at epoch magnitudes
    assert admit(c, market(), ref(at=T0)) is None
    clock.t = T0 + max_age + beyond
    verdict = admit(c, market(), ref(at=T0))
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_NO_REFERENCE
    assert f"{max_age + beyond:,.1f} s old (limit reference_max_age_s {max_age:g} s)" in verdict.reason


# -- per-order notional -------------------------------------------------------------------
def test_order_notional_at_the_cap_passes_and_above_is_denied() -> None:
    c = chain(max_order_notional=1_000.0)
    assert admit(c, market(qty=10.0)) is None  # 10 x reference 100
    verdict = admit(c, limit(100.0, qty=10.01))
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_MAX_ORDER
    assert "order value 1,001.00 exceeds max_order_notional 1,000.00" in verdict.reason


def test_an_infinite_quantity_is_denied_not_waved_through() -> None:
    verdict = admit(chain(max_order_notional=1e12), market(qty=float("inf")))
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_MAX_ORDER


# -- rate ---------------------------------------------------------------------------------
@settings(deadline=None)  # a shared CI machine is slow at times; no timing is asserted
@given(n=st.integers(1, 60))
def test_submissions_per_second_pass_up_to_the_limit(n: int) -> None:
    clock = Clock()
    c = chain(clock, max_submits_per_s=n)
    for i in range(n):
        assert admit(c, distinct(i)) is None
    verdict = admit(c, distinct(n))
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_RATE
    assert f"{n} order submissions in the last second reached max_submits_per_s {n}" in verdict.reason
    clock.t += 0.999
    assert admit(c, distinct(n + 1)) is not None  # the same second
    clock.t += 0.001
    assert admit(c, distinct(n + 2)) is None  # the window moved on


def test_amendments_have_their_own_rate() -> None:
    c = chain(max_submits_per_s=1, max_amends_per_s=2)
    assert admit(c, distinct(0)) is None
    assert admit(c, distinct(1), amend=True) is None
    assert admit(c, distinct(2), amend=True) is None
    verdict = admit(c, distinct(3), amend=True)
    assert verdict is not None
    assert "max_amends_per_s 2" in verdict.reason
    verdict = admit(c, distinct(4))
    assert verdict is not None
    assert "max_submits_per_s 1" in verdict.reason


def test_a_clock_running_backwards_does_not_reopen_the_rate_window() -> None:
    clock = Clock()
    c = chain(clock, max_submits_per_s=1)
    assert admit(c, distinct(0)) is None
    clock.t -= 3_600  # an out-of-order timestamp
    verdict = admit(c, distinct(1))
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_RATE


def test_a_clock_stepping_back_over_midnight_does_not_reset_the_daily_cap() -> None:
    clock = Clock(T0 + 86_400)  # 2026-01-02T00:00:00Z
    c = chain(clock, max_daily_orders=1)
    assert admit(c, distinct(0), ref(at=clock.t)) is None
    clock.t -= 1  # an out-of-order candle from 2026-01-01
    verdict = admit(c, distinct(1), ref(at=clock.t))
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_DAILY_ORDERS


@pytest.mark.parametrize("bad", [float("nan"), float("inf")], ids=repr)
def test_an_unusable_clock_denies(bad: float) -> None:
    verdict = admit(chain(Clock(bad)), market())
    assert verdict is not None
    assert verdict.code is DenialCode.DATA_QUALITY


# -- open orders --------------------------------------------------------------------------
@settings(deadline=None)  # a shared CI machine is slow at times; no timing is asserted
@given(n=st.integers(1, 500))
def test_open_orders_below_the_limit_pass_at_the_limit_are_denied(n: int) -> None:
    c = chain(max_open_orders=n)
    assert admit(c, distinct(0), open_orders=n - 1) is None
    verdict = admit(c, distinct(1), open_orders=n)
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_MAX_OPEN_ORDERS
    assert f"{n} orders are open, max_open_orders is {n}" in verdict.reason


def test_a_negative_open_order_count_is_denied() -> None:
    verdict = admit(chain(max_open_orders=5), market(), open_orders=-1)
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_MAX_OPEN_ORDERS


# -- daily caps ---------------------------------------------------------------------------
@settings(deadline=None)  # a shared CI machine is slow at times; no timing is asserted
@given(n=st.integers(1, 80), second=st.floats(0, 86_399))
def test_daily_orders_reset_at_midnight_utc(n: int, second: float) -> None:
    clock = Clock(T0 + second)
    c = chain(clock, max_daily_orders=n)
    for i in range(n):
        assert admit(c, distinct(i), ref(at=clock.t)) is None
    verdict = admit(c, distinct(n), ref(at=clock.t))
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_DAILY_ORDERS
    assert f"{n} orders on 2026-01-01 reached max_daily_orders {n}" in verdict.reason
    clock.t = T0 + 86_400  # 2026-01-02T00:00:00Z
    assert admit(c, distinct(n + 1), ref(at=clock.t)) is None


@settings(deadline=None)  # a shared CI machine is slow at times; no timing is asserted
@given(cap=st.integers(1, 10_000), parts=st.integers(1, 10))
def test_daily_notional_exactly_at_the_cap_passes_and_any_more_is_denied(cap: int, parts: int) -> None:
    c = chain(max_daily_notional=float(cap))
    unit = ref(1.0)  # whole-number notionals at price 1 add up exactly
    chunks = [cap // parts] * (parts - 1)
    chunks.append(cap - sum(chunks))
    for chunk in (x for x in chunks if x > 0):
        assert admit(c, limit(1.0, qty=chunk), unit) is None
    verdict = admit(c, limit(1.0, qty=0.5), unit)
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_DAILY_NOTIONAL
    assert "would exceed max_daily_notional" in verdict.reason


# -- duplicates ---------------------------------------------------------------------------
@settings(deadline=None)  # a shared CI machine is slow at times; no timing is asserted
@given(k=st.integers(1, 20), window=st.floats(0.01, 100))
def test_identical_orders_pass_up_to_the_limit_within_the_window(k: int, window: float) -> None:
    clock = Clock()
    c = chain(clock, max_identical_orders=k, duplicate_window_s=window)
    for _ in range(k):
        assert admit(c, limit(100.0)) is None
    verdict = admit(c, limit(100.0))
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_DUPLICATE
    assert f"{k} identical buy BTC/USDT orders" in verdict.reason
    assert admit(c, limit(100.0, side=Side.SELL)) is None  # another side is another order
    assert admit(c, limit(100.5)) is None  # another price too
    clock.t += window
    assert admit(c, limit(100.0)) is None  # the window moved on


def test_an_identical_order_exactly_one_window_later_is_new() -> None:
    clock = Clock()
    c = chain(clock, max_identical_orders=1, duplicate_window_s=2.0)
    assert admit(c, limit(100.0)) is None
    clock.t += 1.75
    assert admit(c, limit(100.0)) is not None
    clock.t += 0.25  # exactly 2 s after the first: it left the window
    assert admit(c, limit(100.0)) is None


def test_float_noise_does_not_make_a_copy_look_new() -> None:
    c = chain(max_identical_orders=1)
    assert admit(c, limit(0.1 + 0.2)) is None
    verdict = admit(c, limit(0.3), ref(0.3))
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_DUPLICATE


# -- runaway breaker ----------------------------------------------------------------------
def test_the_breaker_trips_on_one_throttle_denial_more_than_its_limit() -> None:
    trips: list[Trigger] = []
    c = chain(trips=trips, max_submits_per_s=1, runaway_max_denials=5, runaway_window_s=60)
    assert admit(c, distinct(0)) is None
    for i in range(5):
        verdict = admit(c, distinct(i + 1))
        assert verdict is not None
        assert verdict.code is DenialCode.RISK_RATE
    assert trips == []
    assert c.tripped is None
    assert admit(c, distinct(99)) is not None  # the sixth throttle denial
    (trip,) = trips
    assert trip.source == "AUTO_RUNAWAY_ORDERS"
    assert "the throttles denied 6 orders in 60 s, more than runaway_max_denials 5 (last: RISK_RATE)" in trip.reason
    verdict = admit(c, distinct(100))
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_RUNAWAY
    assert len(trips) == 1  # reported once
    assert c.take_trip() == trip
    assert c.take_trip() is None


def test_throttle_denials_outside_the_window_do_not_add_up() -> None:
    clock = Clock()
    trips: list[Trigger] = []
    c = chain(clock, trips, max_open_orders=1, runaway_max_denials=2, runaway_window_s=10)
    for _ in range(10):
        admit(c, distinct(0), open_orders=1)
        admit(c, distinct(1), open_orders=1)
        clock.t += 10
    assert trips == []


def test_denials_that_are_not_throttles_do_not_feed_the_breaker() -> None:
    trips: list[Trigger] = []
    c = chain(trips=trips, price_collar_pct=1, runaway_max_denials=1)
    for _ in range(10):
        assert admit(c, limit(200.0)) is not None
    assert trips == []


@settings(deadline=None)  # a shared CI machine is slow at times; no timing is asserted
@given(ratio=st.integers(1, 40), fills=st.integers(0, 3))
def test_the_order_to_fill_ratio_trips_on_the_first_order_beyond_it(ratio: int, fills: int) -> None:
    trips: list[Trigger] = []
    c = chain(trips=trips, max_order_to_fill_ratio=float(ratio), order_to_fill_window_s=3_600)
    for _ in range(fills):
        c.filled()
    allowed = ratio * max(fills, 1)
    for i in range(allowed):
        assert admit(c, distinct(i)) is None
    verdict = admit(c, distinct(allowed))
    assert verdict is not None
    assert verdict.code is DenialCode.RISK_RUNAWAY
    (trip,) = trips
    assert f"{allowed + 1} orders against {fills} fills in 3600 s" in trip.reason
    assert f"max_order_to_fill_ratio {ratio}" in trip.reason


# -- data quality -------------------------------------------------------------------------
def test_a_data_quality_problem_denies_every_order_until_resolved() -> None:
    quality = DataQuality()
    c = ControlChain(LOOSE, Clock(), quality=quality)
    quality.bad("equity", "equity nan")
    verdict = admit(c, market())
    assert verdict is not None
    assert verdict.code is DenialCode.DATA_QUALITY
    assert "equity nan" in verdict.reason
    quality.good("equity")
    assert admit(c, market()) is None


def test_denials_are_counted_by_code_and_figures_are_reported() -> None:
    c = chain(max_submits_per_s=1)
    admit(c, distinct(0))
    admit(c, distinct(1))
    admit(c, market(), Reference(math.nan, T0))
    assert c.denials == {DenialCode.RISK_RATE: 1, DenialCode.RISK_NO_REFERENCE: 1}
    assert c.admitted == 1
    figures = c.figures()
    assert figures["daily_orders"] == 1
    assert figures["day"] == "2026-01-01"
    assert figures["throttle_denials_in_window"] == 1


# -- the whole chain against an oracle ----------------------------------------------------
Step = tuple[float, str, float, float, int, bool]  # (dt, side, qty, price, open orders, fill before)


@settings(max_examples=400, deadline=None)
@given(
    limits=st.fixed_dictionaries(
        {
            "max_submits_per_s": st.integers(1, 4),
            "max_open_orders": st.integers(1, 4),
            "max_daily_orders": st.integers(1, 12),
            "max_daily_notional": st.sampled_from([150.0, 400.0, 1e9]),
            "max_identical_orders": st.integers(1, 3),
            "duplicate_window_s": st.sampled_from([0.25, 1.0, 2.0]),
            "runaway_max_denials": st.integers(1, 6),
            "runaway_window_s": st.sampled_from([0.5, 1.0, 5.0]),
            "max_order_to_fill_ratio": st.sampled_from([1.0, 2.0, 3.0, 1e9]),
            "order_to_fill_window_s": st.sampled_from([1.0, 4.0]),
        }
    ),
    steps=st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.0, 0.25, 0.5, 1.0, 2.0, 86_400.0]),
            st.sampled_from(["buy", "sell"]),
            st.sampled_from([1.0, 2.0]),
            st.sampled_from([99.0, 100.0]),
            st.integers(0, 5),
            st.booleans(),
        ),
        max_size=60,
    ),
)
def test_the_chain_agrees_with_a_naive_model_of_its_rules(limits: dict[str, float], steps: list[Step]) -> None:
    """Times on a quarter-second grid hit every window edge exactly."""
    risk = LOOSE.model_copy(update=limits)
    clock = Clock(T0 - 3_600)
    trips: list[Trigger] = []
    c = ControlChain(risk, clock, on_trip=trips.append)
    admitted: list[tuple[float, tuple[str, float, float], float]] = []
    denials: list[float] = []
    fills: list[float] = []
    tripped = False

    def within(times: list[float], span: float, now: float) -> int:
        return sum(1 for t in times if t > now - span)

    for dt, side, qty, price, open_orders, fill in steps:
        clock.t += dt
        now = clock.t
        if fill:
            c.filled()
            fills.append(now)
        key = (side, qty, price)
        day = now // 86_400
        today = [a for a in admitted if a[0] // 86_400 == day]
        expected: DenialCode | None = None
        if tripped:
            expected = DenialCode.RISK_RUNAWAY
        elif within([t for t, k, _ in admitted if k == key], risk.duplicate_window_s, now) >= risk.max_identical_orders:
            expected = DenialCode.RISK_DUPLICATE
        elif within([t for t, _, _ in admitted], 1.0, now) >= risk.max_submits_per_s:
            expected = DenialCode.RISK_RATE
        elif open_orders >= risk.max_open_orders:
            expected = DenialCode.RISK_MAX_OPEN_ORDERS
        elif len(today) >= risk.max_daily_orders:
            expected = DenialCode.RISK_DAILY_ORDERS
        elif not sum(n for _, _, n in today) + qty * price <= risk.max_daily_notional:
            expected = DenialCode.RISK_DAILY_NOTIONAL
        if expected is not None and expected is not DenialCode.RISK_RUNAWAY:
            denials.append(now)
            if within(denials, risk.runaway_window_s, now) > risk.runaway_max_denials:
                tripped = True
        elif expected is None:
            orders = within([t for t, _, _ in admitted], risk.order_to_fill_window_s, now) + 1
            if orders > risk.max_order_to_fill_ratio * max(within(fills, risk.order_to_fill_window_s, now), 1):
                tripped, expected = True, DenialCode.RISK_RUNAWAY
            else:
                admitted.append((now, key, qty * price))
        request = limit(price, qty=qty, side=Side(side))
        verdict = c.admit(request, ref(at=now), open_orders=open_orders)
        assert (verdict.code if verdict else None) == expected, (verdict, expected, now - T0)
        assert (c.tripped is not None) == tripped
    assert len(trips) == (1 if tripped else 0)


def test_the_reference_book_keeps_the_newest_print_even_a_bad_one() -> None:
    book = ReferenceBook()
    assert book.get("BTC/USDT") is None
    book.observe("BTC/USDT", 100.0, T0)
    book.observe("BTC/USDT", 90.0, T0 - 60)  # an older print arriving late never wins
    assert book.get("BTC/USDT") == Reference(100.0, T0)
    book.observe("BTC/USDT", math.nan, T0 + 60)  # the newest is bad: no reference now
    reference = book.get("BTC/USDT")
    assert reference is not None
    assert not reference.usable
    book.observe("BTC/USDT", 101.0, T0 + 120)
    assert book.get("BTC/USDT") == Reference(101.0, T0 + 120)
