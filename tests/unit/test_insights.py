"""Insights: counts and rates from the athlete's own check-ins, and honesty about sample size."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from service.domain.insights import rules as insights
from service.domain.insights.rules import PainFact, RunFact, ShoeFact

DAY0 = datetime(2026, 5, 1, 7, tzinfo=UTC)
CAUSAL = re.compile(r"\bcaus|because|due to|leads? to (pain|injur)|results? in|makes? you",
                    re.IGNORECASE)


def a_run(day: int, distance_m: int = 8000, surface: str | None = "road",
          shoe_id: uuid.UUID | None = None) -> RunFact:
    start = DAY0 + timedelta(days=day)
    return RunFact(uuid.uuid4(), start, start + timedelta(minutes=45), distance_m, surface,
                   shoe_id)


def pain_at(moment: datetime, severity: int = 3) -> PainFact:
    return PainFact(moment, moment.date(), severity)


def test_pain_within_24_hours_of_the_end_counts_and_a_day_later_does_not():
    run = a_run(0)
    assert insights.pain_after(run.ended_at, [pain_at(run.ended_at + timedelta(hours=24))],
                               insights.AFTER_RUN)
    assert not insights.pain_after(run.ended_at, [pain_at(run.ended_at + timedelta(hours=25))],
                                   insights.AFTER_RUN)
    assert not insights.pain_after(run.ended_at, [pain_at(run.ended_at, severity=0)],
                                   insights.AFTER_RUN), "a pain-free check-in is not pain"


def test_road_runs_against_trail_runs_with_rates_and_sample_sizes():
    road = [a_run(day) for day in range(0, 12, 2)]  # 6 road runs
    trail = [a_run(day, surface="trail") for day in range(1, 12, 2)]  # 6 trail runs
    pains = [pain_at(run.ended_at + timedelta(hours=2)) for run in road[:3]]
    comparison = insights.by_surface([*road, *trail], pains)
    on_road, on_trail, on_treadmill = comparison.groups
    assert (on_road.count, on_road.with_pain, on_road.rate) == (6, 3, 0.5)
    assert (on_trail.count, on_trail.with_pain, on_trail.rate) == (6, 0, 0.0)
    assert (on_treadmill.count, on_treadmill.rate) == (0, None)
    assert comparison.enough_data
    assert "3 of 6 runs on road (50%)" in comparison.summary
    assert not CAUSAL.search(comparison.summary) and "not what leads to what" in comparison.summary


def test_below_five_per_group_it_says_not_enough_data_yet():
    comparison = insights.by_surface([a_run(d) for d in range(5)]
                                     + [a_run(9, surface="trail")] * 4, [])
    assert not comparison.enough_data
    assert comparison.summary.startswith("Not enough data yet")
    assert "5 on road, 4 on trail" in comparison.summary
    assert comparison.groups[1].rate is None


def test_runs_in_shoes_past_80_percent_wear_as_it_stood_when_the_run_began():
    shoe = uuid.uuid4()
    shoes = {shoe: ShoeFact(initial_distance_m=600_000, max_distance_m=800_000)}
    # 632 km before the fifth run: 79 %; 640 km before the sixth: exactly 80 %.
    runs = [a_run(day, distance_m=8000, shoe_id=shoe) for day in range(10)]
    comparison = insights.by_shoe_wear(runs, runs, [], shoes)
    worn, fresh = comparison.groups
    assert (worn.count, fresh.count) == (5, 5)


def test_pain_within_72_hours_of_a_spike():
    steady = [a_run(day, distance_m=10_000) for day in range(0, 30, 3)]
    spike = a_run(31, distance_m=15_000)
    after = [a_run(day, distance_m=9_000) for day in (34, 37, 40, 43)]
    pains = [pain_at(spike.ended_at + timedelta(hours=70))]
    comparison = insights.by_spike([*steady, spike, *after], [], pains)
    spikes, others = comparison.groups
    assert (spikes.count, spikes.with_pain) == (1, 1)
    assert others.count == len(steady) - 1 + len(after), "the first run has nothing to compare"
    assert not comparison.enough_data, "one spike is not a pattern"


def test_days_after_stretching_against_days_after_none():
    days = {DAY0.date() + timedelta(days=n) for n in range(20)}
    stretched = {DAY0.date() + timedelta(days=n) for n in range(0, 20, 2)}
    # Stretched on even days, so odd days follow stretching; pain on five even days.
    pains = [pain_at(DAY0 + timedelta(days=n)) for n in range(2, 20, 4)]
    comparison = insights.by_stretching(days, stretched, pains)
    after, after_none = comparison.groups
    assert (after.count, after.with_pain, after.rate) == (10, 0, 0.0)
    assert (after_none.count, after_none.with_pain, after_none.rate) == (10, 5, 0.5)
    assert "5 of 10 days after none (50%)" in comparison.summary
