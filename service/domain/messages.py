"""What a warning says: what happened, why it matters, what to do next. Never a diagnosis.

Every message names its rule, its numbers and its source in `data`, and speaks in the athlete's
units and local calendar.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from service.domain import load, shoes
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
