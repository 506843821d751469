"""What a warning says: what happened, why it matters, what to do next. Never a diagnosis.

Every message names its rule, its numbers and its source in `data`, and speaks in the athlete's
units and local calendar.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from service.domain import load, shoes, triage
from service.domain.notifications import format_distance


def _day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def run_spike(finding: load.SpikeFinding, run_id: str, run_day: date,
              units: str) -> tuple[str, str, dict[str, Any]]:
    run_m, baseline_m = finding.run.distance_m, finding.baseline_m
    advisable_m = load.longest_advisable_run_m(baseline_m)
    title = f"Your {format_distance(run_m, units)} run was a big step up"
    body = (
        f"Your run on {_day(run_day)} ({format_distance(run_m, units)}) was "
        f"{finding.percent_longer}% longer than your longest run of the 30 days before it "
        f"({format_distance(baseline_m, units)}). Runs more than 10% longer than that have been "
        f"linked to a higher rate of running injuries ({load.FRANDSEN_2025}). "
        f"Keep your next long run under {format_distance(advisable_m, units)} and build up in "
        f"smaller steps."
    )
    data = {
        "rule": "run_spike", "run_id": run_id, "class": finding.spike.label,
        "distance_m": run_m, "baseline_m": baseline_m,
        "percent_longer": finding.percent_longer, "threshold_percent": 10,
        "hazard_ratio": load.SPIKE_HAZARD_RATIO.get(finding.spike),
        "longest_advisable_run_m": advisable_m, "units": units,
        "source": load.FRANDSEN_2025, "evidence": "E",
    }
    return title, body, data


def weekly_jump(change: load.WeeklyChange, through: date, units: str,
                threshold: float) -> tuple[str, str, dict[str, Any]]:
    percent = round(change.change * 100)
    title = f"This week was {percent}% more than the last"
    body = (
        f"You ran {format_distance(change.last_7_days_m, units)} in the 7 days to "
        f"{_day(through)}, {percent}% more than the "
        f"{format_distance(change.previous_7_days_m, units)} of the 7 days before. Weekly "
        f"increases of more than {threshold:.0%} have been linked to running injuries in "
        f"newer runners ({load.NIELSEN_2014}). Consider holding next week near this week's "
        f"distance."
    )
    data = {
        "rule": "weekly_jump", "last_7_days_m": change.last_7_days_m,
        "previous_7_days_m": change.previous_7_days_m, "percent_more": percent,
        "threshold_percent": round(threshold * 100), "units": units,
        "source": load.NIELSEN_2014, "evidence": "E (weak)",
    }
    return title, body, data


def _pair(name: str) -> str:
    return f"your {name}" if not name.lower().startswith(("my ", "your ")) else name


def shoe_inspect(name: str, forecast: shoes.Forecast, pair: shoes.Pair, units: str,
                 ) -> tuple[str, str, dict[str, Any]]:
    worn_by_distance = forecast.distance_m >= pair.max_distance_m * shoes.INSPECT_RATIO
    why = (f"they have {format_distance(forecast.distance_m, units)} on them, "
           f"{round(forecast.wear_ratio * 100)}% of the "
           f"{format_distance(pair.max_distance_m, units)} you set"
           if worn_by_distance else f"they are {forecast.age_days} days old")
    title = f"Time to look at {_pair(name)}"
    body = (f"Time to look at {_pair(name)}: {why}. Check the midsole for deep creases and the "
            f"outsole for smooth patches. If they still feel supportive, tap \"Still fine\" and "
            f"we will ask again later.")
    return title, body, _shoe_data("shoe_inspect", forecast, pair, units)


def shoe_plan(name: str, forecast: shoes.Forecast, pair: shoes.Pair,
              units: str) -> tuple[str, str, dict[str, Any]]:
    weekly = format_distance(round(forecast.rate_m_per_day * 7), units)
    title = f"Plan a new pair before {_day(forecast.replace_by)}"
    body = (f"At about {weekly} a week, {_pair(name)} will reach the "
            f"{format_distance(pair.max_distance_m, units)} you set around "
            f"{_day(forecast.replace_by)} (they have {format_distance(forecast.distance_m, units)} "
            f"now). Getting the next pair now lets you run them in alongside the old ones.")
    return title, body, _shoe_data("shoe_plan", forecast, pair, units)


def shoe_replace(name: str, forecast: shoes.Forecast, pair: shoes.Pair,
                 units: str) -> tuple[str, str, dict[str, Any]]:
    if forecast.distance_m >= pair.max_distance_m:
        why = (f"have {format_distance(forecast.distance_m, units)} on them, past the "
               f"{format_distance(pair.max_distance_m, units)} you set")
    else:
        why = f"are {forecast.age_days} days old, past the {pair.max_age_days} days you set"
    title = f"Time to replace {_pair(name)}"
    subject = _pair(name)
    body = (f"{subject[0].upper()}{subject[1:]} {why}. Cushioning wears out with distance and "
            f"time, often before the outside looks worn. Consider retiring them from running.")
    return title, body, _shoe_data("shoe_replace", forecast, pair, units)


def shoe_rotate(name: str, share: float, units: str) -> tuple[str, str, dict[str, Any]]:
    percent = round(share * 100)
    title = "Consider rotating a second pair"
    body = (f"{percent}% of your running in the last 8 weeks was in {_pair(name)}. Runners who "
            f"alternated more than one pair had fewer running injuries in one study "
            f"({shoes.MALISOUX_2015}). Consider adding a second pair to alternate with.")
    data = {"rule": "shoe_rotate", "share_percent": percent, "threshold_percent": 70,
            "window_days": shoes.ROTATION_WINDOW_DAYS, "units": units,
            "source": shoes.MALISOUX_2015, "evidence": "E"}
    return title, body, data


def _shoe_data(rule: str, forecast: shoes.Forecast, pair: shoes.Pair,
               units: str) -> dict[str, Any]:
    return {"rule": rule, "distance_m": forecast.distance_m, "age_days": forecast.age_days,
            "max_distance_m": pair.max_distance_m, "max_age_days": pair.max_age_days,
            "wear_ratio": forecast.wear_ratio, "rate_m_per_day": forecast.rate_m_per_day,
            "replace_by": forecast.replace_by.isoformat(), "units": units, "evidence": "C"}


# What each triage trigger is called in a message: the athlete's own answer or the pattern in
# their check-ins, never a name for a condition.
TRIGGER_TEXT = {
    "bladder_bowel_change": "a change in bladder or bowel control",
    "saddle_numbness": "numbness around the groin, buttocks or inner thighs",
    "sexual_dysfunction": "a new change in sexual function",
    "both_legs": "symptoms in both legs",
    "progressive_weakness": "leg weakness that is getting worse, or a dropping foot",
    "gait_disturbance": "difficulty walking normally",
    "major_trauma": "a fall or an accident",
    "fever": "a fever or chills",
    "weight_loss": "weight loss you cannot explain",
    "cancer_history": "a history of cancer",
    "immunosuppression": "a weakened immune system or medicines that suppress it",
    "night_pain": "pain at night that keeps on",
    "unrelieved_by_rest": "pain that rest does not ease",
    "one_leg_numbness": "numbness or weakness in one leg",
    "thoracic_pain": "pain in your upper or mid back",
    "new_pain_at_50_or_over": "new back pain at 50 or over",
    "new_pain_under_20": "new back pain under 20",
    "pain_below_the_knee": "pain that travels below the knee",
    "severity_7_or_more": "pain of 7 or more out of 10",
    "more_than_6_weeks": "pain for more than 6 weeks",
    "not_improving_after_4_weeks": "pain that has not eased in 4 weeks",
    "rising_over_3_check_ins": "pain that rose over your last 3 check-ins",
    "onset_before_35": "pain that began before 35",
    "waking_second_half_night": "waking with pain in the second half of the night",
    "buttock_pain": "pain in the buttocks",
    "better_with_movement": "pain that eases when you move",
    "better_with_anti_inflammatories": "pain that eases with anti-inflammatory medicine",
    "family_history": "family members with a similar back problem",
    "gradual_onset": "pain that came on gradually",
    "onset_before_40": "pain that began before 40",
    "not_better_with_rest": "pain that does not ease with rest alone",
    "night_or_morning_pain_easing_on_getting_up": "pain at night or on waking that eases once "
                                                  "you are up",
}

# Tier -> (title, what to do and how soon).
TRIAGE_ADVICE = {
    triage.EMERGENCY: (
        "Please get medical help today",
        "Together with back pain, this needs to be checked by a doctor today: go to an "
        "emergency department now, or call your local emergency number. Please do not run "
        "until a doctor has seen you."),
    triage.URGENT: (
        "Please see a doctor in the next day or two",
        "Together with back pain, this should be checked by a doctor within 24 to 48 hours: "
        "please book an appointment today. Until then, rest or keep to easy walking."),
    triage.REVIEW: (
        "Book a physio or GP appointment",
        "It is worth having a physiotherapist or GP look at your back in the next week or "
        "two. Until then, keep your running where it is rather than adding more; we have "
        "paused advice to run more and stretch reminders."),
    triage.INFLAMMATORY: (
        "Mention this pattern to your GP",
        "Back pain with this pattern is worth raising with a GP: some long-lasting back pain "
        "has causes that are looked after differently, and a GP can tell whether any checks "
        "are needed. Please book a routine appointment in the next few weeks and show them "
        "these answers; keep moving as you are able."),
}
TRIAGE_SOURCES = {
    triage.EMERGENCY: "NICE NG59 (2016, updated 2020): signs that need same-day referral",
    triage.URGENT: "NICE NG59 (2016, updated 2020)",
    triage.REVIEW: "NICE NG59 (2016, updated 2020)",
    triage.INFLAMMATORY: "NICE NG65 (2017); ASAS criteria (Sieper et al. 2009)",
}


def listed(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else items[0]


def pain_triage(result: triage.Triage) -> tuple[str, str, dict[str, Any]]:
    """What to do about a tier, naming the answers or patterns behind it; nothing for none."""
    title, advice = TRIAGE_ADVICE[result.tier]
    told = listed([TRIGGER_TEXT[name] for name in result.triggers])
    body = f"You told us about {told}. {advice}"
    if result.tier == triage.INFLAMMATORY:
        body = f"Your check-ins show {told}, over more than 3 months. {advice}"
    elif result.tier == triage.REVIEW:
        body = f"Your check-ins show {told}. {advice}"
    data = {"rule": f"pain_{result.tier}", "tier": result.tier,
            "triggers": list(result.triggers), "source": TRIAGE_SOURCES[result.tier],
            "evidence": "E (guideline)"}
    return title, body, data
