"""Local days: a run belongs to the athlete's calendar day, not the server's."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def local_date(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()
