"""Planned runs judged before they happen, the safer version, done against planned: hand-computed
vectors, plans runners follow, and properties over a generated family of plans
(docs/design.md, "Plans")."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.config import WEEKLY_JUMP_THRESHOLD
from service.domain.plans import rules as plans
from service.domain.plans.rules import Done, Goal, Planned
from service.domain.training.rules import Spike
from tests.support import plans as known

MONDAY = date(2026, 3, 2)
THRESHOLD = WEEKLY_JUMP_THRESHOLD


def day(n: int) -> date:
    return MONDAY + timedelta(days=n)


def three_weeks_to_16_km() -> list[Done]:
    """Four runs a week for three weeks, the Sunday long run 12, 14 and 16 km."""
    return [Done(day(-21 + 7 * week + weekday), metres)
            for week, long_m in enumerate((12000, 14000, 16000))
            for weekday, metres in ((1, 8000), (3, 8000), (4, 6000), (6, long_m))]


def four_weeks(long_runs: tuple[int, ...]) -> list[Planned]:
    return [Planned(f"w{week}d{weekday}", day(7 * week + weekday),
                    long_m if weekday == 6 else metres, "long" if weekday == 6 else "easy")
            for week, long_m in enumerate(long_runs)
            for weekday, metres in ((1, 8000), (3, 8000), (4, 6000), (6, long_m))]


# -- the preflight check ----------------------------------------------------------------------


def test_a_planned_20_km_after_a_longest_of_16_is_a_small_spike_25_percent_longer():
    check = plans.judge(three_weeks_to_16_km(), four_weeks((20000, 18000, 19000, 20000)),
                        MONDAY, THRESHOLD)
    (flag,) = check.flags
    assert flag.run.id == "w0d6" and flag.spike.spike is Spike.SMALL
    assert (flag.spike.baseline_m, flag.spike.percent_longer, flag.baseline_days) == (16000, 25,
                                                                                      30)
    assert not flag.weekly_flagged and flag.weekly.last_7_days_m == 42000
    assert flag.weekly.previous_7_days_m == 38000, "Mon 23 to Sun 1: 8 + 8 + 6 + 16"
    # The next week's 18 km is judged against the planned 20 km (done and planned count).
    w1 = next(j for j in check.judged if j.run.id == "w1d6")
    assert w1.spike.baseline_m == 20000 and w1.spike.spike is Spike.OK


def test_the_baseline_counts_whole_days_the_30_before_and_not_the_same_day():
    done = [Done(day(-31), 30000), Done(day(-30), 12000)]
    planned = [Planned("a", day(0), 13500), Planned("b", day(0), 20000)]
    check = plans.judge(done, planned, MONDAY, THRESHOLD)
    a, b = check.judged
    assert a.spike.baseline_m == b.spike.baseline_m == 12000, "day -30 counts, day -31 does not"
    assert (a.spike.spike, b.spike.spike) == (Spike.SMALL, Spike.MODERATE)


def test_after_six_weeks_off_the_baseline_is_half_the_longest_of_90_days_and_return_mode_is_on():
    done = [Done(day(-50), 20000), Done(day(-45), 8000)]
    check = plans.judge(done, [Planned("back", day(1), 12000)], MONDAY, THRESHOLD)
    (back,) = check.judged
    assert (back.spike.baseline_m, back.baseline_days, back.spike.spike) == (10000, 90,
                                                                             Spike.SMALL)
    assert back.return_mode.active and back.return_mode.since == day(1)


def test_with_no_run_in_90_days_a_planned_run_is_unjudged():
    check = plans.judge([Done(day(-91), 20000)], [Planned("first", day(0), 5000)], MONDAY,
                        THRESHOLD)
    assert [j.run.id for j in check.unjudged] == ["first"] and check.flags == []


def test_the_weekly_change_compares_exactly_like_the_nightly_rule():
    """40 km, then 52 km is 30 % exactly (no caution); 52.1 km is a caution."""
    done = [Done(day(-60), 1000)] + [Done(day(-7 + i), m) for i, m in
                                     enumerate((8000, 0, 8000, 0, 8000, 0, 16000))]
    for last, caution in ((28000, False), (28100, True)):
        planned = [Planned(f"p{i}", day(i), m) for i, m in
                   enumerate((8000, 0, 8000, 0, 8000, 0, last)) if m]
        sunday = plans.judge(done, planned, MONDAY, THRESHOLD).judged[-1]
        assert sunday.weekly.last_7_days_m == 24000 + last
        assert sunday.weekly.previous_7_days_m == 40000 and sunday.weekly_flagged is caution


def test_a_caution_on_a_rest_day_belongs_to_the_latest_planned_run_of_its_7_days():
    """Day X: 15 km after 15 km, no caution. X + 1 (rest): the 10 km of X - 13 leaves the week
    before, which is now 5 km, against 15 km: a caution, for the run of day X."""
    x = 14
    done = [Done(day(-60), 1000)]
    planned = [Planned("a", day(x - 13), 10000), Planned("b", day(x - 8), 5000),
               Planned("c", day(x - 3), 5000), Planned("x", day(x), 10000),
               Planned("later", day(x + 8), 3000)]
    judged = {j.run.id: j for j in plans.judge(done, planned, day(0), THRESHOLD).judged}
    assert judged["x"].weekly_flagged and judged["x"].weekly_through == day(x + 1)
    assert (judged["x"].weekly.last_7_days_m, judged["x"].weekly.previous_7_days_m) == (15000,
                                                                                       5000)


def test_today_is_judged_until_a_run_is_done_today():
    planned = [Planned("today", MONDAY, 5000), Planned("tomorrow", day(1), 5000)]
    assert [j.run.id for j in plans.judge([], planned, MONDAY, THRESHOLD).judged] == [
        "today", "tomorrow"]
    ran = [Done(MONDAY, 4000)]
    assert [j.run.id for j in plans.judge(ran, planned, MONDAY, THRESHOLD).judged] == [
        "tomorrow"]


# -- the goal and the safer version ------------------------------------------------------------


def test_the_goal_is_the_last_race_else_the_longest_run():
    runs = four_weeks((20000, 18000, 22000, 22000))
    assert plans.goal_of(runs) == Goal("w3d6", day(27), 22000, "peak_long_run")
    raced = [*runs, Planned("race", day(34), 10000, "race")]
    assert plans.goal_of(raced) == Goal("race", day(34), 10000, "race")


def test_a_safer_version_reaches_23_km_in_10_percent_steps():
    """16 km done; planned 20, 18, 22, 23. By hand: 17.6 (110 % of 16), then 19.1 (19.01 needed,
    rounded up), then 21.0 (21.01 allowed, rounded down), then the goal's 23 (23.1 allowed)."""
    result = plans.safer(three_weeks_to_16_km(), four_weeks((20000, 18000, 22000, 23000)),
                         MONDAY, THRESHOLD)
    assert result.reached and not result.already_safe and result.reachable_m == 23000
    longs = {run.id: run.distance_m for run in result.proposal if run.kind == "long"}
    assert longs == {"w0d6": 17600, "w1d6": 19100, "w2d6": 21000, "w3d6": 23000}
    changes = {c.run.id: (c.distance_m, c.change, c.because) for c in result.changes}
    assert changes == {"w0d6": (17600, "shortened", "run_spike"),
                       "w1d6": (19100, "raised", "build_up"),
                       "w2d6": (21000, "shortened", "run_spike")}
    assert plans.judge(three_weeks_to_16_km(), result.proposal, MONDAY, THRESHOLD).flags == []


