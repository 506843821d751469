"""Rules about an athlete's profile: their time zone, units and quiet hours."""

from __future__ import annotations

from datetime import time
from functools import cache
from zoneinfo import available_timezones

UNITS = ("km", "mi")
EARLIEST_BIRTH_YEAR = 1900
YOUNGEST_AGE_YEARS = 13  # app-store rules for accounts held by children


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_valid_timezone(name: str) -> bool:
    """An IANA name such as Europe/London; abbreviations like 'BST' are ambiguous and refused."""
    return name in _zones()


def birth_year_range(current_year: int) -> range:
    return range(EARLIEST_BIRTH_YEAR, current_year - YOUNGEST_AGE_YEARS + 1)


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    """Whether a local clock time falls in quiet hours, which usually wrap past midnight."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end
