"""How a message is timed and worded for its athlete: quiet hours, units, local days. Pure.

Shared by every subdomain's messages, so a warning about shoes and one about a run read alike.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.domain.accounts.rules import in_quiet_hours

METRES_PER_MILE = 1609.344


def format_distance(metres: int, units: str) -> str:
    """'12.4 km' or '7.7 mi', one decimal, in the athlete's units."""
    if units == "mi":
        return f"{metres / METRES_PER_MILE:.1f} mi"
    return f"{metres / 1000:.1f} km"


def deliver_after(now: datetime, timezone: str, quiet_start: time, quiet_end: time) -> datetime:
    """Now, or the end of the athlete's quiet hours if now falls within them (in UTC)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    if not in_quiet_hours(local.time(), quiet_start, quiet_end):
        return now
    end_day = local.date() if local.time() < quiet_end else local.date() + timedelta(days=1)
    # A wall-clock time that a DST change skips resolves forward, as zoneinfo does by default.
    return datetime.combine(end_day, quiet_end, tzinfo=zone).astimezone(UTC)


def day_name(day: date) -> str:
    """'Wednesday 11 March': a local calendar day as a runner says it."""
    return f"{day:%A} {day.day} {day:%B}"


def listed(items: list[str]) -> str:
    """'a, b and c'."""
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else items[0]
