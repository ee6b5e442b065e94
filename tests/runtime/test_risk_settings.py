"""``[risk]`` in nija.toml: every key validated, none can be set to a value that switches
its control off (NaN, infinity, zero, negative), unknown keys refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from nija.config import load_config
from nija.domain.errors import UsageProblem
from nija.runtime.settings import BreachesRequired, RiskSettings
from tests.conftest import Run

NUMERIC_KEYS = sorted(name for name, field in RiskSettings.model_fields.items() if field.annotation in (float, int))


def test_every_numeric_risk_key_is_covered() -> None:
    assert {"price_collar_pct", "max_submits_per_s", "max_open_orders", "max_daily_notional"} <= set(NUMERIC_KEYS)
    assert len(NUMERIC_KEYS) == 19


@pytest.mark.parametrize("key", NUMERIC_KEYS)
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "0", "true", '"5"'])
def test_a_limit_that_would_disable_its_control_is_refused_by_name(key: str, value: str, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text(f"[risk]\n{key} = {value}\n")
    with pytest.raises(UsageProblem) as refused:
        load_config(data_dir)
    assert f"risk.{key}" in refused.value.message


@pytest.mark.parametrize("key", sorted(BreachesRequired.model_fields))
@pytest.mark.parametrize("value", ["0", "-1", "nan", "1.5", "true"])
def test_breaches_required_must_be_a_positive_whole_number(key: str, value: str, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text(f"[risk.breaches_required]\n{key} = {value}\n")
    with pytest.raises(UsageProblem) as refused:
        load_config(data_dir)
    assert f"risk.breaches_required.{key}" in refused.value.message


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[risk]\nprice_colar_pct = 5\n", "risk.price_colar_pct"),
        ("[risk]\nmax_orders_per_second = 5\n", "risk.max_orders_per_second"),
        ("[risk.breaches_required]\ndrawdwn = 2\n", "risk.breaches_required.drawdwn"),
    ],
)
def test_an_unknown_risk_key_is_refused_by_name(text: str, named: str, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text(text)
    with pytest.raises(UsageProblem) as refused:
        load_config(data_dir)
    assert named in refused.value.message
    assert "Extra inputs are not permitted" in refused.value.message


def test_documented_keys_load_and_defaults_match_the_docs(data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text(
        "[risk]\nprice_collar_pct = 2.5\nmax_submits_per_s = 10\n[risk.breaches_required]\ndrawdown = 3\n"
    )
    risk = load_config(data_dir).risk
    assert (risk.price_collar_pct, risk.max_submits_per_s, risk.breaches_required.drawdown) == (2.5, 10, 3)
    docs = (Path(__file__).resolve().parents[2] / "docs" / "runtime.md").read_text()
    for name, field in RiskSettings.model_fields.items():
        if name == "breaches_required":
            continue
        default = field.default
        shown = f"{default:.1f}" if isinstance(default, float) else str(default)
        assert f"{name} = {shown}" in docs, f"docs/runtime.md does not show the default of {name}"


def test_nija_run_refuses_a_nan_limit_with_exit_2_and_places_nothing(run: Run, data_dir: Path) -> None:
    run("nija", "restore", "--yes", "--data-dir", str(data_dir))
    (data_dir / "nija.toml").write_text("[risk]\nprice_collar_pct = nan\n")
    result = run("nija", "run", "--data-dir", str(data_dir), "--json")
    assert result.returncode == 2
    assert "risk.price_collar_pct" in result.stdout + result.stderr
    assert not (data_dir / ".nija_paper.sqlite").exists()


def test_a_strategy_whose_limit_entries_the_collar_would_always_deny_is_refused(data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text("[strategy]\nlimit_offset_pct = 20\n")
    with pytest.raises(UsageProblem) as refused:
        load_config(data_dir)
    assert "strategy.limit_offset_pct (20) must be below risk.price_collar_pct (5)" in refused.value.message
    (data_dir / "nija.toml").write_text("[strategy]\nlimit_offset_pct = 20\n[risk]\nprice_collar_pct = 25\n")
    assert load_config(data_dir).risk.price_collar_pct == 25


@pytest.mark.parametrize(
    ("key", "too_long"),
    [
        ("duplicate_window_s", 3_601),
        ("runaway_window_s", 86_401),
        ("reference_max_age_s", 86_401),
        ("order_to_fill_window_s", 7 * 86_400 + 1),
    ],
)
def test_windows_are_bounded_so_the_memory_behind_them_is(key: str, too_long: int, data_dir: Path) -> None:
    (data_dir / "nija.toml").write_text(f"[risk]\n{key} = {too_long}\n")
    with pytest.raises(UsageProblem) as refused:
        load_config(data_dir)
    assert f"risk.{key}" in refused.value.message
