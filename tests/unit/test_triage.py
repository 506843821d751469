"""Pain triage at every trigger's boundary; unanswered questions are not "no"."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from service.domain.pain import rules as triage
from service.domain.pain.rules import Report, assess

TODAY = date(2026, 6, 30)
CALM = Report(TODAY, "lower_back", 3)


def back(days: int, severity: int = 3, **answers) -> Report:
    return Report(TODAY - timedelta(days=days), "lower_back", severity, **answers)


@pytest.mark.parametrize("flag", triage.EMERGENCY_FLAGS)
def test_each_emergency_answer_is_an_emergency(flag):
    result = assess(replace(CALM, **{flag: True}), [], age=35)
    assert (result.tier, result.triggers) == ("emergency", (flag,))


@pytest.mark.parametrize("flag", triage.URGENT_FLAGS)
def test_each_urgent_answer_is_urgent(flag):
    assert assess(replace(CALM, **{flag: True}), [], age=35).tier == "urgent"


def test_unanswered_and_no_answers_trigger_nothing():
    unanswered = assess(CALM, [], age=35)
    all_no = assess(replace(CALM, **{f: False for f in triage.EMERGENCY_FLAGS
                                     + triage.URGENT_FLAGS}), [], age=35)
    assert unanswered.tier == all_no.tier == "none"


def test_emergency_outranks_urgent_and_review():
    report = replace(CALM, severity=9, fever=True, saddle_numbness=True, radiates="below_knee")
    assert assess(report, [], age=60).tier == "emergency"


@pytest.mark.parametrize(("age", "tier"), [(19, "urgent"), (20, "none"), (49, "none"),
                                           (50, "urgent"), (None, "none")])
def test_new_pain_at_the_age_boundaries(age, tier):
    assert assess(CALM, [], age=age).tier == tier


def test_pain_that_is_not_new_at_50_is_not_urgent_for_its_age():
    assert assess(CALM, [back(10), back(20)], age=55).tier == "none"
    assert assess(CALM, [back(43)], age=55).tier == "urgent", "after 6 weeks clear, it is new"


def test_thoracic_pain_is_urgent():
    assert assess(replace(CALM, location="mid_back"), [], age=35).triggers == ("thoracic_pain",)


@pytest.mark.parametrize(("severity", "tier"), [(6, "none"), (7, "review")])
def test_severity_boundary(severity, tier):
    assert assess(replace(CALM, severity=severity), [], age=35).tier == tier


def test_pain_below_the_knee_is_a_review_and_thigh_is_not():
    assert assess(replace(CALM, radiates="below_knee"), [], age=35).tier == "review"
    assert assess(replace(CALM, radiates="thigh"), [], age=35).tier == "none"


def test_more_than_six_weeks_of_check_ins_is_a_review():
    easing = [back(d, 5) for d in range(42, 0, -7)]
    assert assess(CALM, easing, age=35).tier == "none", "exactly 6 weeks, and easing"
    assert "more_than_6_weeks" in assess(CALM, [back(43), *easing], age=35).triggers


def test_not_improving_after_four_weeks_is_a_review():
    assert "not_improving_after_4_weeks" in assess(back(0, 4), [back(28, 4)], age=35).triggers
    assert assess(back(0, 3), [back(28, 4)], age=35).tier == "none", "improving"
    assert assess(back(0, 4), [back(27, 4)], age=35).tier == "none", "not yet 4 weeks"


def test_rising_over_three_check_ins_is_a_review():
    assert "rising_over_3_check_ins" in assess(back(0, 5), [back(2, 3), back(1, 4)],
                                               age=35).triggers
    assert assess(back(0, 5), [back(2, 4), back(1, 4)], age=35).tier == "none"


def morning_stiff(days: int = 0, **extra) -> Report:
    answers = dict(onset_age=30, waking_second_half_night=True, better_with_movement=True,
                   buttock_pain=True, severity=2)
    answers.update(extra)
    return back(days, **answers)


def test_morning_pain_for_over_three_months_from_30_is_an_inflammatory_screen():
    history = [back(d, 2) for d in range(92, 0, -10)]
    result = assess(morning_stiff(), history, age=33)
    assert result.tier == "inflammatory_screen"
    assert "onset_before_35" in result.triggers and len(result.triggers) == 4


def test_the_inflammatory_screen_needs_all_its_conditions():
    history = [back(d, 2) for d in range(92, 0, -10)]
    assert assess(morning_stiff(onset_age=45), history, age=50).tier != "inflammatory_screen"
    assert assess(morning_stiff(), [back(d, 2) for d in range(91, 0, -10)],
                  age=33).tier == "review", "3 months exactly is not more than 3: just persistent"
    three_of_nice = morning_stiff(buttock_pain=None, better_with_movement=None,
                                  better_with_anti_inflammatories=True)
    assert assess(replace(three_of_nice, buttock_pain=True), history, age=33).tier \
        == "inflammatory_screen"
    assert assess(three_of_nice, history, age=33).tier == "review", \
        "three features and an unanswered one are not four"


def story(**extra) -> Report:
    """Sore in the morning after rest, better once moving, since the age of 30."""
    answers = dict(onset_age=30, better_with_movement=True, timing="next_morning", severity=3)
    answers.update(extra)
    return back(0, **answers)


def test_morning_pain_that_eases_with_movement_meets_four_of_the_asas_items():
    history = [back(d, 3) for d in range(100, 0, -14)]
    result = assess(story(), history, age=34)
    assert result.tier == "inflammatory_screen"
    assert result.triggers == ("onset_before_40", "better_with_movement", "not_better_with_rest",
                               "night_or_morning_pain_easing_on_getting_up")
    assert assess(story(timing=None), history, age=34).tier == "review", "three of five"
    assert assess(story(timing=None, gradual_onset=True), history, age=34).tier \
        == "inflammatory_screen"
    assert assess(story(onset_age=40), history, age=44).tier == "review", "onset 40 is not < 40"
    assert assess(replace(story(), location="hip"), history, age=34).tier == "review", \
        "back pain only"


def test_how_long_the_athlete_says_counts_as_much_as_the_check_ins():
    assert assess(story(had_pain_for_weeks=14), [], age=34).tier == "inflammatory_screen"
    thirteen = assess(story(had_pain_for_weeks=13), [], age=34)
    assert (thirteen.tier, thirteen.triggers) == ("review", ("more_than_6_weeks",)), \
        "91 days is not more than 3 months, but is more than 6 weeks"
    assert assess(back(0, had_pain_for_weeks=6), [], age=34).tier == "none"
    assert assess(back(0, had_pain_for_weeks=7), [], age=34).triggers == ("more_than_6_weeks",)
    assert assess(back(0, severity=0, had_pain_for_weeks=30), [], age=34).tier == "none", \
        "no pain today ends the episode, whatever was said before"


def test_severe_pain_or_pain_below_the_knee_keep_the_review_over_the_screen():
    history = [back(d, 3) for d in range(100, 0, -14)]
    severe = assess(story(severity=8), history, age=34)
    assert severe.tier == "review" and "severity_7_or_more" in severe.triggers
    below_knee = assess(story(radiates="below_knee"), history, age=34)
    assert below_knee.tier == "review" and "pain_below_the_knee" in below_knee.triggers


def test_new_pain_at_50_is_about_back_pain_that_is_new():
    assert assess(back(0), [], age=55).triggers == ("new_pain_at_50_or_over",)
    assert assess(Report(TODAY, "hip", 3), [], age=55).tier == "none", "hip pain on its own"
    assert assess(back(0, onset_age=30), [], age=55).tier == "none", "began 25 years ago"
    assert assess(back(0, onset_age=54), [], age=55).tier == "urgent", "began this year or last"
    assert assess(back(0, had_pain_for_weeks=10), [], age=55).tier != "urgent", "not new"
    assert assess(back(0, had_pain_for_weeks=6), [], age=55).tier == "urgent"


def test_a_pain_free_check_in_ends_the_episode_and_clears_history_tiers():
    months = [back(days, severity=4) for days in (60, 45, 30, 15)]
    assert assess(months[-1], months[:-1], age=35).tier == "review"
    pain_free = Report(TODAY, "lower_back", 0)
    assert assess(pain_free, months, age=35).tier == "none"
    returning = assess(back(0, severity=3), [*months, replace(pain_free, on=TODAY - timedelta(1))],
                       age=35)
    assert returning.tier == "none", "the weeks before a pain-free day are a closed episode"


def test_a_pain_free_check_in_still_counts_its_red_flag_answers():
    assert assess(Report(TODAY, "lower_back", 0, saddle_numbness=True), [], age=35).tier \
        == "emergency"


def test_pain_returning_after_a_pain_free_day_is_not_new_pain_at_50():
    earlier = [back(20, severity=3), back(10, severity=0)]
    assert assess(back(0, severity=3), earlier, age=55).tier == "none"
    assert assess(back(0, severity=3), [back(50, severity=3)], age=55).tier == "urgent"


def test_pattern_answers_hold_across_the_episode_and_red_flags_do_not():
    said_once = replace(story(had_pain_for_weeks=12), on=TODAY - timedelta(days=14))
    next_time = back(0, severity=3)  # nothing answered this time
    result = assess(next_time, [said_once], age=34)
    assert result.tier == "inflammatory_screen", "12 weeks said two weeks ago is 14 weeks now"
    assert "better_with_movement" in result.triggers

    flagged = back(1, severity=3, fever=True)
    assert assess(back(0, severity=3), [flagged], age=34).tier == "none", \
        "a newer check-in without the red flag clears the urgent tier"


def test_leg_or_hip_pain_that_travels_counts_for_the_age_flag():
    assert assess(Report(TODAY, "leg", 4, radiates="thigh"), [], age=60).tier == "urgent"
    assert assess(Report(TODAY, "hip", 4, radiates="none"), [], age=60).tier == "none"