def test_24_km_by_that_sunday_cannot_be_reached_safely_and_it_says_how_far_it_can():
    """17.6, 19.36, 21.296, then 23.425 km at the most: short of 24."""
    result = plans.safer(three_weeks_to_16_km(), four_weeks((20000, 18000, 22000, 24000)),
                         MONDAY, THRESHOLD)
    assert not result.reached and result.reachable_m == 23425
    longs = [run.distance_m for run in result.proposal if run.kind == "long"]
    assert longs == [17600, 19360, 21296, 23425]


def test_a_plan_with_nothing_flagged_is_its_own_safer_version():
    plan = four_weeks((16000, 17000, 17500, 18000))
    assert plans.judge(three_weeks_to_16_km(), plan, MONDAY, THRESHOLD).flags == []
    result = plans.safer(three_weeks_to_16_km(), plan, MONDAY, THRESHOLD)
    assert result.reached and result.already_safe and list(result.proposal) == plan


def test_couch_to_5k_from_nothing_is_within_the_rules():
    plan = known.couch_to_5k(MONDAY)
    check = plans.judge([], plan, MONDAY, THRESHOLD)
    assert check.flags == [] and [j.run.id for j in check.unjudged] == ["c25k-w1d1"]
    assert plans.safer([], plan, MONDAY, THRESHOLD).already_safe


