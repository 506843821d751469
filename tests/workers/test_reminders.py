"""Stretch reminders after runs, on real databases, as the minute-by-minute sweep sees them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service.db import make_engine, make_session_factory
from service.domain.checkins import writes as checkin_writes
from service.domain.stretch import reminders
from service.models import Notification
from tests.support.nightly_stories import runner

# A Tuesday evening run in London (BST is over: 18:00 UTC is 18:00 local).
START = datetime(2026, 11, 10, 18, 0, tzinfo=UTC)
DURATION = timedelta(minutes=40)
END = START + DURATION


@pytest.fixture
def session(database):
    engine = make_engine(database.url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


def arrive(session, athlete, arrived_at, **item):
    (outcome,) = checkin_writes.upsert(session, athlete, [{"id": uuid.uuid4(), **item}],
                                       arrived_at)
    assert outcome.error is None, outcome.error
    session.commit()
    return outcome.id


def a_run(session, athlete, arrived_at, start=START):
    return arrive(session, athlete, arrived_at, kind="run", started_at=start,
                  duration_s=int(DURATION.total_seconds()), distance_m=8000)


def notes(session, athlete):
    return session.scalars(select(Notification).where(Notification.athlete_id == athlete.id)
                           .order_by(Notification.created_at)).all()


def test_a_reminder_ten_minutes_after_a_run_naming_a_routine(session):
    sam = runner(session, "sam@example.org")
    arrive(session, sam, START - timedelta(days=2), kind="pain", location="hip", severity=3,
           recorded_at=START - timedelta(days=2))
    run_id = a_run(session, sam, END + timedelta(minutes=2))

    early = reminders.sweep(session, END + timedelta(minutes=9))
    on_time = reminders.sweep(session, END + timedelta(minutes=10))
    again = reminders.sweep(session, END + timedelta(minutes=11))
    session.commit()

    assert (early.reminders, on_time.reminders, again.reminders) == (0, 1, 0)
    (note,) = notes(session, sam)
    assert note.kind == "stretch_reminder" and note.dedupe_key == f"stretch_reminder:{run_id}"
    assert note.data["routine_ids"][0] == "half-kneeling-hip-flexor", "hips hurt lately"
    assert "Half-kneeling hip flexor" in note.body and "20 to 30 s" in note.body
    assert note.deliver_after == END + timedelta(minutes=10)


def test_no_reminder_when_the_runner_already_stretched(session):
    sam = runner(session, "sam@example.org")
    a_run(session, sam, END + timedelta(minutes=1))
    arrive(session, sam, END + timedelta(minutes=8), kind="exercise", focus="stretch",
           recorded_at=END + timedelta(minutes=5))
    assert reminders.sweep(session, END + timedelta(minutes=15)).reminders == 0


def test_no_reminder_while_the_latest_pain_is_severe(session):
    sam = runner(session, "sam@example.org")
    arrive(session, sam, START - timedelta(hours=3), kind="pain", location="lower_back",
           severity=8, recorded_at=START - timedelta(hours=3))
    a_run(session, sam, END + timedelta(minutes=1))
    assert reminders.sweep(session, END + timedelta(minutes=15)).reminders == 0
    arrive(session, sam, END + timedelta(minutes=20), kind="pain", location="lower_back",
           severity=2, recorded_at=END + timedelta(minutes=20))
    assert reminders.sweep(session, END + timedelta(minutes=21)).reminders == 1, \
        "a newer, milder check-in clears it"


def test_runs_synced_late_get_one_evening_nudge_a_day(session):
    sam = runner(session, "sam@example.org")
    morning = START.replace(hour=7)
    for hour in (13, 15):  # two morning runs, both synced hours later
        a_run(session, sam, morning.replace(hour=hour), start=morning.replace(hour=hour - 5))
    result = reminders.sweep(session, morning.replace(hour=16))
    reminders.sweep(session, morning.replace(hour=17))
    session.commit()

    assert (result.reminders, result.evening_nudges) == (0, 1)
    (nudge,) = notes(session, sam)
    assert nudge.kind == "stretch_evening" and nudge.dedupe_key == "stretch_evening:2026-11-10"
    assert nudge.deliver_after == datetime(2026, 11, 10, 20, 0, tzinfo=UTC), "before 21:30"


def test_a_late_sync_after_quiet_hours_begin_gets_no_nudge(session):
    sam = runner(session, "sam@example.org")
    a_run(session, sam, START.replace(hour=22))
    assert reminders.sweep(session, START.replace(hour=22, minute=5)).evening_nudges == 0


def test_a_run_ending_in_quiet_hours_is_reminded_the_next_morning(session):
    owl = runner(session, "owl@example.org")
    late_start = START.replace(hour=21, minute=10)  # ends 21:50, inside 21:30 to 07:00
    a_run(session, owl, late_start + DURATION + timedelta(minutes=1), start=late_start)
    reminders.sweep(session, late_start + DURATION + timedelta(minutes=10))
    session.commit()
    (note,) = notes(session, owl)
    assert note.deliver_after == datetime(2026, 11, 11, 7, 0, tzinfo=UTC)
