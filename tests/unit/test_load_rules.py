"""Training-load rules against hand-computed vectors (docs/design.md, "The rules")."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.config import WEEKLY_JUMP_THRESHOLD
from service.domain.training.rules import (
    Run,
    Spike,
    acwr,
    assess_run,
    classify_spike,
    daily_series,
    longest_advisable_run_m,
    return_mode,
    spike_baseline,
    weekly_change,
)

T = datetime(2026, 6, 30, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(("distance", "expected"), [
    (11000, Spike.OK), (11001, Spike.SMALL), (13000, Spike.SMALL),
    (13001, Spike.MODERATE), (20000, Spike.MODERATE), (20001, Spike.LARGE),
])
def test_spike_classes_at_their_boundaries(distance, expected):
    assert classify_spike(distance, 10000) is expected


def test_the_baseline_is_the_longest_run_of_the_previous_30_days():
    runs = [Run(T - timedelta(days=31), 30000), Run(T - timedelta(days=30), 12000),
            Run(T - timedelta(days=2), 9000), Run(T, 50000)]
    assert spike_baseline(runs, T) == 12000, "exactly 30 days ago counts; the run itself does not"


def test_with_no_run_in_30_days_the_baseline_is_half_the_longest_of_90():
    runs = [Run(T - timedelta(days=60), 21000), Run(T - timedelta(days=89), 15000)]
    assert spike_baseline(runs, T) == 10500
    assert spike_baseline([Run(T - timedelta(days=91), 21000)], T) is None
    assert spike_baseline([], T) is None


def test_longest_advisable_run_is_ten_percent_over_the_baseline():
    assert longest_advisable_run_m(10000) == 11000
    assert longest_advisable_run_m(12345) == 13579


def test_a_first_run_is_not_a_spike():
    assert assess_run(Run(T, 10000), []) is None


def test_a_run_45_percent_longer_is_a_moderate_spike():
    finding = assess_run(Run(T, 14500), [Run(T - timedelta(days=7), 10000)])
    assert finding.spike is Spike.MODERATE
    assert (finding.baseline_m, finding.percent_longer) == (10000, 45)


def days(*blocks):
    """daily series from (count, metres) blocks, oldest first"""
    return [metres for count, metres in blocks for _ in range(count)]


def weekly(series, history_days):
    """The weekly change at the default threshold (service.config.WEEKLY_JUMP_THRESHOLD)."""
    return weekly_change(series, history_days, threshold=WEEKLY_JUMP_THRESHOLD)


def test_weekly_jump_over_30_percent_is_a_caution():
    jump = weekly(days((7, 1000), (7, 1301)), history_days=14)
    assert jump.caution and jump.last_7_days_m == 9107 and jump.previous_7_days_m == 7000
    assert not weekly(days((7, 1000), (7, 1300)), history_days=14).caution, "30 % exactly"


def test_weekly_jump_needs_14_days_and_5_km_the_week_before():
    assert not weekly(days((7, 1000), (7, 2000)), history_days=13).caution
    assert not weekly(days((7, 700), (7, 2000)), history_days=30).caution, "4.9 km before"
    assert weekly(days((7, 715), (7, 2000)), history_days=30).caution, "5.0 km before"


def test_the_ten_percent_rule_is_a_setting_not_the_default():
    series = days((7, 1000), (7, 1200))
    assert WEEKLY_JUMP_THRESHOLD == 0.30
    assert not weekly(series, 14).caution
    assert weekly_change(series, 14, threshold=0.10).caution


def test_acwr_oracles():
    first = acwr(days((28, 50), (7, 100)))
    assert round(first.coupled, 4) == 1.6 and round(first.uncoupled, 4) == 2.0
    second = acwr(days((21, 30), (7, 50)))
    assert round(second.coupled, 4) == 1.4286 and round(second.uncoupled, 4) == 1.6667


def test_acwr_ewma_is_seeded_with_the_first_28_days():
    flat = acwr(days((40, 5000)))
    assert flat.ewma == pytest.approx(1.0)
    rising = acwr(days((28, 5000), (1, 12000)))
    acute = 5000 + 0.25 * 7000
    chronic = 5000 + 2 / 29 * 7000
    assert rising.ewma == pytest.approx(acute / chronic)


def test_acwr_states():
    assert acwr(days((27, 5000))).state == "warming_up"
    assert acwr(days((27, 5000))).coupled is None
    assert acwr(days((28, 999))).state == "rebuilding"
    assert acwr(days((28, 1000))).state == "ok"


D = date(2026, 6, 30)


def test_return_mode_after_14_days_without_a_run():
    back = [D - timedelta(days=d) for d in (25, 18, 11, 4)]
    layoff = [D - timedelta(days=40), *back]  # 14 days without a run, then running again
    mode = return_mode(layoff, D)
    assert mode.active and mode.since == D - timedelta(days=25)
    assert mode.until == D + timedelta(days=3)
    assert not return_mode([D - timedelta(days=39), *back], D).active, "13 days is no layoff"
    assert not return_mode([*layoff, D + timedelta(days=2)], D + timedelta(days=3)).active, \
        "28 days after the comeback it ends"


def test_an_ongoing_layoff_is_return_mode_and_a_new_athlete_is_not():
    assert return_mode([D - timedelta(days=14)], D).active
    assert not return_mode([D - timedelta(days=13)], D).active
    assert not return_mode([], D).active


def test_daily_series_fills_missing_days_with_zero():
    series = daily_series({D: 5000, D - timedelta(days=2): 3000}, D - timedelta(days=3), D)
    assert series == [0, 3000, 0, 5000]


history = st.lists(st.tuples(st.integers(1, 95), st.integers(500, 50000)), max_size=30)


@given(history, st.integers(500, 60000), st.integers(0, 95), st.integers(1, 20000))
def test_a_longer_earlier_run_never_raises_the_spike_class(runs, today_m, which, extra):
    before = [Run(T - timedelta(days=d), m) for d, m in runs]
    if not before:
        return
    index = which % len(before)
    longer = [*before[:index], Run(before[index].started_at, before[index].distance_m + extra),
              *before[index + 1:]]
    original, lengthened = assess_run(Run(T, today_m), before), assess_run(Run(T, today_m), longer)
    if original and lengthened:
        assert lengthened.spike <= original.spike


@given(history, st.integers(500, 60000), st.integers(1, 95))
def test_a_rest_day_or_a_shorter_run_today_never_raises_the_spike_class(runs, today_m, rest):
    before = [Run(T - timedelta(days=d), m) for d, m in runs]
    with_rest_day = [*before, Run(T - timedelta(days=rest), 0)]  # a day logged with no distance
    original = assess_run(Run(T, today_m), before)
    rested = assess_run(Run(T, today_m), with_rest_day)
    if original:
        assert rested is not None and rested.spike == original.spike
        shorter = assess_run(Run(T, today_m // 2), before)
        assert shorter.spike <= original.spike