def test_couch_to_5k_after_a_few_walk_runs_is_eased_in_and_still_ends_with_the_5k():
    walker = known.history(MONDAY, 3, [(2, 2000), (5, 2500)])
    plan = known.couch_to_5k(MONDAY)
    assert plans.judge(walker, plan, MONDAY, THRESHOLD).flags, "3 km after 2.5 km: 20 % longer"
    result = plans.safer(walker, plan, MONDAY, THRESHOLD)
    assert result.reached and result.goal.distance_m == 5000
    assert plans.judge(walker, result.proposal, MONDAY, THRESHOLD).flags == []


TWENTY_FIVE_MILES = [(1, known.mi(5)), (2, known.mi(5)), (3, known.mi(5)), (5, known.mi(10))]


@pytest.mark.parametrize("plan_of", [known.novice_marathon, known.first_marathon])
def test_a_16_week_marathon_plan_after_25_miles_a_week_is_flagged_and_made_safe(plan_of):
    done = known.history(MONDAY, 6, TWENTY_FIVE_MILES)
    plan = plan_of(MONDAY)
    check = plans.judge(done, plan, MONDAY, THRESHOLD)
    race = check.judged[-1]
    assert race.run.kind == "race" and race.spike.spike >= Spike.SMALL, \
        "a marathon after a 20-mile peak is more than 10 % longer"
    result = plans.safer(done, plan, MONDAY, THRESHOLD)
    assert result.reached and result.goal == Goal(race.run.id, race.run.day, 42195, "race")
    assert plans.judge(done, result.proposal, MONDAY, THRESHOLD).flags == []
    longest_before_race = max(run.distance_m for run in result.proposal
                              if race.run.day - timedelta(days=30) <= run.day < race.run.day)
    assert longest_before_race * 110 >= 42195 * 100, "a run of 38.4 km in its 30 days before"
    peak = max((run for run in plan if run.kind == "long"),
               key=lambda run: (run.distance_m, run.day))
    taper = [run for run in plan if run.kind == "long" and run.day > peak.day]
    proposed = {run.id: run.distance_m for run in result.proposal}
    assert all(proposed.get(run.id, 0) <= run.distance_m for run in taper), "the taper is kept"


def test_a_novice_marathon_from_15_miles_a_week_cannot_be_reached_safely_in_16_weeks():
    done = known.history(MONDAY, 6, [(1, known.mi(3)), (3, known.mi(3)), (5, known.mi(6))])
    result = plans.safer(done, known.novice_marathon(MONDAY), MONDAY, THRESHOLD)
    assert not result.reached and result.reachable_m < 42195
    assert plans.judge(done, result.proposal, MONDAY, THRESHOLD).flags == []
    again = plans.safer(done, known.novice_marathon(MONDAY), MONDAY, THRESHOLD,
                        goal=Goal(result.goal.run_id, result.goal.day, result.reachable_m,
                                  "race"))
    assert again.reached, "what it says can be reached, can"


def test_a_half_marathon_ten_weeks_after_six_weeks_off_starts_from_half_the_old_long_run():
    done = known.history(MONDAY - timedelta(weeks=6), 10, [(1, 8000), (3, 10000), (6, 16000)])
    plan = known.comeback_half(MONDAY)
    first = plans.judge(done, plan, MONDAY, THRESHOLD).judged[0]
    assert first.return_mode.active and first.spike.baseline_m == 8000
    result = plans.safer(done, plan, MONDAY, THRESHOLD)
    assert plans.judge(done, result.proposal, MONDAY, THRESHOLD).flags == []
    assert not result.reached and result.reachable_m < 21100
    assert all(run.distance_m <= 8800 for run in result.proposal if run.day < day(7)), \
        "the first week back: at most 110 % of half the old long run"


# -- done against planned ----------------------------------------------------------------------


@pytest.mark.parametrize(("done_m", "status"), [
    (8000, "done"), (7999, "shorter"), (12000, "done"), (12001, "longer"), (1, "shorter"),
])
def test_within_20_percent_of_the_plan_is_done(done_m, status):
    assert plans.status_of(10000, done_m, day(-1), MONDAY) == status


def test_a_planned_day_without_a_run_is_missed_once_it_is_over():
    planned = [Planned("a", day(-1), 10000), Planned("b", MONDAY, 5000),
               Planned("c", MONDAY, 5000), Planned("d", day(1), 8000)]
    matched = plans.match(planned, [Done(day(-3), 9000)], MONDAY)
    assert [(m.day, m.planned_m, m.status) for m in matched] == [
        (day(-1), 10000, "missed"), (MONDAY, 10000, "planned"), (day(1), 8000, "planned")]
    ran = plans.match(planned, [Done(MONDAY, 9500)], MONDAY)
    assert ran[1].status == "done" and ran[1].done_m == 9500, "two planned runs, one day"
    assert plans.counts(ran) == {"done": 1, "shorter": 0, "longer": 0, "missed": 1}


