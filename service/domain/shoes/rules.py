"""Shoe wear: distance, age, usage rate, a replacement forecast and a status. Pure functions.

Conventions (C) unless marked: most running shoes are built for 500 to 800 km; we default to 800 km
and 365 days (the athlete may set 480 to 1,000 km and 90 to 730 days). Inspect at 80 % of the
distance or half the age limit (183 days by default), plan a new pair 14 days before the forecast,
replace on it. After "looked at them, still fine" the inspect nudge comes back after another 20 %
of the distance or 60 days. Rotating two or more pairs (E): Malisoux et al. 2015, Scand J Med Sci
Sports, HR 0.61 for runners who used several pairs; we suggest a second pair when one pair carried
more than 70 % of the last 8 weeks' distance.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

INSPECT_RATIO = 0.80
PLAN_LEAD_DAYS = 14
NEW_PAIR_DAYS = 14
RATE_WINDOW_DAYS = 28
REINSPECT_RATIO = 0.20
REINSPECT_DAYS = 60
ROTATION_SHARE = 0.70
ROTATION_WINDOW_DAYS = 56
MALISOUX_2015 = "Malisoux et al., Scand J Med Sci Sports 2015"

OK, INSPECT, PLAN, REPLACE, RETIRED = "ok", "inspect", "plan", "replace", "retired"
STATUSES = (OK, INSPECT, PLAN, REPLACE, RETIRED)
MAX_DISTANCE_RANGE_M = (480_000, 1_000_000)
MAX_AGE_RANGE_DAYS = (90, 730)
MAX_INITIAL_DISTANCE_M = 5_000_000


@dataclass(frozen=True)
class Pair:
    """What the rules need to know about one pair of shoes."""

    first_used_on: date
    initial_distance_m: int
    run_distance_m: int  # every run logged with it
    max_distance_m: int
    max_age_days: int
    last_28_days_m: int  # this pair's runs in the 28 days to today
    athlete_last_28_days_m: int  # all the athlete's runs in those 28 days
    since_first_use_m: int  # this pair's runs since its first use, within the 28 days
    athlete_since_first_use_m: int  # all the athlete's runs in that same time
    retired: bool = False
    inspected_on: date | None = None
    inspected_distance_m: int | None = None


@dataclass(frozen=True)
class Forecast:
    distance_m: int
    age_days: int
    wear_ratio: float
    rate_m_per_day: float
    replace_by: date
    status: str
    inspect_due: bool


def age_days(first_used_on: date, today: date) -> int:
    """Whole days since first use; a pair first used today is 0 days old."""
    return max(0, (today - first_used_on).days)


def usage_rate(pair: Pair, today: date) -> Fraction:
    """Metres a day this pair is running, from the last 28 days (exact, so dates are too).

    A pair in use for under 14 days has too short a record of its own: it takes the athlete's
    daily distance times the share of it this pair carried since it came in.
    """
    if age_days(pair.first_used_on, today) < NEW_PAIR_DAYS:
        if not pair.athlete_since_first_use_m:
            return Fraction(0)
        share = Fraction(pair.since_first_use_m, pair.athlete_since_first_use_m)
        return Fraction(pair.athlete_last_28_days_m, RATE_WINDOW_DAYS) * share
    return Fraction(pair.last_28_days_m, RATE_WINDOW_DAYS)


def replace_by(pair: Pair, distance_m: int, rate_m_per_day: Fraction, today: date) -> date:
    """The earlier of the day the distance limit is reached at this rate, and the age limit."""
    by_age = pair.first_used_on + timedelta(days=pair.max_age_days)
    if rate_m_per_day <= 0:
        return by_age
    remaining = max(0, pair.max_distance_m - distance_m)
    days = math.ceil(remaining / rate_m_per_day)
    if days >= (by_age - today).days:  # also keeps a crawl of metres a month from overflowing
        return by_age
    return today + timedelta(days=days)


def inspect_due(pair: Pair, distance_m: int, today: date) -> bool:
    inspect_age = math.ceil(pair.max_age_days / 2)
    worn = (distance_m >= pair.max_distance_m * INSPECT_RATIO
            or age_days(pair.first_used_on, today) >= inspect_age)
    if not worn:
        return False
    if pair.inspected_on is None:
        return True
    return (distance_m - (pair.inspected_distance_m or 0) >= pair.max_distance_m * REINSPECT_RATIO
            or (today - pair.inspected_on).days >= REINSPECT_DAYS)


def forecast(pair: Pair, today: date) -> Forecast:
    distance = pair.initial_distance_m + pair.run_distance_m
    age = age_days(pair.first_used_on, today)
    rate = usage_rate(pair, today)
    by = replace_by(pair, distance, rate, today)
    due = inspect_due(pair, distance, today)
    if pair.retired:
        status = RETIRED
    elif today >= by or distance >= pair.max_distance_m:
        status = REPLACE
    elif today >= by - timedelta(days=PLAN_LEAD_DAYS):
        status = PLAN
    elif due:
        status = INSPECT
    else:
        status = OK
    return Forecast(distance, age, round(distance / pair.max_distance_m, 4), round(float(rate), 1),
                    by, status, due and not pair.retired)


def rotation_candidate(last_8_weeks_m: dict[Hashable, int]) -> Hashable | None:
    """The pair that carried over 70 % of the last 8 weeks' distance, if one did."""
    total = sum(last_8_weeks_m.values())
    if not total:
        return None
    pair, distance = max(last_8_weeks_m.items(), key=lambda item: item[1])
    return pair if distance / total > ROTATION_SHARE else None
