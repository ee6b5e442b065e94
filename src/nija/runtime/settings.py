"""The runtime's sections of ``nija.toml``: exchange, symbols, feed, strategy, risk,
paper broker and bot loop. Unknown keys and bad values are refused by name (the root
model in ``nija.config`` reports them)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExchangeSettings(_Section):
    """The live exchange (LIVE_ACTIVE only). Keys come from the environment or the secrets file."""

    id: str = Field("kraken", min_length=2, description="a ccxt exchange id")
    # The exchange account this bot trades: the account-wide limits and kill cover every bot on it.
    account: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", description="e.g. main-kraken")
    sandbox: bool = False
    timeout_ms: int = Field(10_000, ge=100, le=120_000)
    dead_man_switch_s: int = Field(60, ge=0, le=86_400, description="cancel-all-after; 0 disables")
    require_dead_man_switch: bool = False  # refuse a live request where orders would outlive the bot
    require_key_attestation: bool = False  # refuse a live request where the key's permissions are unknown
    reconcile_s: float = Field(30.0, gt=0, le=3600, description="while live: read orders and balances this often")
    exposure_tolerance: float = Field(
        0.0, ge=0, description="quote value of unexplained holdings tolerated while live before the kill switch"
    )


class FeedSettings(_Section):
    """Where candles come from: the shipped sample, a CSV replay, or live public prices."""

    kind: Literal["sample", "csv", "ccxt"] = "sample"
    path: Path | None = None
    symbols: tuple[str, ...] = ()  # empty: every symbol of the replay file
    timeframe: str = "1m"
    poll_s: float = Field(5.0, gt=0, le=3600)
    stale_after_s: float = Field(120.0, gt=0, description="no new price for this long stops new orders")
    pace_s: float = Field(0.0, ge=0, le=60, description="replay: seconds to wait between candles")

    @model_validator(mode="after")
    def _csv_needs_path(self) -> FeedSettings:
        if self.kind == "csv" and self.path is None:
            raise ValueError("feed.kind = 'csv' needs feed.path (the CSV file of candles)")
        return self


class StrategySettings(_Section):
    """The built-in moving-average crossover with limit entries and position sizing."""

    name: Literal["sma_crossover"] = "sma_crossover"
    fast: int = Field(30, ge=1)
    slow: int = Field(90, ge=2)
    min_spread_pct: float = Field(0.3, ge=0, lt=50, description="fast must exceed slow by this much to enter")
    order_type: Literal["market", "limit"] = "limit"
    limit_offset_pct: float = Field(0.05, ge=0, lt=50, description="limit buys this far below the close")
    position_pct: float = Field(20.0, gt=0, le=100, description="share of equity per entry")

    @model_validator(mode="after")
    def _fast_below_slow(self) -> StrategySettings:
        if self.fast >= self.slow:
            raise ValueError(f"strategy.fast ({self.fast}) must be smaller than strategy.slow ({self.slow})")
        return self


class BreachesRequired(_Section):
    """How many observations in a row must breach a kill trigger's limit before it fires
    (a single bad print should not kill; a real loss still does). Once reached, the kill
    latches like any other."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)

    daily_loss: int = Field(1, ge=1, le=1000)
    drawdown: int = Field(1, ge=1, le=1000)
    consecutive_losses: int = Field(1, ge=1, le=1000)
    exchange_errors: int = Field(1, ge=1, le=1000)


class RiskSettings(_Section):
    """Order limits and pre-trade controls (deny the order) and automatic kill triggers
    (activate the kill switch). Every limit is a positive finite number: NaN, infinity,
    zero and negative values are refused by name, so no value can switch a control off.
    Defaults are borrowed from the field where it has one (docs/runtime.md names the source)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)

    # per order and per position (quote currency)
    max_order_notional: float = Field(5_000.0, gt=0)
    max_position_notional: float = Field(10_000.0, gt=0)
    # price collar against a fresh reference (the feed's last trade)
    price_collar_pct: float = Field(5.0, gt=0, le=100, description="limit price this far from the reference is denied")
    reference_max_age_s: float = Field(180.0, gt=0, le=86_400, description="an older reference counts as missing")
    # throttles (nautilus_trader: 100 submits/s and 100 modifies/s; vn.py: 50 active orders)
    max_submits_per_s: int = Field(100, ge=1)
    max_amends_per_s: int = Field(100, ge=1)
    max_open_orders: int = Field(50, ge=1)
    max_daily_orders: int = Field(1_000, ge=1, description="per UTC day (vnpy_riskmanager: 1000)")
    max_daily_notional: float = Field(250_000.0, gt=0, description="per UTC day, in quote currency")
    max_identical_orders: int = Field(3, ge=1, description="same symbol, side, type, size, price per window")
    duplicate_window_s: float = Field(1.0, gt=0, le=3_600)
    # runaway breaker: latches the kill switch (AUTO_RUNAWAY_ORDERS)
    runaway_max_denials: int = Field(20, ge=1, description="more throttle denials than this in the window kill")
    runaway_window_s: float = Field(60.0, gt=0, le=86_400)
    max_order_to_fill_ratio: float = Field(50.0, gt=0, description="orders > ratio x max(fills, 1) in the window kill")
    order_to_fill_window_s: float = Field(3_600.0, gt=0, le=7 * 86_400)
    # automatic kill triggers
    daily_loss_limit: float = Field(1_000.0, gt=0, description="in quote currency")
    max_drawdown_pct: float = Field(20.0, gt=0, le=100)
    max_consecutive_losses: int = Field(8, ge=1)
    max_consecutive_errors: int = Field(5, ge=1)
    breaches_required: BreachesRequired = BreachesRequired()


class PaperSettings(_Section):
    """The DRY_RUN broker's simulated account."""

    starting_cash: float = Field(10_000.0, gt=0)
    quote_currency: str = "USDT"
    maker_fee_pct: float = Field(0.1, ge=0, lt=10)
    taker_fee_pct: float = Field(0.1, ge=0, lt=10)
    slippage_pct: float = Field(0.05, ge=0, lt=10)


class BotSettings(_Section):
    """The bot loop itself."""

    flatten_on_kill: bool = False
    # At most a third of the 15 s after which readers count the bot as gone (its live with
    # it): a slower beat made status, freqtrade's callback and every reader flap.
    heartbeat_s: float = Field(1.0, gt=0, le=5)
    report_s: float = Field(1.0, gt=0, le=60)
    # Deprecated: accepted so that existing files stay valid; the store's change feed now
    # decides how kills are noticed (inotify, LISTEN/NOTIFY, or a 10 ms poll).
    kill_poll_ms: int = Field(2, ge=1, le=1000, description="deprecated, ignored (kept for existing nija.toml files)")
    cancel_retries: int = Field(5, ge=1, le=100)
    # Fleet store only: while the database is unreachable every order is denied
    # (VIEW_STALE); resting orders are kept this long, then cancelled as on a kill.
    outage_cancel_after_s: float = Field(
        30.0,
        ge=0,
        le=3_600,
        allow_inf_nan=False,
        strict=True,  # "30" or true is a typo to report, not a number to guess
        description="database outage: cancel open orders after this many seconds (0: at once)",
    )
    kill_receipt_deadline_s: float = Field(10.0, gt=0, le=600, description="the broker must confirm flat by then")