# -- when the notice goes out ------------------------------------------------------------------


@pytest.mark.parametrize(("start", "end", "expected"), [
    (time(21, 30), time(7, 0), time(18, 0)),
    (time(0, 0), time(0, 0), time(18, 0)),  # no quiet hours
    (time(17, 0), time(7, 0), time(15, 30)),  # 90 minutes before they begin
    (time(13, 0), time(7, 0), time(18, 0)),  # 11:30 would be too early: it waits, as ever
])
def test_the_notice_goes_out_at_six_the_evening_before_or_before_quiet_hours(start, end,
                                                                             expected):
    assert plans.notice_time(start, end) == expected


# -- properties over a family of plans ---------------------------------------------------------


@st.composite
def a_runner_and_a_plan(draw):
    weekdays = sorted(draw(st.sets(st.integers(0, 6), min_size=2, max_size=5)))
    long_day = draw(st.sampled_from(weekdays))
    easy_m = draw(st.integers(20, 120)) * 100
    history_weeks = draw(st.integers(0, 10))
    gap_weeks = draw(st.sampled_from([0, 0, 0, 2, 5, 14]))
    history_long = draw(st.integers(30, 250)) * 100
    done = [Done(MONDAY - timedelta(weeks=gap_weeks + history_weeks - n, days=-weekday),
                 history_long if weekday == long_day else easy_m)
            for n in range(history_weeks) for weekday in weekdays]
    weeks = draw(st.integers(3, 16))
    long_m = draw(st.integers(30, 300)) * 100
    growth = draw(st.sampled_from([1.0, 1.05, 1.1, 1.15, 1.2, 1.3]))
    step_back = draw(st.sampled_from([0, 3, 4]))
    planned, long_now = [], long_m
    for n in range(weeks):
        this_long = round(long_now * (0.75 if step_back and n % step_back == step_back - 1
                                      else 1))
        for weekday in weekdays:
            metres = this_long if weekday == long_day else easy_m
            planned.append(Planned(f"w{n}d{weekday}", MONDAY + timedelta(weeks=n, days=weekday),
                                   metres, "long" if weekday == long_day else "easy"))
        long_now = min(round(long_now * growth), 45000)
    race = draw(st.sampled_from([None, 5000, 10000, 21100, 42195]))
    if race:
        last = planned[-1]
        planned[-1] = Planned(last.id, last.day, race, "race")
    return done, planned


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(a_runner_and_a_plan())
def test_a_safer_version_reaches_the_same_goal_with_nothing_flagged_or_says_it_cannot(case):
    done, planned = case
    result = plans.safer(done, planned, MONDAY, THRESHOLD)
    goal = plans.goal_of(plans.upcoming(done, planned, MONDAY))
    assert result.goal == goal
    assert plans.judge(done, result.proposal, MONDAY, THRESHOLD).flags == [], "no flag"
    by_id = {run.id: run for run in planned}
    for run in result.proposal:  # the plan's days and kinds, distances within the limits
        assert (run.day, run.kind) == (by_id[run.id].day, by_id[run.id].kind)
        assert plans.SHORTEST_PROPOSED_M <= run.distance_m <= plans.MAX_DISTANCE_M
    proposed_goal = next((run for run in result.proposal if run.id == goal.run_id), None)
    if result.reached:
        assert proposed_goal == Planned(goal.run_id, goal.day, goal.distance_m,
                                        by_id[goal.run_id].kind), "the same goal"
    else:
        assert result.reachable_m < goal.distance_m and not result.already_safe
        assert (proposed_goal.distance_m if proposed_goal else 0) == result.reachable_m
    if not plans.judge(done, planned, MONDAY, THRESHOLD).flags:
        assert result.already_safe and list(result.proposal) == plans.upcoming(done, planned,
                                                                                MONDAY)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(a_runner_and_a_plan())
def test_what_it_says_can_be_reached_can(case):
    """An honest "cannot": the longest safe goal it names is one it then reaches."""
    done, planned = case
    result = plans.safer(done, planned, MONDAY, THRESHOLD)
    if result.reached or not result.reachable_m:
        return
    lower = Goal(result.goal.run_id, result.goal.day, result.reachable_m, result.goal.kind)
    assert plans.safer(done, planned, MONDAY, THRESHOLD, goal=lower).reached
