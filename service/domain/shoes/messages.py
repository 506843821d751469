"""What a shoe nudge says: how worn the pair is, by when to replace it, and why."""

from __future__ import annotations

from typing import Any

from service.domain.notify.rules import day_name, format_distance
from service.domain.shoes import rules as shoes


def _pair(name: str) -> str:
    return f"your {name}" if not name.lower().startswith(("my ", "your ")) else name


def inspect(name: str, forecast: shoes.Forecast, pair: shoes.Pair, units: str,
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


def plan(name: str, forecast: shoes.Forecast, pair: shoes.Pair,
              units: str) -> tuple[str, str, dict[str, Any]]:
    weekly = format_distance(round(forecast.rate_m_per_day * 7), units)
    title = f"Plan a new pair before {day_name(forecast.replace_by)}"
    body = (f"At about {weekly} a week, {_pair(name)} will reach the "
            f"{format_distance(pair.max_distance_m, units)} you set around "
            f"{day_name(forecast.replace_by)} (they have "
            f"{format_distance(forecast.distance_m, units)} now). "
            f"Getting the next pair now lets you run them in alongside the old ones.")
    return title, body, _shoe_data("shoe_plan", forecast, pair, units)


def replace(name: str, forecast: shoes.Forecast, pair: shoes.Pair,
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


def rotate(name: str, share: float, units: str) -> tuple[str, str, dict[str, Any]]:
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
