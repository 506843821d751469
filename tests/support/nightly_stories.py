"""Runners' weeks written straight into the database, for the nightly job's tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.domain.accounts import passwords
from service.domain.accounts import registration as accounts
from service.domain.checkins import writes as checkin_writes
from service.models import Account

HASHER = passwords.make_hasher("cheapest")


def runner(session, email: str, timezone: str = "Europe/London", units: str = "km") -> Account:
    account = accounts.register(session, HASHER, email=email, password="tarmac-and-trails-2026",
                                timezone=timezone, units=units)
    session.flush()
    return account


def log_runs(session, athlete: Account, runs: list[tuple[date, int]], hour: int = 7) -> list:
    """Runs at `hour` local time on each day, of the given distances in metres."""
    zone = ZoneInfo(athlete.timezone)
    return log_runs_at(session, athlete, [(datetime.combine(day, time(hour), tzinfo=zone), m)
                                          for day, m in runs])


def log_runs_at(session, athlete: Account, runs: list[tuple[datetime, int]]) -> list:
    """Runs started at the given instants, of the given distances in metres."""
    items = [{
        "id": uuid.uuid4(), "kind": "run", "distance_m": metres,
        "duration_s": max(1200, metres * 330 // 1000), "started_at": started_at,
    } for started_at, metres in runs]
    outcomes = checkin_writes.upsert(session, athlete, items, datetime.now(UTC))
    assert all(o.error is None for o in outcomes), [o.error for o in outcomes]
    return [o.id for o in outcomes]


def steady_month(end: date, metres: int = 8000) -> list[tuple[date, int]]:
    """A run every other day for four weeks, and two rest days before `end`."""
    return [(end - timedelta(days=d), metres) for d in range(28, 3, -2)]
