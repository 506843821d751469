"""Shoe wear against hand-computed pairs (docs/design.md, "Shoe wear")."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from service.domain.shoes import rules as shoes
from service.domain.shoes.rules import Pair, forecast, rotation_candidate

TODAY = date(2026, 6, 30)


def pair(first_used_days_ago: int, run_m: int = 0, last_28_m: int = 0, *, initial_m: int = 0,
         athlete_28_m: int | None = None, since_m: int | None = None,
         athlete_since_m: int | None = None, **extra) -> Pair:
    return Pair(
        first_used_on=TODAY - timedelta(days=first_used_days_ago), initial_distance_m=initial_m,
        run_distance_m=run_m, max_distance_m=extra.pop("max_distance_m", 800_000),
        max_age_days=extra.pop("max_age_days", 365), last_28_days_m=last_28_m,
        athlete_last_28_days_m=last_28_m if athlete_28_m is None else athlete_28_m,
        since_first_use_m=last_28_m if since_m is None else since_m,
        athlete_since_first_use_m=last_28_m if athlete_since_m is None else athlete_since_m,
        **extra,
    )


def test_a_new_pair_is_fine_for_a_year():
    new = forecast(pair(0), TODAY)
    assert (new.distance_m, new.age_days, new.wear_ratio, new.rate_m_per_day) == (0, 0, 0.0, 0.0)
    assert new.replace_by == date(2027, 6, 30) and new.status == "ok"


def test_a_pre_owned_pair_counts_its_earlier_distance():
    used = forecast(pair(20, 50_000, 50_000, initial_m=300_000), TODAY)
    assert used.distance_m == 350_000 and used.wear_ratio == 0.4375
    assert used.rate_m_per_day == pytest.approx(1785.7, abs=0.1)
    assert used.replace_by == date(2027, 3, 9), "450 km left at 1,785.7 m a day: 252 days"
    assert used.status == "ok"


def test_a_pair_never_used_since_purchase_is_forecast_by_age_alone():
    idle = forecast(pair(100), TODAY)
    assert idle.rate_m_per_day == 0 and idle.replace_by == TODAY + timedelta(days=265)


def test_a_pair_in_use_under_two_weeks_takes_its_share_of_the_athletes_running():
    fresh = pair(7, 20_000, 20_000, athlete_28_m=112_000, since_m=20_000, athlete_since_m=40_000)
    assert forecast(fresh, TODAY).rate_m_per_day == 2000.0, "4 km a day, half in this pair"


def test_eight_months_at_560_km_is_time_to_inspect():
    old = forecast(pair(243, 560_000, 60_000), TODAY)
    assert old.wear_ratio == 0.7 and old.age_days == 243
    assert old.status == "inspect" and old.inspect_due
    assert old.replace_by == TODAY + timedelta(days=112)


def test_700_of_800_km_at_25_km_a_week_plans_a_new_pair_with_the_exact_date():
    at_700 = forecast(pair(200, 700_000, 100_000), TODAY)
    assert at_700.replace_by == date(2026, 7, 28), "100 km left at 100 km per 28 days"
    assert at_700.status == "inspect"
    two_weeks_on = TODAY + timedelta(days=14)
    at_750 = forecast(pair(214, 750_000, 100_000), two_weeks_on)
    assert at_750.replace_by == date(2026, 7, 28)
    assert at_750.status == "plan", "14 days before the forecast"
    assert forecast(pair(228, 800_000, 100_000), date(2026, 7, 28)).status == "replace"


def test_a_pair_past_a_year_at_low_distance_is_due_for_replacement():
    aged = forecast(pair(366, 200_000, 5000), TODAY)
    assert aged.replace_by == TODAY - timedelta(days=1) and aged.status == "replace"


def test_still_fine_holds_the_inspect_nudge_for_20_percent_or_60_days():
    looked = dict(inspected_on=TODAY - timedelta(days=10), inspected_distance_m=640_000)
    assert not forecast(pair(200, 700_000, 30_000, **looked), TODAY).inspect_due
    assert forecast(pair(200, 800_000 - 1, 30_000, **looked), TODAY).inspect_due is False
    assert forecast(pair(200, 800_000, 30_000, **looked), TODAY).inspect_due, "160 km more"
    later = dict(inspected_on=TODAY - timedelta(days=60), inspected_distance_m=640_000)
    assert forecast(pair(200, 650_000, 30_000, **later), TODAY).inspect_due, "60 days on"


def test_a_retired_pair_is_retired_whatever_its_wear():
    assert forecast(pair(400, 900_000, 0, retired=True), TODAY).status == "retired"


@pytest.mark.parametrize(("distances", "expected"), [
    ({"a": 90_000, "b": 10_000}, "a"),
    ({"a": 70_000, "b": 30_000}, None),  # exactly 70 % is not more than 70 %
    ({"a": 60_000, "b": 40_000}, None),
    ({"only": 50_000}, "only"),  # one pair carries everything: suggest a second
    ({}, None),
])
def test_rotation_is_suggested_when_one_pair_carries_over_70_percent(distances, expected):
    assert rotation_candidate(distances) == expected


def test_inspect_age_follows_the_athletes_age_limit():
    assert forecast(pair(100, 0, 0, max_age_days=200), TODAY).inspect_due
    assert not forecast(pair(99, 0, 0, max_age_days=200), TODAY).inspect_due
    assert shoes.MAX_DISTANCE_RANGE_M == (480_000, 1_000_000)
