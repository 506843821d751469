"""What a check-in may say: kinds, their fields, and the limits of a plausible run.

Limits are conventions (C) chosen to catch typos and unit mix-ups (metres sent as kilometres,
minutes as seconds) rather than to judge anyone's running: the fastest human road pace is about
2:50 min/km, so anything under 2:00 min/km is a bad reading.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

KINDS = ("run", "pain", "exercise")
SURFACES = ("road", "trail", "track", "treadmill", "mixed")
PAIN_LOCATIONS = ("lower_back", "mid_back", "upper_back", "sacroiliac", "buttock", "hip", "leg")
SIDES = ("left", "right", "both", "central")
PAIN_TIMINGS = ("during_run", "after_run", "next_morning", "at_night", "constant")
RADIATES = ("none", "buttock", "thigh", "below_knee")
FOCUSES = ("stretch", "core", "strength", "pilates", "yoga")

MAX_DISTANCE_M = 500_000
MAX_DURATION_S = 48 * 3600
FASTEST_PACE_S_PER_KM = 120
MAX_FUTURE = timedelta(hours=24)
MAX_BATCH = 500

# The time field each kind is dated by, and the fields that belong to each kind.
TIME_FIELD = {"run": "started_at", "pain": "recorded_at", "exercise": "recorded_at"}
REQUIRED = {
    "run": ("started_at", "duration_s", "distance_m"),
    "pain": ("recorded_at", "location", "severity"),
    "exercise": ("recorded_at", "focus"),
}
FIELDS = {
    "run": {"started_at", "duration_s", "moving_s", "distance_m", "surface", "shoe_id", "effort",
            "sport"},
    "pain": {"recorded_at", "location", "side", "severity", "timing", "radiates",
             "morning_stiffness_min", "answers"},
    "exercise": {"recorded_at", "focus", "duration_s", "routine_ids"},
}
COMMON = {"id", "kind", "notes"}


def problems(item: dict[str, Any], now: datetime) -> dict[str, list[str]]:
    """Field name -> what is wrong, for a check-in whose fields each passed their own checks."""
    kind = item["kind"]
    errors: dict[str, list[str]] = {}
    for name in REQUIRED[kind]:
        if item.get(name) is None:
            errors[name] = [f"Required for a {kind} check-in."]
    given = {name for name, value in item.items() if value is not None}
    for name in sorted(given - FIELDS[kind] - COMMON):
        errors[name] = [f"Not a field of a {kind} check-in."]
    moment = item.get(TIME_FIELD[kind])
    if moment is not None and moment > now + MAX_FUTURE:
        errors[TIME_FIELD[kind]] = ["More than 24 hours in the future; check the phone's clock."]
    if kind == "run" and not errors.keys() & {"distance_m", "duration_s"}:
        pace = item["duration_s"] * 1000 / item["distance_m"]
        if pace < FASTEST_PACE_S_PER_KM:
            errors["duration_s"] = [
                "Faster than 2:00 min/km for this distance; check the distance and duration."
            ]
    if kind == "run" and item.get("moving_s") is not None and item.get("duration_s") is not None \
            and item["moving_s"] > item["duration_s"]:
        errors["moving_s"] = ["Longer than the elapsed duration_s; moving time leaves pauses out."]
    return errors


def answered(answers: dict[str, Any] | None) -> dict[str, Any] | None:
    """The questions actually answered: a null answer is no answer, and is not stored."""
    given = {name: value for name, value in (answers or {}).items() if value is not None}
    return given or None


def occurred_at(item: dict[str, Any]) -> datetime:
    return item[TIME_FIELD[item["kind"]]]


def fingerprint(item: dict[str, Any]) -> str:
    """A digest of what the phone said, so the same upload twice is recognised as unchanged."""
    given = {name: value for name, value in item.items() if value is not None}
    return hashlib.sha256(
        json.dumps(given, sort_keys=True, default=_canonical, separators=(",", ":")).encode()
    ).hexdigest()


def _canonical(value: Any) -> str:
    """The same instant written with another offset is the same check-in."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)
