"""Demo data: athletes whose histories tell the stories Backstride is for, and their coach.

`backstride demo seed` writes them through the same use cases the API calls (check-in upserts with
their triage, shoe records, coach links) and then runs the nightly analysis over the last days, so
a newcomer opening the app or the coach roster sees every feature at work.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.accounts import registration as accounts
from service.domain.accounts import scopes
from service.domain.accounts.rules import in_quiet_hours
from service.domain.checkins import writes as checkin_writes
from service.domain.coaching import links as coaching
from service.domain.shoes import records as shoe_records
from service.domain.training import nightly
from service.models import Account
from service.models.account import DEFAULT_QUIET_END, DEFAULT_QUIET_START

PASSWORD = "demo-backstride-2026"
DOMAIN = "demo.backstride.example"
ZONE = "Europe/London"


@dataclass(frozen=True)
class Seeded:
    coach_email: str
    athletes: dict[str, str]  # email -> story
    notifications: dict[str, int]


def seed(session: Session, hasher: PasswordHasher, now: datetime, *,
         weekly_threshold: float) -> Seeded:
    """Write the demo accounts once; a second seed finds them and refuses (DemoExists)."""
    if session.scalar(select(Account.id).where(Account.email == f"coach@{DOMAIN}")):
        raise DemoExists(f"coach@{DOMAIN} exists: the demo is already seeded")
    now = awake(now)
    today = now.astimezone(ZoneInfo(ZONE)).date()
    coach = _account(session, hasher, "coach", "Coach Kim")
    stories: dict[str, str] = {}
    for name, display, story, write in STORIES:
        athlete = _account(session, hasher, name, display)
        write(session, athlete, today, now)
        _link(session, coach, athlete, now)
        stories[athlete.email] = story
    session.flush()
    ids = list(session.scalars(select(Account.id).where(Account.email.like(f"%@{DOMAIN}"))))
    written = nightly.Summary()
    for back in range(6, 0, -1):  # the last week's nights, as the nightly job would have run
        written.add(nightly.analyse(session, ids, today - timedelta(days=back), now,
                                    weekly_threshold=weekly_threshold, source="demo", force=True))
    return Seeded(coach.email, stories, dict(written.notifications))


class DemoExists(Exception):
    pass


def awake(now: datetime) -> datetime:
    """The last minute before `now` outside the demo athletes' (default) quiet hours.

    The demo is history: written as of that minute, every message it holds was delivered before
    anyone opens the app, whatever the hour `demo seed` runs at. Written at 23:00 as of 23:00,
    the warnings would wait for the morning and a newcomer would see an empty inbox.
    """
    local = now.astimezone(ZoneInfo(ZONE))
    if not in_quiet_hours(local.time(), DEFAULT_QUIET_START, DEFAULT_QUIET_END):
        return now
    day = local.date() if local.time() >= DEFAULT_QUIET_START else local.date() - timedelta(days=1)
    return datetime.combine(day, DEFAULT_QUIET_START, tzinfo=local.tzinfo) - timedelta(minutes=1)


def _account(session: Session, hasher: PasswordHasher, name: str, display: str) -> Account:
    account = accounts.register(session, hasher, email=f"{name}@{DOMAIN}", password=PASSWORD,
                                timezone=ZONE, units="km")
    account.display_name = display
    session.flush()
    return account


def _link(session: Session, coach: Account, athlete: Account, now: datetime) -> None:
    _, code = coaching.create_invite(session, coach, now)
    coaching.accept(session, athlete, code, list(scopes.COACH_GRANTS), now)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(ZONE))


def _write(session: Session, athlete: Account, items: list[dict], now: datetime) -> None:
    for item in items:
        item.setdefault("id", uuid.uuid4())
    outcomes = checkin_writes.upsert(session, athlete, items, now)
    refused = [o.error for o in outcomes if o.error]
    assert not refused, refused


def _run(day: date, km: float, hour: int = 7, pace_s_per_km: int = 360, **extra) -> dict:
    metres = round(km * 1000)
    return {"kind": "run", "started_at": _at(day, hour), "distance_m": metres,
            "duration_s": metres * pace_s_per_km // 1000, **extra}


def beginner(session: Session, athlete: Account, today: date, now: datetime) -> None:
    """Nine weeks of couch-to-5k, three runs a week, ending with a first 5 km last week."""
    shoe = shoe_records.create(session, athlete, {"name": "First running shoes",
                                                  "first_used_on": today - timedelta(weeks=9)},
                               today)
    runs = []
    for week in range(9):
        km = 2.0 + week * 0.35
        for weekday in (0, 2, 5):
            day = today - timedelta(weeks=9 - week) + timedelta(days=weekday)
            if day < today:
                runs.append(_run(day, km if week < 8 else 5.0, pace_s_per_km=420,
                                 surface="road", shoe_id=shoe.id))
    _write(session, athlete, runs, now)
    _write(session, athlete, [{"kind": "exercise", "recorded_at": _at(today - timedelta(1), 19),
                               "focus": "core", "duration_s": 600}], now)


def marathon_jump(session: Session, athlete: Account, today: date, now: datetime) -> None:
    """Eight weeks of 8 km twice a week and a 16 km long run; then the plan's jump: extra runs
    this week and yesterday's long run of 26 km."""
    runs = []
    for back in range(56, 1, -1):
        day = today - timedelta(days=back)
        if day.weekday() in (1, 3) or (back <= 7 and day.weekday() == 4):
            runs.append(_run(day, 8, surface="road"))
        elif day.weekday() == 6:
            runs.append(_run(day, 16, hour=8, surface="road"))
    runs.append(_run(today - timedelta(days=1), 26, hour=8, surface="road"))
    _write(session, athlete, runs, now)
    _write(session, athlete, [{"kind": "pain", "recorded_at": _at(today - timedelta(1), 18),
                               "location": "lower_back", "severity": 4,
                               "timing": "after_run"}], now)


def old_shoes(session: Session, athlete: Account, today: date, now: datetime) -> None:
    """One pair carrying everything for 14 months, now past its distance."""
    shoe = shoe_records.create(session, athlete, {
        "name": "Faithful trainers", "initial_distance_m": 640_000,
        "first_used_on": today - timedelta(days=420)}, today)
    runs = [_run(today - timedelta(days=back), 10, surface="road", shoe_id=shoe.id)
            for back in range(60, 0, -3)]
    _write(session, athlete, runs, now)


def morning_pain(session: Session, athlete: Account, today: date, now: datetime) -> None:
    """Back pain only in the mornings for four months, easing with movement, since age 29."""
    answers = {"onset_age": 29, "better_with_movement": True, "waking_second_half_night": True,
               "better_with_anti_inflammatories": True, "fever": False, "saddle_numbness": False}
    pains = [{"kind": "pain", "recorded_at": _at(today - timedelta(days=back), 7),
              "location": "lower_back", "severity": 4, "timing": "next_morning",
              "morning_stiffness_min": 45, "answers": answers}
             for back in range(120, -1, -10)]
    runs = [_run(today - timedelta(days=back), 6, hour=18, surface="trail")
            for back in range(40, 0, -4)]
    _write(session, athlete, runs, now)
    _write(session, athlete, pains, now)


STORIES: list[tuple[str, str, str, Callable[[Session, Account, date, datetime], None]]] = [
    ("beginner", "Bea", "just finished a couch-to-5k plan", beginner),
    ("marathoner", "Max", "a marathon plan that jumped the long run", marathon_jump),
    ("oldshoes", "Ola", "one pair of shoes past its distance", old_shoes),
    ("morning", "Mo", "back pain only in the mornings for months", morning_pain),
]
